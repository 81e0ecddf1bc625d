"""Question analysis: what a question asks (an amount and its unit, a year, a list, a total) and the
specific things it names (anchors), and how a compound question splits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from aidqa.zh.chars import is_han
from aidqa.zh.lexicon import QueryLexicon, common_english_words, ordinary_words
from aidqa.zh.numbers import CLASSIFIERS, PLAN_PERIOD_RE, SECTION_NUMBER_RE, UNITS, YEAR_RE, number_spellings, numbers_in
from aidqa.zh.segment import ZH_STOP_WORDS, char_bigrams, tokenize_words
from aidqa.zh.terms import HEDGES, UNITS_OF, expansion_text, query_term_groups, written_out

_AMOUNT_RE = re.compile(
    # 哪几位 asks which (a list), 几乎 means almost: neither asks how many. 规模以上 (above designated size) names a
    # class of enterprises in statistics, not a size asked.
    r"多少|(?<!哪)几(?!乎)[个位名家场项次批所条座人万亿年]?|多大|多高|多长|多重|数量|金额|规模(?!以[上下])|比例|比率|百分之|"
    r"\bhow (?:much|many)\b|\bwhat (?:percentage|share|amount|number|proportion)\b|\bnumber of\b|\bamount\b|"
    # English says 是多少 with "what is the <measure>": a noun that is always a quantity, within the noun phrase.
    r"\bwhat (?:is|was|are|were)\b[^?,;]{0,60}?\b(?:rate|share|proportion|ratio|percentage|revenue|income|value|"
    r"total|output|capacity|volume|population|investment|expenditure|spending|budget|cost|price|area|gdp|cpi)s?\b",
    re.IGNORECASE,
)
# The measure word after 多少/几 says which unit the answer carries.
_UNIT_AFTER_AMOUNT = [
    ("钱", "元"), ("资金", "元"), ("金额", "元"), ("投资", "元"), ("经费", "元"), ("元", "元"), ("款", "元"),
    ("人次", "人次"), ("人", "人"), ("名", "名"), ("场", "场"), ("个百分点", "个百分点"), ("百分点", "个百分点"),
    ("个", "个"), ("家", "家"), ("项", "项"),
    ("次", "次"), ("批", "批次"), ("所", "所"), ("条", "条"), ("座", "座"), ("例", "例"), ("平方", "平方米"),
    ("届", "届"), ("期", "期"), ("位", "位"), ("吨", "吨"), ("公顷", "公顷"), ("亩", "亩"), ("千瓦时", "千瓦时"),
    ("度电", "千瓦时"), ("千瓦", "千瓦"), ("公里", "公里"), ("户", "户"), ("辆", "辆"), ("台", "台"), ("套", "套"),
    ("美元", "美元"), ("头", "头"), ("倍", "倍"), ("天", "天"),
]
_UNIT_WORDS = [
    # 生产总值/GDP and 增加值 are money too: a level asked (某市GDP是多少？) is not answered by its growth (增长3%).
    (re.compile(r"投资|资金|金额|经费|多少钱|钱|花了|花费|投入了多少|签约额|收入|总额|利润|生产总值|GDP|增加值", re.IGNORECASE), "元"),
    # A rate (城镇化率, 增长率, 覆盖率: any word ending in 率) or a share is stated in %; its change in 个百分点.
    (re.compile(r"[\u4e00-\u9fff]率.{0,6}(?:提高|提升|增加|增长|上升|上涨|回升|下降|降低|减少|下滑|下跌|回落)了?(?:多少|几)"), "个百分点"),
    # 占多少 / 占了多少 asks for a share (用MIT协议的项目占多少？); 占地 is an area.
    (re.compile(r"占比|比例|比率|比重|百分之|百分比|增速|增幅|涨幅|降幅|[\u4e00-\u9fff]率|占(?:了|到)?(?:多少|几成)"), "%"),
    (re.compile(r"人数|多少人|人口"), "人"),  # 常住人口是多少: people, not the 城镇化率 beside it
    (re.compile(r"面积"), "平方米"),
]
# How much a thing grew or fell, with no unit after the question word (增长多少, not 增加了多少人).
_CHANGE_ASKED = re.compile(r"(?:增长|下降|增加|减少|提高|提升|降低|上升|上涨|下跌|回升|回落|下滑)了?(?:多少|几)"
                           r"(?![万亿千百]|" + "|".join(re.escape(w) for w, _ in _UNIT_AFTER_AMOUNT) + ")")
# English words (each the start of a word: invest → investment) that say the unit of the amount asked for.
_EN_UNIT = [("money", "元"), ("invest", "元"), ("fund", "元"), ("yuan", "元"), ("spend", "元"), ("spent", "元"),
            ("people", "人"), ("person", "人"), ("visits", "人次"), ("projects", "个"), ("companies", "家"),
            ("enterprises", "家"), ("square", "平方米"), ("percentage point", "个百分点"), ("percent", "%"), ("percentage", "%"), ("rate", "%"),
            ("share", "%"), ("proportion", "%"), ("days", "天"), ("tonnes", "吨"), ("tons", "吨"), ("hectares", "公顷"),
            ("dollars", "美元"), ("vehicles", "辆"), ("kilometres", "公里"), ("kilometers", "公里")]
# Outside "how many …", a word for what is counted (enterprises, people) names the topic, not the unit: "the total
# profits of industrial enterprises" asks for money, "the growth rate of value added for … enterprises" for a rate.
# A rate or share asked of an amount ("the R&D investment ratio") is a rate: those words come first.
_EN_COUNTED = frozenset({"people", "person", "visits", "projects", "companies", "enterprises", "days", "vehicles"})
_EN_AMOUNT_UNIT = ([(w, u) for w, u in _EN_UNIT if u in ("%", "个百分点")] + [("ratio", "%")]
                   + [(w, u) for w, u in _EN_UNIT if u not in ("%", "个百分点") and w not in _EN_COUNTED])
# A name the question quotes (“两区三园”): the answer must contain it as written.
QUOTED_NAME = re.compile(r"[\"“「『]([^\"”」』]{2,30})[\"”」』]")
# A title in book marks (《生态保护规划》): a report's, or a book, film or law the question names.
BOOK_TITLE = re.compile(r"《([^《》]{2,120})》")
_PLACE_SUFFIXES = tuple("省市州县区乡镇村")


# Joins two questions in one sentence; each side must ask something on its own (_QUESTION_CUE). In English, "and"
# before a question word (…in 2023, and how much did it grow?): "and" between nouns (solar and other energy) is not.
_JOINED_QUESTIONS = re.compile(r"[，,；;]\s*(?:以及|还有|另外|同时)|[；;]"
                               r"|,?\s+and\s+(?=(?:how|what|which|who|when|where|why|by how|to what)\b)", re.IGNORECASE)
_QUESTION_CUE = re.compile(r"多少|几|什么|哪|谁|怎样|怎么|如何|是否|有没有|吗|呢|\b(?:how|what|which|who|when|where)\b", re.IGNORECASE)
_YEAR_ASKED_RE = re.compile(r"哪一年|哪年|何年|哪个年份|什么年份|\b(?:which|what) year\b", re.IGNORECASE)
# Asks for a day (哪天, on what date): answered by a date (3月9日), not by a sentence that only shares its words.
_DATE_ASKED_RE = re.compile(r"哪天|哪一天|哪日|几月几[日号]|几号|什么日期|什么日子|\b(?:what|which) (?:date|day)\b", re.IGNORECASE)
_WHEN_RE = re.compile(r"哪一年|哪年|何年|哪个月|什么时候|何时|\bwhich year\b|\bwhen\b|" + _DATE_ASKED_RE.pattern, re.IGNORECASE)
_LIST_RE = re.compile(r"哪些|哪几|有哪|包括|包含|分别|都有什么|有什么|列举|\bwhich\b|\bwhat are\b|\blist\b", re.IGNORECASE)




@lru_cache(maxsize=1)
def _posseg():
    from aidqa.zh.segment import _jieba

    _jieba()
    from jieba import posseg

    return posseg


_CLASSIFIERS = "项个位名家场次批所条座件台辆户例张"


def _name_tag(word: str, flag: str) -> bool:
    """Whether jieba tags ``word`` as a place, person or organisation and the tag stands. jieba's dictionary tags
    thousands of ordinary words so (长度/ns, 叶柄/nr, 嘉宾/ns, 上市公司/nt); a word CC-CEDICT knows only as an
    ordinary word names nothing (``ordinary_words``). A word the dictionary does not have keeps its tag."""
    return flag[:2] in ("ns", "nr", "nt") and word not in ordinary_words()


def word_parts(word: str) -> tuple[str, ...]:
    """``word`` as the two ordinary words of two characters or more it is made of (农村居民 → 农村, 居民), or as
    itself: a report may put a word between them (农村常住居民). jieba tags some such pairs as names (农村居民/nr)."""
    ordinary = ordinary_words()
    return next(((word[:k], word[k:]) for k in range(2, len(word) - 1)
                 if word[:k] in ordinary and word[k:] in ordinary), (word,))


def _classifier_glued(tagged, i: int) -> bool:
    """Whether jieba's word ``i`` starts with a measure word right after a number or 多少/几: 多少项新技术 is cut
    项新/nr, a person's name to jieba, and no name at all."""
    word = tagged[i].word
    return word[0] in _CLASSIFIERS and i > 0 and (tagged[i - 1].word in ("多少", "几") or tagged[i - 1].flag == "m")


def asked_units(question: str, language: str) -> list[str]:
    """The units a 多少/几/how-much question asks for, in order (几批次、多少人次 → 批次, 人次); empty if it does
    not say."""
    if language == "en":
        q = question.lower()
        # "how many data companies … investment team": what is counted follows "how many"; a word elsewhere in the
        # question (investment) names the topic, not the unit. Without a known word there, a count (no unit).
        counted = re.search(r"\bhow many\s+((?:[a-z\-]+\s+){0,2}[a-z\-]+)", q)
        if counted:
            # The longest word at a place says it: "percentage points" is 个百分点, not %.
            found = sorted((m.start(), -len(word), unit) for word, unit in _EN_UNIT
                           if (m := re.search(rf"\b{word}", counted.group(1))))
            return [found[0][2]] if found else []
        return [unit for word, unit in _EN_AMOUNT_UNIT if re.search(rf"\b{word}", q)][:1]
    units: list[str] = []
    for m in re.finditer(r"(?:多少|几)(?=(.{0,4}))", question):
        after = m.group(1)
        unit = next((unit for word, unit in _UNIT_AFTER_AMOUNT if after.startswith(word)), None) or next(
            (unit for word, unit in _UNIT_AFTER_AMOUNT if re.sub("^(?:万亿|亿|万|千|百)", "", after).startswith(word)), None)  # 多少万吨
        if unit and unit not in units:
            units.append(unit)
    if not units:
        # 总投资是多少？ / 总人数是多少？ / 占比是多少？ name the unit elsewhere in the question. But how much a thing
        # changed (民间投资增长多少？) is told as a rate (增长2.1%, 增长32.2倍), whatever the thing is counted in: 20
        # such questions on eight reports, none answered in the thing's own unit.
        change = _CHANGE_ASKED.search(question) and len(re.findall(r"多少|几", question)) == 1
        # The word nearest the question word names the measure (营业收入利润率 is a rate, 人均可支配收入 money): of the
        # unit words found, the one that ends last decides; at equal ends, the earlier pattern.
        found = [(max(m.end() for m in pattern.finditer(question)), -i, unit) for i, (pattern, unit) in enumerate(_UNIT_WORDS)
                 if pattern.search(question) and not (change and unit not in ("%", "个百分点"))]
        units = [max(found)[2]] if found else []
    return units


def asked_unit(question: str, language: str) -> str | None:
    """The (first) unit a 多少/几/how-much question asks for, if it says."""
    units = asked_units(question, language)
    return units[0] if units else None


def asks_when(question: str) -> bool:
    return bool(_WHEN_RE.search(question))


# A yes/no question (…增长了吗？, 是否下降, Did … grow?) about which way a figure moved: its short answer is 是/否 with
# the change as the report states it.
_YES_NO_RE = re.compile(r"(?:吗|(?<![什怎这那多要])么)[？?！!。\s]*$|是否|有没有|是不是|^\s*(?:did|does|do|has|have|had|was|were|is|are)\b",
                        re.IGNORECASE)
UP_WORDS = "增长 增加 提高 上升 上涨 增产 提升 回升 扩大".split()
DOWN_WORDS = "下降 减少 降低 回落 下滑 减产 下跌 缩小".split()
_EN_UP = re.compile(r"\b(?:grow|grew|grown|increase[ds]?|rise|rose|risen|go up|went up|gone up|climb(?:ed)?)\b", re.I)
_EN_DOWN = re.compile(r"\b(?:fall|fell|fallen|decrease[ds]?|decline[ds]?|drop(?:ped)?|shrink|shrank|go down|went down)\b",
                      re.I)


def asks_direction(question: str) -> str | None:
    """"up" or "down" when a yes/no question asks whether something rose or fell (2023年粮食产量增长了吗？ → up;
    Did grain output fall? → down); None otherwise, and when it names both ways."""
    if not _YES_NO_RE.search(question):
        return None
    up = any(w in question for w in UP_WORDS) or bool(_EN_UP.search(question))
    down = any(w in question for w in DOWN_WORDS) or bool(_EN_DOWN.search(question))
    return "up" if up and not down else "down" if down and not up else None


# A change asked in English, in any form (grows, growth, rising, dropped): how much, not whether, it moved.
_EN_CHANGE = re.compile(r"\b(?:grow|grew|growth|increase|rise|rose|fall|fell|decline|drop)", re.IGNORECASE)
# An average over years asked: then a yearly average answers a change.
_ASKS_AVERAGE = re.compile(r"年均|平均|每年|\b(?:average|on average|per year|a year)\b", re.IGNORECASE)


def asks_change(question: str) -> bool:
    """Whether a question asks how much something rose or fell in a period (增长了多少, How much did it grow?), not
    its yearly average over several (年均增长多少, average annual growth)."""
    moved = (any(w in question for w in (*UP_WORDS, *DOWN_WORDS, "增速", "增幅", "涨幅", "降幅"))
             or bool(_EN_CHANGE.search(question)))
    return moved and not _ASKS_AVERAGE.search(question)


def asks_date(question: str) -> bool:
    """哪天/on what date: the answer is a day of a month (2023年3月9日)."""
    return bool(_DATE_ASKED_RE.search(question))


def asks_year(question: str) -> bool:
    """哪一年/which year: narrower than ``asks_when`` (何时 may be answered by 唐末 or 高二的时候), a year answers."""
    return bool(_YEAR_ASKED_RE.search(question))


_COUNT_RE = re.compile(r"\bhow many\b", re.IGNORECASE)


def asks_count(question: str) -> bool:
    """Whether the question asks how many things (how many suppliers): its answer is a count, not money or a share.
    (A Chinese question says so with its measure word, 多少家/几个, which ``asked_units`` reads.)"""
    return bool(_COUNT_RE.search(question))


# Asks for a rank, not for what holds one (排名第一的项目是哪个 asks for a name).
_RANK_RE = re.compile(r"第几|(?:排名|名次)(?:是|为)?(?:多少|如何|怎样|怎么样)|\bwhat (?:rank|place)\b|\bwhich place\b|"
                      r"\bhow (?:did|does|do) .{1,60} rank\b", re.IGNORECASE)


def asks_rank(question: str) -> bool:
    """Whether the question asks for a rank (在全国排第几？): its answer is an ordinal (居全国第5位)."""
    return bool(_RANK_RE.search(question))


def asks_list(question: str) -> bool:
    return bool(_LIST_RE.search(question))


def asks_amount(question: str) -> bool:
    return bool(_AMOUNT_RE.search(question))


# The Nth Five-Year Plan, N from 11 to 19 (十一五 … 十九五).
_EN_PLAN_PERIOD = re.compile(r"\b(1[1-9])(?:st|nd|rd|th)\s+Five[- ]Year\s+Plan\b", re.IGNORECASE)
_CN_DIGITS = "〇一二三四五六七八九"


def anchors(question: str, language: str, lexicon: QueryLexicon | None = None) -> list[tuple[str, ...]]:
    """The specific things a question names, each of which must be in the cited paragraph: years and numbers,
    place/organisation/person names, Latin-script terms in a Chinese question (GDP), and capitalised English names
    the lexicon puts into the corpus's Chinese (Tibet → 西藏, Chengdu → 成都). Each anchor is a group of acceptable spellings (成都市 is also 成都)."""
    found: list[tuple[str, ...]] = []
    for year in YEAR_RE.findall(question):
        found.append((year.rstrip("年"),))
    found.extend((period,) for period in PLAN_PERIOD_RE.findall(question))
    # 5.1.5条 names a clause, written so wherever the report cites it; its parts are no numbers (5.1 and 5).
    found.extend((m.group(),) for m in SECTION_NUMBER_RE.finditer(question))
    # "in units of 10,000 tonnes" says how the answer is counted (万吨), not a figure the passage must hold.
    counted = UNITS_OF.sub(" ", question) if language == "en" else question
    if language == "en":
        # The 13th Five-Year Plan is 十三五 (PLAN_PERIOD_RE), as Chinese names the period: no number 13.
        found.extend((f"十{_CN_DIGITS[int(m.group(1)) - 10]}五",) for m in _EN_PLAN_PERIOD.finditer(counted))
        counted = _EN_PLAN_PERIOD.sub(" ", counted)
    found.extend(number_spellings(n) for n in numbers_in(SECTION_NUMBER_RE.sub(" ", counted)))
    if language == "zh":
        for m in re.finditer(r"[A-Za-z][A-Za-z0-9+\-]*", question):
            found.append((m.group(), *(lexicon.acronym_words(m.group()) if lexicon else ())))
        tagged = _posseg().lcut(question)
        for i, (word, flag) in enumerate(tagged):
            if len(word) < 2 or word in ZH_STOP_WORDS or not all(is_han(c) for c in word):
                continue
            nxt = tagged[i + 1].word if i + 1 < len(tagged) else ""
            if _generic_place(word + nxt) or _generic_place(word):
                continue  # 各市县, 全州: every place, not a named one
            # A report may write a name in English (a table's India for 印度).
            english = lexicon.english_names(word) if lexicon else ()
            if nxt in _PLACE_SUFFIXES and flag[:1] not in ("m", "r"):  # 第几 + 区, 哪个 + 县 ask for a place
                found.append((word + nxt, word, *english))  # 成都 + 市
            elif ((flag in ("ns", "nt", "nr") and _name_tag(word, flag) and not (flag == "nr" and _classifier_glued(tagged, i)))
                  or (flag == "nz" and word not in ordinary_words())):
                # Places, organisations, people and other proper nouns (万科/nz, a company): a name the passage does
                # not hold is a near miss (占旭刚 asked, a passage on another weightlifter answers; 万科 asked, a news
                # page's 龙湖 figure). jieba's person tag also fires on a measure word glued to the next character
                # (多少项新技术 → 项新), which is no name.
                short = word[:-1] if word.endswith(_PLACE_SUFFIXES) and len(word) > 2 else word
                found.append((word, short, *english))
    else:
        found.extend(_english_names(question, lexicon or QueryLexicon(())))
    unique: list[tuple[str, ...]] = []
    for a in found:
        # A Chinese report calls its own country 我国 or 全国 (nationwide): China's wetlands are 全国's.
        a = (*a, *(w for w in _OWN_COUNTRY if w not in a)) if any(w in _OWN_COUNTRY for w in a) else a
        if a not in unique:
            unique.append(a)
    return unique


_OWN_COUNTRY = ("中国", "我国", "全国")
_CAPITALISED = re.compile(r"[A-Z][a-z]+")


# Dates, not names, though the dictionary capitalises them: a report writes 4月, not 四月.
_CALENDAR_WORDS = frozenset("january february march april may june july august september october november december "
                            "monday tuesday wednesday thursday friday saturday sunday".split())


def _only_a_name(name: str) -> bool:
    """Whether a capitalised run holds a word the dictionary only ever capitalises (France, Everest), so that it
    names one thing whatever the report calls it. A run of common words (Five-Year Plan, World Cup) is a
    description a report may word otherwise (十四五规划), and a month is a date."""
    words = [w.lower() for w in _CAPITALISED.findall(name)]
    return (not any(w in _CALENDAR_WORDS for w in words)
            and any(w not in common_english_words() for w in words))


def _english_names(question: str, lexicon: QueryLexicon) -> list[tuple[str, ...]]:
    """The names among an English question's capitalised words, longest first (Chengdu World Games → Chengdu,
    World Games): a run the corpus spells by pinyin or the dictionary knows as a proper name. A capitalised
    ordinary word (Table 1.1, What, Plan) names nothing. A name the dictionary knows that the corpus never writes
    (France → 法国) is still named: a passage must hold it, so a question about it is refused, as a Chinese
    question's 法国 is; so is a romanised Chinese name the corpus does not hold (QueryLexicon.unknown_name)."""
    found: list[tuple[str, ...]] = []
    words = list(_CAPITALISED.finditer(question))
    i = 0
    while i < len(words):
        for j in range(len(words), i, -1):
            # Only words joined by a space or a hyphen form one name.
            if any(question[words[k].end():words[k + 1].start()] not in (" ", "-") for k in range(i, j - 1)):
                continue
            name = question[words[i].start():words[j - 1].end()]
            spellings = lexicon.proper_name(name) or (
                lexicon.proper_name(name, in_corpus=False) if _only_a_name(name) else ())
            if spellings:
                found.append((*spellings, name))  # the report may write it in English too
                i = j
                break
        else:
            if lexicon.unknown_name(words[i].group()):
                # A romanised Chinese name no report writes (Guilin where no report says 桂林): still named, so a
                # passage must hold it, not dropped (its GDP was answered with the report's own place's).
                found.append((words[i].group(),))
            i += 1
    return found


# What a how-much question measures is the run of nouns just before its question word (2025年四川城镇调查失业率
# 是多少 → 城镇调查失业率; 旅游综合收益比上年增长了多少 → 旅游综合收益). Change verbs and filler between them are
# skipped; names are anchors, checked on their own; these words say "an amount" without saying of what.
_MEASURE_CUE = re.compile(r"(?:是|有|为|达到|达|约|共|一共|总共|合计|累计)?(?:比上年|同比|较上年|比)?"
                          r"(?:增长|下降|提高|降低|减少|增加)?了?(?:多少|几)")
_MEASURE_FILLER = frozenset(
    # dimensions the answer's unit already says (面积 ↔ 平方米, 电量 ↔ 千瓦时, 人数 ↔ 人)
    "面积 体积 容量 电量 长度 高度 宽度 深度 厚度 直径 重量 体重 身高 年龄 价格 时间 时长 距离 人数 人次 数量 比例 总数 "
    "总量 金额 数额 规模 总额 总值 "
    # scope and hedges, no measure of their own
    "全国 全球 我国 全年 全体 其中 累计 年末 目前 当年 今年 去年 情况 水平 数字 数据".split()
) | HEDGES
MAX_MEASURE_WORDS = 3


def asked_measure(question: str) -> tuple[str, ...]:
    """The content words of what a Chinese how-much question measures, when the question has the form
    "<measure>是/有/增长了多少" (at most three words, those nearest the question word) or "有多少张<measure>", without
    names, years, numbers or filler. Empty when a verb with 了 asks (投入了多少资金: the measure follows the question word)."""
    m = _MEASURE_CUE.search(question)
    if not m or m.group().startswith("了"):  # 建设了多少个: a verb asks, its object is the measure
        return ()
    tagged = _posseg().lcut(question[: m.start()])
    while tagged and (tagged[-1].flag[:1] in ("u", "y", "x") or tagged[-1].word in ("的", "之") or tagged[-1].word in HEDGES):
        tagged.pop()  # 累计诊疗的人次是多少: 的 joins the measure to what comes before it; 总量大约是多少: a hedge
    words: list[str] = []
    # A verb right before 是/为/有多少 or a comparison (比上年/同比增长了多少) and right after a noun is a noun
    # (教育支出是多少 asks about 教育 and 支出, 旅游综合收入比上年增长了多少 about 旅游 综合 收入; 支出, 收入 tagged v);
    # after 的 or alone it is left out (人员的占比是多少).
    # So is one right before a bare 多少 after 总 (环保总投入多少: 总投入 is a noun, the total put in).
    verb_as_subject = (len(tagged) >= 2 and tagged[-1].flag == "v" and len(tagged[-1].word) >= 2 and (
        (m.group()[:1] in ("是", "为", "有", "比", "同", "较") and tagged[-2].flag in ("n", "vn", "nz", "j"))
        or (m.group() in ("多少", "几") and tagged[-2].word == "总")))
    start = len(tagged)  # where the measure's run of words starts in ``tagged``
    backwards = list(reversed(tagged))
    for i, (word, flag) in enumerate(backwards):
        if i == 1 and verb_as_subject and word == "总":
            start -= 1
            continue  # 总 says the figure is a total; the words before it say of what
        # Nouns only (jieba's tags; a measure it tags as a verb, 收入/v, ends the run: the check then asks less).
        # A verb between a noun and a dimension word is a noun too: 温室气体排放总量 measures 排放 (排放/v).
        verb_before_dimension = (flag == "v" and len(word) >= 2 and 0 < i < len(backwards) - 1
                                 and backwards[i - 1].word in _MEASURE_FILLER
                                 and backwards[i + 1].flag in ("n", "vn", "nz", "j"))
        content = ((flag.startswith("n") and not _name_tag(word, flag)) or flag in ("vn", "j")
                   or (i == 0 and verb_as_subject) or verb_before_dimension)
        if not content or not all(is_han(c) for c in word) or word.endswith(_PLACE_SUFFIXES) or _generic_place(word):
            break
        start -= 1
        if len(word) >= 2 and word not in _MEASURE_FILLER and word not in ZH_STOP_WORDS:
            words.append(word)
            if len(words) == MAX_MEASURE_WORDS:
                break
    qualifier = _scope_qualifier(tagged[:start]) if words else ""
    # What is counted may follow the question word after a holder (这家医院有多少张床位？): then that is the
    # measure (a figure of the hospital's staff does not answer). Without a holder (有多少学生参加了？) what follows
    # is the subject of a clause a paraphrase may word otherwise, and term coverage judges it.
    if words and (counted := _counted_after(question[m.end():])):
        return counted
    return ((qualifier,) if qualifier else ()) + tuple(reversed(words))


# Words before a measure that name no part of what is measured: a year or a moment, per head, "of which"; and any
# period (上半年, 前三季度, 1-5月), which the year and date checks judge.
_NOT_MODIFIERS = frozenset("全年 年末 年底 年初 当年 今年 去年 目前 累计 其中 人均 平均".split())
_PERIOD_WORD = re.compile(r".*(?:年|月|日|季度|年度|时期|期间)$")
MAX_MODIFIERS = 3


def measure_modifiers(text: str, measure: tuple[str, ...]) -> tuple[str, ...] | None:
    """The words right before ``measure`` in ``text`` that say whose or which one it is, nearest last (全州农村常住居民
    人均可支配收入 → 农村, 常住, 居民): at most three, without names of a whole place (全州), times, per head or single
    characters. None when ``text`` does not write the measure's words in a row (at most two characters between)."""
    if not measure:
        return None
    pattern = r"[\u4e00-\u9fff]{0,2}?".join(re.escape(w) for w in measure)
    m = re.search(pattern, text)
    if not m:
        return None
    run = re.search(r"[\u4e00-\u9fff]{0,16}$", text[: m.start()])
    words = [w for w, _ in _posseg().lcut(run.group() if run else "")
             if len(w) >= 2 and w not in _NOT_MODIFIERS and w not in ZH_STOP_WORDS and not _generic_place(w)
             and not _PERIOD_WORD.match(w)]
    return tuple(words[-MAX_MODIFIERS:])


def counted_nouns(question: str) -> tuple[str, ...]:
    """What a Chinese how-many question counts, when it follows the question word (展馆共有多少个展区 → 展区,
    有多少张床位 → 床位); empty otherwise."""
    m = re.search(r"多少|(?<!哪)几(?!乎)", question)
    return _counted_after(question[m.end():]) if m else ()


def _counted_after(rest: str) -> tuple[str, ...]:
    """The nouns a question word counts when they follow it (有多少张床位 → 床位, 多少个乡镇 → 乡镇), after its measure
    word; empty when a unit or nothing follows (是多少万吨, 增长了多少个百分点)."""
    tagged = _posseg().lcut(rest)
    if tagged and (tagged[0].flag in ("q", "c") or tagged[0].word in UNITS) and len(tagged[0].word) == 1:
        tagged = tagged[1:]
    elif tagged and tagged[0].word[:1] in CLASSIFIERS:
        return ()  # jieba glued the measure word to the noun (几首歌 → 首歌): what is counted is not read
    words: list[str] = []
    for i, (word, flag) in enumerate(tagged):
        if word in ("以上", "以下") and i and tagged[i - 1].flag.startswith("n"):
            words.append(tagged[i - 1].word + word)  # 规模以上: a scope that names another statistic
            continue
        content = (flag.startswith("n") and not _name_tag(word, flag)) or flag in ("vn", "j", "b", "an")
        if not content or not all(is_han(c) for c in word):
            break
        if len(word) >= 2 and word not in _MEASURE_FILLER and word not in ZH_STOP_WORDS:
            words.append(word)
        if len(words) >= MAX_MEASURE_WORDS:
            break
    return tuple(words)


def _scope_qualifier(tagged: list) -> str:
    """The scope right before a measure (规模以上, 限额以上: a noun and 以上/以下), or "". It names another statistic:
    规模以上工业增加值 counts only enterprises above a size, and a report's 工业增加值 (all industry) does not answer
    it (near misses on the Sichuan work report and the Qiandongnan communique, docs/evaluation.md)."""
    if len(tagged) < 2 or tagged[-1].word not in ("以上", "以下"):
        return ""
    word, flag = tagged[-2].word, tagged[-2].flag
    ok = flag.startswith("n") and not _name_tag(word, flag) and len(word) >= 2 and all(map(is_han, word))
    return word + tagged[-1].word if ok else ""


def _common_run(a: str, b: str) -> int:
    """Length of the longest run of characters ``a`` and ``b`` share."""
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


def translated_run(measure: str, spellings: frozenset[str]) -> int:
    """For an English question: characters in the longest run of ``measure``'s words (jieba) that are all among the
    question's Chinese spellings (地方一般公共预算收入 ↔ local general public budget revenue: 地方/一般/公共/预算/
    收入, 10) — what ``_common_run`` measures against a Chinese question's own text."""
    best = run = 0
    for word in tokenize_words(measure):
        run = run + len(word) if word in spellings else 0
        best = max(best, run)
    return best


def _generic_place(word: str) -> bool:
    """各市县 / 全州 / 本省 / 两县: a determiner and place words, naming no particular place."""
    rest = word.lstrip("各每全本该两多诸")
    return rest != word and bool(rest) and all(ch in _PLACE_SUFFIXES for ch in rest)


_UNIT_FAMILIES = {"人": ("名", "人次", "位"), "名": ("人",), "人次": ("人",), "位": ("人", "名"), "个": ("项", "家", "所"),
                  "次": ("场", "批次"), "个百分点": ("%",), "%": ("个百分点", "‰")}
_TOTAL_RE = re.compile(r"一共|总共|合计|总计|加起来|共计|总额|总数|\bin total\b|\baltogether\b|\btotal\b", re.IGNORECASE)


# An overview question asks what a report is about, or for its main figures, and names nothing else: once the cue,
# the words for "the report" and filler are taken out, what is left (if anything) must be words of the reports'
# titles (``aidqa.qa.overview`` checks that), or the question is about a topic (教育方面的主要内容是什么？).
_OVERVIEW_FIGURES = re.compile(
    r"(?:主要|关键|重要|核心)的?(?:数据|指标|数字)|\b(?:main|key|important|headline)\s+(?:figures|numbers|data|statistics|indicators)\b",
    re.IGNORECASE)
_OVERVIEW_OUTLINE = re.compile(
    r"主要内容|主要讲|讲了些?什么|讲的?是?什么|讲啥|说了些?什么|写了些?什么|内容是什么|(?:有|包括|包含)(?:哪些|什么)内容|概述|概要|"
    r"概括|总结|摘要|大意|主旨|要点|梗概|简介|介绍一下|主要(?:说|谈|介绍|涉及|关于)|关于什么|(?:分为|分成|分|有|包括)哪几?些?个?(?:部分|章节)|"
    r"\bwhat(?:'s| is| are)\s+(?:this|the|these)\s+(?:reports?|documents?)\s+about\b|\bsummar(?:y|ise|ize)\b|\boverview\b|"
    r"\b(?:main|key)\s+(?:points|topics|contents?|findings|sections|parts)\b|\boutline\b",
    re.IGNORECASE)
_OVERVIEW_FILLER = re.compile(
    r"报告|这篇|这份|分为|分成|文章|文件|文档|全文|公报|一下|请问|请|帮我|给我|能否|能不能|可以|简要|简单|主要|内容|部分|方面|介绍|"
    r"什么|哪些|当中|里面|[这那此本该其它他它的地了是有都里中吗呢啊吧下个份篇些和与及说讲谈写]|"
    r"\b(?:what|is|are|was|the|this|these|that|a|an|of|in|on|about|report|reports|document|documents|give|me|us|"
    r"please|can|could|you|tell|show|list|its|their|brief|briefly|short|main|key|and|do|does|say|says|contain|contains)\b",
    re.IGNORECASE)


def asks_overview(question: str) -> str | None:
    """"outline" when the question asks what a report says as a whole (这篇报告主要讲了什么？ / What is this report
    about?), "figures" when it asks for its main figures (报告中有哪些主要数据？); None otherwise. Whether what is
    left of the question names a topic is for the caller to check (``overview_residue``)."""
    if _OVERVIEW_FIGURES.search(question):
        return "figures"
    if _OVERVIEW_OUTLINE.search(question):
        return "outline"
    return None


def overview_residue(question: str) -> tuple[str, ...]:
    """What an overview question names besides the overview itself: its words once the cue, the words for "the
    report", filler and punctuation are taken out (Chinese runs of two or more characters, English words of three or
    more letters). A title in 《》 stays: it may name a report, or a work a passage is about (《鳄鱼泪》主要内容是什么？)."""
    rest = _OVERVIEW_FIGURES.sub(" ", question)
    rest = _OVERVIEW_OUTLINE.sub(" ", rest)
    rest = _OVERVIEW_FILLER.sub(" ", rest)
    words = re.findall(r"[\u4e00-\u9fff]{2,}|[A-Za-z]{3,}", rest)
    return tuple(words)


# 什么是X？ / 何谓X？ / X是什么？ / X指的是什么？: the question asks what X is. X is a name or term, not a phrase
# with 的 (X的别名是什么 asks for one of X's attributes) and not a pointer (这是什么).
_DEFINITION = re.compile(
    r"^(?:请问)?(?:什么(?:是|叫做?)|何谓|何为)(?P<a>[^，,。？?]{1,30})[？?]?$|"
    r"^(?:请问)?(?P<b>[^，,。？?]{1,30}?)(?:到底|究竟)?(?:是什么(?:意思)?|是指什么|指的是什么|指什么|是啥|的(?:定义|含义|意思)是什么)[？?]?$")
_NOT_DEFINED = re.compile(r"的|^[这那该此其它他她]")


def defined_term(question: str) -> str | None:
    """The term a definition question asks about (什么是标准杆？ → 标准杆), without quotes or 《》; None for any
    other question."""
    m = _DEFINITION.match(question.strip())
    if not m:
        return None
    term = (m.group("a") or m.group("b")).strip().strip("“”\"'「」『』《》 ")
    return term if term and not _NOT_DEFINED.search(term) else None


def named_by_definition(question: str) -> tuple[str, ...]:
    """The terms a question that opens on its cue (什么是X？/何谓X？) asks to define, each as written (什么是“速成”和
    “仓颉”？ → 速成, 仓颉); empty for any other question. With the cue first, X is exactly what the question asks about;
    X是什么？ may end a longer phrase (胜利广场周围地区现在是什么？ asks no definition)."""
    m = _DEFINITION.match(question.strip())
    term = defined_term(question) if m and m.group("a") else None
    if not term:
        return ()
    parts = (p.strip("“”\"'「」『』《》 ") for p in re.split(r"和|与|及|、", term))
    return tuple(p for p in parts if p)


# What kind of phrase a question's answer is, when a sentence's own words can show it: a cause (为什么 → 因为、由于、
# 因此…), another name (别名/又叫什么 → 又名、简称、英文：…), a place (在哪里/分布 → 位于、分布于…). General Chinese,
# not any report's wording; a when-question's cue is a date (the figure index's years and dates).
_CUE_QUESTIONS = (
    ("why", re.compile(r"为什么|为何|什么原因|原因是什么|原因有哪些|哪些原因|原因何在|怎么会|缘何|\bwhy\b", re.IGNORECASE)),
    ("name", re.compile(r"别名|别称|又名|又叫|又称|还叫|也叫|也称|亦称|俗称|简称|全称|原名|旧称|前称|曾用名|英文名|英语名|"
                        r"称之为什么|被称为什么|称为什么|叫什么名|名字是什么|名称是什么")),
    ("where", re.compile(r"在哪|哪里|什么地方|何处|何地|位于|地理位置|分布在|分布于|原产|\bwhere\b", re.IGNORECASE)),
    ("looks", re.compile(r"外形|外貌|外观|形状|形态|样子|什么样|长相|\bwhat does .* look like\b", re.IGNORECASE)),
)
ANSWER_CUES = {
    "why": re.compile(r"因为|由于|因此|所以|为了|导致|致使|原因|缘故|以致|因而|故而|之故"),
    "name": re.compile(r"又名|别名|别称|又称|亦称|也称|或称|俗称|简称|全称|原名|旧称|前称|曾用名|英文[：:名全]|英语[：:]|"
                       r"称为|称作|叫做|名为|又叫|也叫"),
    "where": re.compile(r"位于|地处|坐落|分布于|分布在|原产|产于|境内|以北|以南|以东|以西|沿岸|附近"),
    # a shape, a colour or a size describes how a thing looks (叶呈鳞状, 花淡红色, 长5-20厘米)
    "looks": re.compile(r"呈|形状|[卵圆椭菱线楔针心锥扁方棒]形|[^\s，。]状|[白黑红黄绿蓝紫褐灰橙粉]色|毫米|厘米|公分|直径"),
}


def cue_kind(question: str) -> str | None:
    """"why", "name", "where", "looks" or "when" when the question asks for a cause, another name, a place, how a
    thing looks or a time (the first that fits); None otherwise."""
    for kind, pattern in _CUE_QUESTIONS:
        if pattern.search(question):
            return kind
    return "when" if asks_when(question) else None


def asks_total(question: str) -> bool:
    return bool(_TOTAL_RE.search(question))


def split_question(question: str) -> list[str]:
    """Parts of a compound question, each asked on its own: two question marks (…多少？…几个？), or two
    questions joined by 以及/还有/；(…叫什么名字，以及…达到了多少) or by "and" before a question word (…in 2023, and how
    much did it grow?). A simple question is one part."""
    parts = [p.strip() for p in re.split(r"(?<=[？?])", question) if p.strip()]
    if len(parts) < 2:
        halves = [p.strip(" ，,；;") for p in _JOINED_QUESTIONS.split(question, maxsplit=1)]
        parts = halves if len(halves) == 2 and all(_QUESTION_CUE.search(h) for h in halves) else [question]
    if len(parts) < 2 or any(sum(1 for c in p if is_han(c)) < 4 and len(p.split()) < 4 for p in parts):
        return [question]
    return parts


@dataclass(frozen=True)
class QuestionAnalysis:
    """What a question asks and names, worked out once per question (the answerer checks many sentences against
    it; recomputing jieba's tags per sentence was most of its time)."""

    question: str
    language: str
    terms: tuple[tuple[str, ...], ...]  # key terms, each a group of spellings (query_term_groups)
    amount: bool  # 多少/几/how much: the answer is a figure
    unit: str | None  # the unit such an answer carries (元, 人, %…), when it is an amount question
    units: tuple[str, ...]  # every unit asked for (几批次、多少人次 asks two)
    when: bool  # 哪一年/when: the answer is a year or date
    year: bool  # 哪一年/which year: the answer is a year (asks_year)
    date: bool  # 哪天/on what date: the answer is a date (asks_date)
    direction: str | None  # …增长了吗？/Did … fall?: "up" or "down", the way a yes/no question asks a figure moved
    rank: bool  # 第几/排名: the answer is an ordinal (第5位)
    is_list: bool  # 哪些/which: the answer may be several sentences
    total: bool  # 一共/in total: a computed sum may be offered
    anchors: tuple[tuple[str, ...], ...]  # specific things named (years, numbers, places, organisations)
    quoted: tuple[str, ...]  # names the question quotes
    measure: tuple[str, ...]  # what a how-much question measures (asked_measure), each word to be in the sentence
    counted: tuple[str, ...]  # what a how-many question counts after its question word (counted_nouns)
    defines: str | None  # the term a definition question asks about (什么是X？), defined_term
    cue: str | None  # the kind of phrase that answers (why/name/where/when), cue_kind
    wording: str  # the question with its acronyms written out as the corpus writes them (terms.written_out)
    bigrams: frozenset[str]  # character bigrams of the question and (English) its Chinese words
    subject: str  # the noun the question opens with (蓝线裸顶鲷的俗名…), question_subject; "" when none
    modifiers: tuple[str, ...] | None  # what the question says of its measure's whose/which (measure_modifiers)
    change: bool  # how much something rose or fell, not a yearly average (asks_change)


def _name_parts_dropped(groups: list[tuple[str, ...]], named: tuple[tuple[str, ...], ...]) -> list[tuple[str, ...]]:
    """``groups`` without the parts of a name the question names whole (湘西 and 自治州 of 湘西自治州): jieba's
    search cut lists them as words of their own, and a name the sentence leaves to its context (全州) would count
    as missing three times over."""
    whole = {s for a in named for s in a if len(s) >= 3 and all(is_han(c) for c in s)}
    if not whole:
        return groups
    heads = {g[0] for g in groups}
    return [g for g in groups if not any(g[0] != w and g[0] in w and w in heads for w in whole)]


@lru_cache(maxsize=1024)
def analyse(question: str, language: str, lexicon: QueryLexicon | None = None) -> QuestionAnalysis:
    """What ``question`` asks and names (cached: retrieval scoping and the answerer both read it)."""
    # "From which year did … the number of events …": the question word asks for a year; the amount is a noun's.
    # Whether a figure rose (增长了吗) is answered by the change: a figure, in whatever unit the report states it.
    direction = asks_direction(question)
    amount = (asks_amount(question) and not asks_when(question)) or direction is not None
    named = tuple(anchors(question, language, lexicon))
    wording = written_out(question, lexicon)
    measure = asked_measure(wording) if amount and language == "zh" else ()
    return QuestionAnalysis(
        question=question,
        language=language,
        terms=tuple(_name_parts_dropped(query_term_groups(question, lexicon, untranslated=True), named)),
        amount=amount,
        unit=asked_unit(question, language) if amount and not direction else None,
        units=tuple(asked_units(question, language)) if not direction else (),
        when=asks_when(question),
        year=asks_year(question),
        date=asks_date(question),
        direction=direction,
        rank=asks_rank(question),
        is_list=asks_list(question),
        total=asks_total(question),
        anchors=named,
        quoted=tuple(QUOTED_NAME.findall(question)),
        measure=measure,
        counted=counted_nouns(wording) if amount and language == "zh" else (),
        defines=defined_term(question) if language == "zh" and not amount else None,
        cue=None if amount else cue_kind(question),
        wording=wording,
        bigrams=frozenset(char_bigrams(f"{question} {expansion_text(question, lexicon)}")),
        subject=question_subject(question) if language == "zh" else "",
        modifiers=measure_modifiers(wording, measure) if measure else None,
        change=amount and asks_change(question),
    )


def question_subject(question: str) -> str:
    """The noun a Chinese question opens with, when jieba's first word is one of two or more characters (周口市2023年…
    → 周口市; 蓝线裸顶鲷的俗名是什么？ → 蓝线, as jieba cuts the fish's name) or a name that jieba cut after its first
    character (``_name_after_one_character``): what the question is about. "" when it opens otherwise (a year, a
    pronoun, a verb, filler such as 大家 or 一共, every place as in 全州)."""
    tagged = _posseg().lcut(question.strip())
    if not tagged:
        return ""
    word, flag = tagged[0].word, tagged[0].flag
    if len(word) == 1:
        return _name_after_one_character(tagged)
    noun = flag[:1] == "n" or flag in ("j", "nz")
    if not noun or len(word) < 2 or not all(is_han(c) for c in word) or word in ZH_STOP_WORDS or _generic_place(word):
        return ""
    return word


# jieba's tags of a name's parts (a person, place, organisation or other proper noun) and of the words a name's run
# may hold (nouns, adjectives, bound characters, locality words, abbreviations, verbal nouns).
_NAME_TAGS = frozenset("nr nrt nrfg ns nt nz".split())
_RUN_TAGS = ("n", "a", "g", "f", "j")


def _name_after_one_character(tagged: list) -> str:
    """The run of noun-like words a question opens with when jieba's first word is one character, if the run holds a
    name or opens with a bound character (蓍, which is no word alone): jieba cuts a name it does not know after its first
    character (明圣王后 → 明/圣王/后, 狭叶艾纳香 → 狭/叶/艾纳香). "" otherwise: a one-character word before an ordinary
    noun is a preposition or a pronoun (照报告的估法…, 此鱼…), not a name."""
    run, named = "", tagged[0].flag == "g"
    for t in tagged:
        if not (t.flag[:1] in _RUN_TAGS or t.flag == "vn") or not all(is_han(c) for c in t.word) or t.word in ZH_STOP_WORDS:
            break
        run += t.word
        named = named or t.flag in _NAME_TAGS
    return run if named else ""
