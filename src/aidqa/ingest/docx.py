"""DOCX (python-docx): paragraphs and tables in body order.

Headings come from the paragraph's outline level (its own or its style's, following base styles: Word's
``Heading N`` and the Chinese ``标题 N`` both set it, and so do document templates such as GB/T 1.1's ``章标题``)
or a ``Heading N``/``标题 N``/``Title`` style name; other paragraphs go through the shared heading rules.
Tables: merged cells expanded over the grid (python-docx repeats a merged cell in every position it covers),
one-cell boxes become paragraphs, every other data row a sentence with its headers. The archive is checked
before anything is extracted (``open_zip_safely``).
"""

from __future__ import annotations

import re

from aidqa.ingest.document import Document, DocumentBuilder
from aidqa.ingest.registry import LoadError, open_zip_safely, register

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _outline_level(ppr) -> int | None:
    if ppr is None:
        return None
    el = ppr.find(f"{_W}outlineLvl")
    if el is None:
        return None
    try:
        return int(el.get(f"{_W}val"))
    except (TypeError, ValueError):
        return None


def style_heading_level(paragraph) -> int | None:
    """1-based heading level from the paragraph's outline level or its style chain; None for body text (outline
    level 9 is Word's "body text")."""
    level = _outline_level(paragraph._p.pPr)
    style = paragraph.style
    seen = 0
    while level is None and style is not None and seen < 20:
        m = _HEADING_STYLE.match(style.name or "")
        if m:
            return int(m.group(1))
        if (style.name or "").lower() == "title":
            return 1
        level = _outline_level(style.element.pPr)
        style = style.base_style
        seen += 1
    if level is None or not 0 <= level <= 8:
        return None
    return level + 1


def _table_grid(table) -> list[list[tuple[str, object]]]:
    rows = []
    for row in table.rows:
        rows.append([(cell.text, id(cell._tc)) for cell in row.cells])
    return rows


class DocxLoader:
    format = "docx"
    suffixes = (".docx",)
    binary = True

    def sniff(self, head: bytes) -> bool:
        # A zip whose first entries name the Word main part (Word writes [Content_Types].xml first, then word/…).
        return head.startswith(b"PK\x03\x04") and (b"word/" in head or b"[Content_Types].xml" in head)

    def load(self, data: bytes, name: str) -> Document:
        zf = open_zip_safely(data, "DOCX")
        names = set(zf.namelist())
        if "word/document.xml" not in names or "[Content_Types].xml" not in names:
            raise LoadError("not a valid DOCX file (a zip archive without word/document.xml)")
        import docx
        from docx.table import Table

        try:
            document = docx.Document(zf.fp)  # type: ignore[arg-type]
        except Exception as exc:  # python-docx / lxml errors on a damaged package
            raise LoadError(f"not a valid DOCX file ({type(exc).__name__}: {exc})") from exc
        out = DocumentBuilder(self.format)
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                out.add_table(_table_grid(item))
                continue
            text = item.text
            if not text.strip():
                continue
            level = style_heading_level(item)
            if level is not None:
                out.add("heading", text, level)
            else:
                out.add_text(text)
        title = (document.core_properties.title or "").strip()
        return out.build(title if title and title not in _PLACEHOLDER_TITLES else None, name.rsplit("/", 1)[-1])


# Template defaults some tools leave in the title property: not a title.
_PLACEHOLDER_TITLES = {"标准名称", "标题", "Title", "Document", "文档"}

LOADER = register(DocxLoader())
