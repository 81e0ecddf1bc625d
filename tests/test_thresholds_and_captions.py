"""Figures and headings that are not what they look like.

* A figure that bounds what a noun names (500万元及以上的项目, 65岁及以上人口) is a threshold of a definition, not an
  amount the report states; before punctuation, 以上 states one (稳定在2500万人以上、).
* A table's caption (表6 …) heads the table's rows, not the paragraphs after the table.
* 规模以上 (above designated size) names a class of enterprises: it does not ask for a size.
* "What time" asks for a time: time is not a word the answer holds (次, 倍).

End to end on the shared Markdown communique (copied from ``../shared/dev-reports/`` at test time, packaged model),
the one dev report that writes statistical thresholds and captions as one-row tables: its fixed-asset investment is
given only as growth over 500万元及以上 projects, and was answered with the threshold (口径为计划总投资500万元); its
industrial value added is given only as growth, and was answered with the construction industry's level from the
paragraph under a product table's caption.
"""

from __future__ import annotations

from pathlib import Path

from conftest import one_report_assistant

from aidqa.index.chunking import chunk_document
from aidqa.index.figures import extract_figures
from aidqa.ingest import read_document
from aidqa.qa.analysis import asks_amount
from aidqa.settings import Settings
from aidqa.zh.lexicon import QueryLexicon
from aidqa.zh.numbers import figure_dimensions, has_count
from aidqa.zh.terms import english_groups

QIANDONGNAN = "qiandongnan-2023-statistical-communique.md"


def test_a_threshold_is_no_amount():
    definition = "固定资产投资统计口径为计划总投资500万元及以上的固定资产项目投资。"
    assert not has_count(definition) and figure_dimensions(definition) == set()
    assert extract_figures(definition, "r", lambda _: "") == []
    assert figure_dimensions("65岁及以上人口占15.2%") == {"share"}  # the share is stated, the age bounds
    # 以上 before punctuation or the end states an amount (a lower bound).
    stated = "农村劳动力转移稳定在2500万人以上、零就业家庭动态消除。总载重吨位151万吨以上。"
    assert [f.raw for f in extract_figures(stated, "r", lambda _: "")] == ["2500万人以上", "151万吨以上"]
    assert has_count("增长10%以上。")


def test_above_designated_size_asks_no_size():
    assert not asks_amount("这份公报里规模以上工业的统计口径是什么？")
    assert asks_amount("规模以上工业增加值增长了多少？") and asks_amount("这家公司的规模有多大？")


def test_what_time_is_no_key_term():
    times = set(QueryLexicon([]).dictionary_translations("time"))
    assert times  # the dictionary has Chinese for it, and the question must not carry it
    assert not any(set(group) & times for group in english_groups("What time is it now?"))
    assert not any(set(group) & times for group in english_groups("On what date was it completed, and at what time?"))


def test_a_caption_heads_its_table_not_the_prose_after_it(tmp_path: Path):
    (tmp_path / "r.md").write_text(
        "# 某市统计公报\n\n## 三、工业和建筑业\n\n全年工业增加值100亿元。\n\n"
        "| 表6 | 2023年规模以上工业主要产品产量 |\n| --- | --- |\n\n"
        "| 产品名称 | 产量（万吨） |\n| --- | --- |\n| 饲料 | 10.5 |\n| 水泥 | 20.1 |\n\n"
        "全年全市建筑业增加值12.5亿元，比上年增长4.6%。\n\n## 四、固定资产投资\n\n全年全市投资比上年增长1.2%。\n",
        encoding="utf-8")
    doc = read_document(tmp_path / "r.md", tmp_path)
    sections = {doc.text[c.start:c.end].split("。")[0][:8]: c.section for c in chunk_document(doc, Settings().chunking)}
    assert sections == {"全年工业增加值1": "三、工业和建筑业", "饲料·产量（万吨": "表6 2023年规模以上工业主要产品产量",
                        "全年全市建筑业增": "三、工业和建筑业", "全年全市投资比上": "四、固定资产投资"}


def test_the_communique_answers_neither_with_a_threshold_nor_with_another_industry(tmp_path_factory):
    assistant = one_report_assistant(tmp_path_factory, QIANDONGNAN)
    investment = assistant.ask("2023年黔东南州固定资产投资是多少？")
    assert investment.refused, investment.answer  # only its growth is given
    industry = assistant.ask("黔东南规模以上工业增加值是多少？")
    assert industry.refused, industry.answer  # only its growth is given; 建筑业增加值 is another industry's
    # The definition itself is still the answer to a question about the definition.
    scope = assistant.ask("这份公报里规模以上工业的统计口径是什么？")
    assert not scope.refused and "2000万元及以上工业企业" in scope.citations[0].quote, scope.answer
