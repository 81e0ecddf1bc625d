"""How one answer looks in the chat: its text with clickable ``[n]`` markers, and its own sources under it.

Every bot message carries everything it needs, so an old answer keeps its sources and a phone shows them right under
the answer they belong to: the answer (Markdown), then one ``<details>`` block of source cards — one card per
retrieved passage (citations quoting the same passage share a card, each quote highlighted), named by report title,
section and page. Each ``[n]`` is a link to its card (``#aidqa-src-<key>-<n>``; the page script opens the block,
scrolls to the card and highlights it) with a preview of the quote as its tooltip.

When the answer opens with a short answer (figures, a total) followed by the cited sentences verbatim, the
sentences are not repeated in the message: they are shown highlighted in their cards, which start open. When the
answer *is* the cited sentences, the cards start closed (they would only say the same again).

Everything from a report or a model is inert: the Markdown part goes through ``inert`` (no tag, link, image or bare
URL can take effect) and the HTML part escapes every character Markdown or HTML could read (``html_text``), so it
stays text whichever of the two reads it.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field

from aidqa.models import Answer, Citation
from aidqa.qa.rendering import MARKER, PART_LABELS
from aidqa.qa.rendering import grounding_note as plain_grounding_note
from aidqa.zh.numbers import QUOTED_FIGURE_RE

ANSWER_KEY = re.compile(r'id="aidqa-ans-([0-9a-f]{12})"')
SOURCES_START = '<details class="aidqa-sources"'
PREVIEW_CHARS = 80  # of a quote, in a marker's tooltip
# Characters that Markdown or HTML could read as syntax, written as numeric references inside the HTML block.
_HTML_SYNTAX = {c: f"&#{ord(c)};" for c in "[]!*_`$~|:@\\.\n"}


# ---- inert text -----------------------------------------------------------------------------------------------


def md_escape(text: str) -> str:
    """Escape text for the chat's Markdown: no tag or entity in it can take effect. (Quotes need no escaping outside
    attributes, so they are left readable.)"""
    return html.escape(text, quote=False)


def inert(text: str) -> str:
    """Report or model text for the chat's Markdown, inert: escaped like ``md_escape``, and the characters that
    make links and images ([, ], !) and bare URLs or addresses (http:, www., @) escaped as well, so that nothing in
    a report or a model's reply can make the page fetch or link anything."""
    text = re.sub(r"([\[\]!@])", r"\\\1", md_escape(text))
    return re.sub(r"(?i)\b(https?|ftp|mailto|file|data|javascript|www)([:.])", r"\1\\\2", text)


def html_text(text: str) -> str:
    """Text for the sources block (HTML inside the Markdown message): escaped, and every character Markdown could
    read (brackets, colons, emphasis, line breaks…) as a numeric reference — shown as itself, read as nothing."""
    escaped = html.escape(text, quote=True)
    out = []
    i = 0
    while i < len(escaped):  # keep the entities html.escape made
        if escaped[i] == "&":
            j = escaped.index(";", i)
            out.append(escaped[i : j + 1])
            i = j + 1
            continue
        out.append(_HTML_SYNTAX.get(escaped[i], escaped[i]))
        i += 1
    return "".join(out)


# ---- source cards -------------------------------------------------------------------------------------------------


@dataclass
class SourceCard:
    """One passage and the citations that quote it (in answer order)."""

    citations: list[Citation] = field(default_factory=list)
    passage: str = ""

    @property
    def first(self) -> Citation:
        return self.citations[0]

    @property
    def ids(self) -> list[int]:
        return [int(c.id) for c in self.citations]


def source_cards(citations: list[Citation]) -> list[SourceCard]:
    """The citations grouped by the passage they quote: three quotes from one paragraph make one card with three
    highlights, never three copies of the paragraph. Passages of one report that start at the same place and of
    which one begins the other (the same paragraph, retrieved to different lengths) are one passage, the longer."""
    cards: list[SourceCard] = []
    for c in citations:
        passage = c.passage or ""
        card = next((k for k in cards if k.first.source == c.source and k.first.passage_start == c.passage_start
                     and (k.passage.startswith(passage) or passage.startswith(k.passage))), None)
        if card is None:
            cards.append(SourceCard([c], passage))
        else:
            card.citations.append(c)
            card.passage = max(card.passage, passage, key=len)
    return cards


def names_report(c: Citation) -> bool:
    """Whether the citation has a title of its own (an untitled report's title is its file name)."""
    return bool(c.title) and c.title not in (c.source, c.source.rsplit("/", 1)[-1])


def where(c: Citation) -> str:
    """"《title》 · section · 第N页" as plain text (the file name when the report has no title)."""
    parts = [f"《{c.title}》" if names_report(c) else c.source]
    if c.section:
        parts.append(c.section)
    if c.page is not None:
        parts.append(f"第{int(c.page)}页")
    return " · ".join(parts)


def _figures_html(text: str) -> str:
    """``text`` for the card, every figure in it in <strong>."""
    out, last = [], 0
    for m in QUOTED_FIGURE_RE.finditer(text):
        out.append(html_text(text[last : m.start()]))
        out.append(f"<strong>{html_text(m.group(0))}</strong>")
        last = m.end()
    out.append(html_text(text[last:]))
    return "".join(out)


def _quote_html(c: Citation) -> str:
    """The quote; the figures that answer the question (``c.highlights``) marked as such, or, without highlights,
    every figure in <strong>."""
    quote = c.quote or ""
    spans = sorted((a - c.start, b - c.start) for a, b in c.highlights or [])
    if not spans or any(not (0 <= a < b <= len(quote)) for a, b in spans):
        return _figures_html(quote)
    out, last = [], 0
    for a, b in spans:
        if a < last:
            continue  # overlapping spans: keep the first
        out.append(html_text(quote[last:a]))
        out.append(f'<strong class="aidqa-answer-figure">{html_text(quote[a:b])}</strong>')
        last = b
    out.append(html_text(quote[last:]))
    return "".join(out)


def passage_html(card: SourceCard) -> str:
    """The card's passage with each citation's quote in <mark> where it stands. A quote that is not in the passage
    (should not happen), or overlaps one already marked, is shown marked after it."""
    passage = card.passage
    placed: list[tuple[int, Citation]] = []
    apart: list[Citation] = []
    for c in card.citations:
        quote = c.quote or ""
        i = c.start - c.passage_start
        if not (quote and i >= 0 and passage[i : i + len(quote)] == quote):
            i = passage.find(quote) if quote else -1
        if i < 0 or any(i < j + len(d.quote) and j < i + len(quote) for j, d in placed):
            apart.append(c)
        else:
            placed.append((i, c))
    out, last = [], 0
    for i, c in sorted(placed, key=lambda p: p[0]):
        out.append(html_text(passage[last:i]))
        out.append(f'<mark class="aidqa-q{int(c.id)}">{_quote_html(c)}</mark>')
        last = i + len(c.quote)
    out.append(html_text(passage[last:]))
    body = f'<div class="aidqa-passage">{"".join(out)}</div>'
    extra = "".join(f'<div class="aidqa-quote"><mark class="aidqa-q{int(c.id)}">{_quote_html(c)}</mark></div>'
                    for c in apart)
    return body + extra


def card_id(key: str, card: SourceCard) -> str:
    return f"aidqa-src-{key}-{card.ids[0]}"


def card_html(key: str, card: SourceCard) -> str:
    c = card.first
    numbers = "".join(f"[{n}]" for n in card.ids)
    title = (f'<span class="aidqa-title">《{html_text(c.title)}》</span>' if names_report(c)
             else f'<span class="aidqa-title">{html_text(c.source)}</span>')
    section = f' · <span class="aidqa-section">{html_text(c.section)}</span>' if c.section else ""
    page = f' · <span class="aidqa-page">第{int(c.page)}页</span>' if c.page is not None else ""
    file = f'<div class="aidqa-file">{html_text(c.source)}</div>' if names_report(c) else ""
    return (f'<div class="aidqa-cite" id="{card_id(key, card)}" tabindex="-1">'
            f'<div class="aidqa-cite-head"><span class="aidqa-n">{html_text(numbers)}</span> {title}{section}{page}'
            f"</div>{passage_html(card)}{file}</div>")


def sources_html(answer: Answer, key: str, open_: bool = False) -> str:
    """The answer's sources as one ``<details>`` block on one line (a blank line would end Markdown's HTML block)."""
    cards = source_cards(answer.citations)
    if not cards:
        return ""
    opened = " open" if open_ else ""
    summary = f"来源（{len(cards)} 处）" if answer.language != "en" else f"Sources ({len(cards)})"
    return (f'{SOURCES_START} id="aidqa-ans-{key}"{opened}><summary>{summary}</summary>'
            f'<div class="aidqa-cites">{"".join(card_html(key, card) for card in cards)}</div></details>')


# ---- the message --------------------------------------------------------------------------------------------------


def _is_quote_line(line: str, quotes: dict[int, str]) -> bool:
    """A line that is a cited sentence verbatim followed by its marker (optionally after a report name); not one
    that opens a compound question's part (第二问：…), whose label must stay in view."""
    m = re.search(r"\s*\[(\d+)\]\s*$", line)
    quote = quotes.get(int(m.group(1))) if m else None
    return bool(quote) and line[: m.start()].rstrip().endswith(quote.rstrip()) and not line.startswith(PART_LABELS)


def shown_lines(answer: Answer) -> tuple[list[str], bool]:
    """The answer's lines to show, and whether its cited sentences were left to the cards (when a short answer
    comes first and the sentences follow verbatim)."""
    lines = [line for line in answer.answer.split("\n") if line.strip()]
    quotes = {int(c.id): c.quote for c in answer.citations}
    short = [line for line in lines if not _is_quote_line(line, quotes)]
    if short and len(short) < len(lines) and any(MARKER.search(line) for line in short):
        return short, True
    return lines, False


def _preview(c: Citation) -> str:
    """The marker's tooltip: where the quote is, and the quote — when long, the part around the figure that
    answers the question."""
    quote = c.quote
    if len(quote) > PREVIEW_CHARS:
        at = min((a - c.start for a, _ in c.highlights or [] if 0 <= a - c.start < len(quote)), default=0)
        begin = max(0, min(at - PREVIEW_CHARS // 3, len(quote) - PREVIEW_CHARS))
        quote = ("…" if begin else "") + quote[begin : begin + PREVIEW_CHARS] + ("…" if begin + PREVIEW_CHARS < len(quote) else "")
    return html_text(f"{where(c)}：{quote}")


def linked(text: str, answer: Answer, key: str) -> str:
    """``text`` inert, its ``[n]`` markers links to their cards (a marker that names no citation stays text)."""
    targets = {n: (card_id(key, card), card.citations[card.ids.index(n)])
               for card in source_cards(answer.citations) for n in card.ids}
    out, last = [], 0
    for m in MARKER.finditer(text):
        n = int(m.group(1))
        if n not in targets:
            continue
        out.append(inert(text[last : m.start()]))
        target, c = targets[n]
        out.append(f'<a class="aidqa-ref" href="#{target}" title="{_preview(c)}" '
                   f'aria-label="来源 {n}：{html_text(where(c))}">[{n}]</a>')
        last = m.end()
    out.append(inert(text[last:]))
    return "".join(out)


def grounding_note(answer: Answer) -> str:
    """The note of ``aidqa.qa.rendering.grounding_note`` (the model's reply not used, or sentences left out), inert
    and in italics for the chat's Markdown."""
    note = plain_grounding_note(answer)
    return f"*{inert(note)}*" if note else ""


def new_key() -> str:
    """A fresh answer key: 12 random hex digits."""
    return secrets.token_hex(6)


def render_message(answer: Answer, key: str | None = None) -> str:
    """The bot message: how a follow-up was understood, the answer with linked markers, the grounding note, and
    the sources block. ``key`` (12 hex digits; a fresh one by default) makes the message's element ids unique on
    the page."""
    key = key or new_key()
    if not re.fullmatch(r"[0-9a-f]{12}", key):
        raise ValueError("key must be 12 hex digits")
    parts = []
    if answer.standalone_question:
        # Say how a follow-up was understood, so a wrong reading is visible at once.
        label = "Understood as" if answer.language == "en" else "按上文理解为"
        parts.append(f"*{label}：{inert(answer.standalone_question)}*")
    lines, folded = shown_lines(answer)
    parts.append("\n".join(linked(line, answer, key) for line in lines))
    if note := grounding_note(answer):
        parts.append(note)
    if not answer.refused and answer.citations:
        parts.append(sources_html(answer, key, open_=folded))
    return "\n\n".join(parts)


def partial_message(text: str) -> str:
    """A message being streamed: the verified text so far, inert, and a note that more is coming."""
    shown = inert(text.strip())
    more = '<span class="aidqa-streaming">……</span>'
    return f"{shown}\n\n{more}" if shown else '<span class="aidqa-streaming">正在查找答案……</span>'


def answer_key(content: str) -> str | None:
    """The key of the answer a bot message shows (from its sources block or its marker links), if any."""
    m = ANSWER_KEY.search(content) or re.search(r'href="#aidqa-src-([0-9a-f]{12})-\d+"', content)
    return m.group(1) if m else None


def reply_text(content: str) -> str:
    """A bot message as plain text (for the conversation history): the sources block and tags dropped."""
    text = content.split("\n\n" + SOURCES_START, 1)[0]
    text = re.sub(r"<[^>]*>", "", text)
    text = re.sub(r"\\([\[\]!@:.])", r"\1", text)
    return html.unescape(text).strip()
