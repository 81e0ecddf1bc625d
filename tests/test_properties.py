"""Property-based tests (hypothesis) on generated report-like Chinese text: headings, paragraphs, sentences with
decimals (18.51), percentages, thousands (1,000), full-width digits, stray and ideographic spaces, zero-width
characters, blank lines, CRLF, form feeds and page breaks inside a sentence.

test_text.py already checks, on a character soup, that offsets are in range and sorted and that body text is
covered by chunks; these go further: the exact character-level rewrite rules of ``normalise``, that no text is lost,
the block structure, chunk order/overlap/heading/size rules and figure offsets and values.
"""

from __future__ import annotations

import math
import os
import unicodedata

from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from aidqa.index.chunking import _units, chunk_document
from aidqa.index.figures import extract_figures
from aidqa.ingest import SourceDocument
from aidqa.settings import ChunkingSettings
from aidqa.zh.chars import fold_width
from aidqa.zh.normalize import normalise
from aidqa.zh.numbers import UNITS, inside_number
from aidqa.zh.segment import split_sentences

# 80 examples per property in the full run; AIDQA_FAST_PROPERTIES=1 (make test-fast) takes 25 for the edit-test loop.
PROPERTY_SETTINGS = hsettings(max_examples=25 if os.environ.get("AIDQA_FAST_PROPERTIES") else 80, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])

# ---- generators --------------------------------------------------------------------------------------------------

WORDS = ["天津", "黄南州", "对口支援", "累计投入", "资金", "项目", "实施", "援青", "医院", "教育", "培训", "人次",
         "干部", "群众", "产业", "合作", "建设", "工程", "发展", "就业", "帮扶", "河南县", "泽库县", "同仁市", "协议"]
HEADING_WORDS = ["探索", "五和共为", "新路径", "丰富", "产业和弦", "抓牢", "民生和美", "用心用力用情", "交流交往"]
FULL_WIDTH_DIGITS = str.maketrans("0123456789.", "０１２３４５６７８９．")

integers = st.integers(0, 99999).map(str)
decimals = st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 9999), st.integers(0, 99).map(lambda b: f"{b:02d}"))
thousands = st.builds(lambda a, b: f"{a},{b:03d}", st.integers(1, 999), st.integers(0, 999))
numbers = st.one_of(integers, decimals, thousands, decimals.map(lambda d: d + "%"), integers.map(lambda i: i + "%"),
                    st.one_of(integers, decimals).map(lambda n: n.translate(FULL_WIDTH_DIGITS)))
# A number is followed by its unit, as in the reports (two numbers glued together would be one long digit run).
quantities = st.builds(lambda n, unit: n + unit, numbers, st.sampled_from(["亿元", "万元", "个", "人次", "以上", "余家", "项", "名"]))
noise = st.sampled_from([" ", "  ", "\u3000", "\u200b", "\u00a0", "\t", "\ufeff"])
inner_punct = st.sampled_from(["，", ",", "、", "：", ":", "（", "）", "(", ")", "“", "”", '"'])
enders = st.sampled_from(["。", "！", "？", "；", ";", "!", "?", "…", "。”", ""])


@st.composite
def sentences(draw) -> str:
    parts = draw(st.lists(st.one_of(st.sampled_from(WORDS), quantities, noise, inner_punct), min_size=1, max_size=12))
    if not any(p in WORDS for p in parts):
        parts.insert(0, draw(st.sampled_from(WORDS)))
    return "".join(parts) + draw(enders)


@st.composite
def long_sentences(draw) -> str:
    """A sentence with no comma, longer than most chunk limits: the chunker must cut it hard, between numbers."""
    parts = draw(st.lists(st.one_of(st.sampled_from(WORDS), quantities), min_size=12, max_size=40))
    return "".join(parts) + "。"


@st.composite
def paragraphs(draw) -> str:
    return "".join(draw(st.lists(st.one_of(sentences(), sentences(), long_sentences()), min_size=1, max_size=5)))


@st.composite
def headings(draw) -> str:
    words = draw(st.lists(st.sampled_from(HEADING_WORDS), min_size=1, max_size=4))
    style = draw(st.sampled_from(["plain", "markdown", "two-halves"]))
    if style == "markdown":
        return "# " + "".join(words)
    if style == "two-halves":
        return '丰富"产业和弦" ' + "".join(words)
    return "".join(words)


breaks = st.sampled_from(["\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", "\n\x0c\n", "\n  \n", "\n\u3000\n"])


@st.composite
def reports(draw) -> str:
    """A report: blocks (headings and paragraphs) separated by line breaks, blank lines and form feeds; now and
    then a paragraph is cut mid-sentence by a page break."""
    blocks = draw(st.lists(st.one_of(headings(), paragraphs(), paragraphs()), min_size=1, max_size=8))
    out = []
    for block in blocks:
        if len(block) > 6 and draw(st.booleans()) and not block.startswith(("#", "丰富")):
            cut = draw(st.integers(1, len(block) - 1))
            block = block[:cut] + draw(st.sampled_from(["\n\n", "\n\x0c\n", "\n"])) + block[cut:]
        out.append(block)
        out.append(draw(breaks))
    return draw(noise | st.just("")) + "".join(out)


def _doc(raw: str) -> SourceDocument:
    return SourceDocument("x.txt", None, "0", raw, normalise(raw))  # type: ignore[arg-type]


# ---- normalisation -------------------------------------------------------------------------------------------------


FULL_WIDTH_PUNCT = "，；：！？（）"


def _allowed_rewrite(raw_ch: str, ch: str) -> bool:
    """The documented per-character rewrites of ``normalise`` (written out here, not taken from text.py): full-width
    digits and letters → ASCII, space-like → " ", ASCII punctuation inside Chinese → full width (and a bracket
    pair made full width). Nothing else changes a character."""
    if ch == raw_ch:
        return True
    if raw_ch.isspace():
        return ch == " "
    if fold_width(raw_ch) != fold_width(ch):
        return False
    return ch.isascii() or ch in FULL_WIDTH_PUNCT


def _dropped_by_rule(raw_ch: str) -> bool:
    """Characters ``normalise`` may drop: whitespace (collapsed, or stray inside Chinese) and zero-width, format and
    control characters (Unicode categories Cc, Cf, Cs, Co, Cn)."""
    return raw_ch.isspace() or unicodedata.category(raw_ch) in ("Cc", "Cf", "Cs", "Co", "Cn")


@PROPERTY_SETTINGS
@given(reports())
def test_normalised_characters_map_to_their_raw_characters(raw):
    n = normalise(raw)
    assert len(n.offsets) == len(n.text)
    for k, (ch, o) in enumerate(zip(n.text, n.offsets)):
        assert 0 <= o < len(raw)
        if ch == "\n":
            # Block separators are inserted; they point at the last character of the block before them.
            assert k > 0 and o == n.offsets[k - 1]
            continue
        assert _allowed_rewrite(raw[o], ch), (k, ch, raw[o])
        # Strictly increasing: no raw character is used twice, none reordered.
        assert k == 0 or o > n.offsets[k - 1]


@PROPERTY_SETTINGS
@given(reports())
def test_normalisation_loses_no_text(raw):
    """Every raw character that is not a space, line break, zero-width or control character is in the output."""
    n = normalise(raw)
    kept = set(n.offsets)
    lost = [(i, c) for i, c in enumerate(raw) if i not in kept and not _dropped_by_rule(c)]
    assert not lost
    assert not any(unicodedata.category(c) in ("Cc", "Cf") and c != "\n" for c in n.text)


@PROPERTY_SETTINGS
@given(reports())
def test_blocks_tile_the_text_and_raw_spans_round_trip(raw):
    n = normalise(raw)
    assert n.text == "\n\n".join(n.text[b.start : b.end] for b in n.blocks)
    for b in n.blocks:
        block = n.text[b.start : b.end]
        assert block and "\n" not in block and block == block.strip()
        rs, re_ = n.raw_span(b.start, b.end)
        # The raw span holds the same characters, less what normalisation drops, under the same rewrites.
        raw_kept = [c for c in raw[rs:re_] if not _dropped_by_rule(c)]
        assert fold_width("".join(raw_kept)) == fold_width(block.replace(" ", ""))


# ---- chunking ------------------------------------------------------------------------------------------------------


def _sections(n):
    """(heading text, start, end) of each run of body blocks, as the chunker documents it."""
    runs, heading, body = [], "", []
    for b in n.blocks:
        if b.is_heading:
            if body:
                runs.append((heading, body[0].start, body[-1].end))
            body, heading = [], n.text[b.start : b.end].lstrip("#").strip()
        else:
            body.append(b)
    if body:
        runs.append((heading, body[0].start, body[-1].end))
    return runs


chunk_settings = st.builds(
    lambda lo, span, overlap: ChunkingSettings(min_chars=lo, max_chars=max(50, lo + span), overlap_sentences=overlap),
    st.integers(20, 120), st.integers(0, 150), st.integers(0, 3),
)


@PROPERTY_SETTINGS
@given(reports(), chunk_settings)
def test_chunks_are_ordered_slices_within_one_section_and_never_cut_numbers(raw, cfg):
    doc = _doc(raw)
    text = doc.text
    chunks = chunk_document(doc, cfg)
    sections = _sections(doc.normalised)
    headings = [(b.start, b.end) for b in doc.normalised.blocks if b.is_heading]
    for k, c in enumerate(chunks):
        assert text[c.start : c.end] == c.text and c.ordinal == k
        assert 0 < len(c.text) <= cfg.max_chars
        assert not inside_number(text, c.start) and not inside_number(text, c.end)
        # Inside one section, under its heading; never over a heading.
        section = [s for s in sections if s[1] <= c.start and c.end <= s[2]]
        assert len(section) == 1 and section[0][0] == c.section
        assert not any(hs < c.end and c.start < he for hs, he in headings)
    for a, b in zip(chunks, chunks[1:]):
        assert (a.start, a.end) < (b.start, b.end)


@PROPERTY_SETTINGS
@example(raw="探索\n天津。天津天津天津天津天津天津天津天津天津黄南州对口支援100,000。”天津000.00黄南州00.00。\n",
         cfg=ChunkingSettings(min_chars=20, max_chars=50, overlap_sentences=1))
@given(reports(), chunk_settings)
def test_every_chunk_adds_text_the_previous_one_did_not_have(raw, cfg):
    chunks = chunk_document(_doc(raw), cfg)
    for a, b in zip(chunks, chunks[1:]):
        if a.section == b.section:
            assert a.start < b.start and a.end < b.end, (a, b)


@PROPERTY_SETTINGS
@given(reports(), chunk_settings)
def test_chunks_cover_every_section_and_overlap_only_as_declared(raw, cfg):
    doc = _doc(raw)
    text = doc.text
    chunks = chunk_document(doc, cfg)
    for _heading, start, end in _sections(doc.normalised):
        mine = [c for c in chunks if start <= c.start and c.end <= end]
        covered = set()
        for c in mine:
            covered.update(range(c.start, c.end))
        assert all(i in covered for i in range(start, end) if not text[i].isspace())
        units = _units(text, start, end, cfg.max_chars)
        for a, b in zip(mine, mine[1:]):
            shared = [u for u in units if b.start <= u[0] and u[1] <= a.end]
            if len(shared) <= cfg.overlap_sentences:
                continue
            # More overlap only for a section's short last chunk, which starts earlier to reach min_chars: without
            # its first unit it would be under min_chars.
            assert b is mine[-1], (len(shared), cfg)
            second = next(u for u in units if u[0] > b.start)
            assert b.end - second[0] < cfg.min_chars


# ---- figures -------------------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(reports())
def test_every_figure_is_located_exactly(raw):
    text = normalise(raw).text
    figures = extract_figures(text, "x.txt", lambda offset: "")
    sentence_spans = split_sentences(text)
    for f in figures:
        assert 0 <= f.start < f.end <= len(text)
        assert text[f.start : f.end] == f.raw
        assert text[f.sentence_start : f.sentence_start + len(f.sentence)] == f.sentence
        assert (f.sentence_start, f.sentence_start + len(f.sentence)) in sentence_spans or f.sentence == f.raw
    assert [f.start for f in figures] == sorted(f.start for f in figures)
    assert all(a.end <= b.start for a, b in zip(figures, figures[1:]))


SIMPLE_UNITS = [u for u in UNITS if u not in ("余人", "万人")]
han_context = st.lists(st.sampled_from(WORDS + ["，", "。", "；"]), min_size=0, max_size=6).map("".join)
plain_numbers = st.one_of(st.integers(1, 99999).map(str), decimals.filter(lambda d: float(d) > 0), thousands)


@PROPERTY_SETTINGS
@given(han_context, plain_numbers, st.sampled_from(["", "万", "亿"]), st.sampled_from(SIMPLE_UNITS), han_context,
       st.booleans())
def test_a_number_with_a_unit_in_chinese_text_is_found_with_its_value(before, number, multiplier, unit, after, wide):
    written = number.translate(FULL_WIDTH_DIGITS) if wide else number
    raw = f"{before}{written}{multiplier}{unit}{after}"
    n = normalise(raw)
    at = n.text.index(number)  # the number survives normalisation (folded to ASCII when written full width)
    figures = extract_figures(n.text, "x.txt", lambda offset: "")
    found = [f for f in figures if f.start <= at < f.end]
    assert len(found) == 1, (n.text, figures)
    f = found[0]
    expected = float(number.replace(",", "")) * {"": 1, "万": 1e4, "亿": 1e8}[multiplier]
    assert math.isclose(f.value, expected, rel_tol=1e-9), (f.value, expected)
    assert n.text[f.start : f.end] == f.raw and number in f.raw
    # …and the figure maps back to where it is written in the raw file.
    rs, re_ = n.raw_span(f.start, f.end)
    assert written in raw[rs:re_]
