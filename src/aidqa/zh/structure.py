"""What a heading looks like and where a report's statement opens a new topic, in plain text."""

from __future__ import annotations

import re

from aidqa.zh.chars import CLOSING, SENTENCE_END, fold_for_match, is_han

_HEADING_PUNCT = set("。！？；;!?，,：:、")
_MAX_HEADING_CHARS = 40

_CN_NUM = "一二三四五六七八九十百零〇两"
# (pattern, level): the numbering styles of Chinese reports and standards, outermost first. The one definition of
# section numbering: plain text (``looks_like_heading``) and every loader (``aidqa.ingest.document.heading_level``).
NUMBERED_HEADINGS = [
    (re.compile(rf"^第[{_CN_NUM}\d]+(?:部分|篇|编)"), 1),
    (re.compile(rf"^第[{_CN_NUM}\d]+章"), 1),
    (re.compile(rf"^第[{_CN_NUM}\d]+节"), 2),
    (re.compile(rf"^[{_CN_NUM}]+[、．.]"), 2),
    (re.compile(rf"^[（(][{_CN_NUM}]+[）)]"), 3),
    # 6.1.3 / 1.2 + space: a section number (1.25亿元 is a figure: one dot and no space after it).
    (re.compile(r"^\d{1,2}(?:\.\d{1,2}){2,3}(?![\d.])\s*(?=\D)|^\d{1,2}\.\d{1,2}\s+(?=\D)"), 4),
    (re.compile(r"^\d{1,2}[、．.](?![\d])"), 4),
    (re.compile(r"^[（(]\d{1,2}[）)]"), 5),
]


def looks_like_heading(line: str) -> bool:
    """A short line with no sentence punctuation stands alone as a section heading. A line numbered in Chinese
    (第三章 / 一、 / （一）) may hold the punctuation of a title after its number: a 、 or “” in any, a comma in a
    chapter's (第三章 强化源头防控，夯实绿色发展基础); without this, plain text glued such a heading onto the
    paragraph after it."""
    s = line.strip()
    if s.startswith("#"):
        return True
    if not s or len(s) > _MAX_HEADING_CHARS or s[-1].isdigit() or not any(is_han(c) for c in s):
        return False
    for pattern, level in NUMBERED_HEADINGS[:5]:
        m = pattern.match(s)
        if m:
            rest = s[m.end():].strip()
            allowed_inside = {"、", "，", ","} if level == 1 else {"、"}
            return bool(rest) and not any(c in _HEADING_PUNCT - allowed_inside for c in rest)
    return not any(c in _HEADING_PUNCT for c in s)


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


# A sentence opening with one of these leans on the sentence before it: a consequence (因此、于是、由此), a time
# counted from it (此后、随后、赛后), or a word standing for what it said (这…、此…、当时) or for whom it named (他、
# 其…). Quoted alone it loses its cause, its time or its subject. 此外/另外 only add a point and lean on nothing;
# 其他/其余/其实 stand for no one.
_LEANS_BACK = re.compile(
    r"^(?:因此|所以|因而|于是|由此|从而|故而|为此|对此|在此|自此|从此|此后|之后|随后|其后|后来|[赛战会事]后|此时|当时"
    r"|这|此(?![外])|[他她它牠]们?|其(?![他余实]))")

# A sentence that announces what follows: it ends on a colon, or says the items are below (以下三点：第一，…).
_ANNOUNCES = re.compile(r"[：:]\s*$|(?:以下|如下)[^。！？；]{0,12}[：:]")


_QUOTE_PAIRS = ("“”", "「」", "『』")


def open_quotation(sentence: str) -> str | None:
    """The closing mark of a quotation ``sentence`` opens and does not close (…无上我：“唵！ — split at the ！ inside
    the quotation), if any."""
    for a, b in _QUOTE_PAIRS:
        if sentence.count(a) > sentence.count(b):
            return b
    return None


def leans_back(sentence: str) -> bool:
    """True when ``sentence`` only makes sense with the sentence before it (因此它有时也被称为…, 赛后，…)."""
    return bool(_LEANS_BACK.match(sentence.lstrip(" 　\t\n“「\"")))


def announces_items(sentence: str) -> bool:
    """True when the sentences after ``sentence`` complete it (…有以下三点：第一，… / …包括：)."""
    return bool(_ANNOUNCES.search(sentence))


def _continues(prev: str, nxt: str) -> bool:
    """Does paragraph ``nxt`` continue the sentence that ``prev`` left unfinished (a PDF page/column break)?"""
    if not prev or not nxt or looks_like_heading(prev) or looks_like_heading(nxt):
        return False
    if prev[-1] in SENTENCE_END or (prev[-1] in CLOSING and len(prev) > 1 and prev[-2] in SENTENCE_END):
        return False
    if _PARAGRAPH_OPENER.match(nxt):
        return False
    return True


# After the defined term (and any bracketed original or alias): the word that says what it is.
_DEFINING_WORD = re.compile(r"^(?:是|为|指|即|系|乃|就是|意指|意为|也称|又称|亦称|或称|简称|也叫|又叫|又名)")
_BRACKETED = re.compile(r"^[（(][^）)]{0,60}[）)]")


def states_definition(sentence: str, term: str) -> bool:
    """Whether ``sentence`` defines ``term``: it opens with the term (所谓X、“X”、在数学中，X（…），…) and says what
    it is straight after (是/为/指/即/又称…), or it names the term for what it has just described (…，称为X)."""
    folded, t = fold_for_match(sentence).strip(), fold_for_match(term)
    if not t:
        return False
    # …，称为X names X only when X ends the naming: 叫做棱柱的高 names the height, not 棱柱.
    if re.search(rf"(?:称为|称作|叫做|叫作|名为)[“\"「『]?{re.escape(t)}(?![^\s。，,；;、！？!?：:）)」』”\"（(])", folded):
        return True
    m = _TOPIC_PHRASE.match(folded)
    rest = folded[m.end():] if m else folded
    rest = rest.removeprefix("所谓").lstrip("“\"'「『《 ")
    if not rest.startswith(t):
        return False
    rest = rest[len(t):].lstrip("”\"'」』》 ")
    while (b := _BRACKETED.match(rest)) is not None:
        rest = rest[b.end():].lstrip(" ")
    return bool(_DEFINING_WORD.match(rest.lstrip("，,、 ")))

