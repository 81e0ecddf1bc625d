"""What a heading looks like and where a report's statement opens a new topic, in plain text."""

from __future__ import annotations

import re

from aidqa.zh.chars import CLOSING, SENTENCE_END, is_han

_HEADING_PUNCT = set("。！？；;!?，,：:、")
_MAX_HEADING_CHARS = 40


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
