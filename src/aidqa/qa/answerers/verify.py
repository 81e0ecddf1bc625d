"""Checking a language model's reply sentence by sentence, before any of it reaches the user.

The model is not trusted: its citations and figures are checked, not believed. A sentence is kept only when

* it is in the question's language and holds no link, image or markup (answers are plain text);
* it cites at least one passage, and every ``[n]`` names a passage that was given;
* every number in it (``aidqa.zh.numbers.numbers_in``, the one number grammar) stands in a passage it cites, and
  every figure it writes in Chinese numerals (三千万元) has its value among the cited passages' figures;
* its cited passages share its key terms (``aidqa.zh.terms.query_term_groups``): each cited passage at least one,
  and together at least ``min_term_coverage`` of them (Chinese sentences);
* it shares a key term with the question (a sentence about something else — an instruction planted in a report,
  say — is not an answer, even when a passage holds its words).

A failing sentence is dropped whole, never repaired. ``SentenceSplitter`` cuts a reply into sentences the same way
whether it arrives in one piece or token by token, so a streamed answer and a plain one are the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from aidqa.qa.prompts import is_no_answer
from aidqa.zh.chars import CLOSING, fold_for_match, is_han
from aidqa.zh.lexicon import QueryLexicon
from aidqa.zh.numbers import FIGURE_RE, NUMBER_RE, figure_value, numbers_in
from aidqa.zh.segment import EN_STOP_WORDS
from aidqa.zh.terms import query_term_groups

# ---- sentences of a reply -------------------------------------------------------------------------------------

_TERMINATORS = "。！？!?"
# A citation marker as models write it: [1], [1][3], [1, 3], 【1】, ［1］, [资料1]. Normalised to [1][3].
_MARKER_VARIANT = re.compile(r"[\[【［]\s*(?:资料|passage\s*|source\s*)?(\d{1,3}(?:\s*[,，、和]\s*(?:资料)?\s*\d{1,3})*)\s*[\]】］]",
                             re.IGNORECASE)
_MARKER = re.compile(r"\[(\d+)\]")
# The start of a marker that more text may still complete ("[", "[1", "[1,").
_OPEN_MARKER = re.compile(r"[\[【［][^\]】］\n]{0,12}")
# A list item's number or bullet at the start of a sentence (1. / 1、 / (1) / - ): layout, not a claim.
_LIST_MARK = re.compile(r"^(?:\d{1,2}(?:\.\s+|[)、）]\s*)|[（(]\d{1,2}[)）]\s*|[-*•·]\s+)")


def normalise_markers(text: str) -> str:
    """[1, 3] / 【1】 / [资料1] → [1][3] / [1] / [1]."""
    return _MARKER_VARIANT.sub(lambda m: "".join(f"[{int(n)}]" for n in re.findall(r"\d+", m.group(1))), text)


def strip_markers(text: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", text).strip()


@dataclass
class ReplySentence:
    """A sentence of the reply as written (markers normalised), and what separated it from the one before."""

    text: str
    gap: str  # the whitespace before it in the reply ("\n" keeps a line break between kept sentences)


class SentenceSplitter:
    """Cuts a reply into sentences as it arrives. A sentence ends after 。！？!?, after a '.' followed by white
    space, or at a line break; markers and closing quotes right after the end still belong to it (…亿元。[1]). A
    sentence is handed out only once what follows it is known, so the cut never depends on how the reply was
    chunked."""

    def __init__(self) -> None:
        self._text = ""
        self._pos = 0  # where the next sentence starts

    def feed(self, chunk: str) -> list[ReplySentence]:
        self._text += chunk
        return self._drain(final=False)

    def finish(self) -> list[ReplySentence]:
        return self._drain(final=True)

    @property
    def text(self) -> str:
        """Everything received so far."""
        return self._text

    def _drain(self, final: bool) -> list[ReplySentence]:
        out = []
        while self._pos < len(self._text):
            end = self._boundary(self._pos, final)
            if end is None:
                break
            raw = self._text[self._pos : end]
            self._pos = end
            body = _LIST_MARK.sub("", raw.strip())
            if body:
                out.append(ReplySentence(normalise_markers(body), raw[: len(raw) - len(raw.lstrip())]))
        return out

    def _boundary(self, start: int, final: bool) -> int | None:
        """End (exclusive) of the sentence starting at ``start``; None while the rest of the reply may change it."""
        text, n = self._text, len(self._text)
        for i in range(start, n):
            ch = text[i]
            if ch == "\n":
                if text[start:i].strip():
                    return i  # the line break becomes the next sentence's gap
                continue
            if ch in _TERMINATORS:
                return self._after_end(i + 1, final)
            if ch == ".":
                if i + 1 >= n:
                    return n if final else None
                # "1. " opening a list item is not the end of a sentence; "18.51" never is.
                if text[i + 1].isspace() and not text[start:i].strip().isdigit():
                    return self._after_end(i + 1, final)
        return n if final else None

    def _after_end(self, j: int, final: bool) -> int | None:
        """Past the terminator: closing quotes, further terminators and markers still belong to the sentence."""
        text, n = self._text, len(self._text)
        while j < n:
            if text[j] in _TERMINATORS or text[j] in CLOSING:
                j += 1
                continue
            k = j
            while k < n and text[k] in " \t":
                k += 1
            if k >= n:
                break  # only spaces so far: a marker may follow
            marker = _MARKER_VARIANT.match(text, k)
            if marker:
                j = marker.end()
                continue
            if not final and _OPEN_MARKER.fullmatch(text, k):
                return None  # "[1" may still become a marker of this sentence
            return j
        return n if final else None


# ---- checking ---------------------------------------------------------------------------------------------------

Verdict = Literal["kept", "dropped", "no_answer"]


@dataclass(frozen=True)
class GivenPassage:
    """A passage the model was shown as [number]."""

    number: int
    text: str
    section: str = ""


@dataclass
class CheckedSentence:
    text: str  # as the model wrote it, markers normalised to [n] (passage numbers, not yet citation ids)
    gap: str
    verdict: Verdict
    reason: str
    cited: list[int] = field(default_factory=list)  # passage numbers, in order of first mention
    wrong_language: bool = False
    off_topic: bool = False  # grounded, but a follow-up's reply that does not open on what the follow-up asks about

    @property
    def claim(self) -> str:
        return strip_markers(self.text)


_MARKUP = re.compile(r"https?:|www\.|!\[|\]\(|<\s*[A-Za-z/!?]|&#|javascript:|data:", re.IGNORECASE)
_MASK = "×××"


def mask_numbers(text: str) -> str:
    """A dropped sentence as it may be shown for inspection: its numbers (digits or Chinese numerals) and links
    masked as ×××, its [n] markers kept, so no unverified figure or outside address reaches a client through it."""
    text = re.sub(r"(?:https?://|www\.)\S+", _MASK, text, flags=re.IGNORECASE)

    def figure(m: re.Match[str]) -> str:
        return _MASK if re.search(r"\d|[零〇一二两三四五六七八九十百千万亿]", m.group(0)) else m.group(0)

    parts = re.split(r"(\[\d+\])", text)  # markers stay as they are
    return "".join(p if i % 2 else NUMBER_RE.sub(_MASK, FIGURE_RE.sub(figure, p)) for i, p in enumerate(parts))


def _language_problem(claim: str, language: str) -> str | None:
    """Why ``claim`` is not a sentence in ``language`` (None when it is)."""
    han = sum(1 for c in claim if is_han(c))
    latin = sum(1 for c in claim if c.isascii() and c.isalpha())
    if han == 0 and latin == 0:
        return "has no words"
    if language == "zh" and han == 0:
        return "wrong language"
    if language == "en" and latin < han:
        return "wrong language"
    return None


def _figures(text: str) -> list[tuple[float, str, bool]]:
    """(value, unit, written in Chinese numerals) of every figure in ``text``: 18.51亿元, 三千万元, 56名."""
    out = []
    for m in FIGURE_RE.finditer(text):
        number, words = m.group("num"), m.group("cn")
        value = figure_value(number or words or "", m.group("mult") or "")
        if value is not None and (number or words):
            out.append((value, m.group("unit"), number is None))
    return out


def _spoken_figures(text: str) -> list[tuple[float, str]]:
    """(value, unit) of the figures ``text`` writes in Chinese numerals (三千万元, 两批; not 一个, which is prose)."""
    return [(v, u) for v, u, in_words in _figures(text) if in_words and v >= 2]


def _figure_values(text: str) -> set[tuple[float, str]]:
    return {(v, u) for v, u, _ in _figures(text)}


class ReplyChecker:
    """Checks the sentences of one reply against the passages the model was given."""

    def __init__(self, question: str, language: str, passages: Sequence[GivenPassage], lexicon: QueryLexicon | None,
                 min_term_coverage: float, context: str | None = None) -> None:
        self.language = language
        self.passages = {p.number: p for p in passages}
        self.lexicon = lexicon
        self.min_term_coverage = min_term_coverage
        asked = [question] + ([context] if context else [])
        self._question_spellings = {fold_for_match(s) for q in asked for g in query_term_groups(q, lexicon) for s in g}
        self._question_spellings |= {w.lower() for q in asked for w in re.findall(r"[A-Za-z]{3,}", q)
                                     if w.lower() not in EN_STOP_WORDS}
        self._passage_numbers = {n: set(numbers_in(p.text)) for n, p in self.passages.items()}
        self._folded = {n: fold_for_match(f"{p.text}\n{p.section}") for n, p in self.passages.items()}

    def check(self, sentence: ReplySentence) -> CheckedSentence:
        text = sentence.text

        def drop(reason: str, cited: list[int] | None = None, **kw: bool) -> CheckedSentence:
            return CheckedSentence(text, sentence.gap, "dropped", reason, cited or [], **kw)

        if is_no_answer(text):
            return CheckedSentence(text, sentence.gap, "no_answer", "the passages do not say")
        claim = strip_markers(text)
        if _MARKUP.search(text):
            return drop("holds a link, image or markup")
        problem = _language_problem(claim, self.language)
        if problem == "has no words":
            return drop("has no words")
        if problem:
            return drop(f"not in the question's language ({self.language})", wrong_language=True)
        cited = list(dict.fromkeys(int(n) for n in _MARKER.findall(text)))
        if not cited:
            return drop("cites no passage")
        unknown = [n for n in cited if n not in self.passages]
        if unknown:
            return drop(f"cites {', '.join(f'[{n}]' for n in unknown)}, which the model was not given", cited)
        if re.search(r"[\[【［]\s*\d", _MARKER.sub("", text)):
            return drop("has a marker that names no passage", cited)
        held = set().union(*(self._passage_numbers[n] for n in cited))
        missing = [x for x in numbers_in(claim) if x not in held]
        if missing:
            return drop(f"states {len(missing)} number(s) that no cited passage holds", cited)
        spoken = _spoken_figures(claim)
        if spoken:
            values = set().union(*(_figure_values(self.passages[n].text) for n in cited))
            if any(v not in values for v in spoken):
                return drop("states a figure in words that no cited passage holds", cited)
        groups = [g for g in query_term_groups(claim, self.lexicon) if not all(NUMBER_RE.fullmatch(s) for s in g)]
        if groups:
            shared_by = {n: {i for i, g in enumerate(groups) if any(fold_for_match(s) in self._folded[n] for s in g)}
                         for n in cited}
            unrelated = [n for n, shared in shared_by.items() if not shared]
            if unrelated:
                return drop(f"cites {', '.join(f'[{n}]' for n in unrelated)}, which shares none of its terms", cited)
            coverage = len(set().union(*shared_by.values())) / len(groups)
            if self.language == "zh" and coverage < self.min_term_coverage:
                return drop(f"its cited passages hold {coverage:.0%} of its terms", cited)
        if self._question_spellings and not self._about_question(claim, groups):
            return drop("shares no term with the question", cited)
        return CheckedSentence(text, sentence.gap, "kept", "verified", cited)

    def _about_question(self, claim: str, groups: list[tuple[str, ...]]) -> bool:
        folded = fold_for_match(claim)
        if any(s and s in folded for s in self._question_spellings):
            return True
        return any(fold_for_match(s) in self._question_spellings for g in groups for s in g)
