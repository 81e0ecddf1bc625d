"""Which loader reads a file: by its suffix and by what its bytes are (content sniffing).

A loader is any object with ``format``, ``suffixes``, ``sniff(head)`` and ``load(data, name)``. ``load`` returns a
``Document`` or raises ``LoadError`` with a reason a person can act on; the caller logs it and skips the file.
"""

from __future__ import annotations

import zipfile
from io import BytesIO
from typing import Protocol, runtime_checkable

from aidqa.ingest.document import Document


class LoadError(Exception):
    """A file cannot be used; the message says why (it is logged as ``skipping <file>: <message>``)."""


@runtime_checkable
class Loader(Protocol):
    format: str  # "text", "markdown", "html", "docx", "pdf"
    suffixes: tuple[str, ...]  # lower case, with the dot

    def sniff(self, head: bytes) -> bool:
        """True when the first bytes of a file say it is this format (binary formats have a signature)."""
        ...

    def load(self, data: bytes, name: str) -> Document:
        """The document in ``data`` (the whole file), or LoadError. ``name`` is the file name, for titles."""
        ...


_LOADERS: list[Loader] = []


def register(loader: Loader) -> Loader:
    """Add a loader (a later one wins for a suffix it shares with an earlier one)."""
    _LOADERS.append(loader)
    return loader


def loaders() -> list[Loader]:
    return list(_LOADERS)


def supported_suffixes() -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for loader in _LOADERS for s in loader.suffixes))


def by_suffix(suffix: str) -> Loader | None:
    suffix = suffix.lower()
    return next((lo for lo in reversed(_LOADERS) if suffix in lo.suffixes), None)


def by_content(data: bytes) -> Loader | None:
    """The loader whose signature the bytes carry (PDF, DOCX), or None for text-like content."""
    head = data[:8192]
    return next((lo for lo in reversed(_LOADERS) if lo.sniff(head)), None)


def loader_for(name: str, data: bytes) -> Loader:
    """The loader for a file, by suffix checked against content.

    - A binary format's suffix (``.pdf``, ``.docx``) whose bytes lack that format's signature: LoadError (a renamed
      or broken file is reported, never parsed as something else).
    - A text suffix whose bytes carry a binary format's signature (a PDF saved as ``.txt``): the sniffed loader.
    """
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    declared = by_suffix(suffix)
    if declared is None:
        raise LoadError(f"unsupported file type {suffix!r}")
    sniffed = by_content(data)
    if getattr(declared, "binary", False):
        if sniffed is not declared:
            found = f"its content looks like {sniffed.format}" if sniffed else "its content has no " + declared.format.upper() + " signature"
            raise LoadError(f"not a valid {declared.format.upper()} file ({found})")
        return declared
    return sniffed or declared


# ---------------------------------------------------------------------------------------------------------------
# Zip containers (DOCX): refuse bombs before anything is extracted
# ---------------------------------------------------------------------------------------------------------------

MAX_ZIP_ENTRIES = 5_000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024  # all entries together, as the archive declares them
MAX_COMPRESSION_RATIO = 200  # per entry bigger than 1 MB


def open_zip_safely(data: bytes, what: str) -> zipfile.ZipFile:
    """Open an in-memory zip after checking its directory: not a zip, too many entries, or more than
    ``MAX_UNCOMPRESSED_BYTES`` uncompressed in total (or an entry compressed more than ``MAX_COMPRESSION_RATIO``
    times) is a LoadError. Nothing is decompressed here. zipfile keeps at most an entry's declared ``file_size`` bytes
    (and fails its CRC check if there was more), so the declared sizes bound the memory extraction can take; the
    20 MB file limit and deflate's ~1000:1 ceiling bound the work."""
    try:
        zf = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise LoadError(f"not a valid {what} file (not a readable zip archive: {exc})") from exc
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise LoadError(f"refused: {what} archive has {len(infos)} entries (limit {MAX_ZIP_ENTRIES})")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise LoadError(f"refused: {what} archive would expand to {total} bytes (limit {MAX_UNCOMPRESSED_BYTES}); "
                        "possibly a zip bomb")
    for i in infos:
        if i.file_size > 1024 * 1024 and i.file_size > MAX_COMPRESSION_RATIO * max(i.compress_size, 1):
            raise LoadError(f"refused: {what} entry {i.filename!r} is compressed {i.file_size // max(i.compress_size, 1)}:1 "
                            f"(limit {MAX_COMPRESSION_RATIO}:1); possibly a zip bomb")
    return zf
