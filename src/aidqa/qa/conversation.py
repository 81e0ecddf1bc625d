"""Follow-up questions: rewrite a question that leans on the conversation into one that stands alone, before
retrieval (the "condense question" step of a conversational retrieval chain, done without an LLM).

Two forms are handled:

* **Ellipsis** — 那武侯区呢？ / 那教育方面呢？ / "what about Wuhou District?" names only the new topic. The previous
  question is repeated with its most similar term replaced by the new one: 成都给锦江区医院投入了多少资金？
  + 那武侯区呢？ → 成都给武侯区医院投入了多少资金？.
* **Dependent questions** — 总共多少人？ / 他们是筛查什么病发现的？ / 还有哪些企业…？ are complete questions whose
  subject is the previous turn. They are answered as asked, but retrieval also searches with the previous question
  so the passages it was about are found.

Only the user's own earlier questions are used, never the assistant's answers: an answer is the system's output,
and feeding it back would let one wrong answer steer the next retrieval.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from aidqa.settings import ConversationSettings
from aidqa.zh.chars import is_han
from aidqa.zh.segment import EN_STOP_WORDS, ZH_STOP_WORDS, detect_language, tokenize_all

logger = logging.getLogger(__name__)


# 那武侯区呢？ 那么教育方面呢？ 还有郫都区呢？ 教育方面怎么样？
_ZH_ELLIPSIS = re.compile(
    r"^(?:那么?|还有|另外|那关于|关于|换成|如果是)?[，,\s]*(?P<topic>[^，,。？?！!呢]{1,16}?)"
    r"(?:方面|这块|这一块|那块|那一块|这边|那边|的情况|情况)?(?:呢|怎么样|如何|又如何|又怎么样|又是多少|是多少呢)[？?。!！\s]*$"
)
# What frames a topic without being part of it: 那用木兰许可证的呢？ asks about 木兰许可证.
_TOPIC_FRAME = re.compile(r"^(?:用|使用|在|对|是)(?=.{2})|的$")
_EN_ELLIPSIS = re.compile(r"^(?:and|so)?\s*(?:what|how)\s+about\s+(?P<topic>.+?)\s*[?.!]*$|^and\s+(?P<topic2>.+?)\s*\?+$",
                          re.IGNORECASE)
# Words that make a question lean on the previous turn: pronouns, "also / in total / of those" connectives.
_ZH_DEPENDENT = re.compile(r"^(?:那么?|还有|另外|此外|其中|总共|一共|共|合计|同时|然后)|他们|她们|它们|它|其|这些|那些|这个|那个|这里|那里|该|此|上述|前面|刚才|分别")
# Not "that"/"this": they are relative pronouns and determiners in plenty of standalone questions.
_EN_DEPENDENT = re.compile(r"\b(?:they|them|their|it|its|those|these|also|else)\b", re.IGNORECASE)
_TOPIC_SUFFIX = re.compile(r"(?:方面|领域|这块|工作)$")


@dataclass(frozen=True)
class Rewrite:
    """How a question is asked of the reports. ``question`` is what the answerer checks the passages against;
    ``retrieval_query`` is what retrieval searches with; ``kind`` says which rule applied."""

    question: str
    retrieval_query: str
    kind: Literal["standalone", "ellipsis", "dependent"]
    previous: str | None = None  # the (standalone) previous question the rewrite leaned on
    topic: str | None = None  # what an elliptical follow-up asks about instead (合成生物 of 合成生物那块呢？)
    alternatives: tuple[str, ...] = ()  # an ellipsis's next-best rewrites, best first (tried when it finds nothing)

    @property
    def rewritten(self) -> bool:
        return self.kind != "standalone"


def _ellipsis_topic(question: str) -> str | None:
    q = question.strip()
    m = _ZH_ELLIPSIS.match(q)
    if m:
        topic = _TOPIC_FRAME.sub("", _TOPIC_SUFFIX.sub("", m.group("topic").strip()))
        return topic if topic and topic not in ZH_STOP_WORDS else None
    m = _EN_ELLIPSIS.match(q)
    if m:
        topic = (m.group("topic") or m.group("topic2") or "").strip()
        return topic or None
    return None


def stands_alone(part: str, names_something: bool) -> bool:
    """Whether a later part of a compound question asks on its own rather than leaving its subject to the part
    before (…签约额是多少？天津明天的天气怎么样？ vs …产量是多少万吨？比上年增长百分之几？): it names something of its
    own (``names_something``: a place, an organisation; a year alone is no subject) and neither leans back (其中, 他们) nor is elliptical
    (2022年呢？, what about 2022?). Within one message an elliptical part ends in 呢: X怎么样？ there asks about X."""
    elliptical = _ellipsis_topic(part) is not None and (part.rstrip("？?。!！ ").endswith("呢")
                                                         or bool(_EN_ELLIPSIS.match(part.strip())))
    return names_something and not _is_dependent(part) and not elliptical


def _is_dependent(question: str) -> bool:
    if detect_language(question) == "en":
        return bool(_EN_DEPENDENT.search(question))
    return bool(_ZH_DEPENDENT.search(question))


@dataclass(frozen=True)
class _Term:
    """A run of the previous question's words that a new topic could stand in for, with its neighbours."""

    text: str
    start: int
    end: int
    before: str  # the word just before it ("" at the start or after punctuation)
    after: str  # the word just after it


_MAX_TERM_WORDS = 3  # 锂电池 电解液 添加剂: a topic may stand in for a run of words


def _replaceable_terms(question: str) -> list[_Term]:
    """Runs of one to three content words of the previous question (jieba, in order), each with the words around
    it: a topic may replace one word (尖扎县 → 泽库县) or a run (MIT许可证 → 木兰许可证)."""
    if detect_language(question) == "en":
        # English words with the text between them (Zeku County is one run, with its space).
        spans = [(m.start(), m.end()) for m in re.finditer(r"[A-Za-z0-9][A-Za-z0-9'\-]*", question)]
    else:
        words = tokenize_all(question)
        offsets = list(itertools.accumulate((len(w) for w in words), initial=0))
        spans = [(offsets[k], offsets[k + 1]) for k in range(len(words)) if words[k].strip()]

    def content(w: str) -> bool:
        return (w not in ZH_STOP_WORDS and w.lower() not in EN_STOP_WORDS and (len(w) >= 2 or not is_han(w))
                and any(is_han(c) or c.isalnum() for c in w))

    def joined(a: int, b: int) -> bool:  # nothing but spaces between two words
        return not question[spans[a][1]:spans[b][0]].strip()

    words = [question[a:b] for a, b in spans]
    terms: list[_Term] = []
    for i in range(len(words)):
        for j in range(i + 1, min(i + _MAX_TERM_WORDS, len(words)) + 1):
            last = words[j - 1]
            # A one-character place suffix or a date's 年/月 stays with the word before it (尖扎 + 县, 2025 + 年).
            suffix = j - 1 > i and (last in "省市州县区乡镇村" or (last in "年月" and words[j - 2].isdigit()))
            if (j - 1 > i and not joined(j - 2, j - 1)) or (not content(last) and not suffix):
                break
            before = words[i - 1] if i > 0 and joined(i - 1, i) else ""
            after = words[j] if j < len(words) and joined(j - 1, j) else ""
            terms.append(_Term(question[spans[i][0]:spans[j - 1][1]], spans[i][0], spans[j - 1][1], before, after))
    seen: set[str] = set()
    return [t for t in terms if content(t.text) and not (t.text in seen or seen.add(t.text))]


def topic_substitutions(previous: str, topic: str, similarity: Callable[[str, list[str]], np.ndarray],
                        settings: ConversationSettings | None = None,
                        corpus_holds: Callable[[str], bool] | None = None) -> list[str]:
    """``previous`` with each of its terms replaced by ``topic``, the term most like ``topic`` first.

    Similarity is the embedding cosine, plus a bonus when both end in the same place suffix (县/市/州) — a county
    stands in for a county. With ``corpus_holds`` (does some report hold this text?), a replacement the reports
    support comes first: the topic next to the word beside the replaced term is written in a report (货邮 after
    2025年四川航空旅客吞吐量是多少？ replaces 旅客, since 货邮吞吐量 is written, not 航空: 货邮旅客 is not)."""
    settings = settings or ConversationSettings()
    # A topic that ends (starts) with the word after (before) a term would repeat it: 木兰许可证 for MIT in
    # 使用MIT许可证 gives 使用木兰许可证许可证; it stands in for MIT许可证.
    terms = [t for t in _replaceable_terms(previous) if t.text != topic and not (t.after and topic.endswith(t.after))
             and not (t.before and topic.startswith(t.before))]
    if not terms or topic in previous:
        return []
    scores = similarity(topic, [t.text for t in terms])
    ranked: list[tuple[tuple[bool, float], int, _Term]] = []
    for order, (term, score) in enumerate(zip(terms, scores)):
        s = float(score)
        if term.text[-1] == topic[-1] and term.text[-1] in "省市州县区乡镇村":
            s += settings.place_suffix_bonus
        if len(term.text) > 1 and len(term.text) == len(topic):
            s += settings.same_length_bonus
        supported = corpus_holds is not None and any(
            corpus_holds(joined) for joined in (f"{topic}{term.after}" if _is_word(term.after) else "",
                                                f"{term.before}{topic}" if _is_word(term.before) else "") if joined)
        ranked.append(((supported, s), -order, term))  # on a tie, the earlier term (as before)
    ranked.sort(key=lambda r: r[:2], reverse=True)
    return list(dict.fromkeys(previous[: t.start] + topic + previous[t.end :] for _, _, t in ranked))


def _is_word(word: str) -> bool:
    """A content word a topic can be read next to (not a particle, punctuation or a lone character)."""
    return len(word) >= 2 and word not in ZH_STOP_WORDS and all(is_han(c) or c.isalnum() for c in word)


def condense(question: str, history: Sequence[tuple[str, str]] | None,
             similarity: Callable[[str, list[str]], np.ndarray], settings: ConversationSettings | None = None,
             corpus_holds: Callable[[str], bool] | None = None) -> Rewrite:
    """The standalone form of ``question`` given the earlier (user, assistant) turns (``corpus_holds``: see
    ``topic_substitutions``)."""
    settings = settings or ConversationSettings()
    turns = [str(user).strip() for user, _ in (history or [])[-settings.history_turns:] if str(user).strip()]
    if not turns:
        return Rewrite(question, question, "standalone")
    # Earlier questions may themselves be follow-ups: make each standalone in order.
    previous = turns[0]
    for turn in turns[1:]:
        previous = condense(turn, [(previous, "")], similarity, settings, corpus_holds).question
    topic = _ellipsis_topic(question)
    if topic is not None and detect_language(topic) == detect_language(previous):
        rewrites = topic_substitutions(previous, topic, similarity, settings, corpus_holds)
        if rewrites:
            rewritten = rewrites[0]
            logger.info("follow-up %r rewritten as %r", question, rewritten)
            return Rewrite(rewritten, rewritten, "ellipsis", previous, topic,
                           tuple(rewrites[1 : 1 + settings.ellipsis_alternatives]))
    if topic is not None or _is_dependent(question):
        return Rewrite(question, f"{question} {previous}", "dependent", previous)
    return Rewrite(question, question, "standalone", previous)
