"""The Gradio UI's chat: the message of an answer (linked [n] markers, its own sources merged per passage, escaped),
the streamed turn (verified text first, the final message equal to the unstreamed one, the grounding note), the
Chinese status and input messages, feedback from a thumb, the Chinese-first page, and the /ask and /ask_json
endpoints through gradio_client. Uses the packaged model and the real report."""

import re
from pathlib import Path

import gradio as gr
import pytest
from markdown_it import MarkdownIt

from aidqa.models import Answer, Citation
from aidqa.qa.assistant import Assistant
from aidqa.settings import Settings
from aidqa.web.ui.chat import (
    NOT_READY_MESSAGE,
    Feedback,
    answer_record,
    build_ui,
    chat_stream,
    chat_turn,
    history_pairs,
    question_problem,
    status_markdown,
)
from aidqa.web.ui.page import chinese_first
from aidqa.web.ui.render import (
    html_text,
    partial_message,
    render_message,
    reply_text,
    shown_lines,
    source_cards,
    sources_html,
)

CORPUS = Path(__file__).parent.parent / "docs_corpus"
QUESTION = "天津对口支援黄南州累计投入了多少资金？"
EVIL = "<img src=x onerror=alert(1)>"
KEY = "0123456789ab"
KEYED = re.compile(r"[0-9a-f]{12}")


@pytest.fixture(scope="module")
def ui_settings(tmp_path_factory) -> Settings:
    return Settings(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("ui") / "index",
                    feedback={"dir": tmp_path_factory.mktemp("ui-feedback")})


@pytest.fixture(scope="module")
def ui_assistant(ui_settings, assistant) -> Assistant:
    a = Assistant(ui_settings)
    a._embeddings = assistant.embeddings  # the session's loaded model
    return a


@pytest.fixture(scope="module")
def demo(ui_assistant) -> gr.Blocks:
    blocks = build_ui(ui_assistant)  # starts building the index in the background
    ui_assistant.ensure_ready()  # waits for that build (same lock)
    return blocks


def same_keys(text: str) -> str:
    return KEYED.sub(KEY, text)


# ---- the message of an answer ----------------------------------------------------------------------------------


def test_chat_turn_answers_with_linked_markers_and_its_own_sources(demo, ui_assistant):
    messages = chat_turn(ui_assistant, QUESTION, [])
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == QUESTION
    bot = messages[-1]["content"]
    html = MarkdownIt("commonmark").render(bot)
    link = re.search(r'<a class="aidqa-ref" href="#(aidqa-src-([0-9a-f]{12})-1)" title="([^"]*)"[^>]*>\[1\]</a>', html)
    assert link, html
    assert f'id="{link.group(1)}"' in html  # the marker names its card, in the same message
    assert f'<details class="aidqa-sources" id="aidqa-ans-{link.group(2)}" open>' in html
    assert "《天津对口支援青海省黄南州》" in html and "tianjin-huangnan-report&#46;txt" in html
    assert '<strong class="aidqa-answer-figure">18&#46;51亿元</strong>' in html  # the figure that answers
    assert "相关度" not in html and "score" not in html
    answer = ui_assistant.ask(QUESTION)
    quote = answer.citations[0].quote
    # The short answer comes first; the quoted sentence is shown once, highlighted in its card, not repeated above.
    assert answer.answer.count(quote) == 1 and quote not in html.split("<details")[0]


def test_the_streamed_turn_ends_in_the_unstreamed_message(demo, ui_assistant):
    steps = list(chat_stream(ui_assistant, QUESTION, []))
    assert steps[0][0][-1]["content"] == partial_message("")  # the question shows at once, with "正在查找答案……"
    assert all(keep is False for _, keep, _ in steps)  # the box is cleared: the question was taken
    final, _, (key, answer) = steps[-1]
    assert final[-1]["content"] == render_message(ui_assistant.ask(QUESTION), key)
    assert answer.answer == ui_assistant.ask(QUESTION).answer


def test_history_is_passed_back_without_the_sources(demo, ui_assistant, monkeypatch):
    messages = chat_turn(ui_assistant, QUESTION, [])
    seen = {}
    real_ask = ui_assistant.ask

    def spy(question, history=None, top_k=None, documents=None):
        seen["history"] = history
        return real_ask(question, history=history, top_k=top_k)

    monkeypatch.setattr(ui_assistant, "ask", spy)
    messages2 = chat_turn(ui_assistant, "举办了多少场招聘活动？", messages)
    assert len(messages2) == 4
    (user, reply), = seen["history"]
    assert user == QUESTION and reply == "累计投入18.51亿元 [1]"
    assert reply_text(messages2[-1]["content"]).startswith("在提升就业创业能力上") or "18场" in messages2[-1]["content"]


def test_empty_and_over_long_questions_get_chinese_messages(demo, ui_assistant):
    messages = chat_turn(ui_assistant, "   ", [])
    assert messages == [{"role": "assistant", "content": "请输入问题。"}]
    assert chat_turn(ui_assistant, None, [])[-1]["content"] == "请输入问题。"  # what an empty textbox can send
    long = "天津" * 260
    (messages, keep, answered), = list(chat_stream(ui_assistant, long, []))
    assert keep is True and answered is None  # the text stays in the box, to be shortened
    assert messages == [{"role": "assistant", "content": "问题有 520 字，超过了 500 字的上限。请删减后再发送——您输入的内容仍在输入框中。"}]
    assert question_problem("天津" * 250, 500) is None


def test_not_ready_replies_instead_of_blocking(ui_settings):
    fresh = Assistant(ui_settings)  # nothing loaded
    steps = list(chat_stream(fresh, QUESTION, []))
    assert steps[-1][0][-1]["content"] == NOT_READY_MESSAGE and steps[-1][1] is True  # the question is kept
    assert not fresh.is_ready  # it answered without loading (or waiting for) the index


def test_status_names_the_loaded_reports(demo, ui_assistant):
    from aidqa.web.service import IndexLoader

    loader = IndexLoader(ui_assistant)
    assert status_markdown(ui_assistant, loader) == "已载入 1 份报告：《天津对口支援青海省黄南州》"
    fresh = Assistant(ui_assistant.settings)
    assert status_markdown(fresh, IndexLoader(fresh)).startswith("**正在建立索引…**")
    loader.error = f"broken {EVIL}"
    assert "&lt;img" in status_markdown(ui_assistant, loader) and "<img" not in status_markdown(ui_assistant, loader)


# ---- rendering, escaped -----------------------------------------------------------------------------------------


def _citation(**overrides) -> Citation:
    passage = f"前文{EVIL}。累计投入18.51亿元，<b>实施</b>567个项目。后文&amp;[x](http://evil.example)"
    quote = "累计投入18.51亿元，<b>实施</b>567个项目。"
    start = passage.index(quote)
    fields = {"id": 1, "source": f"evil{EVIL}.txt", "title": f"报告{EVIL}", "page": 3,
              "section": "节<script>alert(2)</script>", "quote": quote,
              "start": 100 + start, "end": 100 + start + len(quote), "score": 0.9, "passage": passage,
              "passage_start": 100, "raw_start": 0, "raw_end": 0}
    fields.update(overrides)
    return Citation(**fields)


def _rendered(answer: Answer) -> str:
    return MarkdownIt("commonmark").render(render_message(answer, KEY))


def test_sources_are_escaped_and_inert():
    answer = Answer(question="q", answer=f"累计投入18.51亿元{EVIL} [1]", refused=False, citations=[_citation()])
    out = _rendered(answer)
    assert "<img" not in out and "<script" not in out and "<b>" not in out
    assert "http://evil" not in out and "](http" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out and "&lt;script&gt;" in out
    assert "&amp;amp;" in out  # a literal "&amp;" in the report shows as text
    assert '<span class="aidqa-title">《报告&lt;img' in out and '<span class="aidqa-page">第3页</span>' in out
    assert ('<mark class="aidqa-q1">累计投入<strong>18&#46;51亿元</strong>，&lt;b&gt;实施&lt;&#47;b&gt;'
            not in out)  # (a slash needs no escaping)
    assert '<mark class="aidqa-q1">累计投入<strong>18&#46;51亿元</strong>，&lt;b&gt;实施&lt;/b&gt;<strong>567</strong>个项目。</mark>' in out


def test_html_text_reads_the_same_in_a_browser():
    from html.parser import HTMLParser

    text = "a[1](http://x.y) *b* _c_ `d` $e$ ~f~ \\g\n<h>&amp;"
    parts: list[str] = []

    class Collect(HTMLParser):
        def handle_data(self, data):
            parts.append(data)

    Collect(convert_charrefs=True).feed(f"<div>{html_text(text)}</div>")
    assert "".join(parts) == text
    assert not re.search(r"[\[\]*_`$~:\n]", html_text(text))


def test_quotes_of_one_passage_share_a_card_with_a_mark_each():
    first = _citation()
    passage = first.passage
    second_quote = "后文&amp;"
    second = _citation(id=2, quote=second_quote, start=100 + passage.index(second_quote),
                       end=100 + passage.index(second_quote) + len(second_quote))
    other = _citation(id=3, source="other.txt", title="", page=None)
    answer = Answer(question="q", answer="甲 [1]\n乙 [2]\n丙 [3]", refused=False, citations=[first, second, other])
    assert [card.ids for card in source_cards(answer.citations)] == [[1, 2], [3]]
    out = _rendered(answer)
    assert out.count('class="aidqa-cite"') == 2
    assert '<span class="aidqa-n">&#91;1&#93;&#91;2&#93;</span>' in out
    assert out.count('<mark class="aidqa-q1">') == 1 and out.count('<mark class="aidqa-q2">') == 1
    assert f'href="#aidqa-src-{KEY}-1"' in out and out.count(f'href="#aidqa-src-{KEY}-1"') == 2  # [1] and [2]
    assert f'href="#aidqa-src-{KEY}-3"' in out and '<span class="aidqa-title">other&#46;txt</span>' in out
    assert "来源（2 处）" in out


def test_the_same_paragraph_retrieved_to_different_lengths_is_one_card():
    long = _citation()
    short_passage = long.passage[: long.passage.index("后文")]
    short = _citation(id=2, passage=short_passage)
    cards = source_cards([long, short])
    assert [card.ids for card in cards] == [[1, 2]] and cards[0].passage == long.passage
    moved = _citation(id=3, passage_start=90)  # another start: another passage
    assert [card.ids for card in source_cards([long, moved])] == [[1], [3]]


def test_a_marker_that_names_no_citation_stays_text():
    out = _rendered(Answer(question="q", answer="见 [1] 与 [7]", refused=False, citations=[_citation()]))
    assert out.count('class="aidqa-ref"') == 1 and "[7]" in out


def test_quote_outside_passage_still_shown_escaped():
    c = _citation(quote=f"不在段落里{EVIL}", start=0, end=5)
    out = _rendered(Answer(question="q", answer="x [1]", refused=False, citations=[c]))
    assert "<img" not in out and '<div class="aidqa-quote"><mark class="aidqa-q1">不在段落里&lt;img' in out


def test_only_a_short_answer_first_folds_the_quoted_sentences():
    c = _citation()
    with_headline = Answer(question="q", answer=f"累计投入18.51亿元 [1]\n{c.quote} [1]", refused=False, citations=[c])
    assert shown_lines(with_headline) == (["累计投入18.51亿元 [1]"], True)
    assert f'id="aidqa-ans-{KEY}" open>' in sources_html(with_headline, KEY, open_=True)
    quotes_only = Answer(question="q", answer=f"{c.quote} [1]", refused=False, citations=[c])
    assert shown_lines(quotes_only) == ([f"{c.quote} [1]"], False)
    assert f'id="aidqa-ans-{KEY}">' in render_message(quotes_only, KEY)  # closed: the answer already says it


def test_a_compound_answers_part_labels_stay_in_view():
    c1, c2 = _citation(), _citation(quote="另一句引文。", start=0, end=6)
    c2 = c2.model_copy(update={"id": 2})
    text = f"第一问：累计投入18.51亿元 [1]\n{c1.quote} [1]\n第二问：{c2.quote} [2]\n第三问：报告中没有找到这一问的答案。"
    lines, folded = shown_lines(Answer(question="q", answer=text, refused=False, citations=[c1, c2]))
    assert folded and lines == ["第一问：累计投入18.51亿元 [1]", f"第二问：{c2.quote} [2]", "第三问：报告中没有找到这一问的答案。"]


def test_refused_answer_has_no_sources():
    answer = Answer(question="火星上有多少人？", answer="报告中没有找到这个问题的答案。", refused=True)
    assert render_message(answer, KEY) == "报告中没有找到这个问题的答案。"


def test_follow_up_message_says_how_it_was_understood():
    answer = Answer(question="那泽库县呢？", answer="投入1000万元 [1]", refused=False, citations=[_citation()],
                    standalone_question=f"天津给泽库县医院投入了多少援青资金？{EVIL}")
    msg = render_message(answer, KEY)
    assert msg.startswith("*按上文理解为：天津给泽库县医院投入了多少援青资金？&lt;img")
    assert "<img" not in msg
    assert history_pairs([{"role": "user", "content": "q"}, {"role": "assistant", "content": msg}])[0][1].startswith(
        "*按上文理解为")


def test_chat_turn_resolves_a_follow_up_against_the_chat_history(assistant):
    messages = chat_turn(assistant, "天津给尖扎县医院投入了多少援青资金？", [])
    messages = chat_turn(assistant, "那泽库县呢？", messages)
    last = messages[-1]["content"]
    answer_part = last.split("<details")[0]
    assert "1000万元" in answer_part and "700万元" not in answer_part and "泽库县" in last


# ---- streaming with the LLM backend ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llm_ui_assistant(settings, assistant):
    from fake_openai import FakeOpenAI

    with FakeOpenAI() as fake:
        a = Assistant(Settings(corpus_dir=CORPUS, index_dir=settings.index_dir, answering={"backend": "llm"},
                               llm={"base_url": fake.base_url, "model": "fake", "timeout_seconds": 20}))
        a._embeddings = assistant.embeddings
        a.ensure_ready()
        yield a, fake


def test_streamed_llm_sentences_appear_before_the_final_message(llm_ui_assistant):
    from fake_openai import INVENTED, INVENTED_WORDS

    a, fake = llm_ui_assistant
    fake.script = "invent"
    try:
        steps = list(chat_stream(a, QUESTION, []))
        final, _, _ = steps[-1]
        shown = [m[-1]["content"] for m, _, _ in steps]
        # A verified sentence was on screen before the final message, and nothing invented ever was.
        assert any("18.51亿元" in s and "<details" not in s for s in shown[:-1])
        assert all(INVENTED not in s and INVENTED_WORDS not in s for s in shown)
        assert "注：大模型回答中有 2 句无法用引用核实，已略去。" in final[-1]["content"]
        assert same_keys(final[-1]["content"]) == same_keys(render_message(a.ask(QUESTION), KEY))
        fake.script = "http500"
        final = list(chat_stream(a, QUESTION, []))[-1][0]
        assert "注：未采用大模型的回答（the language model's server answered HTTP 500）" in final[-1]["content"]
    finally:
        fake.script = "faithful"


# ---- feedback ----------------------------------------------------------------------------------------------------


def test_a_thumb_stores_the_answer_this_session_was_given(demo, ui_assistant):
    from aidqa.web.feedback import store_for

    steps = list(chat_stream(ui_assistant, QUESTION, []))
    messages, _, (key, answer) = steps[-1]
    answers = {key: answer_record(answer)}
    feedback = Feedback(ui_assistant)
    forged = messages[-1]["content"].replace("18.51亿元", "99亿元")  # the page's copy of the message is not trusted
    note, pending = feedback.rate(False, forged, answers)
    assert note.startswith("已记录：👎") and pending is not None
    note, done = feedback.comment("想知道每年投入多少" , pending)
    assert (note, done) == ("已收到您的说明，谢谢！", True)
    latest = next(r for r in store_for(ui_assistant.settings).latest() if r.id == pending["id"])
    assert latest.rating == "down" and latest.answer == answer.answer and latest.channel == "ui"
    assert latest.comment == "想知道每年投入多少" and latest.citations[0].quote == answer.citations[0].quote
    # A message this session did not answer, a value that is not a thumb, an over-long comment: nothing stored.
    before = len(list(store_for(ui_assistant.settings).records()))
    assert feedback.rate(True, "随便一段文字", answers)[1] is None
    assert feedback.rate("Flag", messages[-1]["content"], answers)[1] is None
    assert feedback.rate(True, messages[-1]["content"], "not a dict")[1] is None
    note, done = feedback.comment("长" * 1001, pending)
    assert "超过了 1000 字的上限" in note and done is False
    assert feedback.comment("说明", None)[0].startswith("请先点")
    assert len(list(store_for(ui_assistant.settings).records())) == before


# ---- the page ------------------------------------------------------------------------------------------------------


def test_the_page_is_served_chinese_first():
    page = b'<!doctype html>\n<html\n\tlang="en"\n\tstyle="x"\n>\n\t<head>\n\t\t<meta charset="utf-8" />'
    out = chinese_first(page)
    assert b'lang="zh-CN"' in out and b'lang="en"' not in out
    assert out.index(b"<head><script>") < out.index(b"<meta")  # before any of Gradio's scripts


def test_gradio_client_endpoints(demo):
    from conftest import free_port
    from gradio_client import Client

    demo.queue(default_concurrency_limit=4, max_size=64)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                            ssr_mode=False, quiet=True)
    try:
        client = Client(url, verbose=False)
        result = client.predict(QUESTION, api_name="/ask_json")
        assert isinstance(result, dict)
        assert "18.51亿元" in result["answer"] and result["refused"] is False
        assert result["citations"][0]["source"] == "tianjin-huangnan-report.txt"
        chat = client.predict(QUESTION, [], api_name="/ask")
        assert chat[-1]["role"] == "assistant" and "<mark" in str(chat[-1]["content"])
        assert "18.51亿元" in str(chat[-1]["content"])
    finally:
        demo.close()
