"""Plain text: the bytes' encoding is found (a BOM first, then strict UTF-8, then charset-normalizer limited to the
encodings Chinese reports come in), and the text goes through ``aidqa.zh.normalize.normalise`` exactly as before, so a
UTF-8 report gives the same stored text, blocks and chunks as it always did."""

from __future__ import annotations

import codecs

from aidqa.ingest.document import Block, Document, heading_level
from aidqa.ingest.registry import LoadError, register
from aidqa.zh.normalize import NormalisedText, normalise

_BOMS = (  # UTF-32 before UTF-16: FF FE 00 00 starts with FF FE
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# What charset-normalizer may choose between: the encodings Chinese reports are saved in. Limiting the candidates
# is what makes short texts come out right (unrestricted, 6 GBK characters are read as Korean cp949).
_CANDIDATES = ["gb18030", "big5", "utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be"]
_MAX_CHAOS = 0.2


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding). Raises LoadError when the bytes are not text in a supported encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise LoadError(f"not valid {encoding.upper()} although it starts with its byte-order mark ({exc})") from exc
    from charset_normalizer import from_bytes

    if b"\x00" in data:
        # NUL bytes: UTF-16/32 text without a BOM, or a binary file (an image, an archive, a database). NUL is valid
        # UTF-8, so this comes before the UTF-8 check.
        best = from_bytes(data, cp_isolation=[c for c in _CANDIDATES if c.startswith("utf")]).best()
        if best is None or best.chaos > _MAX_CHAOS:
            raise LoadError("binary file (contains NUL bytes)")
        return data.decode(best.encoding), best.encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    best = from_bytes(data, cp_isolation=_CANDIDATES).best()
    if best is None or best.chaos > _MAX_CHAOS:
        raise LoadError(f"not valid UTF-8 ({utf8_error}) and not GBK/GB18030, Big5 or UTF-16 text either")
    encoding = "gb18030" if best.encoding in ("gb2312", "gbk") else best.encoding
    return data.decode(encoding), encoding


def blocks_of(raw: str, normalised: NormalisedText) -> list[Block]:
    """The document blocks of plain text: normalise's paragraphs and headings, as spans of the raw text."""
    blocks = []
    for b in normalised.blocks:
        start, end = normalised.raw_span(b.start, b.end)
        text = normalised.text[b.start : b.end]
        level = (heading_level(text, loose=True) or 1) if b.is_heading else None
        blocks.append(Block("heading" if b.is_heading else "paragraph", start, end, raw[start:end], level))
    return blocks


class TextLoader:
    format = "text"
    suffixes = (".txt", ".text")
    binary = False

    def sniff(self, head: bytes) -> bool:
        return False  # text has no signature; it is what is left when nothing else matches

    def load(self, data: bytes, name: str) -> Document:
        raw, _encoding = decode_text(data)
        return text_document(raw, name, self.format)


def text_document(raw: str, name: str, fmt: str = "text") -> Document:
    """A plain-text Document. Its stored text is the decoded file itself (what ``normalise`` runs over, as
    always); headings are the short unpunctuated lines ``normalise`` finds."""
    normalised = normalise(raw)
    blocks = blocks_of(raw, normalised)
    heading = next((b for b in normalised.blocks if b.is_heading), None)
    title = normalised.text[heading.start : heading.end] if heading else name
    return Document(title=title, text=raw, blocks=blocks, format=fmt, normalised=normalised)


LOADER = register(TextLoader())
