"""Character classes of Chinese report text and the folding used for tolerant matching."""

from __future__ import annotations

import re
import unicodedata

# ---------------------------------------------------------------------------------------------------------------
# Character classes
# ---------------------------------------------------------------------------------------------------------------

SENTENCE_END = "。！？；!?;…"
CLOSING = "”’」』）)】》\"'"


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
