"""HTML pages (BeautifulSoup over lxml): the article, not the page around it.

Dropped: script, style, nav, header, footer, aside, form and other non-content elements, anything marked hidden, and
everything outside the main content container. The container is ``<article>``/``<main>`` when the page has one
with text, otherwise the element whose own ``<p>`` children hold the most text (a news page's body, not its
sidebars or comment list). Kept: the title (``og:title``, ``<title>`` or the ``<h1>`` it starts with), headings
with their level, paragraphs (inline links and emphasis keep their text inside the sentence) and tables (each data
row a sentence with its headers; ``rowspan``/``colspan`` expanded).
"""

from __future__ import annotations

import re

from aidqa.ingest.document import Document, DocumentBuilder, emphasis_heading_level, tidy_inline
from aidqa.ingest.registry import LoadError, register
from aidqa.ingest.text import decode_text

DROP_TAGS = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "iframe", "svg",
             "canvas", "button", "select", "input", "textarea", "object", "embed", "video", "audio", "map", "img"]
BLOCK_TAGS = {"p", "div", "section", "article", "main", "ul", "ol", "li", "dl", "dt", "dd", "table", "blockquote",
              "pre", "figure", "figcaption", "center", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br", "body",
              "address", "details", "summary", "caption", "tbody", "thead", "tfoot", "tr", "td", "th", "html"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-]+)", re.IGNORECASE)
_MIN_ARTICLE_CHARS = 200


def decode_html(data: bytes) -> str:
    """A BOM, then a ``<meta … charset=…>`` (only on a meta tag: a ``<script charset="gbk">`` says nothing about the
    page), then the same detection as plain text (strict UTF-8, then charset-normalizer)."""
    if not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        m = _META_CHARSET.search(data[:8192])
        if m:
            try:
                return data.decode(m.group(1).decode("ascii").lower().replace("gb2312", "gb18030").replace("gbk", "gb18030"))
            except (LookupError, UnicodeDecodeError):
                pass  # a wrong declaration: detect instead
    return decode_text(data)[0]


def _is_hidden(tag) -> bool:
    if tag.attrs is None:
        return False
    style = (tag.get("style") or "").replace(" ", "").lower()
    return tag.has_attr("hidden") or tag.get("aria-hidden") == "true" or "display:none" in style or "visibility:hidden" in style


def clean_soup(soup) -> None:
    for tag in soup(DROP_TAGS):
        tag.decompose()
    for tag in [t for t in soup.find_all(True) if _is_hidden(t)]:
        if not tag.decomposed:
            tag.decompose()
    from bs4 import Comment

    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()


def table_rows(table) -> list[list[tuple[str, object]]]:
    """The grid of an HTML table: rowspan/colspan expanded, each grid cell ``(text, id of its source cell)``.
    Nested tables are read as their cell's text."""
    grid: list[list[tuple[str, object] | None]] = []
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    for r, tr in enumerate(rows):
        while len(grid) <= r:
            grid.append([])
        c = 0
        for cell in tr.find_all(["td", "th"], recursive=False):
            while c < len(grid[r]) and grid[r][c] is not None:
                c += 1
            text = tidy_inline(cell.get_text(" "))
            try:
                colspan = max(1, min(int(cell.get("colspan", 1)), 100))
                rowspan = max(1, min(int(cell.get("rowspan", 1)), 1000))
            except (TypeError, ValueError):
                colspan = rowspan = 1
            for dr in range(rowspan):
                if r + dr >= len(rows):
                    break
                while len(grid) <= r + dr:
                    grid.append([])
                row = grid[r + dr]
                while len(row) < c + colspan:
                    row.append(None)
                for dc in range(colspan):
                    row[c + dc] = (text, id(cell))
            c += colspan
    return [[cell if cell is not None else ("", None) for cell in row] for row in grid]


def _bold_only(tag) -> bool:
    text = tag.get_text("", strip=True)
    bold = "".join(b.get_text("", strip=True) for b in tag.find_all(["b", "strong"]) if not b.find_parent(["b", "strong"]))
    return bool(text) and text == bold


def walk(node, out: DocumentBuilder) -> None:
    """Blocks of ``node``'s content in document order: inline runs become paragraphs, block elements their kind."""
    from bs4 import NavigableString, Tag

    inline: list[str] = []

    def flush() -> None:
        if inline:
            out.add_text("".join(inline))
            inline.clear()

    for child in node.children:
        if isinstance(child, NavigableString):
            inline.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name not in BLOCK_TAGS:
            inline.append(child.get_text(""))
            continue
        flush()
        if name in _HEADINGS:
            out.add("heading", child.get_text(" "), _HEADINGS[name])
        elif name == "table":
            out.add_table(table_rows(child))
        elif name in ("p", "li", "dt", "dd", "figcaption", "caption", "summary", "pre", "address") and not child.find(
            ["p", "div", "table", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6"]
        ):
            text = child.get_text("")
            out.add_text(text, heading_hint=emphasis_heading_level(text) if _bold_only(child) else None)
        elif name in ("br", "hr"):
            continue
        else:
            walk(child, out)
    flush()


def main_content(soup):
    """``<article>``/``<main>`` with text, else the element whose direct ``<p>`` children hold the most text."""
    for name in ("article", "main"):
        found = [t for t in soup.find_all(name) if len(t.get_text("", strip=True)) >= _MIN_ARTICLE_CHARS]
        if len(found) == 1:
            return found[0]
    best, best_score = None, 0
    for tag in soup.find_all(True):
        score = sum(len(p.get_text("", strip=True)) for p in tag.find_all("p", recursive=False))
        if score > best_score:
            best, best_score = tag, score
    if best is None or best_score < _MIN_ARTICLE_CHARS:
        return soup.body or soup
    return best


def page_title(soup) -> str:
    meta = soup.find("meta", attrs={"property": "og:title"}) or soup.find("meta", attrs={"name": "title"})
    title = tidy_inline(meta.get("content", "")) if meta else ""
    if not title and soup.title:
        title = tidy_inline(soup.title.get_text(" "))
    h1 = soup.find("h1")
    h1_text = tidy_inline(h1.get_text(" ")) if h1 else ""
    # ``<title>`` usually carries the site name after the headline: the headline alone is the <h1> it starts with.
    if h1_text and (not title or title.startswith(h1_text) or h1_text.startswith(title)):
        return h1_text
    return title or h1_text


class HtmlLoader:
    format = "html"
    suffixes = (".html", ".htm", ".xhtml")
    binary = False

    def sniff(self, head: bytes) -> bool:
        return False  # HTML is text: by suffix only

    def load(self, data: bytes, name: str) -> Document:
        from bs4 import BeautifulSoup

        try:
            soup = BeautifulSoup(decode_html(data), "lxml")
        except LoadError:
            raise
        except Exception as exc:  # lxml/bs4 errors on a broken page
            raise LoadError(f"cannot parse it as HTML ({type(exc).__name__}: {exc})") from exc
        clean_soup(soup)
        title = page_title(soup)
        root = main_content(soup)
        out = DocumentBuilder(self.format)
        if title and not any(tidy_inline(h.get_text(" ")) == title for h in root.find_all(list(_HEADINGS))):
            out.add("heading", title, 1)  # the headline usually stands above the content container
        walk(root, out)
        return out.build(title, name.rsplit("/", 1)[-1])


LOADER = register(HtmlLoader())
