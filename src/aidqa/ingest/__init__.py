"""Files → documents. Reads the reports in the corpus folder, normalises their text once, and skips (with a
logged reason) anything it cannot read, so one bad file never stops the rest from being indexed."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from aidqa.text import NormalisedText, normalise

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown")
MAX_FILE_BYTES = 20 * 1024 * 1024
UNREADABLE = "unreadable"  # the fingerprint of a listed file that could not be read (see index.corpus_fingerprint)


@dataclass
class SourceDocument:
    """One report: where it came from, its raw text, and its normalised text with the offset map."""

    name: str  # path relative to the corpus folder, with forward slashes: the citation's ``source``
    path: Path
    sha256: str
    raw: str
    normalised: NormalisedText

    @property
    def text(self) -> str:
        """The stored source text that every citation's ``start``/``end`` points into."""
        return self.normalised.text

    @property
    def title(self) -> str:
        heading = next((b for b in self.normalised.blocks if b.is_heading), None)
        return self.text[heading.start : heading.end] if heading else self.name


class CorpusError(Exception):
    """The corpus folder itself is unusable (missing, not a folder, no readable report)."""


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The report files in ``corpus_dir`` (recursively), in a stable order; hidden files are ignored."""
    if not corpus_dir.exists():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist")
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus path {corpus_dir} is not a folder")
    files = []
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
    rel = path.relative_to(corpus_dir).as_posix()
    try:
        size = path.stat().st_size
        if size == 0:
            logger.warning("skipping %s: empty file", rel)
            return None
        if size > MAX_FILE_BYTES:
            logger.warning("skipping %s: %d bytes is over the %d-byte limit", rel, size, MAX_FILE_BYTES)
            return None
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
    except OSError as exc:  # removed after it was listed, no permission, an I/O error
        logger.warning("skipping %s: cannot read it (%s)", rel, exc.strerror or exc)
        return None
    if len(data) > MAX_FILE_BYTES:
        logger.warning("skipping %s: over the %d-byte limit", rel, MAX_FILE_BYTES)
        return None
    if not data:
        logger.warning("skipping %s: empty file", rel)
        return None
    if b"\x00" in data:
        logger.warning("skipping %s: binary file (contains NUL bytes)", rel)
        return None
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        logger.warning("skipping %s: not valid UTF-8 (%s)", rel, exc)
        return None
    normalised = normalise(raw)
    if not normalised.text.strip():
        logger.warning("skipping %s: no text after normalisation", rel)
        return None
    return SourceDocument(rel, path, hashlib.sha256(data).hexdigest(), raw, normalised)


def load_corpus(corpus_dir: Path) -> list[SourceDocument]:
    """All usable reports in ``corpus_dir``. Raises CorpusError if there is none."""
    docs = [d for d in (read_document(p, corpus_dir) for p in corpus_files(corpus_dir)) if d is not None]
    if not docs:
        raise CorpusError(f"no readable report (.txt/.md, UTF-8) in {corpus_dir}")
    return docs
