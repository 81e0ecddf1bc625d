"""The 数据一览 (Figures) tab: rows, filtering, numeric sorting, the source passage (escaped, figure marked), CSV and
the chart frame, as pure functions on the real report; plus the tab's handlers and the Blocks' public API."""

import codecs
import csv
import io
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

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
        assert "字符 " + str(f.start) + "–" + str(f.end) in out
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
    assert "tianjin-huangnan-report.txt" in out and f"字符 {f.start}–{f.end}" in out
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
    path = fv.write_csv(hits, tmp_path)
    assert path.name == fv.CSV_NAME and path.read_bytes() == data
    assert fv.write_csv(hits, tmp_path) == path  # same rows, same file
    assert fv.write_csv(hits[:1], tmp_path) != path
    header_only = list(csv.reader(io.StringIO(fv.csv_bytes([]).decode("utf-8-sig"))))
    assert header_only == [fv.CSV_COLUMNS]


def test_csv_cells_cannot_become_formulas():
    f = _figure(measures="=HYPERLINK(\"http://x\")", sentence="@SUM(1)投入700万元", sentence_start=0, start=7, end=12)
    row = next(csv.DictReader(io.StringIO(fv.csv_bytes([f]).decode("utf-8-sig"))))
    assert row["measures"].startswith("'=") and row["sentence"].startswith("'@")
    assert row["value"] == "7000000"


def test_chart_frame_sums_money_per_section(figures, rows):
    frame = fv.chart_frame(rows)
    assert list(frame.columns) == [fv.CHART_X, fv.CHART_Y, fv.CHART_COUNT]
    money = [f for f in rows if f.unit == "元"]
    expected: dict[str, float] = {}
    for f in money:
        expected[fv.short_section(f.section)] = expected.get(fv.short_section(f.section), 0) + f.value / 1e4
    assert dict(zip(frame[fv.CHART_X], frame[fv.CHART_Y])) == pytest.approx(expected)
    assert frame[fv.CHART_COUNT].sum() == len(money)
    assert frame[fv.CHART_Y].sum() == pytest.approx(sum(f.value for f in money) / 1e4)
    by_label = dict(zip(frame[fv.CHART_X], frame[fv.CHART_Y]))
    assert by_label['丰富"产业和弦"'] == pytest.approx(23000 + 520000 + 183800)  # 2.3亿 + 52亿 + 近18.38亿
    medical = fv.chart_frame(fv.select_figures(figures, fv.FigureQuery(text="医疗")))
    assert medical.to_dict("records") == [{fv.CHART_X: '抓牢"民生和美"', fv.CHART_Y: 3100.0, fv.CHART_COUNT: 3}]
    empty = fv.chart_frame([f for f in rows if f.unit != "元"])
    assert empty.empty and list(empty.columns) == [fv.CHART_X, fv.CHART_Y, fv.CHART_COUNT]
    assert "计算" in fv.CHART_TITLE and "万元" in fv.CHART_TITLE


def test_chart_labels_stay_distinct():
    a = _figure(section="同名 第一节")
    b = _figure(section="同名 第二节", id="b", start=1, end=6)
    labels = fv.chart_frame([a, b])[fv.CHART_X].tolist()
    assert labels == ["同名", "同名(2)"]


# ---- the tab's handlers and the Blocks --------------------------------------------------------------------------


def test_figures_view_handlers(assistant, tmp_path):
    view = FiguresView(assistant, csv_dir=tmp_path)
    summary, table, csv_path, chart = view.results("医疗", "元", fv.ALL, "", "", False)
    assert "**3** / 65" in summary
    assert table.data[fv.COL_RAW].tolist() == ["700万元", "1000万元", "1400万元"]
    assert Path(csv_path).read_bytes().startswith(codecs.BOM_UTF8)
    assert chart[fv.CHART_Y].tolist() == [3100.0]
    summary, table, *_ = view.results("", None, None, "1亿", "abc<b>", True)
    assert "最大值" in summary and "<b>" not in summary and len(table.data) == 4  # bad bound ignored, reported
    filled = view.fill("", "不存在", None, "", "", False)
    assert filled[-2].value == fv.ALL and fv.ALL in filled[-2].choices[0]
    row = table.data.iloc[0].tolist()
    html = view.select(SimpleNamespace(row_value=row))
    assert html.count("<mark>") == 1 and f"<mark>{row[0]}</mark>" in html
    assert view.select(SimpleNamespace(row_value=None)) == fv.EMPTY_PASSAGE
    assert view.passage("nope.txt", 1) == fv.EMPTY_PASSAGE


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
