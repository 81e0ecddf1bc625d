"""Report formats in, one Document/Block model out: the real shared dev reports (PDF, DOCX, HTML, Markdown, text),
small generated fixtures (GBK / UTF-16 / UTF-8-BOM text, a tiny DOCX and HTML), and files that must be skipped with
a reason (broken PDF, fake DOCX, zip bomb, binary junk, a link out of the corpus). Ends with an end-to-end question
over a PDF and a table-bearing report.

The shared reports are read from ``../shared/dev-reports/`` beside the repository (never copied into it: the HTML
page is GPL-3.0); without that folder those tests are skipped with the reason.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import zipfile
import zlib
from pathlib import Path

import pytest

from aidqa.ingest import (
    Document,
    LoadError,
    SourceDocument,
    corpus_files,
    heading_level,
    load_document,
    read_document,
    table_row_sentence,
)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "dev-reports"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared dev reports not found at {SHARED}")

QDN_PDF = "qiandongnan-2023-statistical-communique.pdf"
ZK_PDF = "zhoukou-2023-statistical-communique.pdf"
QDN_MD = "qiandongnan-2023-statistical-communique.md"
OSS_MD = "china-open-source-2023-data-chapter.md"
ESG_MD = "fuxiang-pharma-2024-esg-report.md"
DOCX = "nuclear-psr-part1-standard-draft-2023.docx"
HTML = "longfor-2019-netease-finance-news.html"
TXT = ["sichuan-2026-government-work-report.txt", "state-council-2016-eco-environment-plan.txt"]
ALL = [QDN_PDF, ZK_PDF, QDN_MD, OSS_MD, ESG_MD, DOCX, HTML, *TXT]

_docs: dict[str, Document] = {}


def shared_doc(name: str) -> Document:
    if name not in _docs:
        path = SHARED / name
        _docs[name] = load_document(path.read_bytes(), name)
    return _docs[name]


def shared_source(name: str) -> SourceDocument:
    doc = read_document(SHARED / name, SHARED)
    assert doc is not None, name
    return doc


# ---- the model ---------------------------------------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("name", ALL)
def test_every_block_points_at_its_own_text(name):
    doc = shared_doc(name)
    assert doc.blocks and doc.title
    prev_end = 0
    for b in doc.blocks:
        assert doc.text[b.start : b.end] == b.text, (name, b)
        assert b.text.strip() == b.text and b.start >= prev_end
        assert (b.level is not None) == (b.kind == "heading")
        prev_end = b.end
    if doc.format != "text":  # structured formats: one line per block, blocks separated by a blank line
        assert all("\n" not in b.text for b in doc.blocks)
    src = shared_source(name)
    # The normalised text (what chunks and citations use) maps back into the stored text exactly.
    assert src.raw == doc.text and len(src.normalised.offsets) == len(src.text)
    assert all(0 <= o < len(src.raw) for o in src.normalised.offsets)


def test_heading_rule_is_one_function_for_chinese_numbering():
    assert heading_level("第三章 深化质量管理") == 1
    assert heading_level("一、综 合") == 2
    assert heading_level("（二）加强生态保护") == 3
    assert heading_level("1.1 基础事件") == 4 and heading_level("6.1.3要素/专项报告") == 4
    assert heading_level("1、总体要求") == 4 and heading_level("2. 范围") == 4
    assert heading_level("表1 2023年年末户籍人口及其构成") == 4
    assert heading_level("任意文字", marked=2) == 2  # Markdown #, <h2>, a DOCX heading style
    # Body text that merely opens with a number is not a heading.
    assert heading_level("（一）加强监管，提升质量。全年完成目标。") is None
    assert heading_level("1.25亿元用于建设") is None
    assert heading_level("全年全州农林牧渔业增加值290.41亿元，比上年增长4.2%。") is None


def test_table_row_sentence_keeps_the_header_with_every_value():
    s = table_row_sentence("粮食", [("产量（吨）", "1223474"), ("比上年增长（%）", "1.8")])
    assert s == "粮食 · 产量（吨）：1223474；比上年增长（%）：1.8。"
    assert table_row_sentence("全市常住人口", [("年末数（万人）", "866.60"), ("比重（%）", "")]) == "全市常住人口 · 年末数（万人）：866.60。"


# ---- PDF ---------------------------------------------------------------------------------------------------------


@needs_shared
def test_qiandongnan_pdf_pages_markers_units_and_tables():
    doc = shared_doc(QDN_PDF)
    src = shared_source(QDN_PDF)
    assert doc.format == "pdf" and doc.pages == 21
    assert not re.search(r"[—-]\s*\d{1,2}\s*[—-]", doc.text), "a page marker is left"
    # Page numbers of known sentences (block pages, 1-based).
    i = src.text.index("全年全州人均生产总值35511元")
    assert src.page_at(i) == 1
    i = src.text.index("年末全州常住人口375.73万人")
    assert src.page_at(i) == 2
    # A table cut by a page break goes on with its header: rows on page 3 of 表1 (begun on page 2).
    row = next(b for b in doc.blocks if b.text.startswith("#男性 ·"))
    assert row.kind == "table_row" and row.page == 3 and row.text == "#男性 · 年末数（人）：2617299；比重（%）：53.4。"
    # A line broken between a number and its unit is joined without a gap: 烤烟产量 1.34 / 万吨.
    assert "烤烟产量1.34万吨" in src.text and "1.34万吨" in doc.text
    # Letter-spaced justified lines are closed up.
    assert "第二产业增加值比重为" in src.text and "第 二 产" not in doc.text
    heads = [b.text for b in doc.headings()]
    assert "一、综合" in heads and "表3 2023年主要农产品产量" in heads
    assert "粮食 · 产量（万吨）：133.77；比上年增长（%）：-2.3。" in [b.text for b in doc.table_rows()]


@needs_shared
def test_zhoukou_pdf_glued_markers_spaced_title_and_a_unit_over_a_page_break():
    doc = shared_doc(ZK_PDF)
    src = shared_source(ZK_PDF)
    assert doc.pages == 13 and not re.search(r"-\s*\d{1,2}\s*-", doc.text)
    assert doc.title.replace(" ", "") == "2023年周口市国民经济和社会发展统计公报"
    assert "周口市统计局" in doc.text  # was 周 口 市 统 计 局
    i = src.text.index("年末全市常住人口866.60万人")
    assert src.page_at(i) == 1
    # 牛奶产量 4.32 ends page 3, 万吨 starts page 4: one sentence, number and unit together.
    i = src.text.index("牛奶产量4.32万吨，增长10.9%")
    assert src.page_at(i) == 3
    rows = [b.text for b in doc.table_rows()]
    assert "全市常住人口 · 年末数（万人）：866.60。" in rows  # an empty cell is left out, not shifted
    assert "#粮食 · 指数（以上年为100）：101.9。" in rows
    assert "牛奶 · 产量（万吨）：4.32；比上年增长（%）：10.9。" in rows


# ---- DOCX, HTML, Markdown ------------------------------------------------------------------------------------------


@needs_shared
def test_docx_merged_cell_table_becomes_row_sentences_with_headers():
    doc = shared_doc(DOCX)
    assert doc.format == "docx" and doc.title == "核电厂定期安全评价 第1部分：通用要求"
    rows = [b.text for b in doc.table_rows()]
    assert len(rows) == 14  # the 16×16 matrix: two header rows, 14 data rows
    sf1 = next(r for r in rows if r.startswith("接受输入的安全要素 SF1 ·"))
    assert "提供输入的安全要素 SF2：×" in sf1 and "SF1：×" not in sf1.split("·", 1)[1]  # the diagonal is empty
    assert sf1.count("接受输入的安全要素") == 1  # a vertically merged label is said once
    heads = {b.text: b.level for b in doc.headings()}
    assert heads["范围"] == 2 and heads["确定评价范围和内容"] == 3  # from the styles' outline levels
    # One-cell cover boxes are paragraphs, not table rows.
    assert any(b.kind == "paragraph" and "本稿完成日期" in b.text for b in doc.blocks)


@needs_shared
def test_html_page_keeps_the_article_and_drops_the_page_around_it():
    doc = shared_doc(HTML)
    assert doc.format == "html" and doc.title == '多地项目连环爆雷 狂奔的龙湖集团"暗伤"曝露？'
    assert "龙湖实现合约销售金额1056.2亿元" in doc.text and "营业额385.7亿元" in doc.text
    # A link inside a sentence keeps the sentence whole.
    assert "跻身内地女首富的吴亚军，在前不久召开的中期业绩会上" in doc.text
    for junk in ("function(", "var ", "用微信扫码二维码", "网友评论仅供其表达个人看法", "房地产公司开始完蛋了", "大家都爱看"):
        assert junk not in doc.text, junk
    assert any(b.kind == "heading" and b.text == "整改及交付难题或拖累业绩表现" for b in doc.blocks)


@needs_shared
@pytest.mark.parametrize("name", [QDN_MD, OSS_MD, ESG_MD])
def test_markdown_has_no_images_rules_or_markup_left(name):
    doc = shared_doc(name)
    for junk in ("data:image", "![", "|---", "| ---", "<img", "<div", "<table", "http://", "https://www.researchgate"):
        assert junk not in doc.text or (junk.startswith("http") and name == ESG_MD), (name, junk)
    assert not re.search(r"—\s*\d{1,2}\s*—", doc.text)


@needs_shared
def test_markdown_tables_become_row_sentences():
    rows = [b.text for b in shared_doc(QDN_MD).table_rows()]
    assert "粮食 · 产量（万吨）：133.77；比上年增长（%）：-2.3。" in rows  # a collapsed column split back into rows
    assert "全州总户籍人口 · 年末数（人）：4899310；比重（%）：100.0。" in rows
    heads = [b.text for b in shared_doc(QDN_MD).headings()]
    assert "表1 2023年年末户籍人口及其构成" in heads  # a caption table stays a heading
    esg = shared_doc(ESG_MD)
    assert "富祥科技 · 释义内容：景德镇富祥生命科技有限公司。" in [b.text for b in esg.table_rows()]
    assert "公司简介" in [b.text for b in esg.headings()]  # "## |公司简介"
    oss = shared_doc(OSS_MD)
    assert oss.title == "数据篇" and "outline: deep" not in oss.text
    assert any(b.kind == "table_row" for b in oss.blocks)
    # A paragraph broken by a hard wrap kept as a paragraph break is joined: 全 / 州上下…
    assert "坚强领导下，全州上下深入贯彻" in shared_doc(QDN_MD).text


@needs_shared
@pytest.mark.parametrize("name", TXT)
def test_plain_text_reports_load_unchanged(name):
    data = (SHARED / name).read_bytes()
    doc = shared_doc(name)
    assert doc.format == "text" and doc.text == data.decode("utf-8")


# ---- generated fixtures ------------------------------------------------------------------------------------------

SAMPLE = "天津对口支援青海省黄南州\n\n自2010年以来，累计投入18.51亿元，实施567个项目。\n"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_text_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / f"report-{encoding}.txt"
    path.write_bytes(SAMPLE.encode(encoding))
    doc = read_document(path, tmp_path)
    assert doc is not None and "累计投入18.51亿元" in doc.text and doc.title == "天津对口支援青海省黄南州"


def _tiny_docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("测试报告", level=1)
    d.add_paragraph("全年粮食产量1223474吨，比上年增长1.8%。")
    t = d.add_table(rows=3, cols=3)
    for r, cells in enumerate([["指标", "产量（吨）", "比上年增长（%）"], ["粮食", "1223474", "1.8"], ["合计", "2000000", ""]]):
        for c, v in enumerate(cells):
            t.cell(r, c).text = v
    merged = t.cell(2, 1).merge(t.cell(2, 2))  # a value merged across two columns: said once
    merged.text = "2000000"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_generated_docx_heading_paragraph_and_table():
    doc = load_document(_tiny_docx(), "tiny.docx")
    assert doc.title == "测试报告" and doc.headings()[0].level == 1
    rows = [b.text for b in doc.table_rows()]
    assert rows == ["粮食 · 产量（吨）：1223474；比上年增长（%）：1.8。", "合计 · 产量（吨）：2000000。"]


def test_generated_html_drops_chrome_and_keeps_tables():
    page = """<html><head><title>年度报告_某网站</title><script>var x = "脚本文字";</script></head><body>
    <nav><a href="/">首页</a> 导航文字</nav><header>页眉文字</header>
    <h1>年度报告</h1><h2>一、总体情况</h2><p>全年完成投资<a href="/k">52亿元</a>，比上年增长8%。</p>
    <table><tr><th>项目</th><th>金额（亿元）</th></tr><tr><td rowspan="1">投资</td><td>52</td></tr></table>
    <aside>侧栏文字</aside><footer>页脚文字</footer><form>表单文字</form></body></html>"""
    doc = load_document(page.encode("utf-8"), "page.html")
    assert doc.title == "年度报告"
    assert "全年完成投资52亿元，比上年增长8%。" in doc.text and "投资 · 金额（亿元）：52。" in doc.text
    for junk in ("脚本文字", "导航文字", "页眉文字", "侧栏文字", "页脚文字", "表单文字"):
        assert junk not in doc.text
    assert [(b.text, b.level) for b in doc.headings()] == [("年度报告", 1), ("一、总体情况", 2)]


# ---- files that are skipped, with a reason -------------------------------------------------------------------------


def _zip_bomb(size: int = 300 * 1024 * 1024) -> bytes:
    """A DOCX-looking zip whose word/document.xml inflates to ``size`` bytes of zeros (written streaming)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            block = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                fh.write(block)
    return buf.getvalue()


def test_bad_files_are_skipped_with_a_reason(tmp_path, caplog):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ngarbage")
    (tmp_path / "fake.docx").write_bytes("这不是一个DOCX文件".encode())
    (tmp_path / "notword.docx").write_bytes(_zip_without_word())
    (tmp_path / "bomb.docx").write_bytes(_zip_bomb())
    (tmp_path / "junk.txt").write_bytes(bytes(range(256)) * 16)
    (tmp_path / "junk.pdf").write_bytes(bytes(range(256)) * 16)
    with caplog.at_level(logging.WARNING):
        docs = {p.name: read_document(p, tmp_path) for p in corpus_files(tmp_path)}
    assert docs and all(d is None for d in docs.values()), docs
    log = caplog.text
    assert re.search(r"skipping broken\.pdf: (not a readable PDF|PDF has no text layer)", log)
    assert "skipping fake.docx: not a valid DOCX file" in log
    assert "skipping notword.docx: not a valid DOCX file" in log
    assert "skipping bomb.docx: refused: DOCX archive would expand to" in log and "zip bomb" in log
    assert "skipping junk.txt: binary file (contains NUL bytes)" in log
    assert "skipping junk.pdf: not a valid PDF file" in log


def _zip_without_word() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/other.xml", "<x/>")
    return buf.getvalue()


def test_zip_bomb_is_refused_before_extraction(monkeypatch):
    # Nothing may be inflated: make any decompression fail loudly.
    def no_inflate(*args, **kwargs):
        raise AssertionError("decompression attempted")

    data = _zip_bomb(64 * 1024 * 1024)
    from aidqa.ingest import registry

    monkeypatch.setattr(registry, "MAX_UNCOMPRESSED_BYTES", 32 * 1024 * 1024)
    monkeypatch.setattr(zlib, "decompressobj", no_inflate)
    with pytest.raises(LoadError, match="zip bomb"):
        load_document(data, "bomb.docx")


def test_a_pdf_saved_as_txt_is_read_by_content(tmp_path):
    if not SHARED.is_dir():
        pytest.skip(f"shared dev reports not found at {SHARED}")
    shutil.copy(SHARED / ZK_PDF, tmp_path / "renamed.txt")
    doc = read_document(tmp_path / "renamed.txt", tmp_path)
    assert doc is not None and doc.format == "pdf" and "866.60万人" in doc.text


def test_symlink_out_of_the_corpus_is_skipped_with_a_reason(tmp_path, caplog):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("外部文件的内容。", encoding="utf-8")
    (corpus / "report.txt").write_text(SAMPLE, encoding="utf-8")
    (corpus / "inside-link.txt").symlink_to(corpus / "report.txt")
    (corpus / "outside-link.txt").symlink_to(outside)
    with caplog.at_level(logging.WARNING):
        names = [p.name for p in corpus_files(corpus)]
    assert names == ["inside-link.txt", "report.txt"]
    assert f"skipping outside-link.txt: symbolic link to {outside.resolve()}, outside the corpus folder" in caplog.text


# ---- end to end --------------------------------------------------------------------------------------------------


@needs_shared
def test_a_figure_question_is_answered_from_a_pdf_paragraph_with_its_page(tmp_path):
    from aidqa import Assistant
    from aidqa.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in (QDN_PDF, DOCX):
        shutil.copy(SHARED / name, corpus / name)
    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    loaded = assistant.ensure_ready()
    assert sorted(loaded.manifest["documents"]) == sorted([QDN_PDF, DOCX])
    answer = assistant.ask("黔东南州人均生产总值是多少？")
    assert "35511元" in answer.answer, answer.answer
    cited = [c for c in answer.citations if "35511" in c.quote]
    assert cited and cited[0].source == QDN_PDF
    src = read_document(corpus / QDN_PDF, corpus)
    c = cited[0]
    assert src.text[c.start : c.end] == c.quote and src.page_at(c.start) == 1
    # The chunks carry their page (through the stored index), the DOCX ones none.
    pdf_chunks = [ch for ch in loaded.chunks if ch.source == QDN_PDF]
    assert pdf_chunks and all(ch.page is not None for ch in pdf_chunks)
    assert any(ch.page == 1 and ch.start <= c.start < ch.end for ch in pdf_chunks)
    assert all(ch.page is None for ch in loaded.chunks if ch.source == DOCX)
    # A table row of the DOCX is retrievable as a sentence with its headers.
    assert any("接受输入的安全要素SF1·提供输入的安全要素SF2：×" in ch.text.replace(" ", "") for ch in loaded.chunks if ch.source == DOCX)
