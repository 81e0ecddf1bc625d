"""The Gradio UI: chat handler, citation rendering (escaped), not-ready and empty-question replies, and the
/ask and /ask_json endpoints through gradio_client. Uses the packaged model and the real report."""

import socket
from pathlib import Path

import gradio as gr
import pytest

from aidqa.models import Answer, Citation
from aidqa.qa.assistant import Assistant
from aidqa.settings import Settings
from aidqa.web.ui.chat import NOT_READY_MESSAGE, build_ui, chat_turn, render_citations, render_message

CORPUS = Path(__file__).parent.parent / "docs_corpus"
QUESTION = "天津对口支援黄南州累计投入了多少资金？"
EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def ui_settings(tmp_path_factory) -> Settings:
    return Settings(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("ui") / "index")


@pytest.fixture(scope="module")
def ui_assistant(ui_settings) -> Assistant:
    return Assistant(ui_settings)


@pytest.fixture(scope="module")
def demo(ui_assistant) -> gr.Blocks:
    blocks = build_ui(ui_assistant)  # starts building the index in the background
    ui_assistant.ensure_ready()  # waits for that build (same lock)
    return blocks


@pytest.fixture(scope="module")
def first_turn(demo, ui_assistant):
    return chat_turn(ui_assistant, QUESTION, [])


def test_build_ui_returns_blocks(demo):
    assert isinstance(demo, gr.Blocks)


def test_chat_turn_answers_with_citations(first_turn):
    messages, cites = first_turn
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == QUESTION
    bot = messages[-1]["content"]
    assert "18.51亿元" in bot and "[1]" in bot
    assert "tianjin-huangnan-report.txt" in bot  # the compact source list
    assert "<mark>" in cites and "tianjin-huangnan-report.txt" in cites
    assert '<strong class="aidqa-answer-figure">18.51亿元</strong>' in cites  # the figure that answers is marked
    assert "567个项目" in cites and "<strong>567" not in cites  # the other figure is not


def test_history_is_passed_back(first_turn, ui_assistant, monkeypatch):
    messages, _ = first_turn
    seen = {}
    real_ask = ui_assistant.ask

    def spy(question, history=None, top_k=None):
        seen["history"] = history
        return real_ask(question, history=history, top_k=top_k)

    monkeypatch.setattr(ui_assistant, "ask", spy)
    messages2, _ = chat_turn(ui_assistant, "举办了多少场招聘活动？", messages)
    assert len(messages2) == 4
    (user, reply), = seen["history"]
    assert user == QUESTION and "18.51亿元" in reply and "Sources" not in reply


def test_empty_question_gives_clear_message(demo, ui_assistant):
    messages, cites = chat_turn(ui_assistant, "   ", [])
    assert messages[-1]["role"] == "assistant"
    assert "empty" in messages[-1]["content"] and "请输入问题" in messages[-1]["content"]
    assert "<mark>" not in cites
    messages, _ = chat_turn(ui_assistant, None, [])  # what an empty textbox can send
    assert "请输入问题" in messages[-1]["content"]


def test_not_ready_replies_instead_of_blocking(ui_settings):
    fresh = Assistant(ui_settings)  # nothing loaded
    messages, _ = chat_turn(fresh, QUESTION, [])
    assert messages[-1]["content"] == NOT_READY_MESSAGE
    assert not fresh.is_ready  # it answered without loading (or waiting for) the index


def _citation(**overrides) -> Citation:
    passage = f"前文{EVIL}。累计投入18.51亿元，<b>实施</b>567个项目。后文&amp;"
    quote = "累计投入18.51亿元，<b>实施</b>567个项目。"
    start = passage.index(quote)
    fields = {"id": 1, "source": f"evil{EVIL}.txt", "section": "节<script>alert(2)</script>", "quote": quote,
              "start": 100 + start, "end": 100 + start + len(quote), "score": 0.9, "passage": passage,
              "passage_start": 100, "raw_start": 0, "raw_end": 0}
    fields.update(overrides)
    return Citation(**fields)


def test_citation_html_is_escaped():
    answer = Answer(question="q", answer=f"累计投入18.51亿元{EVIL} [1]", refused=False, citations=[_citation()])
    out = render_citations(answer)
    assert "<img" not in out and "<script" not in out and "<b>" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "&lt;script&gt;" in out
    assert "&amp;amp;" in out  # a literal "&amp;" in the report shows as text
    assert "<mark>累计投入<strong>18.51亿元</strong>，&lt;b&gt;实施&lt;/b&gt;<strong>567</strong>个项目。</mark>" in out
    msg = render_message(answer)
    assert "<img" not in msg and "&lt;img src=x onerror=alert(1)&gt;" in msg and "[1] evil&lt;img" in msg


def test_quote_outside_passage_still_shown_escaped():
    c = _citation(quote=f"不在段落里{EVIL}", start=0, end=5)
    out = render_citations(Answer(question="q", answer="x [1]", refused=False, citations=[c]))
    assert "<img" not in out and "<mark>不在段落里&lt;img" in out


def test_refused_answer_has_empty_panel_with_note():
    answer = Answer(question="火星上有多少人？", answer="报告中没有找到这个问题的答案。", refused=True)
    out = render_citations(answer)
    assert "<mark>" not in out and "aidqa-cite\"" not in out and "没有找到" in out
    assert render_message(answer) == "报告中没有找到这个问题的答案。"


def test_follow_up_message_says_how_it_was_understood():
    answer = Answer(question="那泽库县呢？", answer="投入1000万元 [1]", refused=False, citations=[_citation()],
                    standalone_question=f"天津给泽库县医院投入了多少援青资金？{EVIL}")
    msg = render_message(answer)
    assert msg.startswith("*按上文理解为：天津给泽库县医院投入了多少援青资金？&lt;img")
    assert "<img" not in msg


def test_chat_turn_resolves_a_follow_up_against_the_chat_history(assistant):
    messages, _ = chat_turn(assistant, "天津给尖扎县医院投入了多少援青资金？", [])
    messages, panel = chat_turn(assistant, "那泽库县呢？", messages)
    last = messages[-1]["content"]
    assert "1000万元" in last and "700万元" not in last.split("\n\n", 1)[1]
    assert "泽库县" in panel


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gradio_client_endpoints(demo):
    from gradio_client import Client

    demo.queue(default_concurrency_limit=4, max_size=64)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True,
                            ssr_mode=False, quiet=True)
    try:
        client = Client(url, verbose=False)
        result = client.predict(QUESTION, api_name="/ask_json")
        assert isinstance(result, dict)
        assert "18.51亿元" in result["answer"] and result["refused"] is False
        assert result["citations"][0]["source"] == "tianjin-huangnan-report.txt"
        chat, cites = client.predict(QUESTION, [], api_name="/ask")
        assert chat[-1]["role"] == "assistant" and "<mark>" in cites
        assert "18.51亿元" in chat[-1]["content"][0]["text"]
    finally:
        demo.close()


def test_answer_figures_are_marked_in_the_quote_and_escaped():
    quote = "投入援青资金700万元，<b>x</b>为尖扎县医院购置设备；"
    c = _citation(quote=quote, start=100, end=100 + len(quote), passage=quote, passage_start=100,
                  highlights=[(106, 111)])
    out = render_citations(Answer(question="q", answer=f"{quote} [1]", refused=False, citations=[c]))
    assert '<strong class="aidqa-answer-figure">700万元</strong>' in out
    assert "&lt;b&gt;x&lt;/b&gt;" in out and "<b>" not in out
    # A highlight outside the quote is ignored (all figures emphasised instead), never an error.
    bad = c.model_copy(update={"highlights": [(0, 3)]})
    assert "<strong>700万元</strong>" in render_citations(Answer(question="q", answer="x [1]", refused=False, citations=[bad]))
