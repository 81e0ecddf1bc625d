"""Questions about a report itself: when it was issued, its document number (发文字号), who issued or delivered it.

A report prints these on its cover — the title block it opens with (``answering.report_cover_chars``): 周口's and
黔东南's communiqués put the issuing date under the title, the Sichuan work report its posting date, a State Council
notice its 国发〔2016〕65号 and its date, and the issuer (周口市统计局, 国务院, a company) or the speaker (四川省人民政府省长
施小琳) on a line of its own. Those lines share no word with "这份公报是哪天发布的？", so the sentence
ranker never finds them (it quoted 本公报2023年数据为初步统计结果 instead). A question that asks for the issuing
date, the document number or who issued it is answered with the line of the cover that states it, or by the ranker as any other
question when the cover states none (a report's later dates are events, not its date of issue).

The number's form is the national standard's for official documents (GB/T 9704: issuer's code, 〔year〕, serial,
号); a date is written 2024年4月29日, with or without spaces; an issuer is a cover line (or the end of one, after
its last sentence) of Chinese characters only that ends with an institution's kind (局, 政府, 国务院, 公司…) or with
an official's title and a name.
"""

from __future__ import annotations

import re
from typing import Literal

CoverFact = Literal["date", "number", "issuer"]

# Verbs of issuing a document, in Chinese and English.
_ISSUING = r"发布|印发|发表|公布|出台|发出|颁布|签发|发文"
_ISSUING_EN = r"published|issued|released"
_ISSUED = re.compile(rf"{_ISSUING}|成文|\b(?:{_ISSUING_EN})\b", re.IGNORECASE)
_WHEN = re.compile(r"哪天|哪一天|何时|什么时候|什么时间|哪年哪月|日期|几月几[日号]|\bwhen\b|\bwhat date\b", re.IGNORECASE)
_NUMBER_ASKED = re.compile(r"文号|发文字号|\bdocument number\b", re.IGNORECASE)
_WHO = re.compile(r"谁|哪个(?:单位|部门|机构|组织)|什么(?:单位|部门|机构|组织)|发布单位|发布机构|报告人|\bwho\b", re.IGNORECASE)
# Who issued a report, or delivered it (a work report is 代表省政府作的 by its governor).
_AUTHORED = re.compile(rf"{_ISSUING}|编制|撰写|代表.{{0,8}}作|\b(?:{_ISSUING_EN}|delivered|wrote|written)\b", re.IGNORECASE)
# The question must be about a document (这份公报, the report): iPhone是什么时候发布的？ asks of a product, not of the
# report's cover.
# The kinds of document a question may name.
_KINDS = r"报告|公报|通知|文件|规划|纲要|意见|办法"
_DOCUMENT = re.compile(rf"这份|这篇|本(?:报告|公报|通知|文件|规划|标准)|{_KINDS}|"
                       r"\b(?:report|notice|document|communiqu[eé]|plan|bulletin)s?\b", re.IGNORECASE)
# The kinds of institution an issuing line ends with (统计局, 国务院 and 办公厅 end with 局, 院 and 厅).
_INSTITUTION = ("局", "政府", "院", "厅", "部", "办公室", "委员会", "公司", "中心", "协会", "学会", "集团", "大学", "研究所",
                "银行")
_OFFICIAL = re.compile(r"(?:总理|主席|省长|市长|州长|县长|区长|部长|厅长|局长|书记|董事长|总经理|行长|院长)\s*[\u4e00-\u9fff·]{2,4}$")
_ISSUER_TEXT = re.compile(r"[\u4e00-\u9fff·（）\s]{2,40}")
DATE_RE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
DOCUMENT_NUMBER_RE = re.compile(r"[\u4e00-\u9fff]{1,8}[〔\[［][12]\d{3}[〕\]］]\s*\d+\s*号")


def cover_question(question: str) -> CoverFact | None:
    """Which fact of the cover ``question`` asks for: "number" (文号), or, of a document it names (这份公报, this
    report), "issuer" (who issued or delivered it) or "date" (when it was issued); None otherwise."""
    if _NUMBER_ASKED.search(question):
        return "number"
    if not _DOCUMENT.search(question):
        return None
    if _WHO.search(question) and _AUTHORED.search(question):
        return "issuer"
    if _ISSUED.search(question) and _WHEN.search(question):
        return "date"
    return None


_KIND = re.compile(rf"征求意见稿|{_KINDS}|标准")  # the longer 征求意见稿 before its 意见


def document_kind(question: str) -> str | None:
    """The kind of document a cover question names (这份通知 → 通知), which says whose cover answers it among several
    reports; None when it names none (this report)."""
    m = _KIND.search(question)
    return m.group() if m else None


def cover_line(fact: CoverFact, text: str, cover_chars: int) -> tuple[int, int] | None:
    """The span of the cover line of ``text`` that states ``fact`` (its first within ``cover_chars``), without the
    line's leading and trailing spaces; None when the cover does not state it."""
    if fact == "issuer":
        return _issuer_line(text, cover_chars)
    m = (DOCUMENT_NUMBER_RE if fact == "number" else DATE_RE).search(text, 0, cover_chars)
    if m is None:
        return None
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.end())
    end = len(text) if end < 0 else end
    line = text[start:end]
    return start + (len(line) - len(line.lstrip())), end - (len(line) - len(line.rstrip()))


def _issuer_line(text: str, cover_chars: int) -> tuple[int, int] | None:
    """The first cover line (or a line's end after its last sentence: …请认真贯彻实施。国务院) naming an institution or
    an official with a name; None when there is none."""
    start = 0
    while start < min(len(text), cover_chars):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        cut = max(line.rfind(p) for p in "。！？：:")
        segment_start = start + cut + 1
        segment = text[segment_start:end].strip()
        if (segment and _ISSUER_TEXT.fullmatch(segment)
                and (segment.endswith(_INSTITUTION) or _OFFICIAL.search(segment))):
            offset = text.index(segment, segment_start)
            return offset, offset + len(segment)
        start = end + 1
    return None
