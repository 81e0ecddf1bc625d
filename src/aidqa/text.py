"""All Chinese text handling lives here: normalisation (with an offset map), sentence splitting, tokenisation,
number spotting and the folding used for tolerant matching.

Everything else in aidqa calls these functions; nothing else decides what a sentence, a token or a number is.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

logger = logging.getLogger(__name__)

# Bump when normalisation, sentence splitting or chunking rules change: it is part of the index name, so stale chunks
# (whose offsets were computed by older rules) are never reused.
TEXT_RULES_VERSION = "3"

# ---------------------------------------------------------------------------------------------------------------
# Character classes
# ---------------------------------------------------------------------------------------------------------------

SENTENCE_END = "。！？；!?;…"
CLOSING = "”’」』）)】》\"'"
# ASCII punctuation written inside Chinese text becomes its full-width form (PDF extraction mixes the two).
_TO_FULL_WIDTH = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？", "(": "（", ")": "）"}
_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
_SPACE_LIKE = {"\u00a0", "\u3000", "\u2002", "\u2003", "\u2009", "\u202f", "\t"}
_HEADING_PUNCT = set("。！？；;!?，,：:、")
_MAX_HEADING_CHARS = 40


def is_cjk(ch: str) -> bool:
    """True for CJK ideographs and CJK / full-width punctuation (the characters around which spaces are noise)."""
    if not ch:
        return False
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2FFFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x3000 <= cp <= 0x303F  # CJK punctuation 。、「」
        or 0xFF00 <= cp <= 0xFFEF  # full-width forms ，：（）
        or ch in "“”‘’…—"
    )


def is_han(ch: str) -> bool:
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FFFF or 0xF900 <= cp <= 0xFAFF


_MARKUP = re.compile(r"<[^<>]{0,500}>")
_CALL = re.compile(r"[A-Za-z_$][\w$.]*\([^()]{0,200}\)")  # alert(1), console.log('x'): code, not words
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def has_question_words(text: str) -> bool:
    """Whether ``text`` has anything to look up in a report: a Han character or a Latin word, once
    markup tags and function-call shapes are removed. "1", "alert(1)" and "<script>alert(1)</script>" have not,
    so they are refused at once instead of being answered with whatever passage is nearest."""
    stripped = _CALL.sub(" ", _MARKUP.sub(" ", text))
    if any(is_han(ch) for ch in stripped):
        return True
    return _LATIN_WORD.search(stripped) is not None


def _fold_char(ch: str) -> str:
    """Per-character clean-up that keeps a 1:1 (or 1:0) mapping to the source."""
    if ch in _ZERO_WIDTH:
        return ""
    if ch in _SPACE_LIKE:
        return " "
    cp = ord(ch)
    # Full-width digits and Latin letters become ASCII so that １８.５１ and 18.51 are the same number.
    if 0xFF10 <= cp <= 0xFF19 or 0xFF21 <= cp <= 0xFF3A or 0xFF41 <= cp <= 0xFF5A:
        return chr(cp - 0xFEE0)
    if ch == "\uff0e":  # full-width full stop inside numbers
        return "."
    if ch == "\n":
        return ch
    if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
        # Controls, lone surrogates, private-use and unassigned code points carry no text.
        return ""
    return ch


# ---------------------------------------------------------------------------------------------------------------
# Normalisation with an offset map
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A paragraph or heading of normalised text: ``text[start:end]``."""

    start: int
    end: int
    is_heading: bool


@dataclass
class NormalisedText:
    """Normalised text plus, for every character, its index in the raw source text."""

    text: str
    offsets: list[int]
    blocks: list[Block] = field(default_factory=list)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw-source span that normalised ``text[start:end]`` came from."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span {start}:{end} outside normalised text of length {len(self.text)}")
        return self.offsets[start], self.offsets[end - 1] + 1


def _clean_line(chars: list[tuple[str, int]], keep_inner_space: bool) -> list[tuple[str, int]]:
    """Make punctuation inside Chinese full-width, collapse spaces, drop those touching CJK text."""
    chars = list(chars)
    # ASCII punctuation next to Chinese becomes full-width (1:1, offsets unchanged). Spaces and quotes are looked
    # through: in 第25届"青洽会", and 10:30 (深圳) the punctuation still sits in Chinese text.
    for k, (ch, pos) in enumerate(chars):
        if ch in _TO_FULL_WIDTH:
            prev_ch = _neighbour(chars, k, -1)
            next_ch = _neighbour(chars, k, +1)
            if ch in ":," and prev_ch.isdigit() and next_ch.isdigit() and chars[k - 1][0].isdigit():
                continue  # 10:30, 1,000
            if is_cjk(prev_ch) or is_cjk(next_ch):
                chars[k] = (_TO_FULL_WIDTH[ch], pos)
    _pair_parentheses(chars)
    while chars and chars[0][0] == " ":
        chars = chars[1:]
    while chars and chars[-1][0] == " ":
        chars = chars[:-1]
    out: list[tuple[str, int]] = []
    i = 0
    n = len(chars)
    while i < n:
        ch, pos = chars[i]
        if ch == " ":
            j = i
            while j < n and chars[j][0] == " ":
                j += 1
            prev_ch = out[-1][0] if out else ""
            next_ch = chars[j][0] if j < n else ""
            if (is_cjk(prev_ch) or is_cjk(next_ch)) and not keep_inner_space:
                i = j  # a stray space inside Chinese text: drop it
                continue
            out.append((" ", pos))
            i = j
            continue
        out.append((ch, pos))
        i += 1
    return out


def _neighbour(out: list[tuple[str, int]], k: int, step: int) -> str:
    k += step
    while 0 <= k < len(out) and out[k][0] in "\"' ":
        k += step
    return out[k][0] if 0 <= k < len(out) else ""


def _pair_parentheses(out: list[tuple[str, int]]) -> None:
    """A bracket pair is either both full-width or both ASCII: (3个省级…品牌） becomes （…）."""
    stack: list[int] = []
    for k, (ch, pos) in enumerate(out):
        if ch in "(（":
            stack.append(k)
        elif ch in ")）" and stack:
            o = stack.pop()
            if "（" in (out[o][0], ch) or ch == "）":
                out[o] = ("（", out[o][1])
                out[k] = ("）", pos)


def looks_like_heading(line: str) -> bool:
    """A short line with no sentence punctuation stands alone as a section heading."""
    s = line.strip()
    if s.startswith("#"):
        return True
    if not s or len(s) > _MAX_HEADING_CHARS:
        return False
    if any(c in _HEADING_PUNCT for c in s):
        return False
    return any(is_han(c) for c in s) and not s[-1].isdigit()


# A paragraph in these reports typically opens with 在…方面，/ 在…上，/ 在…中，: a line break in front of one is
# a truncated paragraph (text lost in extraction), not a sentence running over a page break.
# Opens a new topic inside a report's paragraph or sentence chain: 在提升X上，/ 在Y方面，/ 一是 / 第二.
_PARAGRAPH_OPENER = re.compile(r"^(?:在[^，,。]{1,24}(?:方面|上|中)[，,]|[一二三四五六七八九十]+[、是]|第[一二三四五六七八九十]+)")


_TOPIC_PHRASE = re.compile(r"^(在[^，,。；]{1,24}(?:方面|上|中))[，,]")


def topic_phrase(sentence: str) -> str | None:
    """The 在提升X上 / 在Y方面 phrase a report's statement opens with, if any."""
    m = _TOPIC_PHRASE.match(sentence.lstrip())
    return m.group(1) if m else None


def opens_topic(sentence: str) -> bool:
    """True when ``sentence`` starts a new topic (在…方面，…) rather than continuing the previous one."""
    return bool(_PARAGRAPH_OPENER.match(sentence.lstrip()))


def _continues(prev: str, nxt: str) -> bool:
    """Does paragraph ``nxt`` continue the sentence that ``prev`` left unfinished (a PDF page/column break)?"""
    if not prev or not nxt or looks_like_heading(prev) or looks_like_heading(nxt):
        return False
    if prev[-1] in SENTENCE_END or (prev[-1] in CLOSING and len(prev) > 1 and prev[-2] in SENTENCE_END):
        return False
    if _PARAGRAPH_OPENER.match(nxt):
        return False
    return True


def normalise(raw: str) -> NormalisedText:
    """Normalise report text once; keep, for every output character, where it came from in ``raw``.

    - drops zero-width/control characters, folds full-width digits/letters to ASCII;
    - removes stray spaces inside Chinese sentences (``对口支援 工作`` → ``对口支援工作``), keeps the space that
      separates the two halves of a heading and spaces between Latin words;
    - makes ASCII punctuation inside Chinese full-width (``,`` → ``，``) but never touches ``18.51`` or ``1,000``;
    - one blank line between paragraphs; a paragraph cut by a page break is joined to its continuation.
    """
    # Split the raw text into lines of (char, raw index), folding characters 1:1.
    lines: list[list[tuple[str, int]]] = [[]]
    for pos, ch in enumerate(raw):
        if ch == "\r":
            continue
        if ch == "\n":
            lines.append([])
            continue
        folded = _fold_char(ch)
        if folded:
            lines[-1].append((folded, pos))
    paragraphs: list[tuple[list[tuple[str, int]], bool]] = []
    for line in lines:
        stripped = "".join(c for c, _ in line).strip()
        if not stripped:
            continue
        heading = looks_like_heading(stripped)
        cleaned = _clean_line(line, keep_inner_space=heading)
        if not cleaned:
            continue
        paragraphs.append((cleaned, heading))

    out: list[tuple[str, int]] = []
    blocks: list[Block] = []
    prev_text = ""
    for chars, heading in paragraphs:
        text = "".join(c for c, _ in chars)
        if out and not heading and blocks and not blocks[-1].is_heading and _continues(prev_text, text):
            # Join to the previous block: extend it.
            start = blocks[-1].start
            out.extend(chars)
            blocks[-1] = Block(start, len(out), False)
            prev_text = prev_text + text
            continue
        if out:
            sep_pos = out[-1][1]
            out.append(("\n", sep_pos))
            out.append(("\n", sep_pos))
        start = len(out)
        out.extend(chars)
        blocks.append(Block(start, len(out), heading))
        prev_text = text
    return NormalisedText("".join(c for c, _ in out), [p for _, p in out], blocks)


# ---------------------------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------------------------


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans ``(s, e)`` of ``text[start:end]``, split after 。！？；!?; and at line breaks.

    Closing quotes/brackets stay with the sentence they close; a terminator between two digits never splits
    (so no number is cut); surrounding spaces are trimmed; empty spans are dropped.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    s = start
    i = start
    while i < end:
        ch = text[i]
        if ch == "\n":
            spans.append((s, i))
            s = i + 1
        elif ch in SENTENCE_END:
            if i + 1 < end and text[i - 1 : i].isdigit() and text[i + 1].isdigit():
                i += 1
                continue
            j = i + 1
            while j < end and (text[j] in SENTENCE_END or text[j] in CLOSING):
                j += 1
            spans.append((s, j))
            s = j
            i = j
            continue
        i += 1
    spans.append((s, end))
    result = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            result.append((a, b))
    return result


def split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clause spans inside one sentence (split after ，、：), used only to break over-long sentences."""
    spans = []
    s = start
    for i in range(start, end):
        if text[i] in "，,、：:" and not (0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()):
            spans.append((s, i + 1))
            s = i + 1
    if s < end:
        spans.append((s, end))
    return spans


# ---------------------------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------------------------

# A number as written in a report: 18.51, 2.5, 1,000, 80%, 3. Never split, always compared verbatim.
NUMBER_RE = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?%?")
_CN_NUMERAL = "零〇一二两三四五六七八九十百千万亿"


def numbers_in(text: str) -> list[str]:
    """Arabic numbers in ``text`` (after folding full-width digits), as written."""
    return NUMBER_RE.findall(fold_width(text))


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
MULTIPLIERS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000, "万亿": 1_000_000_000_000}


def chinese_numeral_value(numeral: str) -> int | None:
    """三 → 3, 十二 → 12, 二十 → 20, 两百五十 → 250, 一千零八 → 1008, 三万 → 30000, 一亿二千万 → 120000000;
    None if it is not a numeral."""
    if not numeral or any(ch not in _CN_DIGITS and ch not in _CN_SMALL_UNITS and ch not in "万亿" for ch in numeral):
        return None

    def below_ten_thousand(part: str) -> int:
        total, digit = 0, None
        for ch in part:
            if ch in _CN_DIGITS:
                digit = _CN_DIGITS[ch]
            else:
                total += (1 if digit is None else digit) * _CN_SMALL_UNITS[ch]
                digit = None
        return total + (digit or 0)

    value = 0
    rest = numeral
    for big, factor in (("亿", 100_000_000), ("万", 10_000)):
        if big in rest:
            head, rest = rest.split(big, 1)
            if big == "亿" and "万" in head:
                return None  # 万亿 forms are not used for counts in reports
            value += (below_ten_thousand(head) if head else 1) * factor
    return value + below_ten_thousand(rest)


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


# ---------------------------------------------------------------------------------------------------------------
# Folding for tolerant matching
# ---------------------------------------------------------------------------------------------------------------


def fold_width(text: str) -> str:
    """NFKC: full-width letters, digits and punctuation become half-width (，→, １→1)."""
    return unicodedata.normalize("NFKC", text)


def fold_for_match(text: str) -> str:
    """The form in which two strings are compared: no whitespace, no width differences, lower case."""
    return re.sub(r"\s+", "", fold_width(text)).lower()


def contains_folded(haystack: str, needle: str) -> bool:
    return fold_for_match(needle) in fold_for_match(haystack)


# ---------------------------------------------------------------------------------------------------------------
# Language and tokens
# ---------------------------------------------------------------------------------------------------------------


def detect_language(text: str) -> str:
    """'zh' when the text has any Han characters, 'en' when it is mostly Latin letters."""
    han = sum(1 for c in text if is_han(c))
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    if han == 0 and latin > 0:
        return "en"
    return "zh"


# Function words and question words: they say how something is asked, not what is asked about.
ZH_STOP_WORDS = frozenset(
    """
    的 了 和 与 及 以及 或 是 在 对 为 于 把 被 将 等 这 那 这个 那个 这些 那些 其 其中 之 也 都 还 就 又 并 并且 而 但
    从 向 到 由 以 给 让 使 个 中 上 下 里 内 外 后 前 时 吗 呢 吧 啊 呀 么 嘛 哪 哪些 哪个 哪里 哪儿 什么 啥 怎么 怎样
    怎么样 如何 多少 几 几个 多大 多 谁 为何 为什么 是否 有没有 有 没有 请问 请 问 一下 告诉 我 你 我们 你们 他们 它 它们
    情况 方面 哪方面 一共 总共 共 具体 主要 呢 可以 能 能够 会 吗 多久 了解 介绍 一些 相关 关于 所 得 地 着 过 该
    哪一年 哪年 一年 开始 叫 叫做 名字 称为 指 指的是 包括 包含 哪几 几位 几个 分别 目前 现在 已经 这些 年来 大家 加起来
    哪家 哪位 哪所 哪项 怎样 如何 多少钱 是不是 有多少 有多大 一下 又 还有 都有 到底 究竟
    """.split()
)
EN_STOP_WORDS = frozenset(
    """
    a an the of to in on for and or is are was were be been by with at from as that this these those it its what
    which who whom how many much did do does has have had there their they them about into than then so such
    can could will would should may might please tell me i we you our your when where why much
    """.split()
)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _is_punct_or_space(tok: str) -> bool:
    return all(unicodedata.category(c)[0] in "PSZC" for c in tok)


def tokenize_words(text: str) -> list[str]:
    """Content words for keyword search: jieba (search mode) tokens, lower-cased, stop words and punctuation
    removed. Numbers stay whole (18.51)."""
    text = fold_width(text).lower()
    tokens = []
    for tok in _jieba().lcut_for_search(text):
        tok = tok.strip()
        if not tok or _is_punct_or_space(tok) or tok in ZH_STOP_WORDS or tok in EN_STOP_WORDS:
            continue
        tokens.append(tok)
    return tokens


def tokenize_all(text: str) -> list[str]:
    """Every jieba word of ``text`` in order, stop words and punctuation included (so the words join back to
    ``text``)."""
    return _jieba().lcut(text)


def char_bigrams(text: str) -> list[str]:
    """Overlapping Han-character bigrams (a lone Han character stays a unigram); Latin words and numbers whole.

    Robust where word segmentation is not (名词 split differently in question and report)."""
    text = fold_width(text).lower()
    tokens: list[str] = []
    for m in re.finditer(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9][a-z0-9.%]*", text):
        run = m.group()
        if not is_han(run[0]):
            if run not in EN_STOP_WORDS:
                tokens.append(run.rstrip("."))
            continue
        if len(run) == 1:
            if run not in ZH_STOP_WORDS:
                tokens.append(run)
            continue
        tokens.extend(run[k : k + 2] for k in range(len(run) - 1))
    return tokens


# ---------------------------------------------------------------------------------------------------------------
# Query terms: what a question asks about, with the glossary's alternatives
# ---------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def glossary() -> dict[str, tuple[str, ...]]:
    """term → the words reports use for it (data/glossary.tsv)."""
    from importlib.resources import files

    table: dict[str, tuple[str, ...]] = {}
    for line in files("aidqa").joinpath("data/glossary.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        term, alternatives = line.split("\t", 1)
        table[term.strip().lower()] = tuple(a for a in alternatives.strip().split("|") if a)
    return table


_EN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*")


def query_term_groups(question: str) -> list[tuple[str, ...]]:
    """The question's key terms, each as a group of interchangeable spellings (the term and its glossary
    alternatives). A passage covers a group when it contains any of them.

    Chinese: jieba content words. English: words the glossary can put into Chinese (others cannot be judged
    against Chinese text and are left out), plus numbers and acronyms (GDP) as they are."""
    table = glossary()
    groups: list[tuple[str, ...]] = []
    if detect_language(question) == "en":
        for word in _EN_WORD.findall(question):
            low = word.lower()
            if low in EN_STOP_WORDS:
                continue
            if low in table:
                groups.append(table[low])
            elif word.isupper() and len(word) > 1:
                groups.append((word,))
        groups.extend((n,) for n in numbers_in(question))
    else:
        for tok in tokenize_words(question):
            groups.append((tok, *table.get(tok, ())))
    unique: list[tuple[str, ...]] = []
    for g in groups:
        if g not in unique:
            unique.append(g)
    return unique


def expansion_text(question: str) -> str:
    """Glossary alternatives of the question's terms, as extra text for keyword search."""
    return " ".join(alt for group in query_term_groups(question) for alt in group[1:] or group if alt.lower() not in question.lower())
