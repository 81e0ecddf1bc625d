"""Example questions made from the loaded corpus, for the UI's example list and the API's OpenAPI examples.

Hard-coded examples would only fit the reports they were written for; these are made at run time from what the
index holds: an overview question on the first report (《title》主要讲了什么？), then each report's title and the
phrases its figures measure (《title》中{what it measures}是多少？). When no index is loaded, generic questions stand
in.
"""

from __future__ import annotations

from dataclasses import dataclass

from aidqa.index.catalogue import report_ids
from aidqa.index.figures import Figure, short_phrase
from aidqa.index.store import LoadedIndex
from aidqa.zh.chars import is_han

GENERIC_EXAMPLES = [
    "报告的主要内容是什么？",
    "报告中有哪些主要数据？",
    "What are the main figures in the reports?",
]
OVERVIEW_QUESTION = "这份报告主要讲了什么？"
# What a figure measures makes a question when it is a plain phrase of a few words ending in a word for a quantity
# (…总额, …产量, …人口): other phrases are often a verb or a fragment (…共派出, …比上年).
_MIN_PHRASE, _MAX_PHRASE = 4, 10
_QUANTITY_ENDINGS = ("额", "量", "数", "值", "收入", "人口", "面积", "支出", "资金", "投资", "里程", "规模")


@dataclass(frozen=True)
class Example:
    """An example question about one report: ``question`` names the report's title when the corpus holds several;
    ``plain`` does not (for use with a restriction to ``report``)."""

    question: str
    plain: str
    report: str  # the report id


def _phrase(figure: Figure) -> str | None:
    """What the figure measures, as a question's subject, or None when it does not make a clear question."""
    if figure.kind != "amount" or figure.unit in ("%", "倍", ""):
        return None
    phrase = short_phrase(figure.measures, _MAX_PHRASE)
    if not (_MIN_PHRASE <= len(phrase) <= _MAX_PHRASE) or not all(is_han(ch) for ch in phrase):
        return None
    return phrase if phrase.endswith(_QUANTITY_ENDINGS) else None


def examples_from(index: LoadedIndex, per_report: int = 2, limit: int = 6) -> list[Example]:
    """Up to ``per_report`` examples per report, taking the reports in turn (those with a title of their own first),
    at most ``limit``, after an overview question on the first report; empty when the index holds no report."""
    several = len(index.documents) > 1

    def untitled(name: str) -> bool:  # its title is its file name: a poor name for a report in a question
        return index.documents[name].title in (name, name.rsplit("/", 1)[-1])

    by_report: dict[str, list[Example]] = {}
    for name in sorted(report_ids(index), key=untitled):
        phrases: list[str] = []
        for figure in (f for f in index.figures if f.source == name):
            phrase = _phrase(figure)
            if phrase and phrase not in phrases:
                phrases.append(phrase)
        # Spread over the report: its opening figures are often all of one kind.
        step = max(1, len(phrases) // per_report)
        title = index.documents[name].title
        by_report[name] = [
            Example(f"《{title}》中{p}是多少？" if several else f"{p}是多少？", f"{p}是多少？", name)
            for p in phrases[::step][:per_report]
        ]
    examples: list[Example] = []
    if by_report:
        # First, what the (first) report says as a whole: an overview question (aidqa.qa.overview).
        first = next(iter(by_report))
        title = index.documents[first].title
        examples.append(Example(f"《{title}》主要讲了什么？" if several else OVERVIEW_QUESTION, OVERVIEW_QUESTION, first))
    for turn in range(per_report):
        examples += [found[turn] for found in by_report.values() if turn < len(found)]
    return examples[:limit]

