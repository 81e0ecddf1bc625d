"""Questions about a report itself: when it was issued, its document number (发文字号).

A report prints these on its cover — the title block it opens with (``answering.report_cover_chars``): 周口's and
黔东南's communiqués put the issuing date under the title, the Sichuan work report its posting date, a State Council
notice its 国发〔2016〕65号 and its date. Those lines share no word with "这份公报是哪天发布的？", so the sentence
ranker never finds them (it quoted 本公报2023年数据为初步统计结果 instead). A question that asks for the issuing
date or the document number is answered with the line of the cover that states it, or by the ranker as any other
question when the cover states none (a report's later dates are events, not its date of issue).

The number's form is the national standard's for official documents (GB/T 9704: issuer's code, 〔year〕, serial,
号); a date is written 2024年4月29日, with or without spaces.
"""

from __future__ import annotations

import re
from typing import Literal

CoverFact = Literal["date", "number"]

_ISSUED = re.compile(r"发布|印发|发表|公布|出台|发出|颁布|签发|发文|成文|\b(?:published|issued|released)\b", re.IGNORECASE)
_WHEN = re.compile(r"哪天|哪一天|何时|什么时候|什么时间|哪年哪月|日期|几月几[日号]|\bwhen\b|\bwhat date\b", re.IGNORECASE)
_NUMBER_ASKED = re.compile(r"文号|发文字号|\bdocument number\b", re.IGNORECASE)
DATE_RE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
DOCUMENT_NUMBER_RE = re.compile(r"[\u4e00-\u9fff]{1,8}[〔\[［][12]\d{3}[〕\]］]\s*\d+\s*号")


def cover_question(question: str) -> CoverFact | None:
    """Which fact of the cover ``question`` asks for: "number" (文号), "date" (when it was issued), or None."""
    if _NUMBER_ASKED.search(question):
        return "number"
    if _ISSUED.search(question) and _WHEN.search(question):
        return "date"
    return None


def cover_line(fact: CoverFact, text: str, cover_chars: int) -> tuple[int, int] | None:
    """The span of the cover line of ``text`` that states ``fact`` (its first within ``cover_chars``), without the
    line's leading and trailing spaces; None when the cover does not state it."""
    m = (DOCUMENT_NUMBER_RE if fact == "number" else DATE_RE).search(text, 0, cover_chars)
    if m is None:
        return None
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.end())
    end = len(text) if end < 0 else end
    line = text[start:end]
    return start + (len(line) - len(line.lstrip())), end - (len(line) - len(line.rstrip()))
