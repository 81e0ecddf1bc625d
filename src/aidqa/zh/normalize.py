"""Normalisation of report text with an offset map back to the raw source."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from aidqa.zh.chars import is_cjk
from aidqa.zh.structure import _continues, looks_like_heading

# Bump when normalisation, sentence splitting or chunking rules change: it is part of the index name, so stale chunks
# (whose offsets were computed by older rules) are never reused.
TEXT_RULES_VERSION = "4"  # 4: numbered plain-text headings with 、 or a chapter's comma


# ASCII punctuation written inside Chinese text becomes its full-width form (PDF extraction mixes the two).
_TO_FULL_WIDTH = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？", "(": "（", ")": "）"}
_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
_SPACE_LIKE = {"\u00a0", "\u3000", "\u2002", "\u2003", "\u2009", "\u202f", "\t"}


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
    is_table_row: bool = False  # a structured format's table row (aidqa.ingest.document.table_blocks)


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


def normalise(raw: str) -> NormalisedText:
    """Normalise report text once; keep, for every output character, where it came from in ``raw``.

    - drops zero-width/control characters, folds full-width digits/letters to ASCII;
    - removes stray spaces inside Chinese sentences (``粮食 产量`` → ``粮食产量``), keeps the space that
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
