"""PDF (pypdf, text layer): text with page numbers, cleaned of the page furniture.

Per page: pypdf's text, line by line. Removed: page-number lines (``— 5 —``, ``- 5 -``, ``第5页``, ``第5页 共21页``,
``5/21``, ``Page 5``, a bare number as a page's first or last line), a dash–number–dash marker glued to a page's
first or last line, and running headers/footers (a line that is the first or last of at least half of the pages,
three at least, digits ignored). Lines are then rebuilt into blocks:

- a table: a caption line (``表1 …``), its header line, and the rows under it whose last fields are numbers; each
  row becomes a sentence with its headers (a table going on over a page break keeps its header);
- a heading: a short numbered line (``一、综 合``, ``（三）…``, ``第二章 …``) or a caption;
- a paragraph: lines joined until one ends a sentence or stops short of the usual line width. Lines are joined
  with no space inside Chinese text or a number (``4.32`` + ``万吨``), and spaces between CJK characters are removed
  (justified lines come out letter-spaced).

A file with no text layer (a scan) has no text: it is skipped with that reason. Page numbers are 1-based physical
pages.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections import Counter

from aidqa.ingest.document import (
    Document,
    DocumentBuilder,
    ends_sentence,
    heading_level,
    is_page_marker,
    join_fragments,
    strip_glued_marker,
    tidy_inline,
)
from aidqa.ingest.registry import LoadError, register

logger = logging.getLogger(__name__)

MAX_PAGES = 2_000
_CAPTION = re.compile(r"^(?:表|附表)\s*[A-Z]?\d{1,3}(?:[.\-－]\d{1,3})?(?![\d.])")
_NUM_TOKEN = re.compile(r"^[-+－]?\d[\d,]*(?:\.\d+)?[%‰]?$")
_UNIT_HEADERS = ("单位", "计量单位")
_ROW_LABEL_PUNCT = re.compile(r"[，。；！？,;!?]")


def _page_lines(reader) -> list[list[str]]:
    pages = []
    for page in reader.pages:
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # a damaged content stream spoils one page, not the file
            logger.info("pdf page %d: no text (%s: %s)", len(pages) + 1, type(exc).__name__, exc)
            text = ""
        pages.append([line.strip() for line in text.splitlines()])
    return pages


def _strip_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Page numbers and running headers/footers out; empty lines out."""
    cleaned = []
    for lines in pages:
        lines = [ln for ln in lines if ln]
        if lines:
            lines[0] = strip_glued_marker(lines[0], at_end=False)
            lines[-1] = strip_glued_marker(lines[-1], at_end=True)
        keep = []
        for k, ln in enumerate(lines):
            edge = k in (0, len(lines) - 1)
            if ln and not is_page_marker(ln, bare_number=edge):
                keep.append(ln)
        cleaned.append(keep)
    # Running headers/footers: the same first/last line (digits ignored) on at least half the pages.
    if len(cleaned) >= 3:
        def key(ln: str) -> str:
            return re.sub(r"\d+", "#", ln.replace(" ", ""))

        counts: Counter[str] = Counter()
        for lines in cleaned:
            edges = {key(ln) for ln in lines[:2] + lines[-2:]}
            counts.update(edges)
        limit = max(3, len(cleaned) // 2)
        repeated = {k for k, n in counts.items() if n >= limit}
        if repeated:
            cleaned = [
                [ln for k, ln in enumerate(lines) if not ((k < 2 or k >= len(lines) - 2) and key(ln) in repeated)]
                for lines in cleaned
            ]
    return cleaned


def _merge_header_tokens(tokens: list[str]) -> list[str]:
    """Header fields from a space-split header line: a letter-spaced word rejoins (a single CJK character goes with
    the token after it: ``指 标`` → ``指标``, ``指 数（以上年为`` → ``指数（以上年为``) and a bracket left open
    continues into the next token (``…（以上年为 100）``)."""
    merged: list[str] = []
    glue_next = False
    for tok in tokens:
        if merged:
            prev = merged[-1]
            open_bracket = prev.count("（") + prev.count("(") > prev.count("）") + prev.count(")")
            if open_bracket or glue_next:
                merged[-1] = prev + tok
                glue_next = False  # only the token right after a single character joins it
                continue
        merged.append(tok)
        glue_next = len(tok) == 1 and not tok.isascii()
    return merged


def _split_row(line: str, n_values: int, unit_col: int | None) -> tuple[str, list[str]] | None:
    """(label, values) when ``line`` is a table row: a label followed by up to ``n_values`` number fields (and a
    unit field where the header has a 单位 column). None when it is text."""
    tokens = line.split()
    values: list[str] = []
    while tokens and len(values) < n_values and _NUM_TOKEN.match(tokens[-1]):
        values.insert(0, tokens.pop())
    if unit_col is not None and tokens and len(values) < n_values and len(tokens) >= 2 and len(tokens[-1]) <= 6:
        values.insert(0, tokens.pop())
    label = tidy_inline(" ".join(tokens), cjk_spaces=True)
    if not values or not label or _ROW_LABEL_PUNCT.search(label) or len(label) > 40:
        return None
    return label, values


class _Table:
    def __init__(self, headers: list[str]):
        self.headers = headers
        self.unit_col = next((i for i, h in enumerate(headers[1:]) if h in _UNIT_HEADERS), None)

    def row(self, line: str) -> list[str] | None:
        parsed = _split_row(line, len(self.headers) - 1, self.unit_col)
        if parsed is None:
            return None
        label, values = parsed
        if self.unit_col == 0 and _NUM_TOKEN.match(values[0]) and len(values) < len(self.headers) - 1:
            values = ["", *values]  # no unit given: the numbers stay under the number columns
        return [label, *values, *[""] * (len(self.headers) - 1 - len(values))]


class PdfLoader:
    format = "pdf"
    suffixes = (".pdf",)
    binary = True

    def sniff(self, head: bytes) -> bool:
        return b"%PDF-" in head[:1024]

    def load(self, data: bytes, name: str) -> Document:
        from io import BytesIO

        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(BytesIO(data))
            if reader.is_encrypted:
                try:
                    if not reader.decrypt(""):
                        raise LoadError("encrypted PDF (a password is needed to read it)")
                except LoadError:
                    raise
                except Exception as exc:
                    raise LoadError(f"encrypted PDF that cannot be opened ({type(exc).__name__}: {exc})") from exc
            n_pages = len(reader.pages)
            if n_pages > MAX_PAGES:
                raise LoadError(f"{n_pages} pages is over the {MAX_PAGES}-page limit")
            pages = _page_lines(reader)
            meta_title = ""
            try:
                meta_title = (reader.metadata.title or "") if reader.metadata else ""
            except Exception:  # a damaged info dictionary: no metadata title
                meta_title = ""
        except LoadError:
            raise
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
            raise LoadError(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
        if not any(any(lines) for lines in pages):
            raise LoadError("PDF has no text layer (a scanned document? OCR it first)")
        out = DocumentBuilder(self.format)
        _build(_strip_furniture(pages), out)
        title = _usable_title(meta_title)
        if title is None:
            _mark_cover_title(out)
        return out.build(title, name.rsplit("/", 1)[-1], pages=n_pages)

    def count_pages(self, data: bytes) -> int | None:
        """The page count, read from the page tree alone (no text extraction, so it is cheap enough for a report
        listing); None when the file cannot be read."""
        from io import BytesIO

        from pypdf import PdfReader

        try:
            reader = PdfReader(BytesIO(data))
            if reader.is_encrypted:
                reader.decrypt("")
            return len(reader.pages)
        except Exception:  # a damaged file: the listing says "unknown", never fails
            logger.info("cannot count the pages of a PDF", exc_info=True)
            return None


def _mark_cover_title(out: DocumentBuilder) -> None:
    """No metadata title: the longest of the bare lines (no punctuation) that open page 1 before its first
    sentence is the cover title (a report name above its issuer and date); it becomes a level-1 heading."""
    from dataclasses import replace

    lead = []
    for k, b in enumerate(out.blocks):
        if b.page != 1 or b.kind != "paragraph" or re.search(r"[，。；：,;:！？]", b.text):
            break
        lead.append(k)
    if lead:
        k = max(lead, key=lambda i: len(out.blocks[i].text))
        if len(out.blocks[k].text) >= 6:
            out.blocks[k] = replace(out.blocks[k], kind="heading", level=1)


def _usable_title(title: str) -> str | None:
    """A metadata title is used unless it is a tool's default (``Microsoft Word - x.docx``, ``untitled``)."""
    t = tidy_inline(title or "")
    if not t or re.match(r"^(?:microsoft\s+\w+\s*-|untitled|无标题|document\d*$)", t, re.IGNORECASE) or t.lower().endswith((".doc", ".docx", ".pdf", ".wps")):
        return None
    return t


def display_width(text: str) -> int:
    """Width as set on the page: a CJK (full-width) character counts 2, anything else 1."""
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text)


def _ends_paragraph(line: str) -> bool:
    """A line ending with 。！？ (a closing quote may follow) ends its paragraph; ；and ， do not."""
    return ends_sentence(line) and line.rstrip("”’」』）)】》\"'")[-1:] in "。！？!?…"


def _build(pages: list[list[str]], out: DocumentBuilder) -> None:
    # The usual width of a prose line (CJK characters count double, as they are set), from lines with Chinese
    # commas or full stops (table rows would skew it); a line stopping well short of it ends its paragraph.
    prose = [display_width(tidy_inline(ln, cjk_spaces=True)) for lines in pages for ln in lines if "，" in ln or "。" in ln]
    full = statistics.quantiles(prose, n=4)[-1] if len(prose) >= 4 else (max(prose) if prose else 0)
    short = 0.75 * full

    para: list[str] = []
    para_pages: list[int] = []  # the page of each line of ``para``
    para_page: int | None = None
    table: _Table | None = None
    expect_header = False

    def flush() -> None:
        nonlocal para, para_pages, para_page
        if para:
            # A paragraph that runs over a page break keeps where the next page starts in it, so that a sentence
            # on the second page is cited with that page.
            text, breaks = "", []
            for piece, page in zip(para, para_pages):
                text = join_fragments(text, piece)
                if page != (breaks[-1][1] if breaks else para_page):
                    breaks.append((len(text) - len(piece), page))
            out.add_text(text, page=para_page, page_breaks=breaks)
        para, para_pages, para_page = [], [], None

    for page_no, lines in enumerate(pages, 1):
        for raw in lines:
            line = tidy_inline(raw, cjk_spaces=True)
            if not line:
                continue
            if expect_header:
                expect_header = False
                headers = _merge_header_tokens(raw.split())
                if len(headers) >= 2 and not any(_NUM_TOKEN.match(h) for h in headers[1:]):
                    table = _Table([tidy_inline(h, cjk_spaces=True) for h in headers])
                    continue
            if table is not None:
                row = table.row(raw)
                if row is not None:
                    out.add_table([table.headers, row], page=page_no, header_rows=1)
                    continue
                if all(_NUM_TOKEN.match(t) for t in raw.split()):
                    out.add("paragraph", line, None, page_no)  # a stray number inside a table: kept, as it is
                    continue
                table = None
            if _CAPTION.match(line) and len(line) <= 60:
                flush()
                out.add("heading", line, 4, page_no)
                expect_header = True
                continue
            level = heading_level(line)
            if level and not para:
                out.add("heading", line, level, page_no)
                continue
            if level and para and (_ends_paragraph(para[-1]) or display_width(para[-1]) < short):
                flush()
                out.add("heading", line, level, page_no)
                continue
            if not para:
                para_page = page_no
            para.append(line)
            para_pages.append(page_no)
            if _ends_paragraph(line) or display_width(line) < short:
                flush()
    flush()


LOADER = register(PdfLoader())
