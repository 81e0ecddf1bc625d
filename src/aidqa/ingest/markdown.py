"""Markdown (markdown-it-py, CommonMark + tables): headings with their level, paragraphs, list items and tables.

Dropped: images (``![](data:image/png;base64,…)`` included), HTML comments, link targets (the link text stays),
raw HTML markup (its text and tables are kept: OCR output puts tables in ``<table>`` blocks) and the front matter,
whose ``title:`` becomes the document title. Clean-up shared with PDF text, for Markdown converted from PDF: page
numbers standing alone or glued to a paragraph's end (``— 5 —``) are removed, and a paragraph cut mid-sentence is
joined to the next one.
"""

from __future__ import annotations

import re

from aidqa.ingest.document import (
    Document,
    DocumentBuilder,
    emphasis_heading_level,
    ends_sentence,
    heading_level,
    is_numbered,
    is_numeric_cell,
    is_page_marker,
    join_fragments,
    strip_glued_marker,
    tidy_inline,
)
from aidqa.ingest.registry import register
from aidqa.ingest.text import decode_text

_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FM_TITLE = re.compile(r"^title\s*:\s*(.+?)\s*$", re.MULTILINE)
_LINE_BREAK = "\n"
_LIST_MARK = re.compile(r"^(?:\[\d{1,3}\]|[-*•●■◆▪]\s)")


def split_front_matter(source: str) -> tuple[str, str | None]:
    """(body, front-matter title or None)."""
    m = _FRONT_MATTER.match(source)
    if not m:
        return source, None
    t = _FM_TITLE.search(m.group(1))
    title = t.group(1).strip().strip("\"'") if t else None
    return source[m.end():], title or None


def _inline_text(token) -> tuple[str, bool]:
    """(text of an inline token, True when all of it is bold). Images, raw HTML and link targets are dropped."""
    parts: list[str] = []
    bold_depth = 0
    all_bold = True
    for child in token.children or []:
        t = child.type
        if t == "strong_open":
            bold_depth += 1
        elif t == "strong_close":
            bold_depth -= 1
        elif t in ("text", "code_inline"):
            if child.content.strip() and bold_depth == 0:
                all_bold = False
            parts.append(child.content)
        elif t in ("softbreak", "hardbreak") or (t == "html_inline" and re.match(r"<br\s*/?>", child.content, re.IGNORECASE)):
            parts.append(_LINE_BREAK)
        # image, html_inline, link_open/close: nothing (a link's text comes as its own text children)
    text = "".join(parts)
    return text, all_bold and bool(text.strip())


def _uncollapse(rows: list[list[str]]) -> list[list[str]]:
    """A PDF-converted table may put a whole column in one cell (``粮食  #夏粮  秋粮 | 133.77  16.38  117.39``):
    when every value cell of a row splits into the same number of numbers and the label cell into as many parts,
    the row becomes that many rows. Otherwise the row is kept as it is (nothing is guessed)."""
    out = []
    for row in rows:
        values = [c.split() for c in row[1:]]
        n = len(values[0]) if values else 0
        if n > 1 and all(len(v) == n for v in values) and any(all(is_numeric_cell(x) for x in v) for v in values):
            labels = re.split(r"\s{2,}", row[0].strip())
            if len(labels) != n:
                labels = [p for p in re.split(r"\s+|(?=#)", row[0].strip()) if p]
            if len(labels) == n:
                out.extend([labels[i], *(v[i] for v in values)] for i in range(n))
                continue
        out.append(row)
    return out


class MarkdownLoader:
    format = "markdown"
    suffixes = (".md", ".markdown", ".mdown", ".mkd")
    binary = False

    def sniff(self, head: bytes) -> bool:
        return False

    def load(self, data: bytes, name: str) -> Document:
        from markdown_it import MarkdownIt

        source, title = split_front_matter(decode_text(data)[0])
        tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(source)
        items: list[tuple[str, object, int | None]] = []  # (kind, text or table rows, level)
        i = 0
        list_depth = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.type in ("bullet_list_open", "ordered_list_open"):
                list_depth += 1
            elif tok.type in ("bullet_list_close", "ordered_list_close"):
                list_depth -= 1
            elif tok.type == "heading_open":
                text, _ = _inline_text(tokens[i + 1])
                items.append(("heading", tidy_inline(text).strip("|｜ "), int(tok.tag[1])))
                i += 3
                continue
            elif tok.type == "paragraph_open":
                text, bold = _inline_text(tokens[i + 1])
                kind = "item" if list_depth else "paragraph"
                items.append((kind, text, emphasis_heading_level(text) if bold else None))
                i += 3
                continue
            elif tok.type == "table_open":
                j = i
                head: list[str] = []
                body: list[list[str]] = []
                row: list[str] = []
                in_head = False
                while tokens[j].type != "table_close":
                    t = tokens[j]
                    if t.type == "thead_open":
                        in_head = True
                    elif t.type == "thead_close":
                        in_head = False
                    elif t.type == "tr_open":
                        row = []
                    elif t.type == "inline":
                        row.append(tidy_inline(_inline_text(t)[0]))
                    elif t.type == "tr_close":
                        if in_head:
                            head = row
                        else:
                            body.append(row)
                    j += 1
                items.append(("table", (head, body), None))
                i = j + 1
                continue
            elif tok.type in ("html_block", "code_block", "fence"):
                items.append(("html" if tok.type == "html_block" else "paragraph", tok.content, None))
            i += 1
        out = DocumentBuilder(self.format)
        _emit(items, out)
        return out.build(title, name.rsplit("/", 1)[-1])


def _emit(items, out: DocumentBuilder) -> None:
    from bs4 import BeautifulSoup

    from aidqa.ingest.html import clean_soup, walk

    pending = ""  # a paragraph that may continue in the next one
    last_header: list[str] | None = None

    def flush() -> None:
        nonlocal pending
        if pending:
            out.add_text(pending)
            pending = ""

    for kind, content, level in items:
        if kind == "heading":
            flush()
            out.add("heading", content, level)
            last_header = None
        elif kind in ("paragraph", "item"):
            text = tidy_inline(str(content))
            if is_page_marker(text):
                continue
            text = strip_glued_marker(text)
            if not text:
                continue
            if level:  # an all-bold short paragraph
                flush()
                out.add("heading", text, level)
                continue
            if kind == "item":
                flush()
                out.add_text(text)
                continue
            if pending and (_LIST_MARK.match(pending) or _LIST_MARK.match(text) or is_numbered(text)):
                flush()  # a reference list or numbered item starts its own paragraph
            if pending:
                # A paragraph cut mid-sentence (a PDF line wrap kept as a paragraph break) goes on in this one.
                pending = join_fragments(pending, text)
            else:
                pending = text
            if ends_sentence(pending) or pending.endswith(("：", ":")) or heading_level(pending) or not _may_continue(pending):
                flush()
        elif kind == "table":
            flush()
            head, body = content
            if not any(head) and body and len(body) > 1 and not any(is_numeric_cell(c) for c in body[0] if c):
                head, body = body[0], body[1:]
            if not any(head) and last_header is not None and body and len(body[0]) == len(last_header):
                head = last_header  # a table cut by a page break goes on without its header row
            body = _uncollapse(body)
            if any(head):
                last_header = head
                out.add_table([head, *body], header_rows=1)
            else:
                out.add_table(body, header_rows=0)
        elif kind == "html":
            flush()
            soup = BeautifulSoup(str(content), "lxml")
            clean_soup(soup)
            walk(soup.body or soup, out)
    flush()


def _may_continue(text: str) -> bool:
    """A paragraph without closing punctuation continues in the next one when it reads as part of a sentence: it
    has sentence-internal punctuation or is long. A short bare line (an issuer, a date) stands alone."""
    return len(text) >= 20 or any(c in text for c in "，、：；,")


LOADER = register(MarkdownLoader())
