"""The Gradio web UI: a chat over the reports, with every answer's sources shown next to it.

``build_ui(assistant)`` returns the ``gr.Blocks``; ``aidqa.web.app.serve()`` serves it, mounted in the FastAPI app of
``aidqa.web.app`` (UI at ``/``, JSON API under ``/api``). Two tabs: 问答 Chat, and 数据一览 Figures — every figure of the
reports in a sortable, filterable table, with its source passage, a CSV download and a chart of the money figures
(the data shaping lives in ``aidqa.qa.figures_table``, the tab in ``aidqa.web.ui.figures``).

A report picker next to the question box restricts the question to some reports of the corpus (none picked: all);
each citation card names its report (《title》) and, for paged formats, the page (第N页). The example questions are
made from the loaded reports (``aidqa.qa.examples``), generic ones until the index is loaded.

API endpoints (for ``gradio_client``):

* ``/ask`` — ``(question, history) -> (chat messages, citations HTML)``, the same function the page uses (the
  page's report picker reaches it through session state, which API callers do not send: they ask every report);
* ``/ask_json`` — ``(question) -> Answer.model_dump()``, for evaluation scripts.

Everything that comes from a report or an answer is HTML-escaped before it is put into HTML or Markdown.
"""

# No ``from __future__ import annotations`` here: ``gr.api`` reads the endpoint's return annotation as a real type.

import html
import logging
import re
from typing import Any

import gradio as gr

from aidqa.index.catalogue import UnknownReports
from aidqa.models import Answer, Citation
from aidqa.qa import figures_table as fv
from aidqa.qa.assistant import Assistant, InvalidQuestion
from aidqa.qa.examples import GENERIC_EXAMPLES
from aidqa.web.security import MAX_HISTORY_TURNS
from aidqa.web.service import IndexLoader
from aidqa.web.ui.figures import FIGURES_FAILED, FIGURES_LOADING, FiguresView
from aidqa.zh.numbers import QUOTED_FIGURE_RE

logger = logging.getLogger(__name__)

TITLE = "aidqa · 报告问答"
DESCRIPTION = (
    "就报告内容提问，回答直接摘自报告原文，并以 [n] 标注出处；右侧显示每条出处所在的段落，引用的句子高亮。"
    "报告中找不到答案时，助手会明确说明，而不会编造。（Questions in English work too.）"
)
REPORTS_LABEL = "报告 Reports（不选即全部 · none = all）"
SERVED_FILE_NAMES = (fv.CSV_NAME,)  # the only files of Gradio's cache the app serves (see aidqa.web.security)
NOT_READY_MESSAGE = "索引正在构建中，请稍候…（the index is being built, please wait）"
SOURCES_HEADER = "**来源 · Sources**"
EMPTY_PANEL = '<div class="aidqa-cites"><p class="aidqa-note">提问后，这里会显示答案引用的原文段落。<br>Sources of the latest answer appear here.</p></div>'


# Styles for the citation panel; gr.HTML scopes css_template to the component.
PANEL_CSS = """
.aidqa-cites { display: flex; flex-direction: column; gap: 0.75rem; font-size: 0.95rem; line-height: 1.65; }
.aidqa-cite { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6rem 0.8rem;
              background: var(--background-fill-secondary); }
.aidqa-cite-head { font-weight: 600; margin-bottom: 0.35rem; }
.aidqa-n { color: var(--color-accent); margin-right: 0.25rem; }
.aidqa-section { font-weight: 400; color: var(--body-text-color-subdued); }
.aidqa-title { font-weight: 600; }
.aidqa-source, .aidqa-page { font-weight: 400; font-size: 0.85rem; color: var(--body-text-color-subdued); }
.aidqa-passage { white-space: pre-wrap; word-break: break-word; }
.aidqa-passage mark { background: #fde68a; color: #111827; padding: 0 1px; border-radius: 2px; }
.aidqa-passage mark strong { color: #b91c1c; }
.aidqa-passage mark strong.aidqa-answer-figure { text-decoration: underline 2px; text-underline-offset: 3px; }
.aidqa-quote { margin-top: 0.35rem; }
.aidqa-score { font-size: 0.8rem; color: var(--body-text-color-subdued); margin-top: 0.3rem; }
.aidqa-note { color: var(--body-text-color-subdued); }
.aidqa-error { color: #b91c1c; }
"""


# ---- rendering ---------------------------------------------------------------------------------------------


def _emphasise_figures(text: str) -> str:
    """Escape ``text`` and wrap every figure in it in <strong>."""
    out: list[str] = []
    last = 0
    for m in QUOTED_FIGURE_RE.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        out.append(f"<strong>{html.escape(m.group(0))}</strong>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _emphasise_quote(c: Citation) -> str:
    """The quote, escaped. The figures that answer the question (``c.highlights``) are marked as such; without
    highlights, every figure is in <strong>."""
    quote = c.quote or ""
    spans = sorted((a - c.start, b - c.start) for a, b in c.highlights or [])
    if not spans or any(not (0 <= a < b <= len(quote)) for a, b in spans):
        return _emphasise_figures(quote)
    out: list[str] = []
    last = 0
    for a, b in spans:
        if a < last:
            continue  # overlapping spans: keep the first
        out.append(html.escape(quote[last:a]))
        out.append(f'<strong class="aidqa-answer-figure">{html.escape(quote[a:b])}</strong>')
        last = b
    out.append(html.escape(quote[last:]))
    return "".join(out)


def _passage_html(c: Citation) -> str:
    """The passage, escaped, with the quote in <mark> (figures in it in <strong>)."""
    passage, quote = c.passage or "", c.quote or ""
    i = c.start - c.passage_start
    if not (i >= 0 and passage[i : i + len(quote)] == quote and quote):
        i = passage.find(quote) if quote else -1
    if i < 0:
        # The quote is not inside the passage (should not happen): show both, the quote marked.
        body = f'<mark>{_emphasise_quote(c)}</mark>'
        rest = f'<div class="aidqa-quote">{html.escape(passage)}</div>' if passage else ""
        return f'<div class="aidqa-passage">{body}</div>{rest}'
    before, after = passage[:i], passage[i + len(quote) :]
    return (
        f'<div class="aidqa-passage">{html.escape(before)}<mark>{_emphasise_quote(c)}</mark>'
        f"{html.escape(after)}</div>"
    )


def _names_report(c: Citation) -> bool:
    """Whether the citation has a title of its own (an untitled report's title is its file name)."""
    return bool(c.title) and c.title not in (c.source, c.source.rsplit("/", 1)[-1])


def _card_head(c: Citation) -> str:
    """"[n] 《title》 source · 第N页 · section", escaped (the title when the report has one, the page when known)."""
    title = f'<span class="aidqa-title">《{html.escape(c.title)}》</span> ' if _names_report(c) else ""
    page = f' · <span class="aidqa-page">第{int(c.page)}页</span>' if c.page is not None else ""
    return (f'<span class="aidqa-n">[{int(c.id)}]</span>{title}<span class="aidqa-source">{html.escape(c.source)}'
            f'</span>{page} · <span class="aidqa-section">{html.escape(c.section)}</span>')


def render_citations(answer: Answer | None) -> str:
    """HTML for the citation panel: one card per citation, "[n] 《title》 source · 第N页 · section" and the passage
    with the quote highlighted. All document text is escaped."""
    if answer is None:
        return EMPTY_PANEL
    if answer.refused or not answer.citations:
        note = (
            "报告中没有找到这个问题的答案，因此没有引用。"
            if answer.language != "en"
            else "The reports do not answer this question, so there is nothing to cite."
        )
        return f'<div class="aidqa-cites"><p class="aidqa-note">{html.escape(note)}</p></div>'
    cards = []
    for c in answer.citations:
        cards.append(
            '<div class="aidqa-cite">'
            f'<div class="aidqa-cite-head">{_card_head(c)}</div>'
            f"{_passage_html(c)}"
            f'<div class="aidqa-score">相关度 score {float(c.score):.2f}</div>'
            "</div>"
        )
    return '<div class="aidqa-cites">' + "".join(cards) + "</div>"


def _md_escape(text: str) -> str:
    """Escape text for the chat's Markdown: no tag or entity in it can take effect. (Quotes need no escaping outside
    attributes, so they are left readable.)"""
    return html.escape(text, quote=False)


def _inert(text: str) -> str:
    """Report or model text for the chat's Markdown, inert: escaped like ``_md_escape``, and the characters that
    make links and images ([, ], !) and bare URLs or addresses (http:, www., @) escaped as well, so that nothing in
    a report or a model's reply can make the page fetch or link anything."""
    text = re.sub(r"([\[\]!@])", r"\\\1", _md_escape(text))
    return re.sub(r"(?i)\b(https?|ftp|mailto|file|data|javascript|www)([:.])", r"\1\\\2", text)


def _grounding_note(answer: Answer) -> str:
    """A short note when the model's reply was not used, or some of its sentences were left out."""
    g, en = answer.grounding, answer.language == "en"
    if g.fallback_reason:
        return (f"*Note: the language model's answer was not used ({_inert(g.fallback_reason)}); this answer comes "
                "from the reports' own sentences.*" if en else
                f"*注：未采用大模型的回答（{_inert(g.fallback_reason)}），改由报告原句作答。*")
    if g.dropped:
        n = len(g.dropped)
        return (f"*Note: {n} sentence(s) of the language model's answer could not be checked against the cited "
                "passages and were left out.*" if en else f"*注：大模型回答中有 {n} 句无法用引用核实，已略去。*")
    return ""


def _source_line(c: Citation) -> str:
    """"[n] file 《title》 · 第N页 · section" for the bot message (inert Markdown)."""
    title = f" 《{_inert(c.title)}》" if _names_report(c) else ""
    page = f" · 第{int(c.page)}页" if c.page is not None else ""
    return f"[{int(c.id)}] {_inert(c.source)}{title}{page} · {_inert(c.section)}"


def render_message(answer: Answer) -> str:
    """The bot message (Markdown): the answer with its [n] markers, then a compact "[n] file 《title》 · page ·
    section" list. Answer text is rendered inert (``_inert``): a report or a model can make it say things, never
    fetch things."""
    text = _inert(answer.answer)
    if answer.standalone_question:
        # Say how a follow-up was understood, so a wrong reading is visible at once.
        label = "Understood as" if answer.language == "en" else "按上文理解为"
        text = f"*{label}：{_inert(answer.standalone_question)}*\n\n{text}"
    if note := _grounding_note(answer):
        text = f"{text}\n\n{note}"
    if answer.refused or not answer.citations:
        return text
    sources = "\n".join(_source_line(c) for c in answer.citations)
    return f"{text}\n\n{SOURCES_HEADER}\n{sources}"


def _error_html(message: str) -> str:
    return f'<div class="aidqa-cites"><p class="aidqa-error">{html.escape(message)}</p></div>'


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


def history_pairs(messages: list[Any] | None) -> list[tuple[str, str]]:
    """(user, assistant) turns from the chat messages, with the source lists stripped and escapes undone."""
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for message in messages or []:
        role, text = _field(message, "role"), _message_text(_field(message, "content"))
        if role == "user":
            pending = html.unescape(text).strip()
        elif role == "assistant" and pending is not None:
            reply = html.unescape(text.split("\n\n" + SOURCES_HEADER, 1)[0]).strip()
            pairs.append((pending, reply))
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


def chat_turn(
    assistant: Assistant, question: str | None, history: list[Any] | None, loader: IndexLoader | None = None,
    documents: Any = None,
) -> tuple[list[dict[str, str]], str]:
    """One chat turn: returns the updated messages and the citation panel HTML. Never raises. ``documents``: the
    report picker's value (report ids); empty means every report."""
    messages: list[dict[str, str]] = [
        {"role": str(_field(m, "role")), "content": _message_text(_field(m, "content"))}
        for m in (history if isinstance(history, list) else [])
        if _field(m, "role") in ("user", "assistant")
    ]
    # The chat keeps its last MAX_HISTORY_TURNS turns (older ones scroll away), so what the page sends back stays
    # within the guard's cap on Gradio event bodies.
    messages = messages[-2 * (MAX_HISTORY_TURNS - 1):]
    question = question if isinstance(question, str) else ""
    if question.strip():
        messages.append({"role": "user", "content": _md_escape(question.strip())})

    if loader is not None and loader.error:
        reply = f"索引加载失败，无法回答（the index failed to load）：{loader.error}"
        messages.append({"role": "assistant", "content": _md_escape(reply)})
        return messages, _error_html(reply)
    if question.strip() and not (loader.healthy() if loader is not None else assistant.is_ready):
        messages.append({"role": "assistant", "content": NOT_READY_MESSAGE})
        return messages, render_citations(None)
    picked = picked_reports(documents)
    restrict = {"documents": picked} if picked else {}  # passed on only when a report is picked
    try:
        answer = assistant.ask(question, history=history_pairs(messages[:-1] if question.strip() else messages),
                               **restrict)
    except InvalidQuestion as exc:
        messages.append({"role": "assistant", "content": _md_escape(str(exc))})
        return messages, render_citations(None)
    except UnknownReports as exc:  # the corpus changed since the page listed its reports
        reply = f"所选报告已不在索引中，请重新选择（the picked reports are no longer indexed）：{exc}"
        messages.append({"role": "assistant", "content": _md_escape(reply)})
        return messages, _error_html(reply)
    except Exception as exc:  # a bug must not show up as a stack trace in the chat
        logger.exception("answering %r failed", question)
        reply = f"出错了，请重试（something went wrong）：{type(exc).__name__}"
        messages.append({"role": "assistant", "content": _md_escape(reply)})
        return messages, _error_html(reply)
    messages.append({"role": "assistant", "content": render_message(answer)})
    return messages, render_citations(answer)


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




# ---- the app -----------------------------------------------------------------------------------------------


def build_ui(assistant: Assistant, loader: IndexLoader | None = None) -> gr.Blocks:
    """The UI: a 问答 Chat tab and a 数据一览 Figures tab. Starts loading the assistant's index in the background
    (``loader``: share one with the HTTP API, so that the page's status line and /api/health report the same single
    build); the Figures tab says 索引加载中… until it is loaded, then fills itself."""
    loader = (loader or IndexLoader(assistant)).start()

    def respond(question: str, history: list[dict[str, Any]], documents: Any = None) -> tuple[list[dict[str, str]], str]:
        """Ask a question about the reports; returns the updated chat and the citations panel (HTML)."""
        return chat_turn(assistant, question, history, loader, documents)

    def example_text(index: Any) -> Any:
        """The question of the clicked example (the examples are the loaded reports' at the time of the click)."""
        questions = assistant.example_questions()
        return questions[index] if isinstance(index, int) and 0 <= index < len(questions) else gr.skip()

    def corpus_controls() -> tuple[Any, Any]:
        """The report picker's choices and the example questions, for the reports now loaded."""
        return (gr.Dropdown(choices=report_choices(assistant)),
                gr.Dataset(samples=[[q] for q in assistant.example_questions()]))

    def answer_json(question: str) -> dict[str, Any]:
        """Ask a question; returns the full Answer (answer, refused, citations, …) as a dict."""
        return ask_json(assistant, question, loader)

    def status() -> str:
        return loader.status_markdown()

    figures = FiguresView(assistant, loader)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}")
        status_line = gr.Markdown(status(), elem_id="aidqa-status")
        timer = gr.Timer(1.0)
        with gr.Tabs(elem_id="aidqa-tabs"):
            with gr.Tab("问答 Chat", id="chat", elem_id="aidqa-tab-chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="对话 Chat",
                        height=480,
                        latex_delimiters=[],
                        feedback_options=None,
                        buttons=["copy", "copy_all"],
                        placeholder="请在下方输入问题，或点击示例问题。",
                        elem_id="aidqa-chat",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            show_label=False,
                            placeholder="输入问题，按回车发送（Ask about the reports）",
                            scale=5,
                            max_lines=4,
                            elem_id="aidqa-question",
                        )
                        send = gr.Button("发送 Send", variant="primary", scale=1, min_width=90, elem_id="aidqa-send")
                    reports = gr.Dropdown(choices=[], value=[], multiselect=True, label=REPORTS_LABEL,
                                          elem_id="aidqa-reports")
                    picked = gr.State([])  # the picker's value, handed to /ask (API callers do not send state)
                    clear = gr.Button("清空对话 Clear", size="sm", elem_id="aidqa-clear")
                    examples = gr.Dataset(components=[question], samples=[[q] for q in GENERIC_EXAMPLES],
                                          type="index", label="示例问题 Examples", elem_id="aidqa-examples")
                with gr.Column(scale=2):
                    gr.Markdown("### 出处 · Citations")
                    citations = gr.HTML(EMPTY_PANEL, label="citations", css_template=PANEL_CSS, js_on_load=None, elem_id="aidqa-citations")

            with gr.Tab("数据一览 Figures", id="figures", elem_id="aidqa-tab-figures"):
                figs_summary = gr.Markdown(FIGURES_LOADING, elem_id="aidqa-figs-summary")
                with gr.Row(equal_height=True):
                    figs_text = gr.Textbox(label="搜索 Search",
                                           placeholder="关键词：数字、指标、原句或章节（a word of a figure, its sentence or section）",
                                           scale=3, max_lines=1, elem_id="aidqa-figs-text")
                    figs_unit = gr.Dropdown([fv.ALL], value=fv.ALL, label="单位 Unit", scale=1, min_width=110,
                                            elem_id="aidqa-figs-unit")
                    figs_section = gr.Dropdown([fv.ALL], value=fv.ALL, label="章节 Section", scale=3,
                                               elem_id="aidqa-figs-section")
                    figs_min = gr.Textbox(label="最小值 Min", placeholder="如 500万", scale=1, min_width=110, max_lines=1,
                                          elem_id="aidqa-figs-min")
                    figs_max = gr.Textbox(label="最大值 Max", placeholder="如 1.5亿", scale=1, min_width=110, max_lines=1,
                                          elem_id="aidqa-figs-max")
                with gr.Row():
                    figs_dates = gr.Checkbox(label="包含年份和日期 Include years & dates", value=False, scale=2,
                                             elem_id="aidqa-figs-dates")
                    figs_reset = gr.Button("清除筛选 Reset", size="sm", scale=1, elem_id="aidqa-figs-reset")
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
                    label="数字 · 表头的 ⋮ 菜单可排序，点击一行查看原文（sort from a header's ⋮ menu; click a row to see its source）",
                    elem_id="aidqa-figs-table",
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        figs_passage = gr.HTML(fv.EMPTY_PASSAGE, label="passage", css_template=fv.FIGURE_CSS,
                                               js_on_load=None, elem_id="aidqa-figs-passage")
                    with gr.Column(scale=2):
                        figs_chart = gr.BarPlot(
                            fv.chart_frame([]),
                            x=fv.CHART_X,
                            y=fv.CHART_Y,
                            title=fv.CHART_TITLE,
                            x_title="章节（简称）",
                            y_title=fv.CHART_Y,
                            sort="-y",
                            tooltip=[fv.CHART_X, fv.CHART_Y, fv.CHART_COUNT],
                            x_label_angle=-30,
                            y_lim=[0, None],
                            y_axis_format=",~f",
                            height=300,
                            show_label=False,
                            elem_id="aidqa-figs-chart",
                        )
                        gr.Markdown(fv.CHART_NOTE, elem_id="aidqa-figs-chart-note")

        filters = [figs_text, figs_unit, figs_section, figs_min, figs_max, figs_dates]
        results = [figs_summary, figs_table, figs_download, figs_chart]
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
            # Like the Figures tab: never fails, whatever the listing of the reports does.
            if not loader.ready:
                return (gr.skip(), gr.skip())
            try:
                return corpus_controls()
            except Exception:
                logger.exception("listing the reports failed")
                return (gr.skip(), gr.skip())

        def tick(*values: Any) -> tuple[Any, ...]:
            # Stop polling once the index is loaded (or failed); fill the Figures tab the moment it is ready.
            done = bool(loader.ready or loader.error)
            return (loader.status_markdown(), gr.Timer(active=not done), *filled_or_note(values), *corpus_or_skip())

        def on_load(*values: Any) -> tuple[Any, ...]:
            return (loader.status_markdown(), *filled_or_note(values), *corpus_or_skip())

        def reset_filters(include_dates: bool) -> tuple[Any, ...]:
            values = ("", fv.ALL, fv.ALL, "", "", include_dates)
            return (*values[:5], *figures.results(*values))

        gr.on(
            triggers=[question.submit, send.click],
            fn=respond,
            inputs=[question, chatbot, picked],
            outputs=[chatbot, citations],
            api_name="ask",
        ).then(lambda: ("", loader.status_markdown()), None, [question, status_line], api_visibility="private")
        clear.click(lambda: ([], EMPTY_PANEL, ""), None, [chatbot, citations, question], api_visibility="private")
        chatbot.clear(lambda: EMPTY_PANEL, None, citations, api_visibility="private")  # the chat's own trash icon
        reports.change(picked_reports, reports, picked, api_visibility="private", show_progress="hidden")
        examples.click(example_text, examples, question, api_visibility="private", show_progress="hidden")
        corpus = [reports, examples]
        timer.tick(tick, filters, [status_line, timer, *filled, *corpus], api_visibility="private",
                   show_progress="hidden")
        demo.load(on_load, filters, [status_line, *filled, *corpus], api_visibility="private", show_progress="hidden")
        # The text box filters on .change, not .input: text from a Chinese input method or a paste fires no key event.
        gr.on(
            triggers=[figs_text.change, figs_text.submit, figs_unit.input, figs_section.input, figs_min.submit,
                      figs_min.blur, figs_max.submit, figs_max.blur, figs_dates.input],
            fn=figures.results,
            inputs=filters,
            outputs=results,
            api_visibility="private",
            show_progress="hidden",
            trigger_mode="always_last",
        )
        figs_reset.click(reset_filters, [figs_dates], [*filters[:5], *results], api_visibility="private",
                         show_progress="hidden")
        figs_table.select(figures.select, None, figs_passage, api_visibility="private", show_progress="hidden")
        gr.api(answer_json, api_name="ask_json")
    return demo




