"""Figure extraction against a hand-checked list of the report's figures (tests/data/figures_gold.jsonl, written
from the report by someone who did not see the extractor), plus slogans and names that must not be figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CORPUS, REPORT

from aidqa.index.figures import extract_figures, filter_figures, quoted_spans
from aidqa.ingest import read_document
from aidqa.zh.chars import fold_for_match
from aidqa.zh.normalize import normalise
from aidqa.zh.numbers import chinese_numeral_value, figure_dimensions, figure_value, has_count

DATA = Path(__file__).parent / "data"


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def document():
    return read_document(REPORT, CORPUS)


@pytest.fixture(scope="module")
def figures(document):
    return extract_figures(document.text, document.name, lambda offset: "")


def _match_gold(figures):
    """Pair each gold figure with an extracted one of the same text, in report order."""
    gold = _jsonl("figures_gold.jsonl")
    remaining = list(figures)
    pairs = []
    for g in gold:
        found = next((f for f in remaining if fold_for_match(f.raw) == fold_for_match(g["raw"])), None)
        if found is not None:
            remaining.remove(found)
        pairs.append((g, found))
    return pairs, remaining


def test_gold_list_is_big_enough():
    assert len(_jsonl("figures_gold.jsonl")) >= 60


def test_every_gold_figure_is_found_with_value_unit_qualifier_and_kind(figures):
    pairs, _ = _match_gold(figures)
    missing = [g["raw"] for g, f in pairs if f is None]
    assert not missing
    wrong = [
        (g["raw"], {k: (getattr(f, k), g[k]) for k in ("value", "unit", "qualifier", "kind") if getattr(f, k) != g[k]})
        for g, f in pairs
        if any(getattr(f, k) != g[k] for k in ("value", "unit", "qualifier", "kind"))
    ]
    assert not wrong


def test_nothing_but_the_gold_figures_is_extracted(figures):
    _, extra = _match_gold(figures)
    assert [f.raw for f in extra] == []


def test_slogans_and_names_are_not_figures(figures):
    for negative in _jsonl("figures_not.jsonl"):
        hits = [f.raw for f in figures if fold_for_match(f.raw) in fold_for_match(negative["raw"])]
        assert not hits, (negative, hits)


def test_offsets_are_exact_and_figures_sit_in_their_sentence(document, figures):
    for f in figures:
        assert document.text[f.start : f.end] == f.raw
        assert document.text[f.sentence_start : f.sentence_start + len(f.sentence)] == f.sentence
        assert f.sentence_start <= f.start and f.end <= f.sentence_start + len(f.sentence)
        raw_start, raw_end = document.raw_span(f.start, f.end) if hasattr(document, "raw_span") else (None, None)
        if raw_start is not None:
            assert fold_for_match(document.raw[raw_start:raw_end]) == fold_for_match(f.raw)


def test_no_year_or_date_is_an_amount(figures):
    for f in figures:
        if f.unit in ("年", "月", "日") or f.raw.endswith("年"):
            assert f.kind in ("year", "date"), f
    assert [f.raw for f in figures if f.kind == "year"] == ["2010年"]
    assert [f.raw for f in figures if f.kind == "date"] == ["去年8月"]


def test_what_a_figure_measures(figures):
    by_raw = {f.raw: f for f in figures}
    assert "累计投入" in by_raw["18.51亿元"].measures
    assert "旅游综合收入" in by_raw["近18.38亿元"].measures
    assert "项目" in by_raw["567个"].object
    assert "招聘活动" in by_raw["18场"].measures


def test_index_stores_the_figures_with_sections(assistant):
    index = assistant.ensure_ready()
    assert len(index.figures) == len(_jsonl("figures_gold.jsonl"))
    assert index.manifest["figure_count"] == len(index.figures)
    doc = index.documents["tianjin-huangnan-report.txt"]
    for f in index.figures:
        assert doc.text[f.start : f.end] == f.raw and f.section
    money = filter_figures(index.figures, grep="医疗", unit="元")  # found through the statement's topic phrase
    assert [f.raw for f in money] == ["700万元", "1000万元", "1400万元"]


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("两百五十", 250), ("一千零八", 1008), ("三万", 30000), ("一亿二千万", 120000000)],
)
def test_chinese_numerals(numeral, value):
    assert chinese_numeral_value(numeral) == value


@pytest.mark.parametrize(
    ("number", "multiplier", "value"),
    [("18.51", "亿", 1851000000), ("1.2", "万", 12000), ("2.5", "万", 25000), ("1,000", "", 1000), ("", "万", 10000), ("0.5", "", 0.5)],
)
def test_figure_values(number, multiplier, value):
    assert figure_value(number, multiplier) == value


@pytest.mark.parametrize(
    ("text", "raws"),
    [
        ("累计投入18.51亿元，实施567个项目。", ["18.51亿元", "567个"]),
        ("打造\"3+3+N\"（3个省级劳务品牌+3个州级劳务品牌）", ["3个", "3个"]),
        ("紧紧围绕\"一条主线\"，突出\"两个重点\"，两地一批项目", []),
        ("投入资金300余万元，培训1.2万余人次，提供岗位万余个", ["300余万元", "1.2万余人次", "万余个"]),
        ("自2010年以来，去年8月，占50%以上，第25届", ["2010年", "去年8月", "50%以上", "第25届"]),
        ("全角数字１８．５１亿元", ["18.51亿元"]),  # extraction runs on the normalised text
        # a full-width thousands comma (as PDFs keep it): one figure, not the 700 after a comma
        ("产能合计达11，700吨/年；分别为2，15个", ["11，700吨", "15个"]),  # 2，15: no thousands group
        # the digits of a code after a capital letter are its name: no 2.5年 or 10年 here
        ("PM2.5年平均浓度47微克/立方米，PM10年平均浓度74微克/立方米。", ["47微克/立方米", "74微克/立方米"]),
    ],
)
def test_extraction_on_small_texts(text, raws):
    stored = normalise(text).text
    assert [f.raw for f in extract_figures(stored, "t", lambda i: "")] == raws


def test_quoted_spans_pair_ascii_quotes_in_turn():
    text = '惠及"一市三县"群众，"三交"活动'
    assert [text[a:b] for a, b in quoted_spans(text)] == ["一市三县", "三交"]


# Units of statistical communiques (sentences as the shared communiques write them): the unit after any multiplier.
@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("全年粮食总产量902.61万吨，比上年减产3.2%。", ["吨", "%"]),
        ("常住人口城镇化率45.31%，比上年提高1.01个百分点。", ["%", "个百分点"]),
        ("粮食播种面积512.3千公顷，全年发电量12.5亿千瓦时。", ["公顷", "千瓦时"]),
        ("货物进出口总额3.2亿美元，铁路货运周转量17.4亿吨公里。", ["美元", "吨公里"]),
        ("生猪出栏120.5万头，年末公路通车里程2345公里。", ["头", "公里"]),
        ("光缆长度36.28千米，新建管网1千米。", ["千米", "千米"]),  # 千 before 米 is the unit, not a multiplier
        ("细颗粒物年均浓度为50微克/立方米，化学需氧量浓度12毫克/升。", ["微克/立方米", "毫克/升"]),
    ],
)
def test_statistical_units(text, units):
    assert [f.unit for f in extract_figures(normalise(text).text, "t", lambda i: "")] == units


def test_a_kilometre_is_one_kilometre():
    # Found by the property test: 1千米 was read as 千 (a thousand) of 米, value 1000.
    assert [(f.value, f.unit) for f in extract_figures("管网1千米、3千公顷。", "t", lambda i: "")] == [
        (1.0, "千米"), (3000.0, "公顷")]


def test_a_full_width_thousands_comma_keeps_the_figure_whole():
    [figure] = extract_figures("产能合计达11，700吨/年。", "t", lambda i: "")
    assert (figure.raw, figure.value, figure.unit) == ("11，700吨", 11700, "吨")


def test_a_code_is_no_amount():
    assert not has_count("细颗粒物（PM2.5）浓度持续下降")  # a how-much question needs a figure, not a name
    assert has_count("PM2.5年平均浓度47微克/立方米")
    assert figure_dimensions("PM10年平均浓度74微克/立方米") == {"concentration"}  # not a time (10年)
