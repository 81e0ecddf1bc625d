"""Normalisation, sentence splitting, tokenisation and chunking: the Chinese text handling, tested hard."""

from __future__ import annotations

import re

import pytest
from conftest import CORPUS, REPORT
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from aidqa.index.chunking import chunk_document
from aidqa.ingest import SourceDocument, read_document
from aidqa.qa.analysis import asked_measure
from aidqa.settings import ChunkingSettings
from aidqa.zh.chars import fold_for_match
from aidqa.zh.normalize import normalise
from aidqa.zh.numbers import inside_number, numbers_in
from aidqa.zh.segment import char_bigrams, detect_language, split_sentences, tokenize_words
from aidqa.zh.structure import looks_like_heading

NUMBER = re.compile(r"\d+(?:\.\d+)?")


def test_stray_spaces_inside_chinese_removed_and_latin_spaces_kept():
    n = normalise("贯彻落实中央关于对口支援 工作的一系列部署要求。\n模型是 the Universal Sentence Encoder ，很好。")
    assert "对口支援工作的一系列部署要求。" in n.text
    assert "模型是the Universal Sentence Encoder，很好。" in n.text


def test_ascii_punctuation_in_chinese_becomes_full_width_but_numbers_untouched():
    n = normalise('以来, 我市累计投入 18.51亿元,实施1,000个项目;时间10:30 (深圳)')
    assert n.text == "以来，我市累计投入18.51亿元，实施1,000个项目；时间10:30（深圳）"


def test_bracket_pairs_stay_matched():
    n = normalise('打造"3+3+N"(3个省级劳务品牌+辐射带动若干个其他劳务品牌)新格局')
    assert "（3个省级劳务品牌+辐射带动若干个其他劳务品牌）" in n.text


def test_full_width_digits_zero_width_and_controls():
    n = normalise("投入１８．５１亿元\u200b，共\x07计")
    assert n.text == "投入18.51亿元，共计"


def test_headings_are_detected_and_keep_their_inner_space():
    n = normalise('天津对口支援青海省黄南州\n\n丰富"产业和弦" 在激发高质量发展动能上用心用力用情\n\n正文第一句，很长。')
    headings = [n.text[b.start : b.end] for b in n.blocks if b.is_heading]
    assert headings == ["天津对口支援青海省黄南州", '丰富"产业和弦" 在激发高质量发展动能上用心用力用情']
    assert not looks_like_heading("正文第一句，很长。")


def test_page_break_inside_a_sentence_is_joined_but_truncated_paragraph_is_not():
    raw = "先后对接数据企业140余家，与\n\n海东市建立联动机制。\n\n签约项目32个，协议\n\n在助力文旅事业特色发展方面，天津深挖资源。"
    n = normalise(raw)
    assert "与海东市建立联动机制。" in n.text
    assert "协议\n\n在助力文旅事业" in n.text


def test_offsets_round_trip_on_the_real_report():
    raw = REPORT.read_text(encoding="utf-8")
    n = normalise(raw)
    assert len(n.offsets) == len(n.text)
    assert n.offsets == sorted(n.offsets)
    for b in n.blocks:
        rs, re_ = n.raw_span(b.start, b.end)
        # The raw span holds the same text up to removed spaces/line breaks and punctuation width.
        assert fold_for_match(raw[rs:re_]) == fold_for_match(n.text[b.start : b.end])
    assert "累计投入18.51亿元" in n.text


def test_sentence_split_keeps_closing_quotes_and_never_splits_numbers():
    text = '他说："完成了。"累计投入18.51亿元！比例3;4不拆？好\n下一行'
    spans = split_sentences(text)
    parts = [text[s:e] for s, e in spans]
    assert parts == ['他说："完成了。"', "累计投入18.51亿元！", "比例3;4不拆？", "好", "下一行"]


def test_numbers_and_inside_number():
    assert numbers_in("投入18.51亿元，占50%以上，共1,000个") == ["18.51", "50%", "1,000"]
    text = "投入18.51亿元"
    cut = text.index(".")
    assert inside_number(text, cut) and inside_number(text, cut + 1)
    assert not inside_number(text, text.index("投") + 1)


def test_tokenisation_drops_stop_words_and_punctuation():
    toks = tokenize_words("天津对口支援黄南州累计投入了多少资金？")
    assert "多少" not in toks and "了" not in toks and "？" not in toks
    assert {"天津", "投入", "资金"} <= set(toks)
    assert char_bigrams("累计投入18.51亿元") == ["累计", "计投", "投入", "18.51", "亿元"]


def test_language_detection():
    assert detect_language("How much did Tianjin invest?") == "en"
    assert detect_language("天津投入了多少？") == "zh"
    assert detect_language("GDP是多少") == "zh"


# ---- chunking ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_doc() -> SourceDocument:
    doc = read_document(REPORT, CORPUS)
    assert doc is not None
    return doc


def test_chunks_are_exact_spans_of_the_stored_text(report_doc):
    chunks = chunk_document(report_doc, ChunkingSettings())
    assert 15 <= len(chunks) <= 40
    for c in chunks:
        assert report_doc.text[c.start : c.end] == c.text
        assert len(c.text) <= 250


def test_chunks_are_sized_and_overlap_by_one_sentence(report_doc):
    chunks = chunk_document(report_doc, ChunkingSettings())
    sizes = [len(c.text) for c in chunks]
    # Most chunks are in the 150–250 band; a short one only ends a section.
    assert sum(150 <= s <= 250 for s in sizes) / len(sizes) >= 0.75
    # A chunk of one sentence cannot hand that sentence on (the next chunk would repeat it whole).
    overlapping = [(a, b) for a, b in zip(chunks, chunks[1:]) if a.section == b.section and len(split_sentences(a.text)) > 1]
    assert len(overlapping) >= 10
    last_of_section = {c.id for c, n in zip(chunks, chunks[1:] + [None]) if n is None or n.section != c.section}
    for a, b in overlapping:
        assert b.start < a.end, "consecutive chunks of a section share at least one sentence"
        shared = len(split_sentences(report_doc.text[b.start : a.end]))
        # Exactly one, except that a section's short last chunk may start earlier to reach min_chars.
        assert shared == 1 or (b.id in last_of_section and len(b.text) <= 250)
    assert min(len(c.text) for c in chunks if c.id in last_of_section) >= 100


def test_no_chunk_cuts_a_number(report_doc):
    for c in chunk_document(report_doc, ChunkingSettings(min_chars=50, max_chars=60)):
        assert not inside_number(report_doc.text, c.start)
        assert not inside_number(report_doc.text, c.end)


def test_headings_are_kept_as_sections(report_doc):
    chunks = chunk_document(report_doc, ChunkingSettings())
    sections = list(dict.fromkeys(c.section for c in chunks))
    assert sections[0].startswith('探索"五和共为"')
    assert '丰富"产业和弦" 在激发高质量发展动能上用心用力用情' in sections
    assert len(sections) == 6
    first_18 = next(c for c in chunks if "18.51亿元" in c.text)
    assert first_18.section.startswith("探索")


def test_chunk_ids_are_stable(report_doc):
    a = [c.id for c in chunk_document(report_doc, ChunkingSettings())]
    b = [c.id for c in chunk_document(read_document(REPORT, CORPUS), ChunkingSettings())]
    assert a == b and len(set(a)) == len(a)


# ---- properties --------------------------------------------------------------------------------------------

_alphabet = st.sampled_from(list("天津投入资金项目黄南州人次万亿元余近超以上") + list("0123456789.,%") + list(" ，。！？；,;!?:()（）\"\n\u3000\u200b") + ["ab", "x"])
_texts = st.lists(_alphabet, max_size=300).map("".join)


@hsettings(max_examples=200, deadline=None)
@given(_texts)
def test_property_normalise_offsets_round_trip(raw):
    n = normalise(raw)
    assert len(n.offsets) == len(n.text)
    assert all(0 <= o < len(raw) for o in n.offsets)
    assert n.offsets == sorted(n.offsets)
    for ch, o in zip(n.text, n.offsets):
        if ch != "\n":
            # Each character comes from its raw character (same, or its width/punctuation fold).
            assert fold_for_match(ch) == fold_for_match(raw[o]) or raw[o] in ",;:!?()" or raw[o] in "０１２３４５６７８９．"


@hsettings(max_examples=150, deadline=None)
@given(_texts, st.integers(50, 120))
def test_property_chunks_cover_text_without_cutting_numbers(raw, max_chars):
    n = normalise(raw)
    doc = SourceDocument("x.txt", REPORT, "0", raw, n)
    cfg = ChunkingSettings(min_chars=20, max_chars=max_chars)
    chunks = chunk_document(doc, cfg)
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert not inside_number(doc.text, c.start) and not inside_number(doc.text, c.end)
    # Nothing is lost: every non-space character of body text lies in some chunk.
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for b in n.blocks:
        if not b.is_heading:
            for i in range(b.start, b.end):
                assert i in covered or n.text[i].isspace()


@pytest.mark.parametrize(("question", "units"), [
    ("2023年常住人口城镇化率是多少？", ["%"]),  # any …率 is a percentage
    ("资产负债率是多少？", ["%"]),
    ("城镇化率比上年提高了多少？", ["个百分点"]),  # a rate's change is in points
    ("比上年提高了多少个百分点？", ["个百分点"]),
    ("净利率较去年同期下滑了多少？", ["个百分点"]),  # any verb of change (the news page)
    ("粮食总产量是多少万吨？", ["吨"]),  # the unit after a multiplier
    ("全年发电量多少亿千瓦时？", ["千瓦时"]),
    ("接待游客多少万人次？", ["人次"]),
    ("完成投资多少亿元？", ["元"]),
    ("用 MIT 协议的项目大概占多少？", ["%"]),  # 占多少 asks for a share (the open-source chapter)
    ("该校区占地多少？", []),  # 占地 is land, not a share
    # How much a thing changed is told as a rate (增长2.1%), whatever the thing is counted in (the work report)
    ("2025年四川民间投资增长多少？", []),
    ("居民收入增加了多少元？", ["元"]),  # unless the question says the unit
    ("投资总额是多少，比上年增长了多少？", ["元"]),  # and the amount itself is asked too
])
def test_units_a_question_asks_for(question, units):
    from aidqa.qa.analysis import asked_units

    assert asked_units(question, "zh") == units


@pytest.mark.parametrize(("question", "units"), [
    ("By how many percentage points did the net margin fall?", ["个百分点"]),  # points, not % (the news page)
    ("By how many percent did sales grow?", ["%"]),
    ("What percentage of developers are in China?", ["%"]),
    ("How many people were employed?", ["人"]),
    ("What was the corn output in 2023, in units of 10,000 tonnes?", ["吨"]),
])
def test_units_an_english_question_asks_for(question, units):
    from aidqa.qa.analysis import asked_units

    assert asked_units(question, "en") == units


@pytest.mark.parametrize(("question", "measure"), [
    ("2025年城镇调查失业率是多少？", ("调查", "失业率")),  # the run of nouns before 是多少, without the year
    ("全市旅游综合收益比上年增长了多少？", ("旅游", "综合", "收益")),  # change verbs between are skipped
    ("全市粮食总产量是多少万吨？", ("粮食", "总产量")),
    ("展区面积是多少平方米？", ()),  # a dimension the unit says is no measure of its own
    ("累计投入了多少资金？", ()),  # a verb asks: the measure follows the question word
    ("全州建设了多少个教室？", ()),
    # A verb between a noun and 是多少 is the measure's head (支出/v): the general budget's total does not answer.
    ("一般公共预算支出里，教育支出是多少亿元？", ("教育", "支出")),
    ("高学历、高职称人员的占比是多少？", ()),  # after 的 it is not
    # so is one before a comparison (收入/v): 地方财政总收入's growth does not answer for 旅游综合收入
    ("2023年周口市旅游综合收入比上年增长了多少？", ("旅游", "综合", "收入")),
    # and one after 总 right before a bare 多少 (总投入/v is a noun: what the total is of comes before 总); without
    # it the ESG report's key-figure panel answered 环保总投入 with a headcount.
    ("2024年公司环保总投入多少？", ("公司", "环保", "投入")),
    ("公司投入多少？", ()),  # a verb alone asks, as with 了
    # A scope right before the measure (a noun and 以上/以下) is part of it: 规模以上工业增加值 is another statistic
    # than 工业增加值. Not a count (60周岁及以上) and not a scope the measure does not follow (地级及以上城市PM2.5).
    ("2025年四川规模以上工业增加值增长了多少？", ("规模以上", "工业", "增加值")),
    ("2023年黔东南州限额以上社会消费品零售总额是多少？", ("限额以上", "社会", "消费品", "零售总额")),
    ("2023年末周口60周岁及以上常住人口有多少？", ("常住人口",)),
    # A hedge between the measure and 是多少 is the asker's, not the measure's end (the open-source chapter's table).
    ("按表1.2的估算，四川的开发者实际总量大约是多少？", ("开发者", "实际")),
    ("尤金袋鼠的体重大约是多少？", ()),  # a dimension the unit says (约只有8公斤重; CMRC 2018)
    # A verb between a noun and a dimension word measures too (排放/v): not an empty measure that any tonnage answers.
    ("公司2024年温室气体排放总量是多少吨？", ("温室", "气体", "排放")),
    ("排放总量是多少吨？", ()),  # no noun before the verb: it asks nothing more specific
])


def test_what_a_how_much_question_measures(question, measure):
    assert asked_measure(question) == measure


def test_hedges_are_not_key_terms():
    # 大概/大约 say how sure the asker is; a sentence or table row that answers does not repeat them.
    from aidqa.zh.terms import query_term_groups

    words = {w for group in query_term_groups("全国一年下来被非法占用的林子大概有多少？") for w in group}
    assert "大概" not in words and "非法" in words
    assert not {"大约", "左右"} & {w for g in query_term_groups("四川的开发者大约有五十万左右吗？") for w in g}


@pytest.mark.parametrize(("question", "asked", "kept"), [
    ("元皇后祖籍何处？", "何处", "祖籍"),
    ("电视剧中的歌曲收录在哪张专辑？", "哪张", "专辑"),
    ("冷湖市是何时设立的？", "何时", "设立"),
    ("《中朝友好合作互助条约》有效期是多长时间？", "多长时间", "有效期"),
    ("哪吒的父亲是谁？", None, "哪吒"),  # a name, not a question word
])
def test_question_words_are_not_key_terms(question, asked, kept):
    from aidqa.zh.terms import query_term_groups

    words = {w for group in query_term_groups(question) for w in group}
    assert kept in words and asked not in words


@pytest.mark.parametrize(("raw", "spellings"), [
    ("30,000", ("30,000", "30000", "3万")),  # an English question's thousands, a report's 万
    ("250,000,000", ("250,000,000", "250000000", "2.5亿")),
    ("15000", ("15000", "1.5万")),
    ("12345", ("12345",)),  # no round 万: only as written
    ("60", ("60",)),
    ("3.5%", ("3.5%",)),
])
def test_the_ways_a_report_writes_a_number(raw, spellings):
    from aidqa.zh.numbers import number_spellings

    assert number_spellings(raw) == spellings


def test_a_which_year_question_asks_for_a_year_not_an_amount():
    from aidqa.qa.analysis import analyse

    q = analyse("From which year did the top 30,000 active repositories surpass the others in number of events?", "en")
    assert q.when and not q.amount  # "number of" names what was compared, "which year" is asked
    assert ("30,000", "30000", "3万") in q.anchors


def test_a_unit_an_english_question_counts_in_is_no_figure_to_find():
    from aidqa.qa.analysis import anchors

    # "in units of 10,000 tonnes" is the Chinese 万吨: the passage writes 玉米·产量（万吨）：365.54, never 10,000.
    assert anchors("What was Zhoukou's corn output in 2023, in units of 10,000 tonnes?", "en") == [("2023",)]
    assert ("10000",) not in anchors("How many pigs were in stock, in units of 10,000 head?", "en")
    assert any("60" in a for a in anchors("How many residents were aged 60 or over?", "en"))
