"""Many reports in one corpus (issue 11, item 3): two statistical communiqués that share topics and units, and the seed
report, in one index. A question naming one report's place is answered from that report; `documents` restricts a
question to some reports; a total never adds two reports' figures; an answer citing two reports names both;
citations carry the report's title and, for a PDF, the page the quote is on (checked with pypdf); GET /api/documents
lists the reports and a skipped file with its reason; an unknown report id is a 422; the UI's citation cards show
title and page and its report picker restricts the answer; the examples come from the loaded reports.

The shared dev reports are copied from ``../shared/dev-reports/`` into a temporary corpus at test time (their
licences do not all allow copying them into the repository). Uses the packaged model.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from aidqa.index.catalogue import UnknownReports, resolve_reports
from aidqa.index.chunking import chunk_document
from aidqa.ingest import read_document
from aidqa.models import Citation, CitedFigure, ComputedTotal
from aidqa.qa.assistant import Assistant
from aidqa.qa.examples import GENERIC_EXAMPLES
from aidqa.qa.grounding import compute_total, ungrounded_numbers
from aidqa.qa.rendering import render_answer
from aidqa.qa.scope import ReportScope
from aidqa.retrieval.hybrid import HybridSearcher
from aidqa.settings import ChunkingSettings, RetrievalSettings, Settings
from aidqa.web.app import create_app
from aidqa.web.ui.chat import build_ui, chat_turn, report_choices
from aidqa.web.ui.render import render_message
from aidqa.zh.chars import fold_for_match
from aidqa.zh.segment import split_sentences

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "dev-reports"
SEED = "tianjin-huangnan-report.txt"
ZHOUKOU = "zhoukou-2023-statistical-communique.pdf"  # a PDF with its title in the text layer
QIANDONGNAN = "qiandongnan-2023-statistical-communique.md"  # no title: its cover is an image
ZHOUKOU_TITLE = "2023 年周口市国民经济和社会发展统计公报"
SEED_TITLE = "天津对口支援青海省黄南州"

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared dev reports not found at {SHARED}")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("many-reports") / "corpus"
    folder.mkdir()
    for name in (ZHOUKOU, QIANDONGNAN):
        shutil.copy(SHARED / name, folder / name)
    shutil.copy(REPO / "docs_corpus" / SEED, folder / SEED)
    (folder / "empty.txt").write_bytes(b"")  # skipped: empty file
    (folder / "scan.pdf").write_bytes(b"this is not a PDF")  # skipped: no PDF signature
    return folder


@pytest.fixture(scope="module")
def many_settings(corpus, tmp_path_factory) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("many-index"))


@pytest.fixture(scope="module")
def many(many_settings) -> Assistant:
    a = Assistant(many_settings)
    a.ensure_ready()
    return a


@pytest.fixture(scope="module")
def client(many_settings, many):
    app = create_app(many_settings, many)
    with TestClient(app, base_url="http://localhost") as c:
        app.state.loader.join(120)
        yield c


def _sources(answer) -> set[str]:
    return {c.source for c in answer.citations}


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---- a question about one report is answered from that report --------------------------------------------------


@pytest.mark.parametrize(("question", "source", "figure"), [
    ("周口市2023年粮食总产量是多少？", ZHOUKOU, "902.61万吨"),  # 周口 is in the PDF's title, not a tagged place
    ("周口年末常住人口是多少？", ZHOUKOU, "866.60万人"),
    ("天津对口支援黄南州累计投入了多少资金？", SEED, "18.51亿元"),
])
def test_a_question_naming_one_reports_place_is_answered_from_that_report(many, question, source, figure):
    answer = many.ask(question)
    assert not answer.refused, answer
    assert figure in answer.answer
    assert _sources(answer) == {source}  # never a quote of the other communiqué, which has the same measures
    assert not answer.answer.startswith("《")  # one report cited: no need to name it


@pytest.mark.parametrize("question", ["黔东南州年末常住人口是多少？", "黔东南州全年粮食总产量是多少？"])
def test_a_question_naming_a_place_is_never_answered_from_a_report_without_it(many, question):
    # 黔东南州's communiqué has no title (its cover is an image) and its sentences say 全州, not 黔东南州, so it does
    # not answer these (the place must be in the quoted paragraph); 周口's figures, with the same measures, never do.
    answer = many.ask(question)
    assert _sources(answer) <= {QIANDONGNAN}
    assert "866.60" not in answer.answer and "902.61" not in answer.answer


def test_a_place_of_another_report_is_not_answered_from_the_picked_report(many):
    # Restricted to 黔东南州's communiqué, a question about 周口 has no answer there (before: 全州's population).
    answer = many.ask("周口年末常住人口是多少？", documents=[QIANDONGNAN])
    assert answer.refused and not answer.citations


# ---- documents: the same question, one report at a time ----------------------------------------------------------


@pytest.mark.parametrize(("documents", "figure", "other"), [
    ([ZHOUKOU], "902.61万吨", "133.77万吨"),
    ([QIANDONGNAN], "133.77万吨", "902.61万吨"),
    ([ZHOUKOU_TITLE], "902.61万吨", "133.77万吨"),  # a title no other report shares names the report too
])
def test_documents_restricts_the_question_to_those_reports(many, documents, figure, other):
    answer = many.ask("粮食总产量是多少？", documents=documents)
    assert not answer.refused and figure in answer.answer and other not in answer.answer
    assert _sources(answer) == set(resolve_reports(many.ensure_ready(), documents))
    assert {p.source for p in answer.retrieved} == _sources(answer)  # retrieval itself was restricted


def test_retrieval_restricted_to_a_report_returns_only_its_passages(many):
    retriever = many.retriever(k=10, documents=[ZHOUKOU])
    docs = retriever.invoke("粮食总产量")
    assert len(docs) == 10 and {d.metadata["source"] for d in docs} == {ZHOUKOU}
    assert any("dense" in d.metadata["ranks"] for d in docs)  # the dense search (a Chroma metadata filter) took part


def test_the_scope_finds_every_report_holding_a_spelling_and_no_other(many):
    """ReportScope looks spellings up in one string of all reports; the answer must be the per-report check's,
    including at the first and last characters of a report (no match across two reports' boundary)."""
    index = many.ensure_ready()
    scope = ReportScope(index)
    texts = {n: fold_for_match(f"{index.documents[n].title}\n{index.documents[n].text}") for n in scope.ids}
    edges = [t[:3] for t in texts.values()] + [t[-3:] for t in texts.values()]
    across = [texts[a][-2:] + texts[b][:2] for a, b in zip(scope.ids, scope.ids[1:])]
    for spelling in ["周口", "黔东南", "黄南", "生产总值", "2023", "不存在的词语", *edges, *across]:
        expected = {n for n, text in texts.items() if spelling in text}
        assert scope.reports_holding(spelling) == expected, spelling
        assert {n for n in scope.ids if scope.holds(n, spelling)} == expected, spelling
    assert len(scope.reports_holding("生产总值")) == 2 and scope.reports_holding("不存在的词语") == frozenset()


@pytest.mark.parametrize("question", ["粮食总产量", "全年居民人均可支配收入", "对口支援项目资金"])
def test_a_restricted_dense_search_finds_the_same_passages_every_way(many, question):
    """Chroma's metadata filter, exact ranking from the stored vectors, and an unfiltered over-fetch kept to the
    asked reports must all give the same passages in the same order."""
    index = many.ensure_ready()
    vector = many.embeddings.embed_query(question)
    ways = {
        "filter": RetrievalSettings(dense_exact_max=0, dense_overfetch_max=0),
        "exact": RetrievalSettings(dense_exact_max=20000, dense_overfetch_max=0),
        "overfetch": RetrievalSettings(dense_exact_max=0, dense_overfetch_max=5000),
    }
    searchers = {name: HybridSearcher(index, many.embeddings, s) for name, s in ways.items()}
    for report in (ZHOUKOU, QIANDONGNAN, SEED, (ZHOUKOU, SEED)):
        sources = {report} if isinstance(report, str) else set(report)
        expected = searchers["filter"].dense_ranking(vector, sources)
        assert len(expected) == RetrievalSettings().candidates
        assert {index.chunks[i].source for i in expected} <= sources
        for name in ("exact", "overfetch"):
            assert searchers[name].dense_ranking(vector, sources) == expected, (name, report)


def test_unknown_or_ambiguous_reports_are_named(many):
    with pytest.raises(UnknownReports, match=r"nope\.pdf") as caught:
        many.ask("粮食总产量是多少？", documents=[ZHOUKOU, "nope.pdf"])
    assert caught.value.unknown == ["nope.pdf"]
    assert resolve_reports(many.ensure_ready(), [f"  {SEED_TITLE} ", SEED]) == [SEED]  # repeats dropped
    assert many.ask("粮食总产量是多少？", documents=[]).citations  # empty: every report


# ---- no figure of one report passes for another's ---------------------------------------------------------------


def _citation(n: int, source: str, quote: str, title: str) -> Citation:
    return Citation(id=n, source=source, title=title, section="", quote=quote, start=0, end=len(quote), score=1.0,
                    passage=quote, passage_start=0, raw_start=0, raw_end=len(quote))


def _figure(raw: str, value: float, n: int) -> CitedFigure:
    return CitedFigure(raw=raw, value=value, unit="人", qualifier="none", measures="年末常住人口", citation_id=n,
                       start=0, end=len(raw))


def test_a_list_of_figures_is_stated_as_one_item():
    quote = "城乡居民人均可支配收入年均分别增长5.3%、7.1%。"
    cite = _citation(1, ZHOUKOU, quote, ZHOUKOU_TITLE)
    first = _figure("5.3%", 5.3, 1).model_copy(update={"measures": "城乡居民人均可支配收入年均分别增长"})
    second = _figure("7.1%", 7.1, 1).model_copy(update={"measures": "、"})
    assert render_answer("zh", [cite], [first, second], None).splitlines()[0] == "收入年均分别增长5.3%、7.1% [1]"


def test_a_total_never_adds_figures_of_two_reports(many):
    one = [_citation(1, ZHOUKOU, "年末常住人口866.60万人。", ZHOUKOU_TITLE),
           _citation(2, ZHOUKOU, "年末常住人口100万人。", ZHOUKOU_TITLE)]
    two = [one[0], _citation(2, QIANDONGNAN, "年末常住人口375.73万人。", QIANDONGNAN)]
    assert compute_total([_figure("866.60万人", 8666000, 1), _figure("100万人", 1000000, 2)], one).text == "966.6万人"
    assert compute_total([_figure("866.60万人", 8666000, 1), _figure("375.73万人", 3757300, 2)], two) is None
    # A total over two reports' quotes does not check out, even when it adds up.
    forged = ComputedTotal(text="1242.33万人", value=12423300, unit="人", operands=["866.60万人", "375.73万人"],
                           citation_ids=[1, 2])
    assert ungrounded_numbers("合计1242.33万人 [1][2]", two, forged) == ["1242.33"]
    # End to end: a total asked across the corpus is not computed from the two communiqués' populations.
    answer = many.ask("年末常住人口一共多少？")
    assert answer.total is None and "1242.33" not in answer.answer
    stated_from = {c.source for c in answer.citations if c.id in {f.citation_id for f in answer.figures}}
    assert len(stated_from) <= 1


def test_an_answer_citing_two_reports_names_each_report_on_each_line(many):
    answer = many.ask("年末常住人口是多少？")
    assert _sources(answer) == {ZHOUKOU, QIANDONGNAN}, answer.answer
    lines = answer.answer.splitlines()
    for c in answer.citations:
        assert c.title == many.ensure_ready().documents[c.source].title
        line = next(ln for ln in lines if ln.endswith(f"{c.quote} [{c.id}]"))
        assert line.startswith(f"《{c.title}》")  # the quote line names its report
    for f in answer.figures:
        c = next(c for c in answer.citations if c.id == f.citation_id)
        assert f"《{c.title}》" in lines[0] and f.raw in lines[0]
    # The report names are not figures of the answer: "2023" of a title needs no quote.
    assert ungrounded_numbers(answer.answer, answer.citations) == []


def test_english_answers_name_the_reports_too():
    cites = [_citation(1, ZHOUKOU, "年末全市常住人口866.60万人。", ZHOUKOU_TITLE),
             _citation(2, QIANDONGNAN, "年末全州常住人口375.73万人。", QIANDONGNAN)]
    text = render_answer("en", cites, [_figure("866.60万人", 8666000, 1), _figure("375.73万人", 3757300, 2)], None)
    assert text.splitlines() == [
        f"Figures: 《{ZHOUKOU_TITLE}》 年末常住人口866.60万人 [1]; 《{QIANDONGNAN}》 年末常住人口375.73万人 [2]",
        f"From the reports (quoted in Chinese): 《{ZHOUKOU_TITLE}》 年末全市常住人口866.60万人。 [1]",
        f"《{QIANDONGNAN}》 年末全州常住人口375.73万人。 [2]",
    ]
    # One report: the answer text is what it always was.
    assert render_answer("en", cites[:1], [], None) == "From the reports (quoted in Chinese): 年末全市常住人口866.60万人。 [1]"


def test_a_compound_question_about_two_reports_names_them(many):
    answer = many.ask("周口年末常住人口是多少？天津对口支援黄南州累计投入了多少资金？")
    assert _sources(answer) == {ZHOUKOU, SEED}
    assert "866.60万人" in answer.answer and "18.51亿元" in answer.answer
    for c in answer.citations:
        assert f"《{c.title}》{c.quote} [{c.id}]" in answer.answer


# ---- titles and pages ----------------------------------------------------------------------------------------------


ZHOUKOU_QUESTIONS = [
    "粮食总产量是多少？", "年末常住人口是多少？", "电信业务总量是多少？", "规模以上工业企业利润总额是多少？",
    "一般公共预算收入是多少？", "社会消费品零售总额是多少？", "全年全市进出口总值是多少？", "旅游总收入是多少？",
    "住户存款余额是多少？", "全市高新技术产业增加值增长多少？", "玉米产量是多少？",
]


def test_pdf_citations_carry_the_page_the_quote_is_on(many, corpus):
    pages = [_plain(p.extract_text() or "") for p in PdfReader(corpus / ZHOUKOU).pages]
    checked = 0
    for question in ZHOUKOU_QUESTIONS:
        for c in many.ask(question, documents=[ZHOUKOU]).citations:
            assert c.title == ZHOUKOU_TITLE and c.page is not None and 1 <= c.page <= len(pages)
            opening = _plain(c.quote)[:12]
            if any(opening in text for text in pages):
                assert opening in pages[c.page - 1], (question, c.page, c.quote)
            else:  # a table row, which the report sets as cells: its label and each cell's value are on the page
                label = c.quote.split("·", 1)[0].strip()
                values = re.findall(r"：([^；。]+)", c.quote)
                assert values and label in pages[c.page - 1], (question, c.page, c.quote)
                assert all(v in pages[c.page - 1] for v in values), (question, c.page, c.quote)
            checked += 1
    assert checked >= len(ZHOUKOU_QUESTIONS)


def test_pages_are_exact_to_the_sentence_and_a_passage_never_spans_a_page_break(corpus):
    doc = read_document(corpus / ZHOUKOU, corpus)
    pages = [_plain(p.extract_text() or "") for p in PdfReader(corpus / ZHOUKOU).pages]
    checked = 0
    for start, end in split_sentences(doc.text):
        opening = _plain(doc.text[start:end])[:12]
        found = [n for n, text in enumerate(pages, 1) if opening in text]
        if len(opening) == 12 and len(found) == 1:
            assert doc.page_at(start) == found[0], doc.text[start:end]
            checked += 1
    assert checked > 150
    # Some paragraphs run over a page break: the page changes inside a block, not only between blocks.
    block_starts = {b.start for b in doc.normalised.blocks}
    assert any(offset not in block_starts for offset, _page in doc.page_starts)
    for chunk in chunk_document(doc, ChunkingSettings()):
        assert {doc.page_at(s) for s, _e in split_sentences(doc.text, chunk.start, chunk.end)} == {chunk.page}


def test_reports_without_pages_cite_no_page(many):
    answer = many.ask("粮食总产量是多少？", documents=[QIANDONGNAN, SEED])
    assert answer.citations and all(c.page is None for c in answer.citations)
    assert all(c.title == QIANDONGNAN for c in answer.citations)  # untitled: the file name stands for its title


# ---- GET /api/documents and documents in /api/ask -----------------------------------------------------------------


def test_documents_endpoint_lists_reports_with_counts_and_skipped_files(client, many):
    r = client.get("/api/documents")
    assert r.status_code == 200, r.text
    body = r.json()
    index = many.ensure_ready()
    reports = {d["id"]: d for d in body["documents"]}
    assert set(reports) == {ZHOUKOU, QIANDONGNAN, SEED}
    for report_id, d in reports.items():
        assert d["title"] == index.documents[report_id].title and d["file"] == report_id
        assert d["chunk_count"] == sum(1 for c in index.chunks if c.source == report_id) > 0
        assert d["figure_count"] == sum(1 for f in index.figures if f.source == report_id) > 0
        assert d["indexed_at"] == index.manifest["built_at"]
    assert (reports[ZHOUKOU]["format"], reports[ZHOUKOU]["pages"], reports[ZHOUKOU]["title"]) == ("pdf", 13, ZHOUKOU_TITLE)
    assert (reports[QIANDONGNAN]["format"], reports[QIANDONGNAN]["pages"]) == ("markdown", None)
    assert (reports[SEED]["format"], reports[SEED]["pages"], reports[SEED]["title"]) == ("text", None, SEED_TITLE)
    skipped = {s["file"]: s["reason"] for s in body["skipped_files"]}
    assert skipped == {"empty.txt": "empty file", "scan.pdf": skipped["scan.pdf"]}
    assert skipped["scan.pdf"].startswith("not a valid PDF file")


def test_ask_with_documents_over_http(client):
    r = client.post("/api/ask", json={"question": "粮食总产量是多少？", "documents": [QIANDONGNAN]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "133.77万吨" in body["answer"] and {c["source"] for c in body["citations"]} == {QIANDONGNAN}
    assert {"title", "page"} <= set(body["citations"][0]) and "documents" not in body  # nothing else echoed
    r = client.post("/api/ask/batch", json={"questions": [
        {"question": "粮食总产量是多少？", "documents": [ZHOUKOU]},
        {"question": "粮食总产量是多少？", "documents": ["missing.pdf"]},
    ]})
    first, second = r.json()["results"]
    assert first["ok"] and "902.61万吨" in first["answer"]["answer"]
    assert not second["ok"] and second["error"]["code"] == "invalid_request" and "missing.pdf" in second["error"]["message"]


def test_unknown_document_id_is_422_naming_it(client):
    r = client.post("/api/ask", json={"question": "粮食总产量是多少？", "documents": [ZHOUKOU, "nope/other.pdf"]})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_request" and "nope/other.pdf" in error["message"]
    assert error["details"] == [{"loc": ["body", "documents", 1], "msg": "no report with the id or title 'nope/other.pdf'",
                                 "type": "unknown_document"}]
    r = client.post("/api/ask", json={"question": "粮食总产量是多少？", "documents": [""]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"


def test_documents_route_has_the_same_guard_as_the_api(many_settings, many):
    locked = Settings(corpus_dir=many_settings.corpus_dir, index_dir=many_settings.index_dir, auth="alice:secret")
    with TestClient(create_app(locked, many), base_url="http://localhost") as c:
        r = c.get("/api/documents")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert c.get("/api/documents", auth=("alice", "secret")).status_code == 200
        assert c.get("/api/documents", headers={"Host": "evil.example"}, auth=("alice", "secret")).status_code == 400


def test_openapi_documents_the_route_and_examples_from_the_loaded_reports(client, many):
    spec = client.get("/api/openapi.json").json()
    route = spec["paths"]["/api/documents"]["get"]
    assert route["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/DocumentsResponse")
    schemas = spec["components"]["schemas"]
    assert {"id", "title", "file", "format", "pages", "chunk_count", "figure_count", "indexed_at"} <= set(
        schemas["ReportEntry"]["properties"])
    assert {"title", "page"} <= set(schemas["Citation"]["properties"])
    assert "documents" in schemas["AskRequest"]["properties"]
    examples = schemas["AskRequest"]["examples"]
    titles = [r.title for r in many.reports()]
    assert any(f"《{t}》" in examples[0]["question"] for t in titles)
    restricted = next(e for e in examples if "documents" in e)
    assert set(restricted["documents"]) <= {r.id for r in many.reports()}
    for example in examples:  # each example is answered from the report it is about
        answer = client.post("/api/ask", json=example).json()
        assert answer["refused"] is False, example


# ---- examples ------------------------------------------------------------------------------------------------------


def test_examples_are_made_from_the_loaded_reports(many, many_settings):
    questions = many.example_questions()
    assert questions and questions != GENERIC_EXAMPLES
    titled = {r.id: r.title for r in many.reports()}
    for q in questions:
        report = next(rid for rid, title in titled.items() if q.startswith(f"《{title}》"))
        answer = many.ask(q)
        assert not answer.refused and _sources(answer) == {report}, (q, answer.answer)
    assert Assistant(many_settings).example_questions() == GENERIC_EXAMPLES  # no index loaded: generic ones


def test_no_examples_of_one_report_remain_in_the_code():
    seed_words = ("天津", "黄南", "泽库", "尖扎", "援青", "招聘", "18.51")
    code = [REPO / "src" / "aidqa" / "qa" / "examples.py", *(REPO / "src" / "aidqa" / "web").rglob("*.py")]
    for path in code:
        text = path.read_text(encoding="utf-8")
        assert not [w for w in seed_words if w in text], path


# ---- the UI ------------------------------------------------------------------------------------------------------


def test_citation_cards_show_the_title_and_the_page(many):
    answer = many.ask("粮食总产量是多少？", documents=[ZHOUKOU])
    c = answer.citations[0]
    shown = html.unescape(render_message(answer))  # the cards' text is written as character references
    assert f'<span class="aidqa-title">《{ZHOUKOU_TITLE}》</span>' in shown
    assert f'<span class="aidqa-page">第{c.page}页</span>' in shown and ZHOUKOU in shown
    untitled = html.unescape(render_message(many.ask("粮食总产量是多少？", documents=[QIANDONGNAN])))
    assert f'<span class="aidqa-title">{QIANDONGNAN}</span>' in untitled and "aidqa-page" not in untitled
    escaped = answer.model_copy(update={"citations": [c.model_copy(update={"title": "<b>x</b>"})]})
    assert "<b>" not in render_message(escaped) and "《<b>x</b>》" in html.unescape(render_message(escaped))


def test_the_report_picker_restricts_the_answer(many):
    choices = report_choices(many)
    assert sorted(value for _, value in choices) == sorted([ZHOUKOU, QIANDONGNAN, SEED])
    assert (ZHOUKOU_TITLE, ZHOUKOU) in choices and (QIANDONGNAN, QIANDONGNAN) in choices
    for picked, figure, other in (([ZHOUKOU], "902.61万吨", "133.77万吨"), ([QIANDONGNAN], "133.77万吨", "902.61万吨")):
        reply = html.unescape(chat_turn(many, "粮食总产量是多少？", [], documents=picked)[-1]["content"])
        assert figure in reply and other not in reply and picked[0] in reply  # the card names its report
    messages = chat_turn(many, "粮食总产量是多少？", [], documents=["gone.pdf"])
    assert "gone.pdf" in messages[-1]["content"]  # a stale pick is said, not a crash
    messages = chat_turn(many, "粮食总产量是多少？", [], documents=[])  # none picked: every report
    assert "902.61万吨" in messages[-1]["content"] or "133.77万吨" in messages[-1]["content"]


def test_the_ask_endpoint_keeps_its_two_inputs(many):
    demo = build_ui(many)
    params = demo.get_api_info()["named_endpoints"]["/ask"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["question", "history"]  # the picker travels in session state
