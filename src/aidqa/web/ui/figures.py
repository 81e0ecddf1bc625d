"""The 数据一览 (Figures) tab: every figure of the reports in a table, with its passage, a CSV and a chart.

The data shaping (filters, sort orders, page/paragraph locations, the CSV for people, a chart that adds only like
with like) is ``aidqa.qa.figures_table``; these handlers only read the index and hand its results to the components:
the chart is hidden, with a note saying why, whenever there is nothing to compare.
"""

import html
import logging
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from aidqa.index.figures import Figure
from aidqa.qa import figures_table as fv
from aidqa.qa.assistant import Assistant
from aidqa.web.service import IndexLoader

logger = logging.getLogger(__name__)


# ---- the 数据一览 (Figures) tab ------------------------------------------------------------------------------

FIGURES_FAILED = "**数据一览暂时无法显示**（详情已记入服务器日志）"
FIGURES_LOADING = "**索引加载中…** 完成后表格会自动出现。"
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
            return f"**索引加载失败**：{html.escape(self.loader.error)}"
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

    def locations(self, figures: Sequence[Figure]) -> list[str]:
        """Where a reader finds each figure: 第N页 or 第N段 (see ``fv.location``)."""
        index = self.assistant.ensure_ready()
        passages = fv.passages_by_report(index.chunks)
        locators: dict[str, Callable[[Figure], str]] = {}
        for f in figures:
            if f.source not in locators:
                document = index.documents.get(f.source)
                locators[f.source] = fv.report_locator(document.text if document is not None else None,
                                                       passages.get(f.source, []))
        return [locators[f.source](f) for f in figures]

    def results(self, text: Any, unit: Any, section: Any, minimum: Any, maximum: Any, include_dates: Any,
                order: Any = fv.SORT_REPORT) -> tuple[Any, ...]:
        """(summary, table, CSV path, chart, chart note) for the current filters and order."""
        if not self.ready:
            return self.waiting_message(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        figures = self.assistant.figures()
        query, problems = self.query(text, unit, section, minimum, maximum, include_dates)
        rows = fv.sort_figures(fv.select_figures(figures, query), order)
        total = len(fv.select_figures(figures, fv.FigureQuery(include_dates=query.include_dates)))
        locations = self.locations(rows)
        try:
            csv_path: Any = str(fv.write_csv(fv.csv_people_bytes(rows, locations), self.csv_dir))
        except OSError:
            logger.exception("writing the figures CSV failed")
            csv_path, problems = None, [*problems, "CSV 文件写入失败"]
        shown = rows[: fv.MAX_TABLE_ROWS]
        table = fv.styled_table(fv.table_frame(shown), locations[: len(shown)])
        chart = fv.chart(rows)
        # No frame: the plot is hidden rather than drawn as empty axes (Vega also warns about an empty chart).
        plot = (gr.BarPlot(value=chart.frame, title=chart.title, y_title=chart.y_title, visible=True)
                if chart.frame is not None else gr.BarPlot(visible=False))
        return fv.summary_markdown(len(shown), total, problems, matched=len(rows)), table, csv_path, plot, chart.note

    def fill(self, text: Any, unit: Any, section: Any, minimum: Any, maximum: Any, include_dates: Any,
             order: Any = fv.SORT_REPORT) -> tuple[Any, ...]:
        """Everything, once the index is ready: the results plus the unit and section choices."""
        if not self.ready:
            return (self.waiting_message(), *(gr.skip() for _ in range(6)))
        figures = self.assistant.figures()
        units, sections = fv.unit_choices(figures), fv.section_choices(figures)
        unit = unit if unit in units else fv.ALL
        section = section if section in sections else fv.ALL
        return (
            *self.results(text, unit, section, minimum, maximum, include_dates, order),
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
        index = self.assistant.ensure_ready()
        document = index.documents.get(f.source)
        text = document.text if document is not None else None
        return fv.passage_html(f, text, fv.location(f, text, fv.passages_by_report(index.chunks).get(f.source, ())))

    def select(self, evt: gr.SelectData) -> str:
        """A click on a table row: that row's figure. The row's own values name it (source, offset), so this works
        however the table is sorted."""
        row = evt.row_value or []
        try:
            source, start = row[fv.TABLE_COLUMNS.index(fv.COL_SOURCE)], row[fv.TABLE_COLUMNS.index(fv.COL_START)]
        except (IndexError, TypeError):
            return fv.EMPTY_PASSAGE
        return self.passage(source, start)
