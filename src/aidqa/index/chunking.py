"""Documents → passages. Sentence-aware packing for Chinese: whole sentences, ~150–250 characters, one sentence
of overlap, never across a section heading and never inside a number. Every chunk is a contiguous span of the
document's normalised text, so ``doc.text[chunk.start:chunk.end] == chunk.text`` always holds.

In a document with pages, every sentence of a chunk starts on the chunk's page (a page break starts a new chunk,
without overlap): the index keeps one page per chunk, and so a quoted sentence is cited with the page it starts on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from aidqa.ingest import SourceDocument
from aidqa.ingest.document import is_caption
from aidqa.settings import ChunkingSettings
from aidqa.zh.numbers import inside_number
from aidqa.zh.segment import split_clauses, split_sentences

# Bump when the packing changes: it is part of the index name (aidqa.index.naming). 2: chunks never hold sentences
# starting on two pages. 4: a table's caption heads its rows only, not the paragraphs after the table.
CHUNK_RULES_VERSION = "4"


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    section: str
    start: int
    end: int
    text: str
    ordinal: int
    page: int | None = None  # 1-based page where the chunk starts, for formats with pages (PDF)

    def metadata(self) -> dict[str, str | int]:
        meta: dict[str, str | int] = {"source": self.source, "section": self.section, "start": self.start, "end": self.end, "ordinal": self.ordinal}
        if self.page is not None:
            meta["page"] = self.page
        return meta


def chunk_id(source: str, start: int, end: int, text: str) -> str:
    """Stable across rebuilds: the same passage of the same file always gets the same id."""
    return hashlib.sha1(f"{source}\0{start}\0{end}\0{text}".encode()).hexdigest()[:16]


def _units(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]``; a sentence longer than ``max_chars`` is cut at clause boundaries, and a
    clause still too long is cut hard, but never inside a number."""
    units: list[tuple[int, int]] = []
    for s, e in split_sentences(text, start, end):
        if e - s <= max_chars:
            units.append((s, e))
            continue
        for cs, ce in _pack(split_clauses(text, s, e), max_chars):
            while ce - cs > max_chars:
                cut = cs + max_chars
                while cut > cs + 1 and inside_number(text, cut):
                    cut -= 1
                units.append((cs, cut))
                cs = cut
            units.append((cs, ce))
    return units


def _pack(units: list[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    """Greedy packing of consecutive units into spans of at most ``max_chars`` (a single longer unit stands alone)."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= max_chars:
            j += 1
        spans.append((units[i][0], units[j][1]))
        i = j + 1
    return spans


def _sections(doc: SourceDocument) -> list[tuple[str, int, int]]:
    """(heading, start, end) runs of body text; text before the first heading falls under the document title.

    A table's caption (表6 …) heads the table's rows; the paragraphs after the table are the enclosing section's
    again: a communique's prose resumes after a product table, and a sentence on the construction industry below a
    table of industrial products is not about that table (its caption's words would seem to be said by it)."""
    runs: list[tuple[str, int, int]] = []
    heading = ""
    section = ""  # the last heading that is not a caption
    rows = False  # whether the caption's table rows have been seen
    body: list[tuple[int, int]] = []

    def flush() -> None:
        if body:
            runs.append((heading, body[0][0], body[-1][1]))

    for block in doc.normalised.blocks:
        if block.is_heading:
            flush()
            body = []
            heading = doc.text[block.start : block.end].lstrip("#").strip()
            section = heading if not is_caption(heading) else section
            rows = False
        else:
            if rows and not block.is_table_row and heading != section:
                flush()
                body = []
                heading = section
            rows = rows or block.is_table_row
            body.append((block.start, block.end))
    flush()
    return runs


def _page_runs(doc: SourceDocument, units: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """``units`` in runs of consecutive units that start on the same page (one run without pages)."""
    runs: list[list[tuple[int, int]]] = []
    page: object = object()
    for unit in units:
        unit_page = doc.page_at(unit[0])
        if not runs or unit_page != page:
            runs.append([])
            page = unit_page
        runs[-1].append(unit)
    return runs


def _pack_run(units: list[tuple[int, int]], settings: ChunkingSettings) -> list[tuple[int, int]]:
    """(start, end) of the chunks of one run of units: as many whole units as fit, ``overlap_sentences`` repeated."""
    spans: list[tuple[int, int]] = []
    i = 0
    prev_i = -1
    while i < len(units):
        j = i
        # Grow while the chunk fits.
        while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= settings.max_chars:
            j += 1
        if j + 1 >= len(units):
            # The last chunk of a run may be short: let it start earlier (more overlap) up to min_chars.
            while i - 1 > prev_i and units[j][1] - units[i][0] < settings.min_chars and units[j][1] - units[i - 1][0] <= settings.max_chars:
                i -= 1
        prev_i = i
        spans.append((units[i][0], units[j][1]))
        if j + 1 >= len(units):
            break
        # Next chunk repeats the last `overlap` sentences, if that still moves forward and leaves room for the
        # next new sentence (otherwise it would be a repeat of text the previous chunk already has).
        nxt = max(j + 1 - settings.overlap_sentences, i + 1)
        while nxt <= j and units[j + 1][1] - units[nxt][0] > settings.max_chars:
            nxt += 1
        i = nxt
    return spans


def chunk_document(doc: SourceDocument, settings: ChunkingSettings) -> list[Chunk]:
    text = doc.text
    chunks: list[Chunk] = []
    for section, sec_start, sec_end in _sections(doc):
        units = _units(text, sec_start, sec_end, settings.max_chars)
        for run in _page_runs(doc, units):
            for start, end in _pack_run(run, settings):
                chunks.append(Chunk(chunk_id(doc.name, start, end, text[start:end]), doc.name, section, start, end,
                                    text[start:end], len(chunks), doc.page_at(start)))
    return chunks
