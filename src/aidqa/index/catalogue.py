"""The corpus catalogue: which reports the loaded index holds and which corpus files it left out, and why.

A corpus may hold many reports. Everything above the index (restricting a question to some reports, naming the
report a quote comes from, the HTTP listing, the UI's report picker) needs the same list, so it is read here, from
the ``LoadedIndex`` as the store wrote it (documents, chunks, figures, manifest). A report's id is its file path
relative to the corpus folder, the same string as a citation's ``source``.

Two details are not in the index and are read from the corpus folder when a listing asks for them: the page count
of a paged file (from its page tree, only when the file is still the one indexed) and the reason a file was left out
(the file is examined again, as the build did; the build only logged it).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

from aidqa.index.store import LoadedIndex
from aidqa.ingest import MAX_FILE_BYTES, SkippedFile, examine_document
from aidqa.ingest.registry import by_content, by_suffix

logger = logging.getLogger(__name__)

_HEAD_BYTES = 8192  # enough for every loader's signature check (registry.by_content reads as much)


class ReportEntry(BaseModel):
    """One report of the loaded index."""

    id: str = Field(description="The report's id: its file path relative to the corpus folder, as in a citation's "
                    "`source`. This is what `documents` takes to restrict a question.")
    title: str = Field(description="The report's title (from its metadata or first heading; the file name when "
                       "it has none). `documents` also takes a title that no other report shares.")
    file: str = Field(description="The file name, without its folder.")
    format: str = Field(description="text, markdown, html, docx or pdf: the loader that read it.")
    pages: int | None = Field(description="Page count for formats with pages (PDF); null for the others.")
    chunk_count: int = Field(description="Passages of this report in the index.")
    figure_count: int = Field(description="Figures (amounts, ordinals, years, dates) extracted from this report.")
    indexed_at: str | None = Field(description="When the index holding it was built (the build's time, ISO 8601).")


class SkippedEntry(BaseModel):
    """A corpus file the index left out."""

    file: str = Field(description="Path relative to the corpus folder.")
    reason: str = Field(description="Why it cannot be used: empty file, over the size limit, not a valid PDF, no "
                        "text layer, cannot be read, …")


class UnknownReports(ValueError):
    """Some of the reports a question was restricted to are not in the index (or a title names several)."""

    def __init__(self, unknown: list[str], ambiguous: dict[str, list[str]] | None = None) -> None:
        self.unknown, self.ambiguous = unknown, ambiguous or {}
        parts = []
        if unknown:
            parts.append("no report with the id or title " + ", ".join(repr(u) for u in unknown))
        parts += [self.problems()[title] for title in self.ambiguous]
        super().__init__("; ".join(parts))

    def problems(self) -> dict[str, str]:
        """{ref: what is wrong with it}, one entry per ref that could not be resolved."""
        found = {ref: f"no report with the id or title {ref!r}" for ref in self.unknown}
        found.update({title: f"the title {title!r} names {len(ids)} reports ({', '.join(ids)}); give the id"
                      for title, ids in self.ambiguous.items()})
        return found


def report_ids(index: LoadedIndex) -> list[str]:
    """The reports of the index in the order the manifest lists them (corpus order)."""
    listed = [name for name in index.manifest.get("documents", []) if name in index.documents]
    return listed + sorted(set(index.documents) - set(listed))


def report_titles(index: LoadedIndex) -> dict[str, str]:
    """{report id: title}, in corpus order."""
    return {name: index.documents[name].title for name in report_ids(index)}


def resolve_reports(index: LoadedIndex, refs: Iterable[str]) -> list[str]:
    """The report ids that ``refs`` name, in the order given (repeats dropped). A ref is a report id (the file path
    relative to the corpus folder, exactly) or, failing that, a report title that no other report shares (surrounding
    spaces ignored). Raises ``UnknownReports`` naming every ref that matches no report, or a title that several
    reports share."""
    titles = report_titles(index)
    by_title: dict[str, list[str]] = {}
    for name, title in titles.items():
        by_title.setdefault(title.strip(), []).append(name)
    found: list[str] = []
    unknown: list[str] = []
    ambiguous: dict[str, list[str]] = {}
    for ref in refs:
        if ref in titles:
            ids = [ref]
        else:
            ids = by_title.get(ref.strip(), [])
            if len(ids) > 1:
                ambiguous[ref] = ids
                continue
        if not ids:
            unknown.append(ref)
        elif ids[0] not in found:
            found.append(ids[0])
    if unknown or ambiguous:
        raise UnknownReports(unknown, ambiguous)
    return found


def _read(path: Path, limit: int) -> bytes | None:
    """Up to ``limit`` bytes of the file, or None when it cannot be read."""
    try:
        with path.open("rb") as fh:
            return fh.read(limit)
    except OSError:
        return None


def list_reports(index: LoadedIndex, corpus_dir: Path) -> list[ReportEntry]:
    """Every report of the index with its counts; format and page count are read from the corpus file (the page
    count only when the file is still the one indexed, else the last page a passage of it lies on)."""
    chunks = Counter(c.source for c in index.chunks)
    figures = Counter(f.source for f in index.figures)
    last_page: dict[str, int] = {}
    for c in index.chunks:
        if c.page is not None:
            last_page[c.source] = max(last_page.get(c.source, 0), c.page)
    built_at = index.manifest.get("built_at")
    entries = []
    for name in report_ids(index):
        doc = index.documents[name]
        suffix = Path(name).suffix
        head = _read(Path(corpus_dir) / name, _HEAD_BYTES)  # the content says the format (a PDF saved as .txt)
        loader = (by_content(head) if head else None) or by_suffix(suffix)
        pages = last_page.get(name)  # None for a format without pages
        count_pages = getattr(loader, "count_pages", None)
        data = _read(Path(corpus_dir) / name, MAX_FILE_BYTES) if count_pages is not None else None
        if count_pages is not None and data is not None and hashlib.sha256(data).hexdigest() == doc.sha256:
            pages = count_pages(data) or pages
        entries.append(ReportEntry(
            id=name, title=doc.title, file=Path(name).name, format=loader.format if loader else suffix.lstrip("."),
            pages=pages,
            chunk_count=chunks.get(name, 0), figure_count=figures.get(name, 0), indexed_at=built_at,
        ))
    return entries


def list_skipped(index: LoadedIndex, corpus_dir: Path) -> list[SkippedEntry]:
    """The corpus files the index left out, each with the reason (the file is examined again: the build logged the
    reason but did not store it)."""
    entries = []
    for name in index.manifest.get("skipped_files", []):
        result = examine_document(Path(corpus_dir) / name, Path(corpus_dir))
        if isinstance(result, SkippedFile):
            reason = result.reason
        else:  # it reads now: it changed after the build
            reason = "could not be read when the index was built; it can be read now (the index is out of date)"
        entries.append(SkippedEntry(file=name, reason=reason))
    return entries
