"""What a number is in a report — the one grammar of numbers, Chinese numerals, multipliers and units.

Every other module builds on these pieces: figure extraction (``FIGURE_RE``), the grounding check (``numbers_in``),
the answerer's "a number in the asked unit" test (``has_number_with_unit``), the UI's emphasis of figures in a
quote (``QUOTED_FIGURE_RE``) and the figures table's amount filter (``parse_amount``). Chinese numerals are read by
``cn2an`` (a maintained converter) behind ``chinese_numeral_value``.
"""

from __future__ import annotations

import re

from aidqa.zh.chars import fold_width

# ---- the pieces ---------------------------------------------------------------------------------------------------

# An Arabic number as written in a report: 18.51, 2.5, 1,000, 3. Never split, always compared verbatim.
ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
# A Chinese numeral that counts (三, 十二, 两百五十); 万/亿 are multipliers, written after it.
CN_NUMERAL = r"[零〇一二两三四五六七八九十百千]+"
# A year as reports write it (2010, 2023年): four digits from 1900 to 2099.
YEAR = r"(?:19|20)\d{2}"
YEAR_RE = re.compile(YEAR + "年?")
# A clause or section number (5.1.5条, 1.2.3节): three or more dotted parts, a name rather than an amount.
SECTION_NUMBER_RE = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){2,}(?![\d.])")
# A year of any era as a text states it, for a which-year question: 1889年, 天正16年, 公元前221年, 民国三年, 1990年代,
# or four digits alone (in 1889). Wider than YEAR, which is the reports' own time frame.
# A five-year plan's period (十二五, 十三五, 十四五): a span of years named like a year, and as specific.
PLAN_PERIOD_RE = re.compile(r"十[一二三四五六七八九]五")
STATED_YEAR_RE = re.compile(r"(?:\d{1,4}|[零〇一二两三四五六七八九十百]{1,4})\s*年(?!级)|(?<!\d)\d{4}(?!\d)")
MULTIPLIERS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000, "万亿": 1_000_000_000_000}
MULTIPLIER = r"万亿|亿|万|千|百"
# Units a figure can carry, longest first so 人次 wins over 人, 批次 over 批 and 个百分点 over 个. Statistical
# communiques add their own: 万吨, 千公顷 (a multiplier and 公顷), 亿千瓦时, 亿美元, 亿吨公里, 万标准箱, 个百分点.
UNITS = sorted(
    """元 人次 人 个 项 家 场 批次 批 次 % 平方米 平方公里 公里 米 例 名 所 座 条 届 期 位 支 辆 台 套 户 篇 部 种 类 倍 亩
    吨 公斤 千克 册 本 张 件 处 栋 间 组 班 天 小时 年 月 日 岁 余人 床 门 村 乡镇 万人
    个百分点 百分点 ‰ 公顷 平方千米 千米 立方米 千瓦时 千瓦 兆瓦 吨公里 人公里 标准箱 美元 港元 欧元 头 只 羽 株 起 斤
    km2 m2 km 微克/立方米 毫克/立方米 毫克/升""".split(),
    key=len, reverse=True,
)
_UNIT_RE = "|".join(re.escape(u) for u in UNITS if u not in ("余人", "万人"))
# What a unit measures. A unit not listed counts things (个, 家, 人, 项…): one dimension, since reports count the same
# things with different measure words (企业123家 / 123个企业). A multiple (增长2.5倍) is a relative change, like a
# share: it counts nothing (多少家 is not answered by it).
_DIMENSIONS = {
    "money": "元 美元 港元 欧元", "share": "% ‰ 个百分点 百分点 倍", "weight": "吨 公斤 千克",
    "area": "平方米 平方公里 平方千米 公顷 亩 km2 m2", "length": "公里 米 千米 km", "volume": "立方米", "energy": "千瓦时",
    "power": "千瓦 兆瓦", "freight": "吨公里 人公里 标准箱", "time": "天 小时 年 月 日 岁",
    "concentration": "微克/立方米 毫克/立方米 毫克/升",
}
UNIT_DIMENSION = {unit: dimension for dimension, units in _DIMENSIONS.items() for unit in units.split()}

# ---- numbers ------------------------------------------------------------------------------------------------------

# A number with its percent sign: what the grounding check compares verbatim.
NUMBER_RE = re.compile(ARABIC + "%?")


_FULL_WIDTH_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:，\d{3})+(?![\d.])")


def fold_thousands(text: str) -> str:
    """``text`` with a full-width comma between thousands groups made half-width (11，700 → 11,700), character for
    character, so offsets still point into ``text``: a figure is read whole, not as the 700 after a comma."""
    return _FULL_WIDTH_THOUSANDS.sub(lambda m: m.group().replace("，", ","), text)


def number_spellings(raw: str) -> tuple[str, ...]:
    """The ways a report may write the Arabic number ``raw``, as written first: 30,000 → 30000 and 3万 (the
    English question's thousands against the report's 万), 250,000,000 → 2.5亿."""
    plain = raw.replace(",", "")
    spellings = [raw, plain]
    try:
        value = float(plain)
    except ValueError:
        return (raw,)
    for word in ("亿", "万"):
        scale = MULTIPLIERS[word]
        if value >= scale and (value * 100) % scale == 0:  # at most two decimals of the multiplier
            spellings.append(f"{value / scale:g}{word}")
            break
    return tuple(dict.fromkeys(spellings))


def numbers_in(text: str) -> list[str]:
    """Arabic numbers in ``text`` (after folding full-width digits), as written."""
    return NUMBER_RE.findall(fold_width(text))


# ---- figures: [qualifier] [第] number [multiplier] [余/多] unit [以上/左右/多] ---------------------------------------

FIGURE_RE = re.compile(
    rf"(?P<pre>近|约|超过|超|逾|不少于|不低于)?"
    rf"(?P<ordinal>第)?"
    rf"(?:(?P<num>{ARABIC})|(?P<cn>{CN_NUMERAL})|(?=[万千百]余))"
    rf"(?P<mid0>余|多)?"
    # 千 before 米 is the unit 千米 (1千米 is 1 km, not a thousand of 米); before 公顷 or 瓦时 it multiplies.
    rf"(?P<mult>万亿|亿|万|千(?!米)|百)?"
    rf"(?P<mid>余|多)?"
    rf"(?P<unit>{_UNIT_RE})"
    rf"(?P<post>以上|左右|多)?"
)

# A table cell as ingest writes a row (``aidqa.ingest.document.table_row_sentence``): 年末数（万人）：190.90 — the
# unit, with any multiplier, in the column header's brackets, the number after the colon.
TABLE_CELL_RE = re.compile(
    rf"[（(](?P<mult>万亿|亿|万|千(?!米)|百)?(?P<unit>{_UNIT_RE})[）)]\s*[：:]\s*(?P<sign>[-−－])?(?P<num>{ARABIC})(?![\d.])"
)

# A figure inside a quote, for emphasis in the UI: 18.51亿元, 567, 3.5%, 1,200万元 (a full-width comma or a space
# before the unit is tolerated; the text shown is the report's own).
QUOTED_FIGURE_RE = re.compile(r"\d+(?:[.,，]\d+)*(?:\s*(?:%|％|‰|万亿元|亿元|万元|千元|元|万亿|亿|万|千))?")

# An amount typed by a user into a filter: 1.5亿, 3000万元, 200人, .5万.
_TYPED_AMOUNT = re.compile(rf"^\s*({ARABIC}|\.\d+)\s*(万亿|亿|万|千)?\s*(?:元|人次|人|个)?\s*$")


def has_number_with_unit(text: str, unit: str | None) -> bool:
    """Whether ``text`` holds a number (in digits or a Chinese count) followed by ``unit``: 18.51亿元, 2万余人, 三所."""
    if unit is None:
        return False
    if unit == "%":
        return "%" in text or "‰" in text  # a rate asked (出生率是多少) may be stated per mille (出生率8‰)
    if any(cell.group("unit") == unit for cell in TABLE_CELL_RE.finditer(text)):
        return True
    return re.search(r"\d(?:[\d.,]*)\s*(?:[万亿千百]+)?余?\s*" + re.escape(unit), text) is not None or re.search(
        r"[一二三四五六七八九十两百千万]+[余多]?" + re.escape(unit), text  # 三所, 万余人
    ) is not None


# A count in words: a numeral before a measure word (四所, 两岁, 两类), an ordinal (第二位) or a half (一半以上).
# The measure words are the common ones of Chinese grammar (量词), not of any one report.
CLASSIFIERS = "个位名人次批项家所座条种类岁年月天日周届期户辆台套倍件本部只头张层级场篇首门支队组对份处间栋艘架枚株棵亩吨成"
# A lone 一 is an article more often than a count (过去一年, 一个重要), as in aidqa.index.figures.
# 三次产业 (a communique's three sectors) counts no times.
_COUNT_IN_WORDS = re.compile(rf"(?!一[{CLASSIFIERS}]){CN_NUMERAL}[{CLASSIFIERS}](?!产业)|第{CN_NUMERAL}|一半|半数|过半")

# A footnote mark after a word (生产总值[2]100亿元): a reference, not a figure nor part of the measure's name.
FOOTNOTE_MARK_RE = re.compile(r"\[\d{1,3}\]")
# Digits right after a capital letter belong to a name (PM2.5, PM10, SF9, G20), not an amount: PM10年平均浓度 holds
# no figure 10年.
CODE_DIGITS_RE = re.compile(r"(?<=[A-Z])\d+(?:\.\d+)*")
# What follows a figure that bounds the things a noun names (1000万元及以上的项目, 65岁及以上人口, 5岁以下儿童): a
# threshold of a definition, not an amount the text states. Before punctuation or the end, 以上 states one (增长10%以上。
# 稳定在300万人以上、).
THRESHOLD_AFTER_RE = re.compile(r"\s*(?:及|或)?以[上下]的?(?=[\u4e00-\u9fff])")
# Not amounts: years, dates, footnote marks ([3]), the label of a table or figure (表2, 图1.16, Table 4) and thresholds.
_NOT_AMOUNTS = re.compile(rf"(?<![\d.]){YEAR}(?=年|\s*[-—–~～至到])|{FOOTNOTE_MARK_RE.pattern}|"
                          rf"(?<![\d.]){ARABIC}\s*(?:{MULTIPLIER})?(?:{_UNIT_RE}){THRESHOLD_AFTER_RE.pattern}|"
                          # the digits of a code after a capital letter: PM2.5, SF9, G20
                          rf"{CODE_DIGITS_RE.pattern}|"
                          # a date's month and day: 2022年9月, 4月26日
                          r"(?<=年)\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?|(?<![\d.])\d{1,2}\s*月\s*\d{1,2}\s*[日号]|"
                          r"(?:^|(?<=[\s（(，,、:：如见按据自从在即和与]))(?:附表|附图|表|图|Table|Figure)\s*[A-Z]?\d{1,3}"
                          r"(?:[.\-－]\d{1,3})*(?![\d.])")


# A figure with a space before its unit (1.601 km²), as text from other languages writes it.
_SPACED_FIGURE_RE = re.compile(rf"(?P<num>{ARABIC})\s+(?:{MULTIPLIER})?(?P<unit>{_UNIT_RE})")
_STATED_UNIT_RE = re.compile(rf"(?:[（(]|单位\s*[：:]\s*)(?:{MULTIPLIER})?(?P<unit>{_UNIT_RE})(?:[）)]|[；;，,。]|$)")


def unit_dimension(unit: str) -> str:
    """What ``unit`` measures: money, share, weight, area, length, volume, energy, power, freight, time or count."""
    return UNIT_DIMENSION.get(unit, "count")


def figure_dimensions(text: str) -> set[str]:
    """What the amounts in ``text`` measure (``unit_dimension`` of each figure's unit); "count" also for a number
    written without a unit, which may count anything. Years and footnote marks are not amounts."""
    folded = _NOT_AMOUNTS.sub(" ", fold_width(text))
    dimensions: set[str] = set()
    covered = [False] * len(folded)
    for m in [*FIGURE_RE.finditer(folded), *TABLE_CELL_RE.finditer(folded), *_SPACED_FIGURE_RE.finditer(folded)]:
        if m.group("num") or ("cn" in m.groupdict() and m.group("cn")):
            dimensions.add(unit_dimension(m.group("unit")))
            covered[m.start("num") if m.group("num") else m.start()] = True
    if any(not covered[m.start()] for m in NUMBER_RE.finditer(folded)):
        dimensions.add("count")
    # Tables name a unit once for many numbers: in a column header, （万吨） or （%）, or in a 单位 column.
    dimensions |= {unit_dimension(m.group("unit")) for m in _STATED_UNIT_RE.finditer(folded)}
    if "%" in folded:
        dimensions.add("share")
    return dimensions


def has_count(text: str) -> bool:
    """Whether ``text`` states an amount: an Arabic number that is not a year, a date, a footnote mark or a table's label, or a
    count in words (三批, 两个)."""
    return bool(numbers_in(_NOT_AMOUNTS.sub(" ", fold_width(text)))) or bool(_COUNT_IN_WORDS.search(text))


def parse_typed_amount(text: str) -> float | None:
    """A user's typed amount as a plain value: "1.5亿" → 150000000, "3000万元" → 30000000; None if not an amount."""
    m = _TYPED_AMOUNT.match(fold_width(text))
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    return value * MULTIPLIERS.get(m.group(2) or "", 1)


def chinese_numeral_value(numeral: str) -> int | None:
    """三 → 3, 十二 → 12, 两百五十 → 250, 一千零八 → 1008, 一亿二千万 → 120000000, 一〇八 → 108 (read by cn2an);
    a lone 百/千/万 → its value (百余人, 千余家); None if it is not a numeral."""
    if not numeral:
        return None
    if numeral in MULTIPLIERS:
        return MULTIPLIERS[numeral]
    import cn2an  # imported here: it is only needed when a report writes a number in words

    try:
        value = cn2an.cn2an(numeral, "normal")  # "normal" reads 两 as well as 二
    except (ValueError, KeyError, IndexError):
        return None
    return int(value) if float(value).is_integer() else None


def figure_value(number: str, multiplier: str = "") -> float | None:
    """The plain value of a figure's number part: ("18.51", "亿") → 1851000000, ("1,000", "") → 1000,
    ("三", "") → 3, ("", "万") → 10000 (万余个: "ten thousand and more"). None if it is not a number."""
    folded = fold_width(number).replace(",", "")
    if folded and re.fullmatch(r"\d+(?:\.\d+)?", folded):
        base: float | None = float(folded)
    elif folded:
        base = chinese_numeral_value(folded)
    else:
        base = 1.0 if multiplier else None
    if base is None:
        return None
    value = base * MULTIPLIERS.get(multiplier, 1) if multiplier else base
    # Round away binary noise (18.51 * 1e8 = 1850999999.9999998).
    value = round(value, 6)
    return int(value) if float(value).is_integer() else value


def inside_number(text: str, i: int) -> bool:
    """True if a cut between ``text[i-1]`` and ``text[i]`` would split a number such as 18.51."""
    if i <= 0 or i >= len(text):
        return False
    a, b = text[i - 1], text[i]
    if a.isdigit() and (b.isdigit() or b in ".,%"):
        return True
    if a in ".," and b.isdigit() and i >= 2 and text[i - 2].isdigit():
        return True
    return False


def format_amount(value: float, unit: str) -> str:
    """1851000000, 元 → 18.51亿元; 31000000, 元 → 3100万元; 69, 人 → 69人 (the way the reports write amounts)."""
    for factor, word in ((100_000_000, "亿"), (10_000, "万")):
        if value >= factor and unit != "%":
            scaled = round(value / factor, 4)
            text = f"{scaled:.4f}".rstrip("0").rstrip(".")
            return f"{text}{word}{unit}"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return f"{text}{unit}"
