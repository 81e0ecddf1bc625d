"""Overview answers: what a report says as a whole, or its main figures, from its own structure.

"这篇报告主要讲了什么？" has no sentence that answers it, so the sentence ranker refuses it (or worse, a follow-up
rewrite repeats the previous answer). A report's structure answers it: its top-level sections, each with its lead
sentence (the first full sentence of the section), quoted and cited like any other answer. "报告中有哪些主要数据？"
gets each section's first sentence that states an amount. A report without headings (news, a speech) is outlined
by the lead sentences of its paragraphs. A question over several reports gets each report's lead sentence.

Which sections are top-level is read from the headings' numbering (一、 above （一）, 第一章 above 第一节;
``aidqa.ingest.document.heading_level``): the outermost level, and the next levels in while the parts stay within
``answering.overview_max_sections``. Nothing here is fitted: the limits are presentation settings
(``answering.overview_*``).
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass

from aidqa.index.catalogue import report_ids
from aidqa.index.chunking import Chunk
from aidqa.index.store import LoadedIndex
from aidqa.ingest.document import heading_level, is_caption
from aidqa.models import Citation
from aidqa.qa.analysis import asks_overview, overview_residue
from aidqa.qa.answerers.base import Extraction
from aidqa.qa.grounding import report_label
from aidqa.qa.rendering import REFUSAL
from aidqa.settings import AnsweringSettings
from aidqa.zh.chars import fold_for_match, is_han
from aidqa.zh.segment import TABLE_ROW_RE, char_bigrams, split_sentences

logger = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"[。！？!?；;][”’」』）)\"']*$")
# A sentence wholly in brackets is an editor's aside ((原标题：…), (记者 …)), not what a part says.
_ASIDE = re.compile(r"^[（(【\[].*[）)】\]]$")


def _plain(text: str) -> str:
    """Text compared without spaces, quote styles and width differences."""
    return re.sub(r"[\s\"“”'‘’]", "", fold_for_match(text))


@dataclass(frozen=True)
class Lead:
    """The sentence that opens a part of a report (``text[start:end]``), in the passage ``chunk``; it is shown under
    the heading of the section it stands in (``chunk.section``), which the citation carries."""

    chunk: Chunk
    start: int
    end: int


def top_sections(chunks: list[Chunk], max_parts: int) -> list[tuple[str, list[Chunk]]]:
    """A report's passages (in order) grouped into its parts: (heading, passages). The parts are the sections
    numbered at the outermost level and, while the count stays within ``max_parts``, the next levels in (第X节 under
    第X章: a chapter whose text starts with its first 节 has no passage of its own to quote). A section under a part
    (a caption, an unnumbered heading, a deeper level) stays with it; text before the first part is a part of its
    own. Without numbering, every heading is a part."""
    runs: list[tuple[str, list[Chunk]]] = []
    for chunk in chunks:
        if runs and runs[-1][0] == chunk.section:
            runs[-1][1].append(chunk)
        else:
            runs.append((chunk.section, [chunk]))
    levels = [heading_level(heading) if heading and not is_caption(heading) else None for heading, _ in runs]
    present = sorted({level for level in levels if level is not None})
    if not present or (len(present) == 1 and levels.count(present[0]) < 2):
        return runs
    depth = present[0]
    for level in present[1:]:
        if sum(1 for x in levels if x is not None and x <= level) > max_parts:
            break
        depth = level
    groups: list[tuple[str, list[Chunk]]] = []
    for (heading, run), level in zip(runs, levels):
        if (level is not None and level <= depth) or not groups:
            groups.append((heading, list(run)))
        else:
            groups[-1][1].extend(run)
    return groups


def lead_sentences(text: str, chunks: list[Chunk], min_chars: int, wanted=None) -> list[tuple[Chunk, int, int]]:
    """The full sentences of ``chunks`` in order, each once (passages overlap), with the passage holding it: a
    sentence that ends with sentence punctuation, holds at least ``min_chars`` Chinese characters or letters and
    is not a table row; ``wanted(start, end)``, when given, must also hold."""
    found: list[tuple[Chunk, int, int]] = []
    covered = -1
    for chunk in chunks:
        for s, e in split_sentences(text, chunk.start, chunk.end):
            if s < covered:
                continue
            covered = e
            sentence = text[s:e]
            if (sum(1 for ch in sentence if is_han(ch) or ch.isalpha()) >= min_chars and _SENTENCE_END.search(sentence)
                    and not TABLE_ROW_RE.match(sentence) and not _ASIDE.match(sentence)
                    and (wanted is None or wanted(s, e))):
                found.append((chunk, s, e))
    return found


def outline(text: str, chunks: list[Chunk], min_chars: int, max_parts: int, wanted=None) -> list[Lead]:
    """One lead per top-level section of a report (the first qualifying sentence of each; a section without one is
    left out). With fewer than two sections holding one, the report's paragraphs stand in: the first qualifying
    sentence of each paragraph."""
    leads: list[Lead] = []
    for _heading, group in top_sections(chunks, max_parts):
        first = lead_sentences(text, group, min_chars, wanted)[:1]
        leads += [Lead(chunk, s, e) for chunk, s, e in first]
    if len(leads) >= 2:
        return leads
    paragraphs: list[Lead] = []
    seen_paragraphs: set[int] = set()
    for chunk, s, e in lead_sentences(text, chunks, min_chars, wanted):
        paragraph = text.rfind("\n\n", 0, s)
        if paragraph not in seen_paragraphs:
            seen_paragraphs.add(paragraph)
            paragraphs.append(Lead(chunk, s, e))
    return paragraphs if len(paragraphs) > len(leads) else leads


class Overviewer:
    """Overview answers over one loaded index: which questions are overview questions, and their answers."""

    def __init__(self, index: LoadedIndex, settings: AnsweringSettings) -> None:
        self.index = index
        self.settings = settings
        self._chunks: dict[str, list[Chunk]] | None = None
        self._figures: dict[str, list[tuple[int, int]]] | None = None
        self._titles = {name: fold_for_match(doc.title) for name, doc in index.documents.items()}

    def kind(self, question: str, sources: Collection[str] | None) -> str | None:
        """"outline" or "figures" when ``question`` asks for an overview of the reports ``sources`` (all when
        None): it has an overview cue and names nothing but words of those reports' titles (English words through
        the dictionary); None otherwise."""
        kind = asks_overview(question)
        if kind is None:
            return None
        names = [n for n in self._titles if sources is None or n in sources]
        titles = "\0".join(self._titles[n] for n in names)
        lexicon = self.index.keywords.lexicon
        for word in overview_residue(question):
            if word.isascii():
                if not any(fold_for_match(zh) in titles for zh in lexicon.translate(word.lower())):
                    return None
            elif not set(char_bigrams(fold_for_match(word))) <= set(char_bigrams(titles)):
                return None
        return kind

    def _report_chunks(self, source: str) -> list[Chunk]:
        if self._chunks is None:
            by_source: dict[str, list[Chunk]] = {}
            for chunk in self.index.chunks:
                by_source.setdefault(chunk.source, []).append(chunk)
            self._chunks = {name: sorted(found, key=lambda c: c.start) for name, found in by_source.items()}
        return self._chunks.get(source, [])

    def _amounts(self, source: str) -> list[tuple[int, int]]:
        """(start, end) of the report's amount figures, in order."""
        if self._figures is None:
            by_source: dict[str, list[tuple[int, int]]] = {}
            for f in self.index.figures:
                if f.kind == "amount":
                    by_source.setdefault(f.source, []).append((f.start, f.end))
            self._figures = {name: sorted(spans) for name, spans in by_source.items()}
        return self._figures.get(source, [])

    def answer(self, kind: str, language: str, sources: Collection[str] | None) -> Extraction:
        """The overview of the reports ``sources`` (all when None): one report's parts, or each report's lead."""
        names = [n for n in report_ids(self.index) if sources is None or n in sources]
        limit = self.settings.overview_max_sections
        several = len(names) > 1
        leads: list[tuple[str, Lead]] = []
        highlights: dict[str, list[tuple[int, int]]] = {}
        for name in names[: self.settings.overview_max_reports] if several else names:
            text = self.index.documents[name].text
            wanted = None
            if kind == "figures":
                spans = highlights[name] = self._amounts(name)

                def wanted(start: int, end: int, spans=spans) -> bool:  # the sentence holds an amount figure
                    i = bisect.bisect_left(spans, (start, start))
                    return i < len(spans) and spans[i][1] <= end
            found = outline(text, self._report_chunks(name), self.settings.overview_min_lead_chars, limit, wanted)
            leads += [(name, lead) for lead in (found[:1] if several else found[: limit + 1])]
        if not leads:
            return Extraction(REFUSAL[language], True, [], "no section of the reports has a lead sentence")
        truncated = (several and len(names) > self.settings.overview_max_reports) or (not several and len(leads) > limit)
        leads = leads[:limit] if not several else leads
        citations = [self._citation(i + 1, name, lead, highlights.get(name, [])) for i, (name, lead) in enumerate(leads)]
        return Extraction(self._render(kind, language, several, citations, truncated), False, citations,
                          f"overview ({kind}) of {len(names)} report(s)")

    def _citation(self, n: int, source: str, lead: Lead, figures: list[tuple[int, int]]) -> Citation:
        doc = self.index.documents[source]
        raw_start, raw_end = doc.raw_span(lead.start, lead.end)
        return Citation(
            id=n, source=source, title=doc.title, page=lead.chunk.page, section=lead.chunk.section,
            quote=doc.text[lead.start:lead.end], start=lead.start, end=lead.end, score=1.0, passage=lead.chunk.text,
            passage_start=lead.chunk.start, raw_start=raw_start, raw_end=raw_end,
            highlights=figures[bisect.bisect_left(figures, (lead.start, lead.start)):bisect.bisect_left(figures, (lead.end, lead.end))],
        )

    def _render(self, kind: str, language: str, several: bool, citations: list[Citation], truncated: bool) -> str:
        en = language == "en"
        if several:
            intro = ("The reports (the first sentence of each" + (" that states a figure" if kind == "figures" else "")
                     + ", quoted in Chinese):") if en else (
                "各报告" + ("的主要数据（每份报告首个含数据的句子）：" if kind == "figures" else "的主要内容（每份报告的首句）："))
            lines = [f"{report_label(c)}{' ' if en else '：'}{c.quote} [{c.id}]" for c in citations]
        else:
            label = report_label(citations[0])
            if en:
                intro = (f"Main figures of {label} (the first sentence with a figure in each part, quoted in Chinese):"
                         if kind == "figures" else f"The parts of {label} (the first sentence of each, quoted in Chinese):")
            else:
                intro = f"{label}的主要数据（各部分首个含数据的句子）：" if kind == "figures" else f"{label}的主要内容（各部分的首句）："
            lines = []
            previous = None
            for c in citations:
                heading = c.section.lstrip("#").strip()
                # A heading is shown once, before its part's first lead (paragraph leads share their section's).
                shown = heading and heading != previous and _plain(heading) != _plain(c.title) and heading not in c.quote
                previous = heading
                lines.append(f"{heading}{': ' if en else '：'}{c.quote} [{c.id}]" if shown else f"{c.quote} [{c.id}]")
        if truncated:
            lines.append("… (not all are listed; name a report or a part in the question to see more)" if en
                         else "……（未全部列出；在问题中写明报告名称或具体方面可以看到更多）")
        return "\n".join([intro, *lines])
