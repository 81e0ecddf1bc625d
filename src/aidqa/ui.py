"""The Gradio web UI: a chat over the reports, with every answer's sources shown next to it.

``build_ui(assistant)`` returns the ``gr.Blocks``; ``launch()`` serves it, mounted in the FastAPI app of
``aidqa.api`` (UI at ``/``, JSON API under ``/api``). Two tabs: 问答 Chat, and 数据一览 Figures — every figure of the
reports in a sortable, filterable table, with its source passage, a CSV download and a chart of the money figures
(the data shaping lives in ``aidqa.figures_view``).

API endpoints (for ``gradio_client``):

* ``/ask`` — ``(question, history) -> (chat messages, citations HTML)``, the same function the page uses;
* ``/ask_json`` — ``(question) -> Answer.model_dump()``, for evaluation scripts.

Everything that comes from a report or an answer is HTML-escaped before it is put into HTML or Markdown.
"""

# No ``from __future__ import annotations`` here: ``gr.api`` reads the endpoint's return annotation as a real type.

import html
import logging
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import gradio as gr

from aidqa import figures_view as fv
from aidqa.assistant import Assistant, InvalidQuestion
from aidqa.config import Settings
from aidqa.index import IndexUnavailable
from aidqa.ingest import CorpusError
from aidqa.models import Answer, Citation
from aidqa.web.security import MAX_HISTORY_TURNS

logger = logging.getLogger(__name__)

TITLE = "aidqa · 报告问答"
DESCRIPTION = (
    "就报告内容提问，回答直接摘自报告原文，并以 [n] 标注出处；右侧显示每条出处所在的段落，引用的句子高亮。"
    "报告中找不到答案时，助手会明确说明，而不会编造。（Questions in English work too.）"
)
EXAMPLES = [
    "天津对口支援黄南州累计投入了多少资金？",
    "医疗方面投入了多少资金？",
    "举办了多少场招聘活动？",
    "How many projects has Tianjin implemented?",
    "2015年天津投入了多少资金？",
]
SERVED_FILE_NAMES = (fv.CSV_NAME,)  # the only files of Gradio's cache the app serves (see aidqa.web.security)
NOT_READY_MESSAGE = "索引正在构建中，请稍候…（the index is being built, please wait）"
SOURCES_HEADER = "**来源 · Sources**"
EMPTY_PANEL = '<div class="aidqa-cites"><p class="aidqa-note">提问后，这里会显示答案引用的原文段落。<br>Sources of the latest answer appear here.</p></div>'

# Figures inside a quote: 18.51亿元, 567, 3.5%, 1,200万元 …
_FIGURE = re.compile(r"\d+(?:[.,，]\d+)*(?:\s*(?:%|％|‰|万亿元|亿元|万元|千元|元|万亿|亿|万|千))?")

# Styles for the citation panel; gr.HTML scopes css_template to the component.
PANEL_CSS = """
.aidqa-cites { display: flex; flex-direction: column; gap: 0.75rem; font-size: 0.95rem; line-height: 1.65; }
.aidqa-cite { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6rem 0.8rem;
              background: var(--background-fill-secondary); }
.aidqa-cite-head { font-weight: 600; margin-bottom: 0.35rem; }
.aidqa-n { color: var(--color-accent); margin-right: 0.25rem; }
.aidqa-section { font-weight: 400; color: var(--body-text-color-subdued); }
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
    for m in _FIGURE.finditer(text):
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


def render_citations(answer: Answer | None) -> str:
    """HTML for the citation panel: one card per citation, "[n] source · section" and the passage with the quote
    highlighted. All document text is escaped."""
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
            f'<div class="aidqa-cite-head"><span class="aidqa-n">[{int(c.id)}]</span>{html.escape(c.source)}'
            f' · <span class="aidqa-section">{html.escape(c.section)}</span></div>'
            f"{_passage_html(c)}"
            f'<div class="aidqa-score">相关度 score {float(c.score):.2f}</div>'
            "</div>"
        )
    return '<div class="aidqa-cites">' + "".join(cards) + "</div>"


def _md_escape(text: str) -> str:
    """Escape text for the chat's Markdown: no tag or entity in it can take effect. (Quotes need no escaping outside
    attributes, so they are left readable.)"""
    return html.escape(text, quote=False)


def render_message(answer: Answer) -> str:
    """The bot message (Markdown): the answer with its [n] markers, then a compact "[n] file · section" list."""
    text = _md_escape(answer.answer)
    if answer.standalone_question:
        # Say how a follow-up was understood, so a wrong reading is visible at once.
        label = "Understood as" if answer.language == "en" else "按上文理解为"
        text = f"*{label}：{_md_escape(answer.standalone_question)}*\n\n{text}"
    if answer.refused or not answer.citations:
        return text
    sources = "\n".join(f"[{int(c.id)}] {_md_escape(c.source)} · {_md_escape(c.section)}" for c in answer.citations)
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


# ---- index loading -----------------------------------------------------------------------------------------


def public_error(exc: BaseException) -> str:
    """What clients are told about a failed index load: this app's own messages (they say what to do), but never
    the text of an unexpected exception from a library (a database error, a path deep inside a package)."""
    if isinstance(exc, (IndexUnavailable, CorpusError)):
        return str(exc)
    return f"unexpected {type(exc).__name__} while loading the index; the details are in the server log"


class IndexLoader:
    """Loads (or builds) the assistant's index in a background thread and reports its status. Once loaded, it
    probes the vector store for real (cached for ``probe_seconds``): a store that broke under the running server
    is dropped and loaded again (rebuilt when needed) in the background, and meanwhile the app says so (503)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.passages: int | None = None
        self.error: str | None = None  # for people and clients: never an exception's internals
        self.stage: tuple[str, int, int] | None = None
        self.reload_reason: str | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._probed_at: float | None = None

    def start(self) -> "IndexLoader":
        with self._lock:
            if self._thread is None or (self.reload_reason and not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._run, name="aidqa-index-loader", daemon=True)
                self._thread.start()
        return self

    def healthy(self, probe_seconds: float | None = None) -> bool:
        """Whether a question can be answered now: the index is loaded and the last real probe of its vector store
        (at most ``probe_seconds`` old; default from the settings) passed. A failed probe starts a reload."""
        if not self.ready:
            return False
        max_age = self.assistant.settings.health_probe_seconds if probe_seconds is None else probe_seconds
        with self._lock:
            fresh = self._probed_at is not None and time.monotonic() - self._probed_at <= max_age
            if fresh:
                return True
            problem = self.assistant.probe()
            self._probed_at = time.monotonic()
            if problem is None:
                return True
        logger.error("the loaded index cannot answer (%s); loading it again", problem)
        self.reload(problem)
        return False

    def reload(self, reason: str) -> None:
        """Drop the loaded index and load it again in the background (rebuilding it if it is corrupt)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return  # a load is already under way
            self.reload_reason, self.error, self.passages, self.stage = reason, None, None, None
            self._probed_at = None
        self.assistant.unload()
        self.start()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.stage = (stage, done, total)

    def _run(self) -> None:
        try:
            index = self.assistant.ensure_ready(self._progress)
            self.passages = len(index.chunks)
            self.reload_reason = None
        except Exception as exc:  # shown in the status line and as the reply to questions
            logger.exception("loading the index failed")
            self.error = public_error(exc)

    @property
    def ready(self) -> bool:
        return self.assistant.is_ready

    def status_markdown(self) -> str:
        if self.error:
            return f"**索引加载失败**（index failed to load）：{html.escape(self.error)}"
        if self.ready:
            n = self.passages if self.passages is not None else "?"
            return f"就绪：{n} 个段落（ready: {n} passages）"
        detail = ""
        if self.stage:
            stage, done, total = self.stage
            detail = f"（{html.escape(str(stage))} {done}/{total}）" if total else f"（{html.escape(str(stage))}）"
        if self.reload_reason:
            return f"**索引重新加载中…**{detail}（the index is being loaded again, please wait）"
        return f"**索引构建中…**{detail}（building the index, please wait）"


# ---- handlers ----------------------------------------------------------------------------------------------


def chat_turn(
    assistant: Assistant, question: str | None, history: list[Any] | None, loader: IndexLoader | None = None
) -> tuple[list[dict[str, str]], str]:
    """One chat turn: returns the updated messages and the citation panel HTML. Never raises."""
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
    try:
        answer = assistant.ask(question, history=history_pairs(messages[:-1] if question.strip() else messages))
    except InvalidQuestion as exc:
        messages.append({"role": "assistant", "content": _md_escape(str(exc))})
        return messages, render_citations(None)
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


# ---- the 数据一览 (Figures) tab ------------------------------------------------------------------------------

FIGURES_FAILED = "**数据一览暂时无法显示**（the figures table failed; the details are in the server log）"
FIGURES_LOADING = "**索引加载中…**（loading the index; the table fills in when it is ready）"
CSV_DIR = Path(tempfile.gettempdir()) / "aidqa-figures"


class FiguresView:
    """The Figures tab's handlers: each returns plain values for the tab's components and never raises. Until the
    index is loaded they only report "索引加载中…"."""

    def __init__(self, assistant: Assistant, loader: IndexLoader | None = None, csv_dir: Path = CSV_DIR) -> None:
        self.assistant = assistant
        self.loader = loader
        self.csv_dir = csv_dir

    @property
    def ready(self) -> bool:
        return self.assistant.is_ready

    def waiting_message(self) -> str:
        if self.loader is not None and self.loader.error:
            return f"**索引加载失败**（index failed to load）：{html.escape(self.loader.error)}"
        return FIGURES_LOADING

    @staticmethod
    def query(text: Any, unit: Any, section: Any, minimum: Any, maximum: Any, include_dates: Any) -> tuple[fv.FigureQuery, list[str]]:
        """The filters from the inputs' raw values; a bound that cannot be read is ignored and reported."""
        problems: list[str] = []
        bounds: list[float | None] = []
        for label, raw in (("最小值", minimum), ("最大值", maximum)):
            try:
                bounds.append(fv.parse_amount(raw))
            except ValueError:
                bounds.append(None)
                problems.append(f"{label}“{raw}”无法识别，已忽略（如 500万、1.5亿、7000000）")
        query = fv.FigureQuery(text=str(text or ""), unit=unit or None, section=section or None, minimum=bounds[0],
                               maximum=bounds[1], include_dates=bool(include_dates))
        return query, problems

    def results(self, text: Any, unit: Any, section: Any, minimum: Any, maximum: Any, include_dates: Any) -> tuple[Any, ...]:
        """(summary, table, CSV path, chart frame) for the current filters."""
        if not self.ready:
            return self.waiting_message(), gr.skip(), gr.skip(), gr.skip()
        figures = self.assistant.figures()
        query, problems = self.query(text, unit, section, minimum, maximum, include_dates)
        rows = fv.select_figures(figures, query)
        total = len(fv.select_figures(figures, fv.FigureQuery(include_dates=query.include_dates)))
        try:
            csv_path: Any = str(fv.write_csv(rows, self.csv_dir))
        except OSError:
            logger.exception("writing the figures CSV failed")
            csv_path, problems = None, [*problems, "CSV 文件写入失败"]
        shown = rows[: fv.MAX_TABLE_ROWS]
        return (
            fv.summary_markdown(len(shown), total, problems, matched=len(rows)),
            fv.styled_table(fv.table_frame(shown)),
            csv_path,
            fv.chart_frame(rows),
        )

    def fill(self, text: Any, unit: Any, section: Any, minimum: Any, maximum: Any, include_dates: Any) -> tuple[Any, ...]:
        """Everything, once the index is ready: the results plus the unit and section choices."""
        if not self.ready:
            return (self.waiting_message(), *(gr.skip() for _ in range(5)))
        figures = self.assistant.figures()
        units, sections = fv.unit_choices(figures), fv.section_choices(figures)
        unit = unit if unit in units else fv.ALL
        section = section if section in sections else fv.ALL
        return (
            *self.results(text, unit, section, minimum, maximum, include_dates),
            gr.Dropdown(choices=units, value=unit),
            gr.Dropdown(choices=sections, value=section),
        )

    def passage(self, source: Any, start: Any) -> str:
        """The source passage HTML of the figure at (source, start), or a note."""
        if not self.ready:
            return fv.LOADING_PASSAGE
        try:
            f = fv.find_figure(self.assistant.figures(), str(source), int(start))
        except (TypeError, ValueError):
            f = None
        if f is None:
            return fv.EMPTY_PASSAGE
        document = self.assistant.ensure_ready().documents.get(f.source)
        return fv.passage_html(f, document.text if document is not None else None)

    def select(self, evt: gr.SelectData) -> str:
        """A click on a table row: that row's figure. The row's own values name it (source, offset), so this works
        however the table is sorted."""
        row = evt.row_value or []
        try:
            source, start = row[fv.TABLE_COLUMNS.index(fv.COL_SOURCE)], row[fv.TABLE_COLUMNS.index(fv.COL_START)]
        except (IndexError, TypeError):
            return fv.EMPTY_PASSAGE
        return self.passage(source, start)


# ---- the app -----------------------------------------------------------------------------------------------


def build_ui(assistant: Assistant, loader: IndexLoader | None = None) -> gr.Blocks:
    """The UI: a 问答 Chat tab and a 数据一览 Figures tab. Starts loading the assistant's index in the background
    (``loader``: share one with the HTTP API, so that the page's status line and /api/health report the same single
    build); the Figures tab says 索引加载中… until it is loaded, then fills itself."""
    loader = (loader or IndexLoader(assistant)).start()

    def respond(question: str, history: list[dict[str, Any]]) -> tuple[list[dict[str, str]], str]:
        """Ask a question about the reports; returns the updated chat and the citations panel (HTML)."""
        return chat_turn(assistant, question, history, loader)

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
                    clear = gr.Button("清空对话 Clear", size="sm", elem_id="aidqa-clear")
                    gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question], label="示例问题 Examples")
                with gr.Column(scale=2):
                    gr.Markdown("### 出处 · Citations")
                    citations = gr.HTML(EMPTY_PANEL, label="citations", css_template=PANEL_CSS, js_on_load=None, elem_id="aidqa-citations")

            with gr.Tab("数据一览 Figures", id="figures", elem_id="aidqa-tab-figures"):
                figs_summary = gr.Markdown(FIGURES_LOADING, elem_id="aidqa-figs-summary")
                with gr.Row(equal_height=True):
                    figs_text = gr.Textbox(label="搜索 Search", placeholder="如：医疗、投入、招聘（数字、指标、原句、章节）",
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

        def tick(*values: Any) -> tuple[Any, ...]:
            # Stop polling once the index is loaded (or failed); fill the Figures tab the moment it is ready.
            done = bool(loader.ready or loader.error)
            return (loader.status_markdown(), gr.Timer(active=not done), *filled_or_note(values))

        def on_load(*values: Any) -> tuple[Any, ...]:
            return (loader.status_markdown(), *filled_or_note(values))

        def reset_filters(include_dates: bool) -> tuple[Any, ...]:
            values = ("", fv.ALL, fv.ALL, "", "", include_dates)
            return (*values[:5], *figures.results(*values))

        gr.on(
            triggers=[question.submit, send.click],
            fn=respond,
            inputs=[question, chatbot],
            outputs=[chatbot, citations],
            api_name="ask",
        ).then(lambda: ("", loader.status_markdown()), None, [question, status_line], api_visibility="private")
        clear.click(lambda: ([], EMPTY_PANEL, ""), None, [chatbot, citations, question], api_visibility="private")
        chatbot.clear(lambda: EMPTY_PANEL, None, citations, api_visibility="private")  # the chat's own trash icon
        timer.tick(tick, filters, [status_line, timer, *filled], api_visibility="private", show_progress="hidden")
        demo.load(on_load, filters, [status_line, *filled], api_visibility="private", show_progress="hidden")
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


def launch(settings: Settings | None = None) -> None:
    """Serve the UI and the HTTP API on settings.host:settings.port (blocks until stopped); see ``aidqa.api.serve``."""
    from aidqa.api import serve  # aidqa.api imports this module

    serve(settings or Settings())
