"""Which reports a question is answered from.

A corpus may hold several reports that share topics and units (two cities' statistical communiqués). A user may
restrict a question to some of them (``documents``); within those, a question that names something only some
reports hold is searched and answered in those reports only. What counts as naming a report:

* its full title in 《》 (《2023年某市国民经济和社会发展统计公报》中…);
* a specific thing the question names (a place or organisation jieba tags, a year, a number: the anchors of
  ``aidqa.qa.analysis``) that only some reports' text holds;
* a word of a report's title (某市 in 《2023年某市…公报》) that other reports never use: jieba does not tag every
  place name, but a title says what its report is about. Only a word that is mostly used by the reports it titles
  counts: 语言 in one article's title 《西班牙语言》 but in the text of six others is ordinary vocabulary, and an
  article on a polyglot that lists 法语、英语 without the word 语言 still answers 会讲哪些语言？ (CMRC 2018).

The answerer applies the same rule to every candidate sentence (a title word the candidate's report never uses
means the question is about another report), so restricting the search only keeps other reports' sentences from
crowding the right report's passages out of the few the answerer reads. A report's full title in 《》 is taken out
of the question once it has chosen the report: the title says where to look, not what to look for (its words would
make the title itself look like the answer).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Collection
from functools import lru_cache

from aidqa.index.catalogue import report_ids
from aidqa.index.store import LoadedIndex
from aidqa.qa.analysis import BOOK_TITLE, QuestionAnalysis
from aidqa.zh.chars import fold_for_match, is_han
from aidqa.zh.segment import tokenize_words

# A title in the question, with the particle that may follow it: 《2023年某市…统计公报》中.
_TITLE_WITH_PARTICLE = re.compile(r"《([^《》]{2,120})》(?:里面|当中|之中|中|里|的)?")


def _plain(title: str) -> str:
    """A title compared without its spaces and width differences (2023 年某市… is 2023年某市…)."""
    return "".join(fold_for_match(title).split())


@lru_cache(maxsize=1024)
def question_words(question: str) -> tuple[str, ...]:
    """The question's Chinese content words of two or more characters, folded."""
    words = (fold_for_match(w) for w in tokenize_words(question))
    return tuple(dict.fromkeys(w for w in words if len(w) >= 2 and all(is_han(ch) for ch in w)))


def romanised_names(file_name: str, names: Callable[[str], tuple[str, ...]]) -> list[str]:
    """The corpus's Chinese names that the romanised words of a file name spell (qiandongnan-2023-….md →
    黔东南), found by ``names`` (the query lexicon's pinyin lookup)."""
    words = re.findall(r"[A-Za-z]{4,}", file_name.rsplit("/", 1)[-1])
    return [zh for w in words for zh in names(w)]


class ReportScope:
    """The reports of one loaded index, folded once, so that what a question names is looked up quickly."""

    def __init__(self, index: LoadedIndex, cover_chars: int = 200, title_word_min_share: float = 0.5) -> None:
        # cover_chars: how much of a report's start is its cover (answering.report_cover_chars);
        # title_word_min_share: answering.title_word_min_share.
        self.ids = list(report_ids(index))
        self._position = {name: i for i, name in enumerate(self.ids)}
        self._titles = {name: _plain(index.documents[name].title) for name in self.ids}
        self._all_titles = "\0".join(self._titles.values())  # one C-level search instead of one per report
        # All reports' folded title and text in one string, each starting at _starts[i]: which reports hold a
        # spelling is then a few C-level str.find calls over the corpus, not one substring test per report (a
        # Python loop over hundreds of reports per anchor took ~0.16 s a question at 100k chunks).
        texts = [fold_for_match(f"{index.documents[name].title}\n{index.documents[name].text}") + "\0"
                 for name in self.ids]
        self._starts = [0]
        for text in texts[:-1]:
            self._starts.append(self._starts[-1] + len(text))
        self._corpus = "".join(texts)
        self._holding: dict[str, frozenset[str]] = {}
        self._title_word_min_share = title_word_min_share
        self._title_shares: dict[str, float | None] = {}
        lexicon = index.keywords.lexicon
        self._named = {
            name: fold_for_match("\n".join([index.documents[name].title, *romanised_names(name, lexicon.names)]))
            for name in self.ids
        }
        self._subjects = {name: self._named[name] + "\n" + fold_for_match(index.documents[name].text[:cover_chars])
                          for name in self.ids}

    def about(self, source: str, spelling: str) -> bool:
        """Whether report ``source`` is about ``spelling`` (folded): its title, its cover or its romanised file name
        says it."""
        return spelling in self._subjects.get(source, "")

    def titled(self, source: str, spelling: str) -> bool:
        """Whether report ``source``'s title or romanised file name says ``spelling`` (folded): a narrower ``about``,
        without the cover's opening sentence (which in a short article holds half its content)."""
        return spelling in self._named.get(source, "")

    def holds(self, source: str, spelling: str) -> bool:
        """Whether report ``source`` uses ``spelling`` (folded) anywhere: in its title or its text."""
        if source not in self._titles:
            return False
        i = self._position[source]
        end = self._starts[i + 1] if i + 1 < len(self._starts) else len(self._corpus)
        return self._corpus.find(spelling, self._starts[i], end) >= 0 or spelling in self._titles[source]

    def reports_holding(self, spelling: str) -> frozenset[str]:
        """The reports that use ``spelling`` (folded) in their title or text. Each find jumps to the next report
        after a hit, so the cost is one scan of the corpus string whatever the number of reports."""
        if spelling in self._holding:
            return self._holding[spelling]
        found = {name for name, title in self._titles.items() if spelling in title} if spelling else set(self.ids)
        pos = self._corpus.find(spelling) if spelling else -1
        while pos >= 0:
            i = bisect_right(self._starts, pos) - 1
            found.add(self.ids[i])
            if i + 1 >= len(self._starts):
                break
            pos = self._corpus.find(spelling, self._starts[i + 1])
        if len(self._holding) >= 4096:  # questions repeat their anchors; keep the table bounded
            self._holding.clear()
        self._holding[spelling] = frozenset(found)
        return self._holding[spelling]

    def names_anything_like(self, subject: str) -> bool:
        """Whether some report holds the first two characters of ``subject`` (folded), in its title, its text or its
        romanised file name: the loosest sign that the corpus speaks of it, loose enough for a word jieba glues
        to the next (符泳练水) and for a near synonym (核电站 asked of a report on 核电厂)."""
        head = subject[:2]
        return bool(self.reports_holding(head)) or any(head in self._named[name] for name in self.ids)

    def respelled(self, question: str, anchor: tuple[str, ...]) -> tuple[str, ...]:
        """``anchor``'s spellings and, when no report holds any of them, the corpus's spelling of it from the
        question's own text. jieba cuts a name it does not know at the wrong place (纽西兰鸡毛松才可以 → 松才,
        锦地罗不需要 → 锦地罗不, 魏舒史称 → 魏舒史), and the name then seems to be in no report. The run of the question
        that keeps all but one of the anchor's characters (dropping one end, reaching up to two characters past the
        other) and that the fewest reports hold, the longest of those, is taken as well: a name is specific, and
        才可以 is in many reports. Numbers and Latin-script anchors are kept as they are."""
        word = anchor[0]
        if not word or not all(is_han(ch) for ch in word) or any(self.reports_holding(fold_for_match(s)) for s in anchor):
            return anchor
        i = question.find(word)
        if i < 0:
            return anchor
        n = len(word)
        # Dropping the last character first: what jieba glues on is mostly the next word's start (不需要, 史称).
        runs = [(i - k, i + n - 1, 0) for k in range(3)] + [(i + 1, i + n + k, 1) for k in range(3)]
        found: list[tuple[int, int, int, str]] = []
        for a, b, dropped_first in runs:
            run = question[max(a, 0):b]
            if a < 0 or len(run) < 2 or not all(is_han(ch) for ch in run):
                continue
            holding = len(self.reports_holding(fold_for_match(run)))
            if holding:
                found.append((holding, -len(run), dropped_first, run))
        return (*anchor, min(found)[3]) if found else anchor

    def title_words(self, question: str) -> tuple[str, ...]:
        """The words of ``question`` that stand in some report's title and name the reports they title (folded). In a
        corpus of one report they are all in its own title, so they never rule a sentence out."""
        shares = ((w, self.title_word_share(w)) for w in question_words(question))
        return tuple(w for w, share in shares if share is not None and share >= self._title_word_min_share)

    def title_word_share(self, word: str) -> float | None:
        """The share of the reports using ``word`` (folded) that have it in their title; None when no title has it."""
        if word not in self._title_shares:
            holding = self.reports_holding(word) if word in self._all_titles else frozenset()
            titled = sum(1 for name in holding if word in self._titles[name])
            if len(self._title_shares) >= 4096:
                self._title_shares.clear()
            self._title_shares[word] = titled / len(holding) if titled else None
        return self._title_shares[word]

    def named_reports(self, q: QuestionAnalysis, allowed: Collection[str] | None = None) -> frozenset[str] | None:
        """The reports (among ``allowed``; all when None) that the question singles out, or None when it singles out
        none of them (it names nothing, or what it names is in all of them, or in none)."""
        candidates = [name for name in self.ids if allowed is None or name in allowed]
        narrowed = candidates
        titles = [_plain(t) for t in BOOK_TITLE.findall(q.question)]
        if titles:
            titled = [n for n in narrowed if any(t in self._titles[n] or self._titles[n] in t for t in titles)]
            narrowed = titled or narrowed
        # The answerer's rule for which anchors must be found: with a quoted name, only the numbers besides it.
        anchors = [self.respelled(q.question, a) for a in q.anchors]
        required = [a for a in anchors if a[0].isdigit()] if q.quoted else anchors
        spellings = [tuple(fold_for_match(s) for s in a) for a in required]
        spellings += [(fold_for_match(name),) for name in q.quoted]
        spellings += [(w,) for w in self.title_words(q.question)]
        if spellings:
            holding_all = frozenset.intersection(*(frozenset().union(*(self.reports_holding(s) for s in alts))
                                                   for alts in spellings))
            holding = [n for n in narrowed if n in holding_all]
            narrowed = holding or narrowed
        if len(narrowed) == len(candidates):
            return None
        return frozenset(narrowed)

    def without_titles(self, question: str) -> str:
        """``question`` without the full report titles it names in 《》 (and a 中/里/的 after one), when something
        is left to ask; otherwise the question as it is."""
        titles = set(self._titles.values())
        stripped = _TITLE_WITH_PARTICLE.sub(lambda m: "" if _plain(m.group(1)) in titles else m.group(0), question)
        stripped = stripped.strip(" ，,：:")
        return stripped if sum(1 for ch in stripped if is_han(ch) or ch.isalnum()) >= 4 else question
