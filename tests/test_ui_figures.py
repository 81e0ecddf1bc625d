"""The 数据一览 (Figures) tab: rows, filtering, sort orders, locations (page or paragraph, never an offset), the source
passage (escaped, figure marked), both CSVs and a chart that adds only like with like, as pure functions on the real
report; plus the tab's handlers and the Blocks' public API."""

import codecs
import csv
import io
import re
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from aidqa.index.chunking import Chunk
from aidqa.index.figures import Figure
from aidqa.qa import figures_table as fv
from aidqa.qa.assistant import Assistant
from aidqa.web.ui.chat import build_ui
from aidqa.web.ui.figures import FiguresView

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def figures(assistant) -> list[Figure]:
    return assistant.figures()


@pytest.fixture(scope="module")
def rows(figures) -> list[Figure]:
    return fv.select_figures(figures)


def _figure(**overrides) -> Figure:
    sentence = f"前文{EVIL}投入700万元，<b>再</b>投入700万元&amp;。"
    start = 100 + sentence.rindex("700万元")  # the second 700万元 is the figure
    fields = {
        "id": f"evil.txt:{start}", "value": 7000000, "unit": "元", "raw": "700万元", "qualifier": "none",
        "kind": "amount", "measures": f"投入{EVIL}", "object": "", "topic": "在<script>alert(2)</script>上",
        "sentence": sentence, "sentence_start": 100, "section": "节<script>alert(3)</script>",
        "source": f"evil{EVIL}.txt", "start": start, "end": start + len("700万元"),
    }
    fields.update(overrides)
    return Figure(**fields)


# ---- rows and filters ----------------------------------------------------------------------------------------


def test_rows_are_all_figures_but_years_and_dates(figures, rows):
    assert len(figures) == 67
    dated = [f for f in figures if f.kind in ("year", "date")]
    assert len(rows) == len(figures) - len(dated) == 65
    assert {f.kind for f in rows} == {"amount", "ordinal"}
    assert len(fv.select_figures(figures, fv.FigureQuery(include_dates=True))) == 67
    frame = fv.table_frame(rows)
    assert list(frame.columns) == fv.TABLE_COLUMNS and len(frame) == 65
    first = frame.iloc[0]
    assert first[fv.COL_RAW] == "18.51亿元" and first[fv.COL_VALUE] == 1851000000 and first[fv.COL_UNIT] == "元"
    assert first[fv.COL_QUALIFIER] == "—" and first[fv.COL_SOURCE] == "tianjin-huangnan-report.txt"
    qualifiers = dict(zip(frame[fv.COL_RAW], frame[fv.COL_QUALIFIER]))
    assert qualifiers["近2.5万人"] == "约" and qualifiers["140余家"] == "超过" and qualifiers["80%以上"] == "以上"


def test_value_column_sorts_numerically(rows):
    frame = fv.table_frame(rows)
    assert frame[fv.COL_VALUE].dtype.kind == "f" and frame[fv.COL_START].dtype.kind == "i"
    ordered = frame.sort_values(fv.COL_VALUE, ascending=False)[fv.COL_RAW].tolist()
    assert ordered[:3] == ["52亿元", "18.51亿元", "近18.38亿元"]
    # What the browser gets: numbers (Gradio's table sorts number cells numerically, strings as text), with the
    # formatted text only as the display value.
    table = gr.Dataframe(headers=fv.TABLE_COLUMNS, datatype=fv.TABLE_DATATYPES, interactive=False)
    payload = table.postprocess(fv.styled_table(frame))
    values = [row[1] for row in payload.data]
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    assert sorted(values, reverse=True)[0] == 5200000000
    shown = [row[1] for row in payload.metadata["display_value"]]
    assert shown[0] == "1,851,000,000" and shown[1] == "567"
    assert sorted(["10", "8", "140"]) != sorted(["10", "8", "140"], key=float)  # why numbers, not strings


def test_filter_by_text_and_unit(figures):
    hits = fv.select_figures(figures, fv.FigureQuery(text="医疗", unit="元"))
    assert [f.raw for f in hits] == ["700万元", "1000万元", "1400万元"]
    assert [f.value for f in hits] == [7000000, 10000000, 14000000]
    # ALL means any; text is trimmed; the section filter narrows further.
    assert fv.select_figures(figures, fv.FigureQuery(text=" 医疗 ", unit=fv.ALL)) == fv.select_figures(
        figures, fv.FigureQuery(text="医疗"))
    section = hits[0].section
    in_section = fv.select_figures(figures, fv.FigureQuery(section=section))
    assert in_section and all(f.section == section for f in in_section) and {f.id for f in hits} <= {f.id for f in in_section}
    assert fv.select_figures(figures, fv.FigureQuery(text="火星")) == []


def test_min_max_filter(figures):
    money = fv.FigureQuery(unit="元", minimum=fv.parse_amount("500万"), maximum=fv.parse_amount("1,400万元"))
    hits = fv.select_figures(figures, money)
    assert sorted(f.raw for f in hits) == sorted(["700万元", "1000万元", "1400万元", "超500万元"])
    assert all(5e6 <= f.value <= 1.4e7 for f in hits)
    big = fv.select_figures(figures, fv.FigureQuery(minimum=1e9))
    assert sorted(f.raw for f in big) == sorted(["18.51亿元", "52亿元", "近18.38亿元"])
    assert [f.raw for f in fv.select_figures(figures, fv.FigureQuery(maximum=2))] == ["2批次"]


@pytest.mark.parametrize(("text", "value"), [
    ("7000000", 7e6), ("1,000", 1000), ("500万", 5e6), ("1.5亿", 1.5e8), ("700万元", 7e6), ("５００万", 5e6),
    ("", None), (None, None), ("  ", None), (12, 12),
])
def test_parse_amount(text, value):
    assert fv.parse_amount(text) == value


@pytest.mark.parametrize("text", ["abc", "5万万", "1e9", "-3", "<b>1</b>"])
def test_parse_amount_rejects_junk(text):
    with pytest.raises(ValueError):
        fv.parse_amount(text)


def test_choices(figures):
    units = fv.unit_choices(figures)
    assert units[0] == fv.ALL and units[1] == "个" and {"元", "人次", "%", "届"} <= set(units)
    sections = fv.section_choices(figures)
    assert sections[0] == fv.ALL and len(sections) == len({f.section for f in figures}) + 1
    assert sections[1] == figures[0].section  # report order


def test_format_value_and_indicator(figures):
    assert fv.format_value(1851000000) == "1,851,000,000"
    assert fv.format_value(2.5) == "2.5" and fv.format_value(80.0) == "80"
    assert fv.plain_value(1851000000.0) == "1851000000" and fv.plain_value(2.5) == "2.5"
    by_raw = {f.raw: f for f in figures}
    assert fv.indicator(by_raw["567个"]) == "实施…项目"
    assert fv.indicator(by_raw["700万元"]).endswith("投入援青资金（提升基层医疗卫生水平）")
    assert fv.short_section('丰富"产业和弦" 在激发高质量发展动能上用心用力用情') == '丰富"产业和弦"'
    assert len(fv.short_section("很" * 40)) == 14


# ---- the source passage ----------------------------------------------------------------------------------------


def test_passage_html_escapes_a_hostile_figure_and_marks_exactly_the_figure():
    f = _figure()
    for text in (None, "x" * 100 + f.sentence + "\n\n后一段"):
        out = fv.passage_html(f, text)
        assert "<img" not in out and "<script" not in out and "<b>" not in out
        assert "&lt;img src=x onerror=alert(1)&gt;" in out and "&lt;script&gt;alert(3)&lt;/script&gt;" in out
        assert "&amp;amp;" in out  # a literal "&amp;" in the report shows as text
        assert out.count("<mark>") == 1 and out.count("</mark>") == 1
        # The figure at its offset (the second 700万元), not the first occurrence.
        assert "投入700万元，&lt;b&gt;再&lt;/b&gt;投入<mark>700万元</mark>&amp;amp;。" in out
        assert "字符" not in out and str(f.start) not in out  # where it is, for a reader: not an offset
    assert "后一段" not in fv.passage_html(f, "x" * 100 + f.sentence + "\n\n后一段")  # only its paragraph


def test_passage_html_when_the_figure_is_not_where_it_says():
    f = _figure(start=5, end=10)  # offsets do not match the sentence: found by text instead
    out = fv.passage_html(f)
    assert out.count("<mark>700万元</mark>") == 1 and "<img" not in out
    f = _figure(raw=f"9{EVIL}", start=5, end=10)  # not in the sentence at all: shown marked, escaped
    out = fv.passage_html(f)
    assert "<img" not in out and "<mark>9&lt;img src=x onerror=alert(1)&gt;</mark>" in out


def test_passage_of_a_real_figure(assistant, figures):
    f = next(f for f in figures if f.raw == "1000万元")
    text = assistant.ensure_ready().documents[f.source].text
    out = fv.passage_html(f, text)
    assert out.count("<mark>") == 1 and "<mark>1000万元</mark>" in out
    assert "泽库县" in out and "700万元" in out and "1400万元" in out  # the whole paragraph around it
    assert "tianjin-huangnan-report.txt" in out and "字符" not in out
    passages = fv.passages_by_report(assistant.ensure_ready().chunks)[f.source]
    where = fv.location(f, text, passages)
    assert re.fullmatch(r"第\d+段", where) and f"· {where}</div>" in fv.passage_html(f, text, where)
    assert 'class="aidqa-fig-sentence">投入<mark>1000万元</mark>' in out


# ---- CSV and chart ---------------------------------------------------------------------------------------------


def test_csv_has_bom_header_and_round_trips(figures, tmp_path):
    hits = fv.select_figures(figures, fv.FigureQuery(text="医疗", unit="元"))
    data = fv.csv_bytes(hits)
    assert data.startswith(codecs.BOM_UTF8)
    parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert list(parsed[0]) == fv.CSV_COLUMNS
    assert [r["raw"] for r in parsed] == ["700万元", "1000万元", "1400万元"]
    assert [r["value"] for r in parsed] == ["7000000", "10000000", "14000000"]
    first, f = parsed[0], hits[0]
    assert first["sentence"] == f.sentence and first["section"] == f.section and first["unit"] == "元"
    assert (int(first["start"]), int(first["end"])) == (f.start, f.end) and first["kind"] == "amount"
    path = fv.write_csv(data, tmp_path)
    assert path.name == fv.CSV_NAME and path.read_bytes() == data
    assert fv.write_csv(fv.csv_bytes(hits), tmp_path) == path  # same rows, same file
    assert fv.write_csv(fv.csv_bytes(hits[:1]), tmp_path) != path
    header_only = list(csv.reader(io.StringIO(fv.csv_bytes([]).decode("utf-8-sig"))))
    assert header_only == [fv.CSV_COLUMNS]


def test_csv_cells_cannot_become_formulas():
    f = _figure(measures="=HYPERLINK(\"http://x\")", sentence="@SUM(1)投入700万元", sentence_start=0, start=7, end=12)
    row = next(csv.DictReader(io.StringIO(fv.csv_bytes([f]).decode("utf-8-sig"))))
    assert row["measures"].startswith("'=") and row["sentence"].startswith("'@")
    assert row["value"] == "7000000"


def test_csv_cells_for_people_cannot_become_formulas_either():
    f = _figure(measures="=HYPERLINK(\"http://x\")", sentence="@SUM(1)投入700万元", sentence_start=0, start=7, end=12)
    row = next(csv.DictReader(io.StringIO(fv.csv_people_bytes([f]).decode("utf-8-sig"))))
    assert row["指标"].startswith("'=") and row["原句"].startswith("'@") and row["数值"] == "7000000"


def test_csv_for_people_has_chinese_headers_and_readable_qualifiers(rows):
    data = fv.csv_people_bytes(rows, ["第2段"] * len(rows))
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    records = list(csv.DictReader(io.StringIO(text, newline="")))
    assert text.splitlines()[0] == ",".join(fv.CSV_HEADERS) == "原文数字,数值,单位,限定,类型,指标,对象,主题,章节,报告,位置,原句"
    assert len(records) == len(rows) and all(r["位置"] == "第2段" for r in records)
    by_raw = {r["原文数字"]: r for r in records}
    assert by_raw["近2.5万人"]["限定"] == "约" and by_raw["140余家"]["限定"] == "超过"
    assert by_raw["80%以上"]["限定"] == "以上" and by_raw["18.51亿元"]["限定"] == ""
    assert by_raw["18.51亿元"]["数值"] == "1851000000" and by_raw["18.51亿元"]["类型"] == "数量"
    for code in ("more_than", "approx", "at_least", "amount", "ordinal"):
        assert code not in text
    assert fv.csv_people_bytes([]).decode("utf-8-sig").strip() == ",".join(fv.CSV_HEADERS)


# ---- sort orders and locations ------------------------------------------------------------------------------------


def test_sort_orders(rows):
    assert fv.SORTS == ["原文顺序", "数值从大到小", "数值从小到大", "按单位分组"]  # the choices, in Chinese
    assert fv.sort_figures(rows, fv.SORT_REPORT) == rows
    assert fv.sort_figures(rows, "<script>") == rows and fv.sort_figures(rows, None) == rows  # anything else
    desc = fv.sort_figures(rows, fv.SORT_DESC)
    assert [f.raw for f in desc[:3]] == ["52亿元", "18.51亿元", "近18.38亿元"]
    assert [f.value for f in desc] == sorted((f.value for f in rows), reverse=True)
    asc = fv.sort_figures(rows, fv.SORT_ASC)
    assert [f.value for f in asc] == sorted(f.value for f in rows) and asc[0].raw == "2批次"
    grouped = fv.sort_figures(rows, fv.SORT_UNIT)
    units = [f.unit for f in grouped]
    assert units[0] == "个" and units == sorted(units, key=units.index)  # the commonest unit first, each together
    money = [f.value for f in grouped if f.unit == "元"]
    assert money == sorted(money, reverse=True)  # the largest first within a unit
    assert sorted(f.id for f in grouped) == sorted(f.id for f in rows)  # a permutation: nothing lost or doubled


def _chunk(start: int, end: int, section: str, page: int | None = None, source: str = "r.txt") -> Chunk:
    return Chunk(f"c{start}", source, section, start, end, "", 0, page)


def test_location_is_a_page_or_a_paragraph_of_its_section():
    text = "标题\n\n一、甲\n\n甲的第一段。\n\n甲的第二段，投入700万元。\n\n二、乙\n\n乙的第一段，\n\n\n乙的第二段，建成12所学校。"
    first = text.index("700万元")
    second = text.index("12所")
    fig = _figure(source="r.txt", start=first, end=first + 5)
    other = _figure(source="r.txt", start=second, end=second + 3, raw="12所")
    a_start, b_start = text.index("甲的第一段"), text.index("乙的第一段")
    passages = [_chunk(a_start, text.index("二、乙"), "一、甲"), _chunk(b_start, text.index("乙的第二段"), "二、乙"),
                _chunk(text.index("乙的第二段"), len(text), "二、乙")]
    assert fv.location(fig, text, passages) == "第2段"  # the 2nd paragraph of 一、甲
    assert fv.location(other, text, passages) == "第2段"  # of 二、乙: counted from its section, blank lines or not
    assert fv.location(fig, text) == "第4段"  # no passages: the paragraph of the whole report
    paged = [_chunk(a_start, len(text), "一、甲", page=7)]
    assert fv.location(fig, text, paged) == "第7页"  # a report with pages: the page of its passage
    assert fv.location(fig, text, [_chunk(a_start, len(text), "一、甲", page=7, source="x.txt")]) == "第4段"
    assert fv.location(fig, None) == "—"


def test_the_table_shows_locations_but_keeps_offsets(assistant, rows):
    frame = fv.table_frame(rows[:5])
    index = assistant.ensure_ready()
    passages = fv.passages_by_report(index.chunks)
    labels = [fv.location(f, index.documents[f.source].text, passages[f.source]) for f in rows[:5]]
    assert all(re.fullmatch(r"第\d+段", label) for label in labels) and labels[0] == "第1段"
    payload = gr.Dataframe(headers=fv.TABLE_COLUMNS, datatype=fv.TABLE_DATATYPES).postprocess(
        fv.styled_table(frame, labels))
    at = fv.TABLE_COLUMNS.index(fv.COL_START)
    assert [row[at] for row in payload.metadata["display_value"]] == labels  # what a reader sees
    assert [row[at] for row in payload.data] == [f.start for f in rows[:5]]  # what a clicked row names


# ---- the chart: only like with like --------------------------------------------------------------------------------


def test_several_units_draw_no_chart_and_say_why(rows):
    mixed = fv.chart(rows)
    assert mixed.frame is None  # no chart, rather than bars of 元 next to bars of 人
    assert "种单位" in mixed.note and "元" in mixed.note and "个" in mixed.note and "不画图" in mixed.note


def test_nothing_to_compare_draws_no_chart():
    assert fv.chart([]).frame is None and "没有可比较" in fv.chart([]).note
    assert fv.chart([_figure()]).frame is None and "只有 1 个" in fv.chart([_figure()]).note
    ordinal = _figure(kind="ordinal", unit="届")
    assert fv.chart([ordinal, ordinal.model_copy(update={"id": "o2"})]).frame is None  # 第25届 is not an amount


def test_one_unit_different_measures_side_by_side_not_added(figures):
    medical = fv.select_figures(figures, fv.FigureQuery(text="医疗", unit="元"))
    assert len({f.measures for f in medical}) > 1  # 投入援青资金, 投入, 分期投入: not the same measure
    drawn = fv.chart(medical)
    assert drawn.frame is not None and list(drawn.frame.columns) == [fv.CHART_X, fv.CHART_Y]
    assert sorted(drawn.frame[fv.CHART_Y]) == [700.0, 1000.0, 1400.0]  # one bar each, in 万元; no 3100
    assert "不相加" in drawn.note and drawn.y_title == "万元" and "万元" in drawn.title
    assert sorted(label.split()[0] for label in drawn.frame[fv.CHART_X]) == ["1000万元", "1400万元", "700万元"]
    money = fv.select_figures(figures, fv.FigureQuery(unit="元"))
    many = fv.chart(money)
    assert len(many.frame) == min(fv.CHART_MAX_BARS, len(money)) and many.frame[fv.CHART_X].is_unique
    assert many.frame[fv.CHART_Y].max() == pytest.approx(max(f.value for f in money) / 1e4)


def test_one_unit_one_measure_summed_per_section():
    a = _figure(measures="投入", section="一、甲 正文", value=7e6)
    b = _figure(measures="投入", section="一、甲 正文", value=3e6, id="b", start=1, end=6)
    c = _figure(measures="投入", section="二、乙 正文", value=5e6, id="c", start=2, end=7)
    summed = fv.chart([a, b, c])
    assert summed.frame.to_dict("records") == [{fv.CHART_X: "一、甲", fv.CHART_Y: 1000.0},
                                               {fv.CHART_X: "二、乙", fv.CHART_Y: 500.0}]
    assert "相加" in summed.note and "不是报告原文" in summed.note and summed.title.startswith("投入")
    people = [a.model_copy(update={"unit": "人", "value": 30}), b.model_copy(update={"unit": "人", "value": 12})]
    assert fv.chart(people).frame[fv.CHART_Y].tolist() == [42.0] and fv.chart(people).y_title == "人"
    # No measure known: the figures might count different things, so they are not added.
    unknown = [a.model_copy(update={"measures": ""}), b.model_copy(update={"measures": ""})]
    assert len(fv.chart(unknown).frame) == 2 and "不相加" in fv.chart(unknown).note
    # Headings that shorten alike still get a bar each.
    twins = fv.chart([a.model_copy(update={"section": "同名 第一节"}), b.model_copy(update={"section": "同名 第二节"})])
    assert twins.frame[fv.CHART_X].tolist() == ["同名", "同名(2)"]


def test_a_hostile_unit_is_escaped_in_the_note():
    evil = [_figure(unit="<b>x</b>"), _figure(id="b")]
    note = fv.chart(evil).note
    assert "<b>" not in note and "&lt;b&gt;" in note


# ---- the tab's handlers and the Blocks --------------------------------------------------------------------------


def test_figures_view_handlers(assistant, tmp_path):
    view = FiguresView(assistant, csv_dir=tmp_path)
    summary, table, csv_path, plot, note = view.results("医疗", "元", fv.ALL, "", "", False)
    assert "**3** / 65" in summary
    assert table.data[fv.COL_RAW].tolist() == ["700万元", "1000万元", "1400万元"]
    data = Path(csv_path).read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and data.decode("utf-8-sig").startswith(",".join(fv.CSV_HEADERS))
    # One unit, three measures: the chart shows the three side by side.
    assert plot.visible is True and plot.y_title == "万元" and "不相加" in note
    # The 位置 column shows the paragraph; its value stays the offset a clicked row is found by.
    shown = gr.Dataframe(headers=fv.TABLE_COLUMNS, datatype=fv.TABLE_DATATYPES).postprocess(table)
    assert all(re.fullmatch(r"第\d+段", row[-1]) for row in shown.metadata["display_value"])
    assert [row[-1] for row in shown.data] == table.data[fv.COL_START].tolist()
    # Everything: several units, so no chart, and the note says why.
    _, table, _, plot, note = view.results("", fv.ALL, fv.ALL, "", "", False)
    assert plot.visible is False and "种单位" in note
    summary, table, *_ = view.results("", None, None, "1亿", "abc<b>", True)
    assert "最大值" in summary and "<b>" not in summary and len(table.data) == 4  # bad bound ignored, reported
    _, table, *_ = view.results("", None, None, "1亿", "", False, fv.SORT_DESC)
    assert table.data[fv.COL_RAW].tolist() == ["52亿元", "18.51亿元", "近18.38亿元", "2.3亿元"]
    filled = view.fill("", "不存在", None, "", "", False)
    assert filled[-2].value == fv.ALL and fv.ALL in filled[-2].choices[0]
    row = table.data.iloc[1].tolist()  # sorted: the row still names its own figure
    html = view.select(SimpleNamespace(row_value=row))
    assert html.count("<mark>") == 1 and "<mark>18.51亿元</mark>" in html and "字符" not in html
    assert view.select(SimpleNamespace(row_value=None)) == fv.EMPTY_PASSAGE
    assert view.passage("nope.txt", 1) == fv.EMPTY_PASSAGE


def test_a_filter_that_matches_nothing_gets_a_friendly_empty_state(assistant, tmp_path):
    view = FiguresView(assistant, csv_dir=tmp_path)
    summary, table, csv_path, plot, note = view.results("火星", fv.ALL, fv.ALL, "", "", False)
    assert "没有符合筛选条件的数字" in summary and "清除筛选" in summary and "**0**" not in summary
    assert table.data.empty and plot.visible is False  # no empty axes
    assert "没有可比较" in note
    assert Path(csv_path).read_bytes().decode("utf-8-sig").strip() == ",".join(fv.CSV_HEADERS)


def test_figures_view_waits_for_the_index(settings, tmp_path):
    fresh = Assistant(settings.model_copy(update={"index_dir": tmp_path / "none"}))  # nothing loaded
    view = FiguresView(fresh, csv_dir=tmp_path)
    summary, *rest = view.results("医疗", fv.ALL, fv.ALL, "", "", False)
    assert "索引加载中" in summary and all(r is not None for r in rest)
    assert "索引加载中" in view.fill("", fv.ALL, fv.ALL, "", "", False)[0]
    assert view.passage("tianjin-huangnan-report.txt", 118) == fv.LOADING_PASSAGE
    assert not fresh.is_ready


def test_blocks_have_the_figures_tab_and_only_the_public_endpoints(assistant):
    demo = build_ui(assistant)
    assert isinstance(demo, gr.Blocks)
    tabs = [b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)]
    assert tabs == ["问答", "数据一览"]  # Chinese only, no doubled English
    assert set(demo.get_api_info()["named_endpoints"]) == {"/ask", "/ask_json"}
    # Every other event (filters, row clicks, timer, load) is private.
    public = [d for d in demo.config["dependencies"] if d.get("api_visibility", "public") == "public"]
    assert sorted(d["api_name"] for d in public) == ["ask", "ask_json"]
