"""The data behind the UI's 数据一览 (Figures) tab, as pure functions: table rows, filtering, sorting, where a reader
finds a figure, CSV, chart and the source passage of one figure. Nothing here needs Gradio or a browser, so all of it
is tested directly.

The chart only ever adds like with like: a sum of 投入 and 签约额, or of 元 and 人, is a number nobody reported and
nobody can use. So figures of one unit and one measure are summed per section; one unit but different measures are
drawn side by side, one bar each; several units are not drawn at all, and the note says why (no empty axes).

Everything that comes from a report is HTML-escaped before it is put into HTML (a report may contain markup).
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import html
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd  # installed with gradio
from pandas.io.formats.style import Styler

from aidqa.index.chunking import Chunk
from aidqa.index.figures import Figure, filter_figures
from aidqa.zh.numbers import parse_typed_amount

ALL = "全部"
QUALIFIER_LABELS = {"none": "—", "approx": "约", "more_than": "超过", "at_least": "以上"}
KIND_LABELS = {"amount": "数量", "ordinal": "序数", "year": "年份", "date": "日期"}
DEFAULT_KINDS = ("amount", "ordinal")

# Table columns (the UI shows these headers); 数值 is numeric so that sorting by it is numeric.
COL_RAW, COL_VALUE, COL_UNIT, COL_QUALIFIER = "数字", "数值", "单位", "限定"
COL_WHAT, COL_SECTION, COL_SOURCE, COL_START = "指标", "章节", "来源", "位置"
TABLE_COLUMNS = [COL_RAW, COL_VALUE, COL_UNIT, COL_QUALIFIER, COL_WHAT, COL_SECTION, COL_SOURCE, COL_START]
TABLE_DATATYPES = ["str", "number", "str", "str", "str", "str", "str", "number"]

# The CSV of `aidqa figures --csv` (for scripts: field names) and the one the UI offers (for people: Chinese headers,
# qualifiers and kinds in words, the location as page or paragraph).
CSV_COLUMNS = ["value", "unit", "raw", "qualifier", "kind", "measures", "object", "topic", "section", "source",
               "start", "end", "sentence"]
CSV_HEADERS = ["原文数字", "数值", "单位", "限定", "类型", "指标", "对象", "主题", "章节", "报告", "位置", "原句"]
CSV_NAME = "aidqa-figures.csv"

SORT_REPORT, SORT_DESC, SORT_ASC, SORT_UNIT = "原文顺序", "数值从大到小", "数值从小到大", "按单位分组"
SORTS = [SORT_REPORT, SORT_DESC, SORT_ASC, SORT_UNIT]

MONEY_UNIT, MONEY_SCALE, MONEY_SHOWN = "元", 10_000, "万元"  # money is drawn in 万元: 18.51亿元 → 185,100
CHART_X, CHART_Y = "项目", "数值"
CHART_MAX_BARS = 20

# The table never holds more rows than this, however large the reports: a browser table of tens of thousands of
# styled rows fails (pandas' Styler refuses past 262,144 cells) and is unreadable anyway; filters narrow it down.
MAX_TABLE_ROWS = 500
PASSAGE_MAX_CHARS = 700  # a longer paragraph is cut around the figure's sentence
PASSAGE_CONTEXT = 160  # characters kept on each side of the sentence when cutting

EMPTY_PASSAGE = '<div class="aidqa-fig"><p class="aidqa-note">点击表格中的一行，这里显示该数字所在的原文段落，数字高亮。</p></div>'
LOADING_PASSAGE = '<div class="aidqa-fig"><p class="aidqa-note">索引加载中…</p></div>'

FIGURE_CSS = """
.aidqa-fig { font-size: 0.95rem; line-height: 1.7; border: 1px solid var(--border-color-primary); border-radius: 8px;
             padding: 0.7rem 0.9rem; background: var(--background-fill-secondary); }
.aidqa-fig-head { font-weight: 600; margin-bottom: 0.2rem; }
.aidqa-fig-value { font-weight: 400; color: var(--body-text-color-subdued); margin-left: 0.4rem; }
.aidqa-fig-meta { font-size: 0.85rem; color: var(--body-text-color-subdued); margin-bottom: 0.45rem; word-break: break-all; }
.aidqa-fig-passage { white-space: pre-wrap; word-break: break-word; }
.aidqa-fig-sentence { text-decoration: underline; text-decoration-color: #f59e0b; text-underline-offset: 4px; }
.aidqa-fig-passage mark { background: #fde68a; color: #b91c1c; font-weight: 700; padding: 0 2px; border-radius: 2px; }
.aidqa-note { color: var(--body-text-color-subdued); }
"""


# ---- formatting ----------------------------------------------------------------------------------------------


def format_value(value: float) -> str:
    """1851000000 → "1,851,000,000"; 2.5 → "2.5" (no binary noise, no trailing zeros)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def plain_value(value: float) -> str:
    """The value for CSV: 1851000000 (not 1851000000.0), 2.5."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def short_section(section: str, max_chars: int = 14) -> str:
    """A section heading short enough for a table cell or a chart axis: the part before the first space
    (三、工业和建筑业 全年全部工业增加值… → 三、工业和建筑业), cut to ``max_chars``."""
    head = section.strip().split(None, 1)[0] if section.strip() else ""
    return head if len(head) <= max_chars else head[: max_chars - 1] + "…"


def _topic_words(topic: str) -> str:
    """在推进城乡融合发展上 → 推进城乡融合发展."""
    t = topic.strip()
    t = re.sub(r"^在", "", t)
    t = re.sub(r"(?:方面|上)$", "", t)
    return t


def indicator(f: Figure) -> str:
    """What the figure measures, short: "实现利润（推进城乡融合发展）", "实施…项目"."""
    what = f.measures
    if f.object:
        what = f"{what}…{f.object}" if what else f"…{f.object}"
    topic = _topic_words(f.topic)
    if topic:
        what = f"{what}（{topic}）" if what else topic
    return what


# ---- filtering -----------------------------------------------------------------------------------------------

def parse_amount(text: str | float | int | None) -> float | None:
    """A bound typed by a person: "7000000", "1,000", "500万", "1.5亿", "700万元" → the plain number. None for
    empty input; ValueError for anything else."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        return float(text)
    s = str(text).strip().replace("，", ",").replace("．", ".")
    s = s.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not s:
        return None
    value = parse_typed_amount(s)
    if value is None:
        raise ValueError(f"无法识别的数值：{text}")
    return round(value, 6)


@dataclass(frozen=True)
class FigureQuery:
    """The tab's filters. ``unit``/``section`` of None or ALL mean "any"."""

    text: str = ""
    unit: str | None = None
    section: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    include_dates: bool = False


def select_figures(figures: Iterable[Figure], query: FigureQuery = FigureQuery()) -> list[Figure]:
    """The figures matching every filter, in report order. Text matches the raw figure, what it measures (measures,
    object, topic), its sentence or its section; years and dates only with ``include_dates``."""
    unit = query.unit if query.unit and query.unit != ALL else None
    section = query.section if query.section and query.section != ALL else None
    kinds = None if query.include_dates else DEFAULT_KINDS
    rows = filter_figures(figures, grep=(query.text or "").strip() or None, unit=unit, minimum=query.minimum,
                          maximum=query.maximum, kinds=kinds)
    return [f for f in rows if section is None or f.section == section]


def unit_choices(figures: Iterable[Figure], include_dates: bool = True) -> list[str]:
    """ALL, then every unit present, the most frequent first."""
    counts: dict[str, int] = {}
    for f in figures:
        if include_dates or f.kind in DEFAULT_KINDS:
            counts[f.unit] = counts.get(f.unit, 0) + 1
    return [ALL] + sorted(counts, key=lambda u: (-counts[u], u))


def section_choices(figures: Iterable[Figure]) -> list[str]:
    """ALL, then every section that holds a figure, in report order."""
    seen: dict[str, None] = {}
    for f in figures:
        seen.setdefault(f.section, None)
    return [ALL, *seen]


def sort_figures(figures: Iterable[Figure], order: object) -> list[Figure]:
    """The figures in one of SORTS: report order (also for anything else the page sends), by value either way, or
    grouped by unit — the most frequent unit first, the largest first within it — since only values of one unit
    compare."""
    figures = list(figures)
    if order == SORT_DESC:
        return sorted(figures, key=lambda f: -float(f.value))
    if order == SORT_ASC:
        return sorted(figures, key=lambda f: float(f.value))
    if order == SORT_UNIT:
        counts: dict[str, int] = {}
        for f in figures:
            counts[f.unit] = counts.get(f.unit, 0) + 1
        return sorted(figures, key=lambda f: (-counts[f.unit], f.unit, -float(f.value)))
    return figures


def find_figure(figures: Iterable[Figure], source: str, start: int) -> Figure | None:
    for f in figures:
        if f.source == source and f.start == int(start):
            return f
    return None


# ---- where a reader finds it ---------------------------------------------------------------------------------

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def passages_by_report(chunks: Iterable[Chunk]) -> dict[str, list[Chunk]]:
    """The index's passages of each report, in report order (what ``location`` reads)."""
    by_report: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_report.setdefault(c.source, []).append(c)
    return {source: sorted(cs, key=lambda c: c.start) for source, cs in by_report.items()}


def report_locator(text: str | None, passages: Sequence[Chunk] = ()) -> Callable[[Figure], str]:
    """``location`` for many figures of one report: the paragraph breaks and passages are looked up by bisection,
    not rescanned per figure (a CSV of a big corpus locates thousands)."""
    breaks = [m.end() for m in _PARAGRAPH_BREAK.finditer(text)] if text else []

    def locate(f: Figure) -> str:
        at = bisect.bisect_right(passages, f.start, key=lambda c: c.start) - 1
        if not (at >= 0 and f.start < passages[at].end and passages[at].source == f.source):
            at = -1
        if at >= 0 and passages[at].page is not None:
            return f"第{passages[at].page}页"
        if not text or not 0 <= f.start <= len(text):
            return "—"
        begin = 0
        if at >= 0:
            while at > 0 and passages[at - 1].section == passages[at].section:
                at -= 1
            begin = passages[at].start
        return f"第{bisect.bisect_right(breaks, f.start) - bisect.bisect_right(breaks, begin) + 1}段"

    return locate


def location(f: Figure, text: str | None, passages: Sequence[Chunk] = ()) -> str:
    """Where a reader finds the figure, instead of a character offset: 第N页 in a report with pages, else 第N段 —
    the paragraph of its section (counted from the section's first paragraph; ``passages``: the report's chunks in
    report order, see ``passages_by_report``, which carry pages and sections), or of the whole report when its
    section is not known. "—" without the text."""
    return report_locator(text, passages)(f)


# ---- table ---------------------------------------------------------------------------------------------------


def table_frame(figures: Sequence[Figure]) -> pd.DataFrame:
    """One row per figure, columns TABLE_COLUMNS; 数值 and 位置 are numbers (numeric sorting)."""
    rows = [
        {
            COL_RAW: f.raw,
            COL_VALUE: float(f.value),
            COL_UNIT: f.unit,
            COL_QUALIFIER: QUALIFIER_LABELS.get(f.qualifier, f.qualifier),
            COL_WHAT: indicator(f),
            COL_SECTION: short_section(f.section),
            COL_SOURCE: f.source,
            COL_START: int(f.start),
        }
        for f in figures
    ]
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return frame.astype({COL_VALUE: "float64", COL_START: "int64"})


def styled_table(frame: pd.DataFrame, locations: Sequence[str] | None = None) -> Styler:
    """The frame with 数值 shown as 1,851,000,000 and 位置 as ``locations`` (one per row: 第3页, 第2段). The cell
    values stay numbers: sorting stays numeric, and a clicked row still names its figure by its offset."""
    styler = frame.style.format({COL_VALUE: format_value})
    if locations is not None:
        rows: dict[str, list[int]] = {}
        for i, label in zip(frame.index, locations):
            rows.setdefault(label, []).append(i)
        for label, at in rows.items():
            styler = styler.format(lambda _, label=label: label, subset=pd.IndexSlice[at, [COL_START]])
    return styler


# ---- CSV -----------------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """Text for a spreadsheet cell: a leading = + - @ would make Excel read a formula, so it gets a ' in front."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_bytes(figures: Sequence[Figure]) -> bytes:
    """The figures as CSV, UTF-8 with a BOM (so Excel reads the Chinese correctly), header CSV_COLUMNS."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for f in figures:
        writer.writerow([
            plain_value(f.value), _cell(f.unit), _cell(f.raw), f.qualifier, f.kind, _cell(f.measures),
            _cell(f.object), _cell(f.topic), _cell(f.section), _cell(f.source), f.start, f.end, _cell(f.sentence),
        ])
    return buf.getvalue().encode("utf-8-sig")


def csv_people_bytes(figures: Sequence[Figure], locations: Sequence[str] | None = None) -> bytes:
    """The figures as CSV for people (the UI's download): CSV_HEADERS, qualifiers and kinds in words (超过, not
    more_than), ``locations`` (one per figure) as 位置; UTF-8 with a BOM."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for i, f in enumerate(figures):
        qualifier = QUALIFIER_LABELS.get(f.qualifier, f.qualifier)
        writer.writerow([
            _cell(f.raw), plain_value(f.value), _cell(f.unit), "" if qualifier == "—" else qualifier,
            KIND_LABELS.get(f.kind, f.kind), _cell(f.measures), _cell(f.object), _cell(f.topic), _cell(f.section),
            _cell(f.source), locations[i] if locations is not None else "", _cell(f.sentence),
        ])
    return buf.getvalue().encode("utf-8-sig")


def write_csv(data: bytes, directory: Path) -> Path:
    """Write CSV ``data`` to ``directory/<content hash>/aidqa-figures.csv`` (the same rows give the same file, so
    repeated filtering does not pile up files) and return its path."""
    folder = Path(directory) / hashlib.sha256(data).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CSV_NAME
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


# ---- chart ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """What the chart shows: ``frame`` (columns CHART_X, CHART_Y; None: no chart) with its title and y axis, and a
    note saying what was added, or why there is no chart."""

    frame: pd.DataFrame | None
    title: str
    y_title: str
    note: str


def _distinct(labels: Iterable[str]) -> list[str]:
    """The labels with repeats numbered (同名, 同名(2)): one bar per row, never two merged by the chart."""
    out: list[str] = []
    for text in labels:
        label, n = text, 2
        while label in out:
            label, n = f"{text}({n})", n + 1
        out.append(label)
    return out


def chart(figures: Sequence[Figure]) -> Chart:
    """The chart of the filtered figures (amounts only), adding only like with like (see the module docstring)."""
    amounts = [f for f in figures if f.kind == "amount"]
    units = list(dict.fromkeys(f.unit for f in amounts))
    if not amounts:
        return Chart(None, "", "", "**图表**：当前结果中没有可比较的数量，因此不画图。")
    if len(units) > 1:
        shown = "、".join(units[:5]) + ("等" if len(units) > 5 else "")
        return Chart(None, "", "", f"**图表**：当前结果有 {len(units)} 种单位（{html.escape(shown)}），单位不同的数字不能"
                     "相加或比较，因此不画图。在“单位”中选一种（如“元”），即可看到图表。")
    if len(amounts) == 1:
        return Chart(None, "", "", "**图表**：当前结果只有 1 个数字，没有可比较的，因此不画图。")
    unit = units[0]
    scale, shown_unit = (MONEY_SCALE, MONEY_SHOWN) if unit == MONEY_UNIT else (1, unit)
    measures = list(dict.fromkeys(f.measures for f in amounts))
    if len(measures) == 1 and measures[0]:
        sums: dict[str, float] = {}
        for f in amounts:
            sums[f.section] = sums.get(f.section, 0.0) + float(f.value) / scale
        labels = _distinct(short_section(s) for s in sums)
        frame = pd.DataFrame({CHART_X: labels, CHART_Y: [round(v, 2) for v in sums.values()]})
        measure = html.escape(measures[0])
        return Chart(frame, f"{measures[0]}：按章节合计（{shown_unit}）", shown_unit,
                     f"**图表**：{len(amounts)} 个数字单位相同、指标都是“{measure}”，按章节相加；合计由本页计算得出，"
                     "不是报告原文中的数字。")
    top = sorted(amounts, key=lambda f: -float(f.value))[:CHART_MAX_BARS]
    # The figure first (a long label is cut at the chart's edge), then a few words of what it measures.
    labels = _distinct(f"{f.raw} {short_section(f.measures or f.object, 6)}".strip() for f in top)
    frame = pd.DataFrame({CHART_X: labels, CHART_Y: [round(float(f.value) / scale, 2) for f in top]})
    more = f"（数值最大的 {CHART_MAX_BARS} 个）" if len(amounts) > CHART_MAX_BARS else ""
    return Chart(frame, f"逐个对比（{shown_unit}）", shown_unit,
                 f"**图表**：单位相同但指标不同，每根柱子是报告中的一个数字{more}，并排比较，不相加。")


# ---- the source passage --------------------------------------------------------------------------------------


def _passage_span(text: str, f: Figure) -> tuple[int, int]:
    """The paragraph around the figure (between blank lines), cut around its sentence if it is very long."""
    a = text.rfind("\n\n", 0, f.start)
    a = 0 if a < 0 else a + 2
    b = text.find("\n\n", f.end)
    b = len(text) if b < 0 else b
    if b - a > PASSAGE_MAX_CHARS:
        s_start = f.sentence_start if f.sentence_start <= f.start else f.start
        s_end = max(f.end, s_start + len(f.sentence))
        a = max(a, s_start - PASSAGE_CONTEXT)
        b = min(b, s_end + PASSAGE_CONTEXT)
    return a, b


def _marked(text: str, i: int, raw: str) -> str:
    return f"{html.escape(text[:i])}<mark>{html.escape(raw)}</mark>{html.escape(text[i + len(raw):])}"


def passage_html(f: Figure, text: str | None = None, where: str | None = None) -> str:
    """HTML for one figure: a head (raw figure, value, what it measures), "source · section · where" (its page or
    paragraph, see ``location``), and its paragraph from the stored report ``text`` (or, without it, its sentence)
    with the sentence underlined and the figure itself in <mark>. Everything from the report is escaped."""
    value = f"{format_value(f.value)} {f.unit}"
    qualifier = QUALIFIER_LABELS.get(f.qualifier, "—")
    head = (
        f'<div class="aidqa-fig-head">{html.escape(f.raw)}'
        f'<span class="aidqa-fig-value">= {html.escape(value)}'
        f'{"（" + html.escape(qualifier) + "）" if qualifier != "—" else ""} · {html.escape(indicator(f))}</span></div>'
        f'<div class="aidqa-fig-meta">{html.escape(f.source)} · {html.escape(f.section)} · '
        f"{html.escape(where or location(f, text))}</div>"
    )
    if text is not None and 0 <= f.start < f.end <= len(text) and text[f.start : f.end] == f.raw:
        a, b = _passage_span(text, f)
        s_start = max(a, f.sentence_start)
        s_end = min(b, f.sentence_start + len(f.sentence))
        if not (s_start <= f.start and f.end <= s_end):
            s_start, s_end = f.start, f.end
        body = (
            ("…" if a > 0 and text[a - 1] != "\n" else "")
            + html.escape(text[a:s_start])
            + '<span class="aidqa-fig-sentence">'
            + _marked(text[s_start:s_end], f.start - s_start, f.raw)
            + "</span>"
            + html.escape(text[s_end:b])
            + ("…" if b < len(text) and text[b] != "\n" else "")
        )
    else:
        # No stored text (or it does not match): the figure's own sentence.
        sentence = f.sentence
        i = f.start - f.sentence_start
        if not (i >= 0 and sentence[i : i + len(f.raw)] == f.raw):
            i = sentence.find(f.raw) if f.raw else -1
        if i >= 0 and f.raw:
            body = f'<span class="aidqa-fig-sentence">{_marked(sentence, i, f.raw)}</span>'
        else:
            body = f"<mark>{html.escape(f.raw)}</mark>　{html.escape(sentence)}"
    return f'<div class="aidqa-fig">{head}<div class="aidqa-fig-passage">{body}</div></div>'


# ---- summary line --------------------------------------------------------------------------------------------


def summary_markdown(shown: int, total: int, problems: Sequence[str] = (), matched: int | None = None) -> str:
    """ "显示 3 / 64 条数字" plus any input problems (escaped). ``matched`` > ``shown``: the table holds only the first
    ``shown`` of ``matched`` rows (see MAX_TABLE_ROWS), and the line says how to see the rest. Nothing matched: a
    friendly line saying what to try, not a bare 0."""
    if not shown and not matched and total:
        line = f"**没有符合筛选条件的数字**（共 {total} 条）。可以换个关键词、放宽数值范围，或点“清除筛选”。"
    elif matched is not None and matched > shown:
        line = (f"符合筛选的 {matched} 条中显示前 **{shown}** 条，共 {total} 条数字；请用搜索、单位、章节或数值范围缩小范围"
                f"（CSV 含全部 {matched} 条）")
    else:
        line = f"显示 **{shown}** / {total} 条数字"
    if problems:
        line += " · " + "；".join(html.escape(p, quote=False) for p in problems)
    return line
