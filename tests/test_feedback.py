"""Feedback on answers: the append-only store (bounds, a comment replacing its thumb, concurrent writers, a full
file), ``POST /api/feedback`` through the real app, ``aidqa feedback export`` (exact output) and the export read
back by ``aidqa eval`` as a question file, scored on the real report."""

import json
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from aidqa.cli import main as cli
from aidqa.eval.dataset import EvalFileError, load_items
from aidqa.settings import FeedbackSettings
from aidqa.web.feedback import (
    FILE_NAME,
    FeedbackCitation,
    FeedbackFull,
    FeedbackRefused,
    FeedbackRequest,
    FeedbackStore,
    export_item,
)

QUESTION = "天津对口支援黄南州累计投入了多少资金？"
QUOTE = "自2010年对口支援青海省黄南州以来，天津市累计投入18.51亿元，实施567个项目"
CITATION = FeedbackCitation(id=1, source="tianjin-huangnan-report.txt", title="报告", section="综述", quote=QUOTE)


def _request(**overrides) -> FeedbackRequest:
    fields = {"rating": "up", "question": QUESTION, "answer": "累计投入18.51亿元 [1]", "citations": [CITATION]}
    fields.update(overrides)
    return FeedbackRequest(**fields)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---- the store ---------------------------------------------------------------------------------------------------


def test_store_appends_one_line_per_feedback_and_a_comment_replaces_its_thumb(tmp_path):
    store = FeedbackStore(tmp_path / "fb", FeedbackSettings())
    first = store.add(_request(), channel="ui")
    second = store.add(_request(rating="down", answer="报告中没有找到这个问题的答案。", refused=True, citations=[]))
    store.add(_request(comment="数字对，但想看更多细节"), channel="ui", feedback_id=first.id)
    lines = _lines(tmp_path / "fb" / FILE_NAME)
    assert len(lines) == 3  # appended, never rewritten
    assert [r["id"] for r in lines] == [first.id, second.id, first.id]
    latest = store.latest()
    assert [r.id for r in latest] == [first.id, second.id]
    assert latest[0].comment == "数字对，但想看更多细节" and latest[0].channel == "ui"
    assert latest[0].citations[0].quote == QUOTE and latest[1].refused


def test_over_long_fields_are_refused_and_nothing_is_written(tmp_path):
    store = FeedbackStore(tmp_path, FeedbackSettings(max_comment_chars=10, max_citations=1), max_question_chars=30)
    with pytest.raises(FeedbackRefused, match="comment is over 10 characters"):
        store.add(_request(comment="太" * 11))
    with pytest.raises(FeedbackRefused, match="question is over 30 characters"):
        store.add(_request(question="问" * 31))
    with pytest.raises(FeedbackRefused, match="more than 1 citations"):
        store.add(_request(citations=[CITATION, CITATION]))
    assert not (tmp_path / FILE_NAME).exists()
    store.add(_request(comment="太" * 10))  # at the bound: stored
    assert len(_lines(tmp_path / FILE_NAME)) == 1


def test_concurrent_writers_never_interleave_lines(tmp_path):
    store = FeedbackStore(tmp_path, FeedbackSettings())
    other = FeedbackStore(tmp_path, FeedbackSettings())  # a second store on the same file: only the file lock is shared
    comment = "长" * 900  # long lines, so that an unlocked write would tear

    def write(s: FeedbackStore, n: int) -> None:
        for i in range(25):
            s.add(_request(comment=f"{n}-{i}{comment}"))

    threads = [threading.Thread(target=write, args=(store if n % 2 else other, n)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = _lines(tmp_path / FILE_NAME)  # every line is whole JSON
    assert len(lines) == 200 and len({r["id"] for r in lines}) == 200
    assert {r["comment"].split(comment)[0] for r in lines} == {f"{n}-{i}" for n in range(8) for i in range(25)}


def test_a_full_file_refuses_more_and_keeps_what_it_has(tmp_path):
    store = FeedbackStore(tmp_path, FeedbackSettings(max_file_mb=0.002))  # about 2 KB: two records fit
    store.add(_request())
    store.add(_request())
    with pytest.raises(FeedbackFull, match="max_file_mb"):
        for _ in range(5):
            store.add(_request())
    assert all(r["question"] == QUESTION for r in _lines(tmp_path / FILE_NAME))


def test_a_torn_line_is_skipped_not_fatal(tmp_path):
    store = FeedbackStore(tmp_path, FeedbackSettings())
    kept = store.add(_request())
    with open(tmp_path / FILE_NAME, "a", encoding="utf-8") as f:
        f.write('{"id": "torn", "rating": "u\n')
    assert [r.id for r in store.latest()] == [kept.id]


# ---- export → eval ------------------------------------------------------------------------------------------------


def test_export_items_map_ratings_to_what_eval_expects(tmp_path):
    store = FeedbackStore(tmp_path, FeedbackSettings())
    up = store.add(_request())
    up_refused = store.add(_request(answer="报告中没有找到这个问题的答案。", refused=True, citations=[]))
    down = store.add(_request(rating="down", comment="数字不对"))
    items = {r.id: export_item(r) for r in store.latest()}
    assert items[up.id]["type"] == "feedback-up" and items[up.id]["evidence"] == QUOTE
    assert items[up_refused.id]["type"] == "unanswerable"
    assert items[down.id]["type"] == "feedback-down" and items[down.id]["expect"] == "answer"
    assert items[down.id]["feedback"]["comment"] == "数字不对"

    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items.values()), encoding="utf-8")
    loaded = {i.id: i for i in load_items(path)}
    assert not loaded[f"feedback-{up.id}"].expected_refusal and loaded[f"feedback-{up.id}"].evidence == QUOTE
    assert loaded[f"feedback-{up_refused.id}"].expected_refusal
    assert not loaded[f"feedback-{down.id}"].expected_refusal  # 👎 without must/evidence: must still be answered
    assert loaded[f"feedback-{down.id}"].feedback["rating"] == "down"


def test_eval_rejects_a_bad_expect(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"question": "q", "expect": "maybe"}) + "\n", encoding="utf-8")
    with pytest.raises(EvalFileError, match="line 1: 'expect' must be"):
        load_items(path)


def test_cli_feedback_export_exact_output(tmp_path):
    folder = tmp_path / "fb"
    store = FeedbackStore(folder, FeedbackSettings())
    up = store.add(_request())
    down = store.add(_request(rating="down"))
    env = {"AIDQA_FEEDBACK__DIR": str(folder)}
    r = CliRunner().invoke(cli, ["feedback", "export", "--rating", "down"], env=env, catch_exceptions=False)
    assert r.exit_code == 0
    record = next(x for x in store.latest() if x.id == down.id)
    expected = {"id": f"feedback-{down.id}", "question": QUESTION, "type": "feedback-down", "expect": "answer",
                "feedback": {"rating": "down", "comment": "", "answer": "累计投入18.51亿元 [1]", "refused": False,
                             "citations": [CITATION.model_dump()], "created": record.created, "channel": "api"}}
    assert r.stdout == json.dumps(expected, ensure_ascii=False) + "\n"
    assert r.stderr == f"1 feedback(s) exported from {folder.absolute() / FILE_NAME}\n"

    out = tmp_path / "all.jsonl"
    r = CliRunner().invoke(cli, ["feedback", "export", "-o", str(out)], env=env, catch_exceptions=False)
    assert r.exit_code == 0 and r.stdout == ""
    assert [i.id for i in load_items(out)] == [f"feedback-{up.id}", f"feedback-{down.id}"]

    empty = CliRunner().invoke(cli, ["feedback", "export"], env={"AIDQA_FEEDBACK__DIR": str(tmp_path / "none")})
    assert empty.exit_code == 0 and empty.stdout == "" and empty.stderr.startswith("0 feedback(s) exported")


def test_exported_feedback_is_scored_by_eval_on_the_real_report(tmp_path, assistant):
    from aidqa.eval import evaluate

    store = FeedbackStore(tmp_path, FeedbackSettings())
    answer = assistant.ask(QUESTION)
    citations = [FeedbackCitation(**c.model_dump(include={"id", "source", "title", "page", "section", "quote"}))
                 for c in answer.citations]
    store.add(_request(answer=answer.answer, citations=citations))
    store.add(_request(question="火星上有多少人？", answer="报告中没有找到这个问题的答案。", refused=True, citations=[]))
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(export_item(r), ensure_ascii=False) + "\n" for r in store.latest()),
                    encoding="utf-8")
    run = evaluate(assistant, load_items(path), top_k=5)
    assert [(r.type, r.passed) for r in run.items] == [("feedback-up", True), ("unanswerable", True)]
    assert run.items[0].citation_correct is True


# ---- POST /api/feedback --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def feedback_client(settings, assistant, tmp_path_factory):
    from fastapi.testclient import TestClient

    from aidqa import Assistant
    from aidqa.web.app import create_app

    folder = tmp_path_factory.mktemp("feedback")
    own = settings.model_copy(update={"feedback": FeedbackSettings(dir=folder, max_comment_chars=50)})
    served = Assistant(own)  # the routes read the assistant's settings
    served._embeddings = assistant.embeddings  # the session's loaded model; the index is the session's too
    app = create_app(own, served)
    with TestClient(app, base_url="http://localhost") as client:
        app.state.loader.join(60)
        yield client, folder


def test_post_feedback_stores_it(feedback_client):
    client, folder = feedback_client
    body = {"rating": "down", "question": QUESTION, "answer": "x [1]", "comment": "<b>不对</b>",
            "citations": [CITATION.model_dump()]}
    r = client.post("/api/feedback", json=body)
    assert r.status_code == 201, r.text
    saved = _lines(folder / FILE_NAME)[-1]
    assert saved["id"] == r.json()["id"] and saved["channel"] == "api"
    assert saved["comment"] == "<b>不对</b>" and saved["citations"][0]["quote"] == QUOTE  # stored as given, as data


@pytest.mark.parametrize("body, message", [
    ({"rating": "meh", "question": QUESTION, "answer": "x"}, "rating"),
    ({"rating": "up", "question": QUESTION, "answer": "x", "score": 5}, "score"),
    ({"rating": "up", "question": "", "answer": "x"}, "question"),
    ({"rating": "up", "question": QUESTION, "answer": "x", "comment": "长" * 51}, "comment is over 50 characters"),
    ({"rating": "up", "question": QUESTION, "answer": "x", "citations": [{"id": 1}]}, "citations"),
])
def test_post_feedback_refuses_bad_bodies_with_the_error_shape(feedback_client, body, message):
    client, folder = feedback_client
    before = (folder / FILE_NAME).read_text(encoding="utf-8") if (folder / FILE_NAME).exists() else ""
    r = client.post("/api/feedback", json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request" and message in error["message"]
    after = (folder / FILE_NAME).read_text(encoding="utf-8") if (folder / FILE_NAME).exists() else ""
    assert after == before
