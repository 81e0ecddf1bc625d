"""Files → documents. Reads the reports in the corpus folder (plain text, Markdown, HTML, DOCX, PDF), turns each
into one ``Document`` (title, stored text, blocks: see ``aidqa.ingest.document``), normalises its text once, and
skips (with a logged reason) anything it cannot read, so one bad file never stops the rest from being indexed.

One module per format (``text``, ``markdown``, ``html``, ``docx``, ``pdf``); ``registry`` picks the loader by suffix
checked against the file's content.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

# Loaders register themselves on import, in this order (a later one wins a shared suffix).
from aidqa.ingest import docx as _docx  # noqa: F401
from aidqa.ingest import html as _html  # noqa: F401
from aidqa.ingest import markdown as _markdown  # noqa: F401
from aidqa.ingest import pdf as _pdf  # noqa: F401
from aidqa.ingest import text as _text  # noqa: F401
from aidqa.ingest.document import Block, Document, heading_level, normalise_document, table_row_sentence
from aidqa.ingest.registry import Loader, LoadError, loader_for, supported_suffixes
from aidqa.zh.normalize import NormalisedText

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = supported_suffixes()
MAX_FILE_BYTES = 20 * 1024 * 1024
UNREADABLE = "unreadable"  # the fingerprint of a listed file that could not be read (see index.corpus_fingerprint)

__all__ = [
    "MAX_FILE_BYTES", "SUPPORTED_SUFFIXES", "UNREADABLE", "Block", "CorpusError", "Document", "LoadError", "Loader",
    "SourceDocument", "corpus_files", "file_sha256", "heading_level", "load_document", "loader_for",
    "no_readable_report", "read_document", "table_row_sentence",
]


@dataclass
class SourceDocument:
    """One report: where it came from, its raw text, and its normalised text with the offset map."""

    name: str  # path relative to the corpus folder, with forward slashes: the citation's ``source``
    path: Path
    sha256: str
    raw: str  # the loader's stored text (for plain text: the decoded file); ``normalised.offsets`` point into it
    normalised: NormalisedText
    format: str = "text"  # text, markdown, html, docx, pdf
    document: Document | None = field(default=None, repr=False)
    # (normalised offset, page) where a block or a page starts, in order; empty for formats without pages.
    page_starts: list[tuple[int, int]] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:
        """The stored source text that every citation's ``start``/``end`` points into."""
        return self.normalised.text

    @property
    def title(self) -> str:
        if self.document is not None and self.format != "text":
            return self.document.title
        heading = next((b for b in self.normalised.blocks if b.is_heading), None)
        return self.text[heading.start : heading.end] if heading else self.name

    def page_at(self, offset: int) -> int | None:
        """The 1-based page that ``text[offset]`` is on (formats with pages; exact to the line), else None."""
        if not self.page_starts:
            return None
        k = bisect.bisect_right(self.page_starts, (offset, float("inf"))) - 1
        return self.page_starts[max(k, 0)][1]


class CorpusError(Exception):
    """The corpus folder itself is unusable (missing, not a folder, no readable report)."""


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The report files in ``corpus_dir`` (recursively), in a stable order; hidden files are ignored."""
    if not corpus_dir.exists():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist")
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus path {corpus_dir} is not a folder")
    files = []
    real_root = corpus_dir.resolve()
    # rglob does not descend into symbolic links to folders, so a link loop cannot make this walk forever.
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in rel.parts) or path.is_dir():
            continue
        if not path.is_file():
            # Never opened: reading a named pipe would block, a device could be endless.
            logger.info("skipping %s: not a regular file (a broken or looping link, a pipe, a socket or a device)", rel)
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            logger.info("skipping %s: unsupported file type %r", rel, path.suffix)
            continue
        target = Path(os.path.realpath(path))
        if real_root not in target.parents:
            # Never read: a link must not pull a file from elsewhere on the machine into the answers.
            logger.warning("skipping %s: symbolic link to %s, outside the corpus folder", rel, target)
            continue
        files.append(path)
    return files


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_document(path: Path, corpus_dir: Path) -> SourceDocument | None:
    """Load one report, or return None (and log why) when it cannot be used."""
    result = examine_document(path, corpus_dir)
    if isinstance(result, SkippedFile):
        logger.warning("skipping %s: %s", result.name, result.reason)
        return None
    return result


@dataclass(frozen=True)
class SkippedFile:
    """A corpus file that cannot be used as a report, and why (the reason a person reads in the log)."""

    name: str  # relative to the corpus folder, like ``SourceDocument.name``
    reason: str


def examine_document(path: Path, corpus_dir: Path) -> SourceDocument | SkippedFile:
    """Load one report, or say why it cannot be used (``read_document`` logs the reason; the report catalogue shows
    it for the files the index left out)."""
    rel = path.relative_to(corpus_dir).as_posix()
    try:
        size = path.stat().st_size
        if size == 0:
            return SkippedFile(rel, "empty file")
        if size > MAX_FILE_BYTES:
            return SkippedFile(rel, f"{size} bytes is over the {MAX_FILE_BYTES}-byte limit")
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
    except OSError as exc:  # removed after it was listed, no permission, an I/O error
        return SkippedFile(rel, f"cannot read it ({exc.strerror or exc})")
    if len(data) > MAX_FILE_BYTES:
        return SkippedFile(rel, f"over the {MAX_FILE_BYTES}-byte limit")
    if not data:
        return SkippedFile(rel, "empty file")
    try:
        document = load_document(data, path.name)
    except LoadError as exc:
        return SkippedFile(rel, str(exc))
    except Exception as exc:  # a parser library failing on a damaged file must not stop the corpus
        return SkippedFile(rel, f"cannot read it as a report ({type(exc).__name__}: {exc})")
    if document.normalised is not None:
        normalised, pages = document.normalised, []
    else:
        normalised, pages = normalise_document(document)
    if not normalised.text.strip():
        return SkippedFile(rel, "no text after normalisation")
    return SourceDocument(rel, path, hashlib.sha256(data).hexdigest(), document.text, normalised,
                          format=document.format, document=document, page_starts=pages)


def load_document(data: bytes, name: str) -> Document:
    """The ``Document`` in a file's bytes (``name`` picks the loader, checked against the content). Raises
    LoadError with the reason when it cannot be read."""
    return loader_for(name, data).load(data, name)


def no_readable_report(corpus_dir: Path) -> CorpusError:
    """The error for a corpus folder where no file could be used (raised by the index build, which reads only the
    reports that changed)."""
    return CorpusError(f"no readable report ({', '.join(SUPPORTED_SUFFIXES)}) in {corpus_dir}")
