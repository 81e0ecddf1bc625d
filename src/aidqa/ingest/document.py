"""One structure model for every file format: a ``Document`` is a title, a stored text and the blocks of that text.

Every loader (plain text, Markdown, HTML, DOCX, PDF) produces a ``Document``. Each ``Block`` is a heading (with a
level), a paragraph or one table row, knows its page when the format has pages, and points into the stored text
with exact offsets: ``doc.text[b.start:b.end] == b.text``. Blocks never contain a line break and are separated by
one blank line in the stored text.

The rules shared by all loaders live here: which lines are headings (``heading_level``), how a table row becomes a
citable sentence (``table_row_sentence``), page-number lines (``is_page_marker``), spaces inside Chinese text
(``tidy_inline``) and the joining of a line or paragraph broken mid-sentence (``ends_sentence``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from aidqa.zh.chars import is_cjk
from aidqa.zh.normalize import Block as TextBlock
from aidqa.zh.normalize import NormalisedText, normalise
from aidqa.zh.structure import NUMBERED_HEADINGS, looks_like_heading

BlockKind = Literal["heading", "paragraph", "table_row"]

SENTENCE_ENDERS = "。！？!?；;…"
_CLOSERS = "”’」』）)】》\"'"


@dataclass(frozen=True)
class Block:
    """One heading, paragraph or table row of a document: ``document.text[start:end] == text``."""

    kind: BlockKind
    start: int
    end: int
    text: str
    level: int | None = None  # headings only: 1 is the top level
    page: int | None = None  # 1-based, for formats with pages (PDF): the page the block starts on
    # A block that runs over a page break: (offset in ``text`` where the page starts, that page), in order.
    page_breaks: tuple[tuple[int, int], ...] = ()

    @property
    def is_heading(self) -> bool:
        return self.kind == "heading"


@dataclass
class Document:
    """A loaded report: its title, its stored text and the blocks of that text, whatever the file format was."""

    title: str
    text: str
    blocks: list[Block] = field(default_factory=list)
    format: str = "text"
    pages: int | None = None  # page count, for formats with pages
    # Plain text only: the normalised text as ``normalise`` made it from the whole file (the historical path).
    normalised: NormalisedText | None = field(default=None, repr=False, compare=False)

    def headings(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "heading"]

    def table_rows(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "table_row"]


# Headings of a document's front matter: never its title.
FRONT_MATTER_HEADINGS = {"目录", "目次", "前言", "引言", "序言", "序", "摘要", "说明", "Contents", "Foreword", "Introduction"}


class DocumentBuilder:
    """Collects blocks into a ``Document``: each block's text is tidied to one line and appended with exact offsets."""

    def __init__(self, fmt: str) -> None:
        self.format = fmt
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []

    def add(self, kind: BlockKind, text: str, level: int | None = None, page: int | None = None,
            page_breaks: Sequence[tuple[int, int]] = ()) -> Block | None:
        """Append a block; ``page_breaks`` are (offset in ``text``, page) where a later page starts inside it."""
        raw, text = text, tidy_inline(text)
        if not text:
            return None
        breaks = tuple((_tidied_offset(raw, text, offset), p) for offset, p in page_breaks)
        if kind == "heading" and level is None:
            level = heading_level(text) or 1
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        block = Block(kind, start, self._length, text, level if kind == "heading" else None, page, breaks)
        self.blocks.append(block)
        return block

    def add_text(self, text: str, page: int | None = None, heading_hint: int | None = None,
                 page_breaks: Sequence[tuple[int, int]] = ()) -> Block | None:
        """A paragraph, or a heading when ``heading_level`` says so (``heading_hint``: a level the markup gives)."""
        level = heading_level(text, heading_hint)
        return self.add("heading" if level else "paragraph", text, level, page, page_breaks)

    def add_table(self, rows: Sequence[Sequence["Cell"]], page: int | None = None,
                  header_rows: int | None = None) -> None:
        """A table (rows of cell texts, merged cells already expanded): row sentences with their headers."""
        for kind, text in table_blocks(rows, header_rows):
            if kind == "heading":
                self.add("heading", text, heading_level(text) or 4, page)
            else:
                self.add(kind, text, None, page)

    def build(self, title: str | None, fallback_title: str, pages: int | None = None) -> Document:
        text = "".join(self._parts)
        if not title:
            # The first heading that is not a numbered section (一、综合 is a section, not the report's title).
            first = next((b for b in self.blocks if b.kind == "heading" and not is_numbered(b.text)
                          and b.text.replace(" ", "") not in FRONT_MATTER_HEADINGS), None)
            title = first.text if first else fallback_title
        return Document(tidy_inline(title) or fallback_title, text, self.blocks, self.format, pages)


# ---------------------------------------------------------------------------------------------------------------
# Inline text
# ---------------------------------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\r\n\f\v\u00a0\u3000\u2002\u2003\u2009\u202f]+")


def tidy_inline(text: str, cjk_spaces: bool = False) -> str:
    """One line: whitespace runs become one space. A space between CJK characters is dropped when it letter-spaces
    them (``综 合``, ``市 统 计 局``: a single character on either side of it), or always with ``cjk_spaces``
    (PDF text, where justified lines come out as ``比 重 为 22.1% 、``). The space between two words of a heading
    (``深化改革 扩大开放``) and between Latin words stays."""
    text = _WS.sub(" ", text).strip()
    if " " not in text:
        return text
    out = []
    n = len(text)
    for i, ch in enumerate(text):
        if ch == " " and 0 < i < n - 1 and is_cjk(text[i - 1]) and is_cjk(text[i + 1]):
            single_left = i < 2 or text[i - 2] == " "
            single_right = i + 2 >= n or text[i + 2] == " "
            if cjk_spaces or single_left or single_right:
                continue
        out.append(ch)
    return "".join(out)


def _tidied_offset(raw: str, tidied: str, offset: int) -> int:
    """Where ``raw[offset]`` is in ``tidied = tidy_inline(raw)``: tidying only drops and merges whitespace, so the
    n-th non-space character of one is the n-th of the other."""
    n = sum(1 for ch in raw[:offset] if not ch.isspace())
    for i, ch in enumerate(tidied):
        if not ch.isspace():
            if n == 0:
                return i
            n -= 1
    return len(tidied)


def join_fragments(left: str, right: str) -> str:
    """Join a line (or paragraph) broken mid-sentence: no space inside Chinese text or inside a number, so a number
    never loses its unit (``4.32`` + ``万吨``); one space between two Latin words."""
    if not left:
        return right
    if not right:
        return left
    a, b = left[-1], right[0]
    if a.isascii() and a.isalpha() and b.isascii() and b.isalnum():
        return f"{left} {right}"
    return left + right


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends with sentence-final punctuation (a closing quote or bracket may follow it)."""
    s = text.rstrip()
    while s and s[-1] in _CLOSERS:
        s = s[:-1]
    return bool(s) and s[-1] in SENTENCE_ENDERS


# ---------------------------------------------------------------------------------------------------------------
# Headings: one function for every format
# ---------------------------------------------------------------------------------------------------------------

_MAX_HEADING = 40
# Captions: 表1 / 表 2 / 表A.1 / 图3 / Table 4 — a caption stays a heading over its table or figure.
_CAPTION = re.compile(r"^(?:表|图|附表|附图|Table|Figure)\s*[A-Z]?\d{1,3}(?:[.\-－]\d{1,3})?(?![\d.])", re.IGNORECASE)
_SENTENCE_INSIDE = re.compile(r"[。！？；!?;]")


def is_caption(line: str) -> bool:
    """True when ``line`` is a table's or figure's caption (表1 …, 图 2 …, Table 4 …)."""
    return bool(_CAPTION.match(tidy_inline(line)))


def is_numbered(line: str) -> bool:
    """True when ``line`` opens with section numbering or a caption label (一、 （一） 1.2 第三章 表1 …)."""
    s = tidy_inline(line)
    return bool(_CAPTION.match(s)) or any(p.match(s) for p, _ in NUMBERED_HEADINGS)


def heading_level(line: str, marked: int | None = None, *, loose: bool = False) -> int | None:
    """The heading level of ``line``, or None for body text. Used by every loader.

    - ``marked``: the level the markup states (Markdown ``#``, HTML ``<h2>``, a DOCX heading style / outline
      level); a marked line is a heading whenever it has text.
    - Chinese numbering: ``第X部分/篇`` and ``第X章`` 1, ``第X节`` 2, ``一、`` 2, ``（一）`` 3, ``1.2``/``1.``/``1、`` 4,
      ``（1）`` 5 — only on a short line (≤ 40 characters) with no sentence punctuation inside (``（一）加强监管。``
      followed by more text is a paragraph that opens with a number, not a heading).
    - Captions (``表1 …``, ``图 2 …``): level 4.
    - ``loose``: also a short line with no punctuation at all (plain text, where that is all there is): level 1.
    """
    s = tidy_inline(line)
    if not s:
        return None
    if marked:
        return max(1, min(int(marked), 9))
    if len(s) > _MAX_HEADING:
        return None
    body = s[:-1] if s[-1] in "。." else s
    if _CAPTION.match(s) and not _SENTENCE_INSIDE.search(body):
        return 4
    for pattern, level in NUMBERED_HEADINGS:
        m = pattern.match(s)
        # A comma says "paragraph" (（一）加强监管，…), except in a chapter's title (第三章 强化源头防控，夯实…).
        if m and s[m.end():].strip() and not _SENTENCE_INSIDE.search(s) and (level == 1 or ("，" not in s and "," not in s)):
            return level
    if loose and looks_like_heading(s):
        return 1
    return None


# ---------------------------------------------------------------------------------------------------------------
# Page numbers
# ---------------------------------------------------------------------------------------------------------------

_DASH = "—–\\-－─―~～"
_PAGE_MARKERS = [
    re.compile(rf"^[{_DASH}]+\s*\d{{1,4}}\s*[{_DASH}]+$"),  # — 5 —, - 5 -, -5-
    re.compile(r"^第\s*\d{1,4}\s*页(?:\s*[,，/、]?\s*共\s*\d{1,4}\s*页)?$"),  # 第5页, 第5页 共21页
    re.compile(r"^共\s*\d{1,4}\s*页\s*第\s*\d{1,4}\s*页$"),
    re.compile(r"^\d{1,4}\s*/\s*\d{1,4}$"),  # 5/21
    re.compile(r"^(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE),
]
# A marker glued to the text of a page's first or last line: ``…的比重为57.0%。— 5 —``.
_GLUED_END = re.compile(rf"\s*[{_DASH}]\s*\d{{1,4}}\s*[{_DASH}]\s*$")
_GLUED_START = re.compile(rf"^\s*[{_DASH}]\s*\d{{1,4}}\s*[{_DASH}]\s*")


def is_page_marker(line: str, bare_number: bool = False) -> bool:
    """A line that is only a page number: ``— 5 —``, ``- 5 -``, ``第5页``, ``第5页 共21页``, ``5/21``, ``Page 5``; with
    ``bare_number`` (a page's first or last line) also ``5``."""
    s = line.strip()
    if bare_number and re.fullmatch(r"\d{1,4}", s):
        return True
    return any(p.match(s) for p in _PAGE_MARKERS)


def strip_glued_marker(line: str, at_end: bool = True) -> str:
    """``text— 5 —`` → ``text`` (``at_end``), ``— 5 —text`` → ``text``. Only the dash–number–dash form, which no
    sentence ends or starts with."""
    return _GLUED_END.sub("", line) if at_end else _GLUED_START.sub("", line)


# ---------------------------------------------------------------------------------------------------------------
# Tables → citable sentences
# ---------------------------------------------------------------------------------------------------------------

_NUMERIC_CELL = re.compile(r"^[-+－—]?[\d,，.．]+\s*[%％‰]?$|^[-—－/×√✓]$")


def is_numeric_cell(text: str) -> bool:
    return bool(_NUMERIC_CELL.match(text.strip()))


def table_row_sentence(label: str, pairs: Iterable[tuple[str, str]]) -> str:
    """``粮食 · 产量（吨）：1223474；比上年增长（%）：1.8。`` — the row label, then each non-empty cell as
    ``header：value`` (a cell with no header alone), joined by ``；``, closed by ``。``."""
    parts = []
    for header, value in pairs:
        value = tidy_inline(value)
        if not value:
            continue
        header = tidy_inline(header)
        parts.append(f"{header}：{value}" if header else value)
    label = tidy_inline(label)
    if not parts:
        return f"{label}。" if label else ""
    body = "；".join(parts)
    return f"{label} · {body}。" if label else f"{body}。"


def _dedupe(texts: Iterable[str]) -> list[str]:
    out: list[str] = []
    for t in texts:
        t = tidy_inline(t)
        if t and t not in out:
            out.append(t)
    return out


Cell = str | tuple[str, object]


def table_blocks(rows: Sequence[Sequence[Cell]], header_rows: int | None = None) -> list[tuple[BlockKind, str]]:
    """Blocks for a table given as rows of cells, merged cells expanded over the grid: a cell spanning columns or
    rows repeats in each grid position. A cell is its text, or ``(text, key)`` where ``key`` identifies the merged
    cell it belongs to (so a value merged across columns is said once in a data row).

    - No data (one row, or only empty cells): its text is a caption heading (``表1 …``) or a paragraph.
    - Header rows: ``header_rows`` when the format says so; otherwise the first row, plus the rows under it that
      continue a vertically merged first cell (a two-level header). A column's header joins its distinct header
      texts (``提供输入的安全要素 SF2``).
    - The row label is the first column, plus any following columns that have no header (a two-level row label);
      the same text repeated across merged cells is said once.
    """
    cells = [[(c, None) if isinstance(c, str) else c for c in row] for row in rows]
    cells = [row for row in cells if any(tidy_inline(t) for t, _ in row)]
    if not cells:
        return []
    width = max(len(r) for r in cells)
    cells = [r + [("", None)] * (width - len(r)) for r in cells]
    grid = [[tidy_inline(t) for t, _ in row] for row in cells]
    keys = [[k for _, k in row] for row in cells]
    if len(grid) == 1 or width == 1:
        out: list[tuple[BlockKind, str]] = []
        for row in grid:
            text = " ".join(_dedupe(row))
            out.append(("heading" if heading_level(text) else "paragraph", text))
        return out
    if header_rows is None:
        header_rows = 1
        while header_rows < len(grid) - 1 and grid[header_rows][0] == grid[header_rows - 1][0] and not any(
            is_numeric_cell(c) for c in grid[header_rows] if c
        ):
            header_rows += 1
    header_rows = max(0, min(header_rows, len(grid) - 1))
    headers = [" ".join(_dedupe(grid[r][c] for r in range(header_rows))) for c in range(width)]
    label_cols = 1
    while label_cols < width - 1 and not headers[label_cols]:
        label_cols += 1
    out = []
    for r in range(header_rows, len(grid)):
        row = grid[r]
        label = " ".join(_dedupe(row[:label_cols]))
        pairs: list[tuple[str, str]] = []
        for c in range(label_cols, width):
            key = keys[r][c]
            # A cell merged across columns repeats in the grid: say it once (under its first column's header).
            if key is not None and key == keys[r][c - 1]:
                continue
            pairs.append((headers[c], row[c]))
        sentence = table_row_sentence(label, pairs)
        if sentence:
            out.append(("table_row", sentence))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Document → normalised text (what chunking, figures and citations use)
# ---------------------------------------------------------------------------------------------------------------


def normalise_document(doc: Document) -> tuple[NormalisedText, list[tuple[int, int]]]:
    """Normalise a structured document block by block (``aidqa.zh.normalize.normalise`` over each block's text), keeping
    the loader's blocks: one normalised block per document block, a heading stays a heading, and every character's
    offset points into ``doc.text``. Returns the normalised text and, for formats with pages, where each page starts
    in it: (normalised offset, page) at every block start and at every page break inside a block, in order."""
    chars: list[str] = []
    offsets: list[int] = []
    blocks: list[TextBlock] = []
    pages: list[tuple[int, int]] = []
    length = 0
    for b in doc.blocks:
        part = normalise(b.text)
        if not part.text:
            continue
        # A block is one line, so normalise gives back one line; its offsets are relative to the block.
        text = part.text
        part_offsets = [b.start + o for o in part.offsets]
        if chars:
            chars.append("\n\n")
            offsets.extend([offsets[-1], offsets[-1]])
            length += 2
        chars.append(text)
        offsets.extend(part_offsets)
        blocks.append(TextBlock(length, length + len(text), b.kind == "heading", b.kind == "table_row"))
        if b.page is not None:
            pages.append((length, b.page))
        for offset, page in b.page_breaks:
            # The first normalised character that comes from at or after the break in the block's text.
            at = bisect.bisect_left(part.offsets, offset)
            if at < len(text):
                pages.append((length + at, page))
        length += len(text)
    return NormalisedText("".join(chars), offsets, blocks), pages


def emphasis_heading_level(text: str) -> int | None:
    """A paragraph that is all bold (``**OpenRank**``, ``<p><strong>主要指标完成情况</strong></p>``) is a
    sub-heading when it is short and has no sentence punctuation: level 4, unless its numbering says otherwise."""
    s = tidy_inline(text)
    if not s or len(s) > _MAX_HEADING or _SENTENCE_INSIDE.search(s) or "，" in s:
        return None
    return heading_level(s) or 4
