"""The Gradio web UI: a chat over the reports in which every answer carries its own sources, streamed as it is
verified, with 👍/👎 feedback on each answer.

``build_ui(assistant)`` returns the ``gr.Blocks``; ``aidqa.web.app`` mounts it in the FastAPI app (UI at ``/``, JSON
API under ``/api``) with the page's CSS and script and the Chinese-first page (``aidqa.web.ui.page``). Two tabs: 问答
(the chat) and 数据一览 — every figure of the reports in a filterable table with its passage, a CSV and a chart
(``aidqa.web.ui.figures``, its data from ``aidqa.qa.figures_table``).

How one answer looks is ``aidqa.web.ui.render``: the answer with clickable ``[n]`` links, then its sources in a
collapsible block under it. The answer streams in through ``Assistant.ask_stream`` — verified text as it passes,
then the final message, the same as an unstreamed answer renders.

API endpoints (for ``gradio_client``):

* ``/ask`` — ``(question, history) -> chat messages`` (the final messages, as the page shows them);
* ``/ask_json`` — ``(question) -> Answer.model_dump()``, for evaluation scripts.

Everything the page sends is untrusted (the question, the history, the picker, the like event's data): a message
from the page is only ever shown back escaped, and feedback is stored from the answers this session was given
(kept server-side in ``gr.State``), found by the key in the rated message.
"""

# No ``from __future__ import annotations`` here: ``gr.api`` reads the endpoint's return annotation as a real type.

import html
import logging
from collections.abc import Iterator
from typing import Any

import gradio as gr

from aidqa.index.catalogue import UnknownReports
from aidqa.models import Answer
from aidqa.qa import figures_table as fv
from aidqa.qa.assistant import Assistant, InvalidQuestion, clean_question
from aidqa.qa.examples import GENERIC_EXAMPLES
from aidqa.web.feedback import FeedbackFull, FeedbackRefused, FeedbackRequest, citations_of, store_for
from aidqa.web.security import MAX_HISTORY_TURNS
from aidqa.web.service import IndexLoader
from aidqa.web.ui.figures import FIGURES_FAILED, FIGURES_LOADING, FiguresView
from aidqa.web.ui.render import answer_key, inert, md_escape, new_key, partial_message, render_message, reply_text

logger = logging.getLogger(__name__)

TITLE = "报告问答"
INTRO = ("就报告内容提问：回答摘自报告原文，每个 [n] 都可点击，跳到它在报告中的出处（报告、章节、页码）。"
         "报告中找不到答案时，会明确说明，不会编造。也可以用英文提问。")
REPORTS_LABEL = "只在这些报告中查找（不选即全部）"
SERVED_FILE_NAMES = (fv.CSV_NAME,)  # the only files of Gradio's cache the app serves (see aidqa.web.security)
NOT_READY_MESSAGE = "索引正在建立中，请稍候再问。"
EMPTY_QUESTION = "请输入问题。"
FAILED_MESSAGE = "出错了，请重试。（详情已记入服务器日志）"
FEEDBACK_THANKS = {"up": "已记录：👍 有帮助。可以再补充一句说明（可选）。",
                   "down": "已记录：👎 没有帮助。哪里不对或缺了什么？补充说明可以帮助我们改进（可选）。"}
MAX_KEPT_ANSWERS = MAX_HISTORY_TURNS  # answers of a session kept for feedback (older ones have scrolled away)

Messages = list[dict[str, str]]

# One page of examples, so the n-th button in the page is the n-th example (the click gives the index).
EXAMPLES_PER_PAGE = 50
EXAMPLE_LABEL_JS = """(index) => {
  const buttons = document.querySelectorAll('#aidqa-examples button');
  const button = Number.isInteger(index) ? buttons[index] : null;
  return button ? button.innerText.trim() : '';
}"""


# ---- status and messages ------------------------------------------------------------------------------------------


def status_markdown(assistant: Assistant, loader: IndexLoader, shown_titles: int = 3) -> str:
    """The status line in Chinese: which reports are loaded (已载入 N 份报告：《…》), or what the index is doing."""
    if loader.error:
        return f"**索引加载失败**，暂时无法回答：{inert(loader.error)}"
    if assistant.is_ready:
        try:
            reports = assistant.reports()
        except Exception:  # the listing reads the corpus folder; the status line must not fail with it
            logger.exception("listing the reports failed")
            return "已载入报告。"
        titles = "".join(f"《{inert(r.title)}》" for r in reports[:shown_titles])
        more = f"等 {len(reports)} 份" if len(reports) > shown_titles else ""
        return f"已载入 {len(reports)} 份报告：{titles}{more}"
    detail = ""
    if loader.stage:
        stage, done, total = loader.stage
        detail = f"（{inert(str(stage))} {done}/{total}）" if total else f"（{inert(str(stage))}）"
    if loader.reload_reason:
        return f"**正在重新载入索引…**{detail}请稍候。"
    return f"**正在建立索引…**{detail}请稍候，完成后即可提问。"


def question_problem(question: str, max_chars: int) -> tuple[str, bool] | None:
    """Why the question cannot be asked, in Chinese, and whether the text should stay in the box for the user to
    shorten (too long) — or None when it can be asked."""
    try:
        clean_question(question, max_chars)
    except InvalidQuestion:
        length = len(" ".join(question.split()))
        if not length:
            return EMPTY_QUESTION, False
        if length > max_chars:
            return (f"问题有 {length} 字，超过了 {max_chars} 字的上限。请删减后再发送——您输入的内容仍在输入框中。", True)
        return "这个问题无法提交，请换一种说法。", True
    return None


# ---- chat history --------------------------------------------------------------------------------------------


def _field(message: Any, name: str) -> Any:
    return message.get(name) if isinstance(message, dict) else getattr(message, name, None)


def _message_text(content: Any) -> str:
    """Text of a message's content: a string, a {"type": "text", "text": ...} part, or a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "") if content.get("type", "text") == "text" else ""
    if isinstance(content, (list, tuple)):
        return "\n".join(t for t in (_message_text(part) for part in content) if t)
    return ""


def chat_messages(history: Any) -> Messages:
    """The page's chat as plain {"role", "content"} messages, the last MAX_HISTORY_TURNS turns only (older ones
    scroll away), so what the page sends back stays within the guard's cap on Gradio event bodies."""
    messages = [
        {"role": str(_field(m, "role")), "content": _message_text(_field(m, "content"))}
        for m in (history if isinstance(history, list) else [])
        if _field(m, "role") in ("user", "assistant")
    ]
    return messages[-2 * (MAX_HISTORY_TURNS - 1):]


def history_pairs(messages: list[Any] | None) -> list[tuple[str, str]]:
    """(user, assistant) turns from the chat messages, with the sources blocks dropped and escapes undone."""
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for message in messages or []:
        role, text = _field(message, "role"), _message_text(_field(message, "content"))
        if role == "user":
            pending = html.unescape(text).strip()
        elif role == "assistant" and pending is not None:
            pairs.append((pending, reply_text(text)))
            pending = None
    return pairs


# ---- handlers ----------------------------------------------------------------------------------------------


def report_choices(assistant: Assistant) -> list[tuple[str, str]]:
    """The report picker's choices, (label, report id): the title, with the file name when the report has no title
    of its own or shares it with another report. Empty until the index is loaded."""
    if not assistant.is_ready:
        return []
    reports = assistant.reports()
    titles = [r.title for r in reports]

    def label(title: str, report_id: str, file: str) -> str:
        if title in (report_id, file):  # no title of its own
            return report_id
        return f"{title}（{report_id}）" if titles.count(title) > 1 else title

    return [(label(r.title, r.id, r.file), r.id) for r in reports]


def picked_reports(value: Any) -> list[str]:
    """The picker's value as report ids (what the page sent: anything that is not a list of text is no choice)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    return [v for v in value if isinstance(v, str) and v]


def answer_record(answer: Answer) -> dict[str, Any]:
    """What feedback on an answer stores with it (kept per session, server-side)."""
    return {"question": answer.question, "answer": answer.answer, "refused": answer.refused,
            "citations": citations_of(answer)}


def chat_stream(
    assistant: Assistant, question: Any, history: Any, loader: IndexLoader | None = None, documents: Any = None,
) -> Iterator[tuple[Messages, bool, tuple[str, Answer] | None]]:
    """One chat turn as it unfolds: yields (messages, keep the question in the box, (key, answer) once answered).
    The last yield is the turn's final state. Never raises."""
    messages = chat_messages(history)
    question = question if isinstance(question, str) else ""
    problem = question_problem(question, assistant.settings.answering.max_question_chars)
    if problem is not None:
        text, keep = problem
        yield [*messages, {"role": "assistant", "content": md_escape(text)}], keep, None
        return
    messages.append({"role": "user", "content": md_escape(question.strip())})
    if loader is not None and loader.error:
        reply = f"索引加载失败，暂时无法回答：{loader.error}"
        yield [*messages, {"role": "assistant", "content": inert(reply)}], False, None
        return
    if not (loader.healthy() if loader is not None else assistant.is_ready):
        yield [*messages, {"role": "assistant", "content": NOT_READY_MESSAGE}], True, None
        return
    picked = picked_reports(documents)
    restrict = {"documents": picked} if picked else {}  # passed on only when a report is picked
    sent = ""
    yield [*messages, {"role": "assistant", "content": partial_message(sent)}], False, None
    try:
        for event in assistant.ask_stream(question, history=history_pairs(messages[:-1]), **restrict):
            if event.kind == "reset":
                sent = ""
            elif event.kind == "delta":
                sent += event.text
                yield [*messages, {"role": "assistant", "content": partial_message(sent)}], False, None
            elif event.answer is not None:
                key = new_key()
                final = {"role": "assistant", "content": render_message(event.answer, key)}
                yield [*messages, final], False, (key, event.answer)
                return
    except InvalidQuestion as exc:  # checked above; kept for a limit that changed meanwhile
        reply = str(exc)
    except UnknownReports as exc:  # the corpus changed since the page listed its reports
        names = "、".join([*exc.unknown, *exc.ambiguous])[:120]  # from the request: shown inert, bounded
        reply = f"所选报告已不在索引中（{names}），请重新选择报告。"
    except Exception:  # a bug must not show up as a stack trace in the chat
        logger.exception("answering %r failed", question)
        reply = FAILED_MESSAGE
    else:
        reply = FAILED_MESSAGE  # the stream ended without a result
    yield [*messages, {"role": "assistant", "content": inert(reply)}], False, None


def chat_turn(assistant: Assistant, question: Any, history: Any, loader: IndexLoader | None = None,
              documents: Any = None) -> Messages:
    """One chat turn, unstreamed: the final messages."""
    *_, (messages, _, _) = chat_stream(assistant, question, history, loader, documents)
    return messages


def ask_json(
    assistant: Assistant, question: str, loader: IndexLoader | None = None, wait_seconds: float = 300.0
) -> dict[str, Any]:
    """The full Answer as a dict (``Answer.model_dump()``). Waits for the index if it is still loading (evaluation
    scripts want answers, not a "please wait"); errors come back as {"error": ..., "question": ...}."""
    if not isinstance(question, str):
        return {"error": "the question must be text"}  # never echo an input object back
    if loader is not None and not assistant.is_ready:
        loader.join(wait_seconds)
    if loader is not None and loader.error:
        return {"error": f"the index failed to load: {loader.error}", "question": question}
    if not assistant.is_ready:
        return {"error": NOT_READY_MESSAGE, "question": question}
    try:
        return assistant.ask(question).model_dump()
    except InvalidQuestion as exc:
        return {"error": str(exc), "question": question}
    except Exception:  # never a library's text to the client; a broken store is loaded again
        logger.exception("answering %r failed", question)
        if loader is not None and not loader.healthy(probe_seconds=0):
            return {"error": "the index stopped answering and is being loaded again; retry in a few seconds",
                    "question": question}
        return {"error": "internal error; the details are in the server log", "question": question}


class Feedback:
    """The 👍/👎 of the chat and the optional comment after it. Each stores what this session was answered (found
    by the key in the rated message; the message text itself is never trusted), into the shared feedback file."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    @property
    def store(self):
        return store_for(self.assistant.settings)

    def rate(self, liked: Any, message: Any, answers: Any) -> tuple[str, dict[str, Any] | None]:
        """A thumb on a message: (note for the user, the pending feedback a comment can complete)."""
        rating = {True: "up", False: "down"}.get(liked) if isinstance(liked, bool) else None
        key = answer_key(_message_text(message))
        record = answers.get(key) if isinstance(answers, dict) and key else None
        if rating is None or record is None:
            return "这条消息不能评价（只有带出处的回答和“没有找到答案”的回复可以评价）。", None
        request = FeedbackRequest(rating=rating, **record)
        try:
            saved = self.store.add(request, channel="ui")
        except (FeedbackRefused, FeedbackFull, OSError):
            logger.exception("storing feedback failed")
            return "暂时无法记录评价，请稍后再试。", None
        return FEEDBACK_THANKS[rating], {"id": saved.id, "request": request}

    def comment(self, text: Any, pending: Any) -> tuple[str, bool]:
        """The comment for the last thumb: (note, whether the comment box should be cleared)."""
        text = text.strip() if isinstance(text, str) else ""
        if not isinstance(pending, dict) or not isinstance(pending.get("request"), FeedbackRequest):
            return "请先点 👍 或 👎 评价一条回答，再补充说明。", False
        if not text:
            return "说明是空的：写下哪里不对或缺了什么，再提交。", False
        limit = self.assistant.settings.feedback.max_comment_chars
        if len(text) > limit:
            return f"说明有 {len(text)} 字，超过了 {limit} 字的上限，请删减后再提交。", False
        request = pending["request"].model_copy(update={"comment": text})
        try:
            self.store.add(request, channel="ui", feedback_id=pending["id"])
        except (FeedbackRefused, FeedbackFull, OSError):
            logger.exception("storing a feedback comment failed")
            return "暂时无法记录说明，请稍后再试。", False
        return "已收到您的说明，谢谢！", True


# ---- the app -----------------------------------------------------------------------------------------------


def counter_js(max_chars: int) -> str:
    """The character counter, in the browser (no round trip per key): n / max, and a warning over the limit."""
    return (
        "(text) => { const n = [...String(text || '').trim().split(/\\s+/).join(' ')].length;"
        f" const max = {int(max_chars)};"
        " return n > max ? `<span class=\"aidqa-over\">${n} / ${max} 字：超出 ${n - max} 字，请删减后再发送</span>`"
        " : (n ? `${n} / ${max} 字` : ''); }"
    )


def build_ui(assistant: Assistant, loader: IndexLoader | None = None) -> gr.Blocks:
    """The UI: a 问答 chat tab and a 数据一览 figures tab. Starts loading the assistant's index in the background
    (``loader``: share one with the HTTP API, so that the page's status line and /api/health report the same single
    build); the figures tab says 索引加载中… until it is loaded, then fills itself."""
    loader = (loader or IndexLoader(assistant)).start()
    feedback = Feedback(assistant)
    max_chars = assistant.settings.answering.max_question_chars

    def respond(question: str, history: list[dict[str, Any]], documents: Any, answers: Any) -> Iterator[tuple[Any, ...]]:
        kept = dict(answers) if isinstance(answers, dict) else {}
        for messages, keep, answered in chat_stream(assistant, question, history, loader, documents):
            if answered is not None:
                key, answer = answered
                kept[key] = answer_record(answer)
                kept = dict(list(kept.items())[-MAX_KEPT_ANSWERS:])
            yield messages, (gr.skip() if keep else ""), kept

    def chat_api(question: str, history: list[dict[str, Any]]) -> list[dict[str, str]]:
        """Ask a question about the reports in a chat; returns the chat's messages with the answer."""
        return chat_turn(assistant, question, history, loader)

    def corpus_controls() -> tuple[Any, Any]:
        """The report picker's choices and the example questions, for the reports now loaded."""
        return (gr.Dropdown(choices=report_choices(assistant)),
                gr.Dataset(samples=[[q] for q in assistant.example_questions()]))

    def answer_json(question: str) -> dict[str, Any]:
        """Ask a question; returns the full Answer (answer, refused, citations, …) as a dict."""
        return ask_json(assistant, question, loader)

    def status() -> str:
        return status_markdown(assistant, loader)

    def on_like(answers: Any, data: gr.LikeData) -> tuple[Any, ...]:
        note, pending = feedback.rate(getattr(data, "liked", None), getattr(data, "value", None), answers)
        return gr.Group(visible=True), note, pending

    def on_comment(text: Any, pending: Any) -> tuple[Any, ...]:
        note, done = feedback.comment(text, pending)
        return note, ("" if done else gr.skip()), (None if done else gr.skip())

    figures = FiguresView(assistant, loader)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}", elem_id="aidqa-title")
        status_line = gr.Markdown(status(), elem_id="aidqa-status")
        timer = gr.Timer(1.0)
        answers = gr.State({})  # key -> what feedback stores: the answers this session was given (server-side)
        pending = gr.State(None)  # the last thumb, which a comment completes
        with gr.Tabs(elem_id="aidqa-tabs"):
            with gr.Tab("问答", id="chat", elem_id="aidqa-tab-chat"):
                gr.Markdown(INTRO, elem_id="aidqa-intro")
                chatbot = gr.Chatbot(
                    show_label=False,
                    height=None,
                    min_height=140,
                    max_height=640,
                    latex_delimiters=[],
                    feedback_options=("Like", "Dislike"),
                    buttons=["copy"],
                    placeholder="在下方输入问题，或点击一个示例问题。",
                    elem_id="aidqa-chat",
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="输入问题，按回车发送",
                        scale=5,
                        min_width=160,
                        max_lines=4,
                        elem_id="aidqa-question",
                    )
                    send = gr.Button("发送", variant="primary", scale=1, min_width=70, elem_id="aidqa-send")
                counter = gr.Markdown("", elem_id="aidqa-counter")
                examples = gr.Dataset(components=[question], samples=[[q] for q in GENERIC_EXAMPLES],
                                      type="index", label="示例问题（点击即提问）", elem_id="aidqa-examples",
                                      samples_per_page=EXAMPLES_PER_PAGE)
                with gr.Group(visible=False, elem_id="aidqa-feedback") as feedback_box:
                    feedback_note = gr.Markdown("", elem_id="aidqa-feedback-note")
                    with gr.Row(equal_height=True):
                        comment = gr.Textbox(show_label=False, placeholder="补充说明（可选）：哪里不对，或缺了什么",
                                             max_lines=3, scale=5, min_width=160, elem_id="aidqa-feedback-comment")
                        comment_send = gr.Button("提交说明", size="sm", scale=1, min_width=90,
                                                 elem_id="aidqa-feedback-send")
                with gr.Row(equal_height=True):
                    reports = gr.Dropdown(choices=[], value=[], multiselect=True, label=REPORTS_LABEL, scale=4,
                                          elem_id="aidqa-reports")
                    clear = gr.Button("清空对话", size="sm", scale=1, min_width=90, elem_id="aidqa-clear")
                picked = gr.State([])  # the picker's value

            with gr.Tab("数据一览", id="figures", elem_id="aidqa-tab-figures"):
                figs_summary = gr.Markdown(FIGURES_LOADING, elem_id="aidqa-figs-summary")
                with gr.Row(equal_height=True):
                    figs_text = gr.Textbox(label="搜索", placeholder="关键词：数字、指标、原句或章节",
                                           scale=3, min_width=160, max_lines=1, elem_id="aidqa-figs-text")
                    figs_unit = gr.Dropdown([fv.ALL], value=fv.ALL, label="单位", scale=1, min_width=110,
                                            elem_id="aidqa-figs-unit")
                    figs_section = gr.Dropdown([fv.ALL], value=fv.ALL, label="章节", scale=3, min_width=160,
                                               elem_id="aidqa-figs-section")
                    figs_min = gr.Textbox(label="最小值", placeholder="如 500万", scale=1, min_width=110, max_lines=1,
                                          elem_id="aidqa-figs-min")
                    figs_max = gr.Textbox(label="最大值", placeholder="如 1.5亿", scale=1, min_width=110, max_lines=1,
                                          elem_id="aidqa-figs-max")
                with gr.Row():
                    figs_sort = gr.Dropdown(fv.SORTS, value=fv.SORT_REPORT, label="排序", scale=1, min_width=130,
                                            elem_id="aidqa-figs-sort")
                    figs_dates = gr.Checkbox(label="包含年份和日期", value=False, scale=1, elem_id="aidqa-figs-dates")
                    figs_reset = gr.Button("清除筛选", size="sm", scale=1, elem_id="aidqa-figs-reset")
                    figs_download = gr.DownloadButton("下载 CSV（当前筛选）", value=None, size="sm", scale=1,
                                                      elem_id="aidqa-figs-download")
                figs_table = gr.Dataframe(
                    value=fv.table_frame([]),
                    headers=fv.TABLE_COLUMNS,
                    datatype=fv.TABLE_DATATYPES,
                    interactive=False,
                    wrap=True,
                    max_height=360,
                    column_widths=["9%", "12%", "5%", "5%", "28%", "15%", "20%", "6%"],
                    label="数字（点击一行查看原文；“位置”为页码或段落）",
                    elem_id="aidqa-figs-table",
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=240):
                        figs_passage = gr.HTML(fv.EMPTY_PASSAGE, label="passage", css_template=fv.FIGURE_CSS,
                                               js_on_load=None, elem_id="aidqa-figs-passage")
                    with gr.Column(scale=2, min_width=240):
                        figs_chart = gr.BarPlot(
                            None,
                            x=fv.CHART_X,
                            y=fv.CHART_Y,
                            x_title="",
                            sort="-y",
                            tooltip=[fv.CHART_X, fv.CHART_Y],
                            x_label_angle=-30,
                            y_lim=[0, None],
                            y_axis_format=",~f",
                            height=300,
                            show_label=False,
                            visible=False,  # until there is something to compare (see FiguresView.results)
                            elem_id="aidqa-figs-chart",
                        )
                        figs_chart_note = gr.Markdown("", elem_id="aidqa-figs-chart-note")

        filters = [figs_text, figs_unit, figs_section, figs_min, figs_max, figs_dates, figs_sort]
        results = [figs_summary, figs_table, figs_download, figs_chart, figs_chart_note]
        filled = [*results, figs_unit, figs_section]

        def filled_or_note(values: tuple[Any, ...]) -> tuple[Any, ...]:
            # Never fails: a handler that raised on every page load and timer tick would flood the log and never
            # stop the timer.
            try:
                return figures.fill(*values)
            except Exception:
                logger.exception("filling the figures tab failed")
                return (FIGURES_FAILED, *(gr.skip() for _ in range(len(filled) - 1)))

        def corpus_or_skip() -> tuple[Any, ...]:
            # Like the figures tab: never fails, whatever the listing of the reports does.
            if not loader.ready:
                return (gr.skip(), gr.skip())
            try:
                return corpus_controls()
            except Exception:
                logger.exception("listing the reports failed")
                return (gr.skip(), gr.skip())

        def tick(*values: Any) -> tuple[Any, ...]:
            # Stop polling once the index is loaded (or failed); fill the figures tab the moment it is ready.
            done = bool(loader.ready or loader.error)
            return (status(), gr.Timer(active=not done), *filled_or_note(values), *corpus_or_skip())

        def on_load(*values: Any) -> tuple[Any, ...]:
            return (status(), *filled_or_note(values), *corpus_or_skip())

        def reset_filters(include_dates: bool, order: Any) -> tuple[Any, ...]:
            values = ("", fv.ALL, fv.ALL, "", "", include_dates, order)
            return (*values[:5], *figures.results(*values))

        ask_inputs, ask_outputs = [question, chatbot, picked, answers], [chatbot, question, answers]
        gr.on(triggers=[question.submit, send.click], fn=respond, inputs=ask_inputs, outputs=ask_outputs,
              api_visibility="private", show_progress="minimal")
        # Clicking an example asks it: the box is filled with the label the user clicked, then the same turn as a
        # typed question. The label is read in the page: mapping the clicked index to the server's current examples
        # asked another question when the examples changed (the reports finished loading) before the page showed it.
        examples.click(None, examples, question, js=EXAMPLE_LABEL_JS, api_visibility="private",
                       show_progress="hidden").then(respond, ask_inputs, ask_outputs, api_visibility="private",
                                                    show_progress="minimal")
        question.change(None, question, counter, js=counter_js(max_chars), show_progress="hidden")
        chatbot.like(on_like, answers, [feedback_box, feedback_note, pending], api_visibility="private",
                     show_progress="hidden")
        gr.on(triggers=[comment.submit, comment_send.click], fn=on_comment, inputs=[comment, pending],
              outputs=[feedback_note, comment, pending], api_visibility="private", show_progress="hidden")
        clear.click(lambda: ([], "", {}, None, gr.Group(visible=False)), None,
                    [chatbot, question, answers, pending, feedback_box], api_visibility="private")
        reports.change(picked_reports, reports, picked, api_visibility="private", show_progress="hidden")
        corpus = [reports, examples]
        timer.tick(tick, filters, [status_line, timer, *filled, *corpus], api_visibility="private",
                   show_progress="hidden")
        demo.load(on_load, filters, [status_line, *filled, *corpus], api_visibility="private", show_progress="hidden")
        # The text box filters on .change, not .input: text from a Chinese input method or a paste fires no key event.
        gr.on(
            triggers=[figs_text.change, figs_text.submit, figs_unit.input, figs_section.input, figs_min.submit,
                      figs_min.blur, figs_max.submit, figs_max.blur, figs_dates.input, figs_sort.input],
            fn=figures.results,
            inputs=filters,
            outputs=results,
            api_visibility="private",
            show_progress="hidden",
            trigger_mode="always_last",
        )
        figs_reset.click(reset_filters, [figs_dates, figs_sort], [*filters[:5], *results], api_visibility="private",
                         show_progress="hidden")
        figs_table.select(figures.select, None, figs_passage, api_visibility="private", show_progress="hidden")
        gr.api(chat_api, api_name="ask")
        gr.api(answer_json, api_name="ask_json")
    return demo

