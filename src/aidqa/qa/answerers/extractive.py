"""Extractive answering (the default; no LLM): pick the sentence(s) of the retrieved passages that answer the
question and quote them verbatim with [n] markers — or refuse when the reports do not hold the answer.

Sentences are scored by how much of the question's key terms they contain (IDF-weighted), their embedding
similarity to the question, the rank of their passage, and — for 多少/几/how much questions — whether they hold
a number with the asked unit. A question is refused when a specific thing it names (a year, a number, a place,
an organisation, a Latin-script term) is absent from the candidate's paragraph, or when neither the key terms nor
the embedding similarity (its own, or its lead over every other retrieved sentence) support the candidate.
Retrieval scores alone cannot tell answerable from unanswerable; the candidate sentence can.

Everything is judged within the candidate's own report: a name counts as "what the report is about" (and need not
stand in the paragraph) only for the report whose title or passages carry it, and a word of some report's title
that the candidate's report never uses means the question is about another report (``aidqa.qa.scope``); so a
question naming one report's place is never answered from another report of the corpus.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from aidqa.index.embeddings import SentenceEmbeddings
from aidqa.index.figures import Figure, whole_dates
from aidqa.index.store import LoadedIndex
from aidqa.models import Citation, CitedFigure
from aidqa.qa.analysis import (
    _UNIT_FAMILIES,
    _UNIT_WORDS,
    ANSWER_CUES,
    BOOK_TITLE,
    DOWN_WORDS,
    UP_WORDS,
    QuestionAnalysis,
    _common_run,
    _posseg,
    analyse,
    asks_count,
    measure_modifiers,
    named_by_definition,
    translated_run,
    word_parts,
)
from aidqa.qa.answerers.base import Extraction
from aidqa.qa.cover import cover_line, cover_question, document_kind
from aidqa.qa.grounding import compute_total
from aidqa.qa.rendering import REFUSAL, render_answer
from aidqa.qa.scope import ReportScope
from aidqa.retrieval.hybrid import ScoredChunk
from aidqa.settings import AnsweringSettings
from aidqa.zh.chars import SENTENCE_END, fold_for_match, fold_width, is_han
from aidqa.zh.numbers import (
    FIGURE_RE,
    PLAN_PERIOD_RE,
    SECTION_NUMBER_RE,
    STATED_YEAR_RE,
    figure_dimensions,
    fold_thousands,
    has_count,
    has_number_with_unit,
    numbers_in,
    unit_dimension,
)
from aidqa.zh.segment import (
    EN_NUMBER_WORDS,
    TABLE_ROW_RE,
    ZH_STOP_WORDS,
    char_bigrams,
    split_sentences,
    tokenize_words,
)
from aidqa.zh.structure import announces_items, leans_back, open_quotation, opens_topic, states_definition
from aidqa.zh.terms import names_topic, query_term_groups

logger = logging.getLogger(__name__)

# Candidate sentences' vectors kept per loaded index (least recently used dropped first): answering embeds every
# sentence of the top passages, most of an `ask`'s time, and questions keep landing on the same passages. 20k
# vectors of 512 float32 are 40 MB (docs/scaling.md).
SENTENCE_CACHE_SIZE = 20_000


# Units that, when asked for, the answer must carry: a money question answered without an amount in 元 is a
# neighbouring fact, not an answer; so is a people question (常住人口是多少) answered by a sentence that counts no
# people (a work report's 常住人口城镇化率突破60%, with no population figure).
_STRICT_UNITS = ("元", "%", "人")
# A template's unfilled slot (本部分起草人：XX; 点击此处添加…标识; 20XX-XX-XX发布) states nothing: a draft made from a
# template keeps them, and a who/which question was answered with XX (the standard draft's 起草人 and 一致性程度).
_PLACEHOLDER = re.compile(r"(?<![A-Za-z])(?:X{2,}|x{2,}|×{2,})(?![A-Za-z])|点击此处")





@dataclass
class Candidate:
    source: str
    section: str
    start: int  # offsets in the stored document text
    end: int
    text: str
    chunk_rank: int
    passage_text: str
    passage_start: int
    coverage: float = 0.0  # weighted share of the question's key terms in the sentence
    context_coverage: float = 0.0  # ... in the sentence's paragraph and section heading
    focus: float = 0.0  # ... of those the report is not about (not in its title, not a name on its cover)
    bigram_coverage: float = 0.0
    char_coverage: float = 0.0  # partial credit: the characters it holds of the key terms it does not write
    dense: float = 0.0
    has_number: bool = False
    unit_match: bool = False
    dense_lead: float = 0.0  # how far its embedding similarity is above every other sentence's (0 unless first)
    features: np.ndarray | None = None  # see SCORE_FEATURES
    score: float = 0.0







# The sentence score is a weighted sum of these features; the weights are the answering.weight_*/…_bonus settings,
# fitted by scripts/fit_answerer.py (a pairwise logistic regression: the sentence holding the evidence against the
# other candidates of its question; a new feature's weight alone, the others held, by `--only`).
SCORE_FEATURES = ("terms", "focus", "bigrams", "dense", "rank", "number", "no_number", "unit", "measure_phrase",
                  "definition", "cue", "chars")


def candidate_features(cand: Candidate, amount: bool, measure_phrase: bool, definition: bool = False,
                       cue: bool = False) -> np.ndarray:
    """The features of one candidate sentence, in SCORE_FEATURES order: key-term coverage, the same over only the
    terms the report is not about (its focus), bigram coverage, embedding cosine, passage rank; then four that only
    count for a how-much question (holding a number, holding none, holding one in the asked unit, a figure measuring
    what is asked); then two flags: the sentence defines what a definition question asks about (什么是X？,
    ``aidqa.zh.structure.states_definition``), and it holds the kind of phrase the question asks for (a cause, another
    name, a place, a date: ``aidqa.qa.analysis.ANSWER_CUES``); last, partial credit for the key terms the sentence does
    not write: the share of each one's characters it holds, weighted like term coverage, over the terms the report is
    not about (身体是什么颜色 ↔ 本鱼体呈银灰色: the words differ, 体 and 色 do not)."""
    return np.array([
        cand.coverage, cand.focus, cand.bigram_coverage, cand.dense, 1.0 / (1 + cand.chunk_rank),
        float(amount and cand.has_number), float(amount and not cand.has_number),
        float(amount and cand.unit_match), float(amount and measure_phrase), float(definition), float(cue),
        cand.char_coverage,
    ])


def score_weights(settings: AnsweringSettings) -> np.ndarray:
    """The settings' weights in SCORE_FEATURES order (the no-number penalty as a negative weight)."""
    return np.array([settings.weight_terms, settings.weight_focus, settings.weight_bigrams, settings.weight_dense,
                     settings.weight_rank, settings.number_bonus, -settings.no_number_penalty, settings.unit_bonus,
                     settings.measure_phrase_bonus, settings.definition_bonus, settings.cue_bonus, settings.weight_chars])


def new_chars(question: str, sentence: str) -> int:
    """How many of the sentence's letters, digits and Chinese characters the question does not hold: what the
    sentence could tell the asker. A heading that only names what is asked has none."""
    asked = set(fold_for_match(question))
    return sum(1 for ch in fold_for_match(sentence) if ch.isalnum() and ch not in asked)


def _says(folded_text: str, word: str) -> bool:
    """Whether ``folded_text`` holds ``word``, or its stem without a leading 总 or a trailing 额/量."""
    folded = fold_for_match(word)
    stems = [folded]
    if folded.startswith("总") and len(folded) > 2:
        stems.append(folded[1:])  # 总产量 asked, a table's 产量 column
    if folded[-1] in "额量" and len(folded) > 2:
        stems.append(folded[:-1])  # 投资额 asked, 投资2.3亿元 written
    return any(s in folded_text for s in stems)


def _figure_windows(sentence: str, unit: str) -> list[str]:
    """For each clause of ``sentence`` holding a figure in ``unit``: that clause with its neighbours (folded). A
    table row is one window: its cells are all about the thing its label and first cells name (排名 · 国家：India；
    …；占比：9.16%)."""
    if TABLE_ROW_RE.match(sentence):
        return [fold_for_match(sentence)] if has_number_with_unit(sentence, unit) else []
    clauses = [c for c in re.split(r"(?<=[，,；;。！？])", sentence) if c]
    windows = []
    for i, clause in enumerate(clauses):
        if has_number_with_unit(clause, unit):
            # A next clause that opens with 其中 names a part of what the figure counts, never what it is of: in
            # 300个项目采用了某类协议（占全部项目的5%），其中甲协议…, the 5% is not 甲协议's.
            after = 2 if i + 1 < len(clauses) and not clauses[i + 1].lstrip().startswith("其中") else 1
            windows.append(fold_for_match("".join(clauses[max(0, i - 1) : i + after])))
    return windows


@lru_cache(maxsize=4096)
def _own_verb(measures: str) -> str:
    """The verb a figure's measured words end with (高速公路通车里程新增 → 新增), if the last word is one."""
    words = _posseg().lcut(measures) if measures else []
    last = words[-1] if words else None
    return last.word if last is not None and last.flag.startswith("v") and len(last.word) >= 2 else ""


def _clause_before(f: Figure) -> str:
    """The words of a figure's clause before it (京津冀、长三角、珠三角分别下降 for 20.9% in …分别下降27.4%、20.9%)."""
    before = f.sentence[: max(0, f.start - f.sentence_start)]
    return re.split(r"[，,；;：:。]", before)[-1]


# A change as a report states it, right before its figure: 增长4.0%, 比上年下降2.0%, a table's 比上年增长（%）：-2.0.
_STATED_CHANGE = re.compile("(" + "|".join(UP_WORDS + DOWN_WORDS) + r")了?(?:（%）|\(%\))?[：:]?\s*$")
_MINUS = ("-", "−", "－")
_NEGATIVE = re.compile(r"[^\d]*[-−－]\s*\d")  # a minus before the first digit of a figure as written


def stated_direction(text: str, figure: CitedFigure) -> tuple[str, int] | None:
    """("up" or "down", where its change word starts) for a figure that the report states as a change (增长4.0% →
    up; 减产2.0% → down; 增长（%）：-2.0 → down: a negative growth); None for a level (100万吨)."""
    window = max(0, figure.start - 12)
    m = _STATED_CHANGE.search(text[window : figure.start])
    if not m:
        return None
    up = m.group(1) in UP_WORDS
    if _NEGATIVE.match(figure.raw) or text[figure.start - 1 : figure.start] in _MINUS:
        up = not up  # a table cell's growth of -3.3 (its raw holds the column's unit: （%）：-3.3)
    return ("up" if up else "down"), window + m.start(1)


def direction_lead(asked: str, answering: list[CitedFigure], stated: list[CitedFigure], text: str,
                   language: str) -> str | None:
    """The short answer to a yes/no question on which way a figure moved: 是/否 (Yes/No) and the change the answer
    states, as the report writes it, with its marker (否，减产2.0% [2]). The change is the first one ``stated`` (the
    cited sentences' figures, in order) at or after the first ``answering`` figure (总产量100万吨，减产2.0%: the
    level, then its change); None when there is none."""
    after = answering[0].start if answering else 0
    for f in sorted(stated, key=lambda f: (f.start < after, f.start)):
        change = stated_direction(text, f)
        if change is not None:
            direction, start = change
            yes = direction == asked
            word = ("Yes: " if yes else "No: ") if language == "en" else ("是，" if yes else "否，")
            return f"{word}{text[start:f.end]} [{f.citation_id}]"
    return None


# A figure stated per head (人均生产总值, 户均, 每万人拥有): another statistic than the total of the same name.
# A full stop ends what an 其中 list breaks down (；only separates its items); how far back the list's total may be.
_FULL_STOPS = "。！？!?\n"
_MAX_BREAKDOWN_CHARS = 600
_PER_HEAD = re.compile(r"人均|户均|每[十百千万]*人|每百户|per capita|per person", re.IGNORECASE)


def asks_per_head(q: QuestionAnalysis) -> bool:
    """Whether the question asks for a per-head figure: it says 人均/per capita, or an English word of it translates
    to 人均."""
    return bool(_PER_HEAD.search(q.question)) or any(_PER_HEAD.search(t) for g in q.terms for t in g)


_CHANGE_VERBS = frozenset("增长 下降 提高 降低 增加 减少 上升 回落 扩大 缩小".split())
_MAX_SUB_ROWS = 20  # how far back a table's sub-row (#…) looks for the row it is part of


def _is_number(spelling: str) -> bool:
    """Whether an anchor is a number (2023, 1.1 of 表1.1), not a name: matched as a whole number anywhere in the
    paragraph, not necessarily beside the figure."""
    return spelling.replace(",", "").replace(".", "", 1).isdigit()


# The longest line read as the label of the figure below it (``ExtractiveAnswerer._label_line``).
_MAX_LABEL = 16
# A change stated as the yearly average of a period (年均增长, 年均分别提高), not as one year's; 年均浓度 is a level.
_AVERAGE_CHANGE = re.compile(r"年(?:平)?均(?:分别)?(?:增长|增速|增幅|增加|提高|下降|降低|减少|递增|递减)")


def _only_averages_over_years(sentence: str) -> bool:
    """Whether every percentage in ``sentence`` is a yearly average change (its clause says 年均增长 before it)."""
    shares = list(re.finditer(r"\d+(?:\.\d+)?\s*[%％]", sentence))
    if not shares:
        return False
    for m in shares:
        clause = max(sentence.rfind(p, 0, m.start()) for p in "，,；;。") + 1
        if not _AVERAGE_CHANGE.search(sentence, clause, m.start()):
            return False
    return True


def _writes(folded: str, anchor: tuple[str, ...]) -> bool:
    """Whether ``folded`` text writes ``anchor`` in one of its spellings (``_holds``), or writes both ordinary words of
    a two-word name apart: jieba tags some such pairs as names (农村居民/nr), and a report may put a word between
    them (农村常住居民)."""
    if any(_holds(folded, fold_for_match(s)) for s in anchor):
        return True
    parts = word_parts(anchor[0])
    return len(parts) == 2 and all(_holds(folded, fold_for_match(p)) for p in parts)


def _holds(text: str, spelling: str) -> bool:
    """Whether ``text`` holds ``spelling``; a number only as a whole number (60 is not in 866.60 or 1600, 3万 not
    in 13万)."""
    if _is_number(spelling):
        return re.search(rf"(?<![\d.]){re.escape(spelling)}(?!\d|\.\d)", text) is not None
    if spelling[:1].isdigit():
        return re.search(rf"(?<![\d.]){re.escape(spelling)}", text) is not None
    return spelling in text


# A rank written in words: 季军, 居首位, 第一名, 前列.
_RANK_IN_WORDS = re.compile(r"冠军|亚军|季军|首位|榜首|前列|第[一二三四五六七八九十]+[名位]?")

# Words up to the next number, within the clause.
_WORDS_TO_NUMBER = re.compile(r"([^\d，,。；;、（）()]{1,16})\d")


def _labels_next_figure(f: Figure) -> bool:
    """Whether the words after a figure are the next figure's label, not what it counts: a unit that goes on
    (1,200吨/年), or, after a figure that counts nothing, words that run into another number (7,465.92万元丝状真菌
    蛋白产能达1,200吨: an ESG report's key-figure panel glued into one line)."""
    after = f.sentence[f.end - f.sentence_start:]
    if after.startswith("/"):
        return True
    # A count's object runs on into the next number in prose too (116个国家和地区近4000名运动员): only a figure
    # in a unit that counts nothing (money, weight, a share) is then read as a panel item.
    if not f.object or unit_dimension(f.unit) == "count":
        return False
    m = _WORDS_TO_NUMBER.match(after)
    return m is not None and f.object.rstrip("0123456789.,") in m.group(1)


def _ends_clause(sentence: str) -> bool:
    """Whether ``sentence`` ends on a ；, so that the sentence goes on after it."""
    return sentence.rstrip().endswith(("；", ";"))


def _paragraph_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the paragraph around text[start:end] starts and ends (paragraphs are separated by blank lines in stored
    text)."""
    a = text.rfind("\n\n", 0, start)
    b = text.find("\n\n", end)
    return (a + 2 if a >= 0 else 0), (b if b >= 0 else len(text))


def _paragraph(text: str, start: int, end: int) -> str:
    """The paragraph around text[start:end]."""
    a, b = _paragraph_span(text, start, end)
    return text[a:b]


class ExtractiveAnswerer:
    def __init__(self, index: LoadedIndex, embeddings: SentenceEmbeddings, settings: AnsweringSettings,
                 scope: ReportScope | None = None) -> None:
        self.index = index
        self.embeddings = embeddings
        self.settings = settings
        self.scope = scope or ReportScope(index, settings.report_cover_chars, settings.title_word_min_share)
        self._weights = score_weights(settings)
        self._topic_cache: dict[tuple[str, str], bool] = {}
        self._sentence_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._sentence_lock = threading.Lock()  # the web service answers from several threads
        # Each report's passages (folded), for the per-report topic test; and where its passages start and on which
        # page, for the page of a quote.
        self._folded_chunks: dict[str, list[str]] = {}
        self._chunk_pages: dict[str, list[tuple[int, int, int]]] = {}
        for c in index.chunks:
            self._folded_chunks.setdefault(c.source, []).append(fold_for_match(c.text))
            if c.page is not None:
                self._chunk_pages.setdefault(c.source, []).append((c.start, c.end, c.page))
        for pages in self._chunk_pages.values():
            pages.sort()
        # Figures per report in offset order, so a sentence's figures are found by bisection, not a scan.
        self._figures: dict[str, list[Figure]] = {}
        for f in sorted(index.figures, key=lambda f: (f.source, f.start)):
            self._figures.setdefault(f.source, []).append(f)
        self._figure_starts = {source: [f.start for f in figs] for source, figs in self._figures.items()}

    # ---- candidates ---------------------------------------------------------------------------------------

    def _sentence_embeddings(self, texts: list[str]) -> list[np.ndarray]:
        """The passage vectors of ``texts``: those the index built (aidqa.index.sentences), then those cached, the
        rest embedded in one batch and cached (a build from before sentence vectors were stored; a text the index
        did not split out)."""
        stored = self.index.sentences
        found: dict[str, np.ndarray | None] = {t: stored.get(t) for t in texts}
        with self._sentence_lock:
            for t, v in found.items():
                if v is None and t in self._sentence_vectors:
                    self._sentence_vectors.move_to_end(t)
                    found[t] = self._sentence_vectors[t]
        missing = [t for t, v in found.items() if v is None]
        if missing:
            fresh = dict(zip(missing, self.embeddings.embed_passages(missing)))
            found.update(fresh)
            with self._sentence_lock:
                self._sentence_vectors.update(fresh)
                while len(self._sentence_vectors) > SENTENCE_CACHE_SIZE:
                    self._sentence_vectors.popitem(last=False)
        return [found[t] for t in texts]

    def _candidates(self, hits: list[ScoredChunk]) -> list[Candidate]:
        seen: set[tuple[str, int, int]] = set()
        out: list[Candidate] = []
        for rank, hit in enumerate(hits[: self.settings.passages]):
            c = hit.chunk
            heading = self._heading_span(c.source, c.section, c.start)
            if heading and (c.source, *heading) not in seen:
                # A heading can be the answer (the 模式 a report is about is often only named in its heading).
                seen.add((c.source, *heading))
                out.append(Candidate(c.source, c.section, heading[0], heading[1], c.section, rank, c.section, heading[0]))
            for s, e in split_sentences(c.text):
                key = (c.source, c.start + s, c.start + e)
                if key in seen:
                    continue
                seen.add(key)
                out.append(Candidate(c.source, c.section, c.start + s, c.start + e, c.text[s:e], rank, c.text, c.start))
        return out

    def _score(self, q: QuestionAnalysis, query_vector: np.ndarray, cands: list[Candidate],
               context: str | None = None) -> None:
        question = q.wording
        term_groups = list(q.terms)
        if context:
            term_groups += [g for g in query_term_groups(context, self.index.keywords.lexicon) if g not in term_groups]
        vocabulary = self.index.keywords.lexicon.vocabulary
        # An English word the dictionary translates only into words the reports never use (weather → 天气).
        untranslated = self.settings.untranslated_weight if q.language == "en" else 1.0
        unused = {i for i, g in enumerate(term_groups) if is_han(g[0][:1]) and not any(t in vocabulary for t in g)
                  and g[0] not in EN_NUMBER_WORDS.values()}
        groups = [(tuple(fold_for_match(t) for t in g), self.index.keywords.word_idf(g[0])
                   * (untranslated if i in unused else 1.0)) for i, g in enumerate(term_groups)]
        # No spelling of an English word's untranslated group is a word of the reports, so where one turns up it
        # is part of another word (rice → 米 in 平方米, now → 今 in 今年): it is asked and missing, never matched.
        unmatched = unused if q.language == "en" and vocabulary else set()
        amount, unit = q.amount, q.unit
        # Words that only name the asked unit (资金/金额/钱 for 元, 人数 for 人) are answered by a figure in that
        # unit: 全年完成投资12.5亿元 answers 完成了多少投资资金 without the word 资金.
        unit_pattern = next((p for p, u in _UNIT_WORDS if u == unit), None)
        unit_words = {i for i, (alts, _) in enumerate(groups) if unit_pattern and unit_pattern.fullmatch(alts[0])}

        # A Chinese term's group is (the word as asked, *its dictionary synonyms): a synonym alone counts for less.
        synonym_share = self.settings.synonym_weight if q.language == "zh" else 1.0

        def coverage(folded_text: str, has_unit_figure: bool = False, implied: frozenset[int] = frozenset(),
                     beyond_implied: bool = False) -> float:
            # beyond_implied: the share of only the terms the report is not about (what the question asks of it).
            covered = total = 0.0
            for i, (alts, w) in enumerate(groups):
                if beyond_implied and i in implied:
                    continue
                total += w
                if i in unmatched:
                    continue
                if alts[0] in folded_text or (has_unit_figure and i in unit_words) or i in implied:
                    covered += w
                elif any(a in folded_text for a in alts[1:]):
                    covered += w * synonym_share
            return covered / total if total else 0.0

        q_bigrams = q.bigrams
        # The cover credits only the names it gives (a place, an organisation, a year: the question's anchors); its
        # other words are content like any sentence's (the cover of a short article is half of it).
        named = {fold_for_match(s) for a in q.anchors for s in a}
        implied_by_source: dict[str, frozenset[int]] = {}
        # A function character (为 of 为食, 的, 是) is in every other sentence: it earns no partial credit.
        term_chars = [frozenset() if i in unmatched else frozenset(ch for ch in alts[0] if is_han(ch) and ch not in ZH_STOP_WORDS)
                      for i, (alts, _) in enumerate(groups)]

        def char_credit(folded_text: str, implied: frozenset[int]) -> float:
            # A key term the sentence does not write, neither as asked nor as a synonym, counts by the share of its
            # characters it holds (身体 ↔ 体, 颜色 ↔ 色, 别名 ↔ 别称), over the terms the report is not about. A term
            # it writes gets nothing here: that is term coverage's, and counting it twice would favour sentences that
            # merely repeat the question (那泽库县呢？'s every 泽库县 sentence).
            credit = total = 0.0
            present = set(folded_text)
            for i, (alts, w) in enumerate(groups):
                if i in implied or not term_chars[i]:
                    continue
                total += w
                if not any(a in folded_text for a in alts):
                    credit += w * len(term_chars[i] & present) / len(term_chars[i])
            return credit / total if total else 0.0
        # Whether to answer rests on the question's own words, but a name or year the report is about holds in
        # all of it (a communique's 全年生产总值… answers 2023年某州GDP是多少？) when the sentence says the asked measure
        # itself, which _check requires of it: the measure then decides, not the report's title.
        anchor_terms = {i for i, (alts, _) in enumerate(groups) if alts[0] in named} if q.measure else set()

        def named_topic(source: str) -> frozenset[int]:
            return frozenset(i for i in anchor_terms if self._is_topic(groups[i][0][0], source))
        spellings = frozenset(t for g in term_groups for t in g)  # an English question's Chinese words
        vectors = self._sentence_embeddings([c.text for c in cands])
        for cand, vec in zip(cands, vectors):
            folded = fold_for_match(cand.text)
            # People are counted as 人, 名, 人次 or 位 (a count of 30名 answers 多少人).
            cand.unit_match = has_number_with_unit(cand.text, unit) or (unit == "人" and any(
                has_number_with_unit(cand.text, u) for u in _UNIT_FAMILIES.get("人", ())))
            # For ranking, a term the report is about (in its title or cover: its place, year or subject) holds in
            # every sentence of it: otherwise the cover sentence, which spells it out, outranks the one that answers.
            if cand.source not in implied_by_source:
                implied_by_source[cand.source] = frozenset(
                    i for i, (alts, _) in enumerate(groups)
                    if i not in unmatched and (self.scope.titled(cand.source, alts[0])
                                               or (alts[0] in named and self.scope.about(cand.source, alts[0]))))
            cand.coverage = coverage(folded, cand.unit_match, implied_by_source[cand.source])
            cand.focus = coverage(folded, cand.unit_match, implied_by_source[cand.source], beyond_implied=True)
            # Support (whether to answer at all) takes no unit credit: it must rest on the question's own words.
            cand.context_coverage = coverage(fold_for_match(self._context(cand)), implied=named_topic(cand.source))
            cand.bigram_coverage = len(q_bigrams & set(char_bigrams(cand.text))) / len(q_bigrams) if q_bigrams else 0.0
            cand.char_coverage = char_credit(folded, implied_by_source[cand.source])
            cand.dense = float(np.dot(query_vector, vec))
            cand.has_number = has_count(cand.text)
            # What a figure of this sentence measures, repeated by the question (完成投资多少 ↔ 全年完成投资12.5亿元).
            phrase = max((_common_run(f.measures, question) if q.language == "zh" else translated_run(f.measures, spellings)
                          for f in self._figures_in(cand, unit)), default=0) if amount else 0
            cand.features = candidate_features(cand, amount, phrase >= self.settings.measure_phrase_min_chars,
                                               bool(q.defines) and states_definition(cand.text, q.defines),
                                               self._has_cue(q.cue, cand))
            cand.score = float(self._weights @ cand.features)

    def _has_cue(self, kind: str | None, cand: Candidate) -> bool:
        """Whether the sentence holds a phrase of the kind that answers (a date for a when-question)."""
        if kind is None:
            return False
        if kind == "when":
            return bool(self._figures_between(cand.source, cand.start, cand.end, ("year", "date")))
        return ANSWER_CUES[kind].search(cand.text) is not None

    # ---- decision -----------------------------------------------------------------------------------------

    def _heading_span(self, source: str, section: str, before: int) -> tuple[int, int] | None:
        if not section:
            return None
        text = self.index.documents[source].text
        at = text.rfind(section, 0, before)
        return (at, at + len(section)) if at >= 0 else None

    def _context(self, cand: Candidate) -> str:
        doc = self.index.documents[cand.source]
        return _paragraph(doc.text, cand.start, cand.end) + "\n" + cand.section + self._parent_row(cand)

    def _beside_figure(self, anchors: list[tuple[str, ...]], source: str) -> list[tuple[str, ...]]:
        """The anchors a figure must stand beside: not numbers, not a clause number (5.1.5条 says which clause holds
        the sentence, not what its figure is of), not what the report is about."""
        return [a for a in anchors if not _is_number(a[0]) and not SECTION_NUMBER_RE.fullmatch(a[0])
                and not any(self._is_topic(x, source) for x in a)]

    def _label_line(self, cand: Candidate) -> str:
        """For a paragraph that opens with its figure, "\n" and the short line right before it: an infographic's
        label above its value (a line 营业收入, then 1,234.5万元净利润…) says what the figure is. "" otherwise."""
        opening = FIGURE_RE.match(fold_thousands(cand.text.lstrip()))
        if not opening or not opening.group("num") or unit_dimension(opening.group("unit")) == "time":
            return ""  # it opens otherwise, or with a date or a clause number
        text = self.index.documents[cand.source].text
        start = text.rfind("\n\n", 0, cand.start + 1)
        if start < 0 or text[start + 2 : cand.start].strip():
            return ""  # the sentence does not open its paragraph
        before = text.rfind("\n\n", 0, start)
        label = text[before + 2 if before >= 0 else 0 : start].strip()
        if not label or len(label) > _MAX_LABEL or re.search(r"[\d。；;，,：:！？!?]", label):
            return ""
        return "\n" + label

    def _parent_row(self, cand: Candidate) -> str:
        """For a table's sub-row (#铁路 · 单位：万人；… under 旅客运输总量 · …), "\n" and the label of the row it is
        part of; for a paragraph that opens with its figure, the label line above it (``_label_line``); "" otherwise.
        A row without the mark that follows sub-rows is taken as one more (一般公共预算支出, #一般公共服务, 农林水,
        教育: a converted PDF keeps the # of the first only); it may instead be a row of its own, and then its own
        label already says what the question asks of it."""
        if label := self._label_line(cand):
            return label
        if "·" not in cand.text or (not TABLE_ROW_RE.match(cand.text) and not cand.text.startswith("#")):
            return ""
        text = self.index.documents[cand.source].text
        end = cand.start
        sub_rows = cand.text.startswith("#")
        for _ in range(_MAX_SUB_ROWS):
            start = text.rfind("\n\n", 0, max(0, end - 2))
            block = text[start + 2 if start >= 0 else 0 : end].strip()
            if not block or "·" not in block:
                return ""
            if block.startswith("#"):
                sub_rows = True
            elif sub_rows:
                return "\n" + block.split("·", 1)[0].strip()
            if start < 0:
                return ""
            end = start
        return ""

    def _is_topic(self, spelling: str, source: str) -> bool:
        """A name report ``source`` is about (in its title, cover or romanised file name, or in many of its
        passages) says nothing about which of its passages answers; in another report it is a specific thing like
        any other."""
        key = (spelling, source)
        if key not in self._topic_cache:
            folded = fold_for_match(spelling)
            passages = self._folded_chunks.get(source, [])
            share = sum(1 for text in passages if folded in text) / max(1, len(passages))
            self._topic_cache[key] = self.scope.about(source, folded) or share >= self.settings.topic_min_share
        return self._topic_cache[key]

    def _supported(self, q: QuestionAnalysis, cand: Candidate, topic: str | None = None) -> tuple[bool, str]:
        ok, why, _ = self._check(q, cand, topic)
        return ok, why

    def _required_anchors(self, q: QuestionAnalysis, quotes_found: bool = False) -> list[tuple[str, ...]]:
        """The anchors a sentence's paragraph must write, each with the corpus's spellings (``ReportScope.respelled``)."""
        required = [self.scope.respelled(q.question, a) for a in q.anchors]
        if quotes_found:
            # The sentence holds the exact name the question quotes; only numbers and years still must match
            # (jieba's place tags misfire on ordinary words such as 嘉宾).
            required = [a for a in required if _is_number(a[0])]
        return required

    def _missing_anchors(self, required: list[tuple[str, ...]], cand: Candidate) -> list[str]:
        """The ``required`` anchors the sentence's paragraph does not write and its report is not about."""
        context = fold_for_match(self._context(cand))
        return [a[0] for a in required if not _writes(context, a) and not any(self._is_topic(s, cand.source) for s in a)]

    def _check(self, q: QuestionAnalysis, cand: Candidate, topic: str | None = None) -> tuple[bool, str, bool]:
        """(supported, why, whether a failure is about a named thing or figure missing from this sentence).
        ``topic``: what an elliptical follow-up asks about instead of the earlier question's term."""
        if topic and not self._names_topic(cand, topic):
            # 合成生物那块呢？ after a question on 锂电池…产能: the paragraph may hold both, but the sentence quoted
            # must be the one about 合成生物, not the earlier answer again.
            return False, f"the follow-up asks about {topic!r} but the sentence does not name it", True
        quoted = list(q.quoted)
        quotes_found = bool(quoted) and all(fold_for_match(name) in fold_for_match(cand.text) for name in quoted)
        required = self._required_anchors(q, quotes_found)
        missing = self._missing_anchors(required, cand)
        if missing:
            return False, f"question names {missing} but the passage does not", True
        elsewhere = [w for w in self.scope.title_words(q.question) if not self.scope.holds(cand.source, w)]
        if elsewhere:
            return False, f"question names {elsewhere} (from a report's title) but this report never does", True
        # A figure answers only for what it measures: 城镇调查失业率 asked, a sentence of 居民收入 growth in %
        # is a neighbouring fact, however well it scores (near misses of the shared communiques and work report).
        absent = self._measure_unsaid(q, cand)
        if absent:
            return False, f"question asks about {absent} but the sentence does not say it", True
        other = self._other_modifiers(q, cand)
        if other:
            return False, f"question asks for the {other[0]} figure, the sentence gives the {other[1]} one", True
        unit = q.unit
        if unit in _STRICT_UNITS:
            if not cand.unit_match:
                return False, f"question asks for an amount in {unit} but the passage gives none", True
            # The figure must sit next to what the question names: in 与甲公司…签署框架协议，目前，乙公司投资
            # 2.3亿元, the 2.3亿元 is not 甲公司's.
            specific = self._beside_figure(required, cand.source)
            if specific and not any(
                all(_writes(window, a) for a in specific)
                for window in _figure_windows(cand.text, unit)
            ):
                return False, f"the {unit} figure in the passage is not next to {[a[0] for a in specific]}", True
        elif q.amount and cand.has_number:
            # Any figure answers only for the thing it stands beside: 泽库县's 近2.5万人 is not 同仁市's, even when
            # 同仁市 appears elsewhere in the paragraph.
            specific = self._beside_figure(required, cand.source)
            here = fold_for_match(f"{cand.text}\n{cand.section}{self._parent_row(cand)}")
            absent = [a[0] for a in specific if not _writes(here, a)]
            if absent:
                return False, f"the figures in the sentence are not about {absent}", True
        if unit is not None and q.amount and cand.has_number:
            # A figure in another dimension is a neighbour's: 多少家 (a count) is not answered by 2000万元, nor 多少个
            #乡镇 by 1236公里 (near misses of the shared communique; aidqa.zh.numbers.unit_dimension).
            asked = {unit_dimension(u) for u in (q.units or (unit,))}
            found = figure_dimensions(cand.text)
            if found and not asked & found:
                return False, f"question asks for {sorted(asked)} but the sentence's figures measure {sorted(found)}", True
        if q.counted and q.unit and unit_dimension(q.unit) == "count" and cand.has_number:
            # 多少个展区 counts 展区: a sentence whose every count is of something else (展馆由3个部分组成) is a
            # neighbour, however many of the question's words it shares.
            counts = [f for f in self._figures_in(cand, None) if unit_dimension(f.unit) == "count"]
            synonyms = self.index.keywords.lexicon.synonyms
            if counts and all(f.object for f in counts) and not any(
                    s in f.object for f in counts for w in q.counted for s in (w, *synonyms(w))):
                return False, f"the sentence counts {[f.object for f in counts]}, not {list(q.counted)}", True
        if q.rank and not (self._figures_between(cand.source, cand.start, cand.end, ("ordinal",))
                           or _RANK_IN_WORDS.search(cand.text)):
            # 在全国排第几？ is answered by a rank (居全国第5位), not by a sentence sharing its words (治理排危4968处).
            return False, "question asks for a rank but the sentence states none", True
        if q.year and not STATED_YEAR_RE.search(cand.text):
            # 兴建于哪一年？ is answered by a year, not by the name of the building in a neighbouring article.
            return False, "question asks for a year but the sentence states none", True
        asked_periods = set(PLAN_PERIOD_RE.findall(q.question))
        if asked_periods and (named := set(PLAN_PERIOD_RE.findall(cand.text))) and not named & asked_periods:
            # “十三五”期间…要减少多少？ is not answered by “十二五”期间…累计下降10% (the plan's own period is its
            # topic, so the anchor alone does not catch it): a sentence of another period is a near miss.
            return False, f"question asks about {sorted(asked_periods)} but the sentence is about {sorted(named)}", True
        if q.change and cand.has_number and _only_averages_over_years(cand.text):
            # 增长了多少 asks for a change over a year: 五年来…年均增长6% (the average of a plan's years, in a work
            # report's review) is not the year's 增长4% that the same report gives elsewhere.
            return False, "question asks for a change, the sentence gives only yearly averages over a period", True
        if q.date and not self._figures_between(cand.source, cand.start, cand.end, ("date",)):
            # 哪天完成的？ is answered by a date (2023年3月9日), not by a sentence on dates (修正和增补时应注明日期).
            return False, "question asks for a date but the sentence states none", True
        if q.amount and not cand.has_number:
            # A how-much question is answered by a figure: a sentence without one is at best its neighbour (规模以上
            # 工业企业多少家 → the definition of 规模以上; 预期增长目标是多少 → a heading; near misses of the shared
            # communique, work report and standard draft).
            return False, "question asks for an amount but the sentence states none", True
        if quotes_found:
            return True, f"sentence contains the quoted {quoted}", False
        if cand.context_coverage >= self.settings.min_term_coverage:
            return True, f"term coverage {cand.context_coverage:.2f}", False
        # Paraphrases share few words with the report; strong embedding similarity can carry them.
        if cand.context_coverage >= self.settings.min_term_coverage / 2 and cand.dense >= self.settings.min_dense_similarity:
            return True, f"term coverage {cand.context_coverage:.2f} with dense similarity {cand.dense:.2f}", False
        # A paraphrase that shares almost no words (几台电脑 for 计算机普及率): the sentence far more like the question
        # than any other retrieved one answers, when it also holds the kind of phrase asked (a cause): a bare
        # similarity cannot tell near misses, a lead over the neighbours mostly can.
        if (cand.dense_lead >= self.settings.min_dense_lead and cand.dense >= self.settings.min_dense_lead_similarity
                and (not q.cue or self._has_cue(q.cue, cand))):
            return True, f"dense similarity {cand.dense:.2f}, {cand.dense_lead:.2f} above any other sentence", False
        return False, f"term coverage {cand.context_coverage:.2f}, dense similarity {cand.dense:.2f}", False

    def settled(self, q: QuestionAnalysis, hits: list[ScoredChunk]) -> Extraction | None:
        """The answer decided before any sentence is scored (by either backend), or None:

        * a refusal when what the question opens with (its subject) is named by no report, not even by its first two
          characters — topic neighbours would otherwise answer it: 蓝线裸顶鲷的俗名是什么？ was answered with another
          fish's 俗名 when the passage on 蓝线裸顶鲷 was not in the corpus (CMRC 2018, docs/evaluation.md);
        * a refusal when a name the question quotes (“五大恶人”, 《某某传》) is written by no report: the quotation marks
          say "this exact name", and the passage that writes it was not in the corpus; an English question's quoted
          English ("new three") is left to the other checks, as a report writes it in Chinese, and so is a document's
          name (a report's title said loosely). CMRC 2018 with the passage removed: four questions, three articles,
          answered from another article before;
        * a refusal when a 什么是X？ question's X is in no report as written: a definition question names its term
          exactly, and 什么是五月艾？ was answered from a sentence on bamboo shoots in 四、五月;
        * the cover line of the top passage's report, for a question on its issuing date, number or issuer
          (这份公报是哪天发布的？, aidqa.qa.cover)."""
        if q.subject and not self.scope.names_anything_like(fold_for_match(q.subject)):
            return Extraction(REFUSAL[q.language], True, [], f"the question is about {q.subject!r}, which no report names")
        # A quoted document (《四川省政府工作报告》, a 规划, a 通知) may be a report's title said loosely: left to the
        # other checks.
        unwritten = [name for name in (*q.quoted, *BOOK_TITLE.findall(q.question))
                     if any(is_han(c) for c in name) and not document_kind(name)
                     and not self.scope.reports_holding(fold_for_match(name))]
        if unwritten:
            return Extraction(REFUSAL[q.language], True, [], f"the question quotes {unwritten[0]!r}, which no report writes")
        unnamed = [t for t in named_by_definition(q.question) if not self.scope.reports_holding(fold_for_match(t))]
        if unnamed:
            return Extraction(REFUSAL[q.language], True, [], f"the question asks what {unnamed[0]!r} is, which no report names")
        fact = cover_question(q.question)
        if not fact or not hits:
            return None
        # Among several reports, the retrieved ones whose title or cover says the kind of document asked about
        # (这份通知: a communique's cover has no 文号), the first that states the fact; the top passage's report when
        # none says it. Another report's date is never this one's: a draft without its date is refused.
        sources = list(dict.fromkeys(hit.chunk.source for hit in hits))
        kind = document_kind(q.question)
        named = [source for source in sources if kind and self.scope.about(source, fold_for_match(kind))]
        for source in named or sources[:1]:
            text = self.index.documents[source].text
            span = cover_line(fact, text, self.settings.report_cover_chars)
            if span is not None:
                line = text[span[0]:span[1]]
                citations = [self._citation(1, Candidate(source, "", span[0], span[1], line, 0, line, span[0], score=1.0))]
                return Extraction(render_answer(q.language, citations, [], None), False, citations,
                                  f"the report's cover states its {fact}")
        return None

    def _narrower_last(self, q: QuestionAnalysis, ranked: list[Candidate], context: str | None = None) -> list[Candidate]:
        """``ranked`` with the sentences that state a narrower figure than the question asks for after the others
        scoring close to the top (``support_margin``). Alone, or well above the rest, such a sentence still answers.

        * Per head, unless per head is asked (a per-head word before the answering figure: 人均生产总值5万元): a
          question that does not ask per head (生产总值增长了多少？) asks for the total, and the per-head sentence,
          which shares its words and adds one, scored as high on two communiques. 可支配收入 is given per head only.
        * A part of a total (an 其中 list after it: 全年图书销量X万册。其中，电子书销量Y万册), when the question
          names none of the words the part adds to the total (电子书): on two communiques the part outranked the total
          it breaks down (tourists on both, construction enterprises on one). ``context``: the earlier question a
          follow-up or a later part depends on, whose words count as asked (…电子书销量多少？比上年增长多少？)."""
        close = [c for c in ranked if c.score >= self.settings.support_margin * ranked[0].score]
        per_head = not asks_per_head(q)
        # Parts only under a strong match at the top: a weak one means the reports are not about this, and moving a
        # weak part aside let a neighbouring report's sentence answer in a corpus of many.
        parts = ranked[0].context_coverage >= self.settings.min_term_coverage
        # What the question says, in Chinese: its wording, an English question's Chinese words (domestic → 国内),
        # and those of the question it depends on.
        asked = ""
        if parts:
            groups = [*q.terms, *(query_term_groups(context, self.index.keywords.lexicon) if context else ())]
            asked = " ".join([q.wording, context or "", *(t for g in groups for t in g)])
        narrower = [c for c in close if (per_head and any(_PER_HEAD.search(c.text[: max(0, f.start - c.start)])
                                                          for f in self._answering_figures(q, c, list(q.units))[:1]))
                    or (parts and self._unasked_part(asked, c))]
        if not narrower or len(narrower) == len(close):
            return ranked
        return [c for c in close if c not in narrower] + narrower + ranked[len(close):]

    def _unasked_part(self, asked: str, cand: Candidate) -> bool:
        """Whether ``cand`` is in an 其中 list breaking down the total stated just before it, and adds to that total
        words (电子书 of 电子书销量) that ``asked`` (what the question says) does not use."""
        text = self.index.documents[cand.source].text
        floor = max(0, cand.start - _MAX_BREAKDOWN_CHARS)
        chain = cand.start
        while chain > floor and text[chain - 1] not in _FULL_STOPS:
            chain -= 1
        if chain <= floor or not text[chain:cand.end].lstrip().startswith("其中"):
            return False
        total_start = chain - 1
        while total_start > floor and text[total_start - 1] not in _FULL_STOPS:
            total_start -= 1
        total = set(tokenize_words(text[total_start:chain]))
        added = {w for w in tokenize_words(cand.text) if all(is_han(ch) for ch in w) and w != "其中"} - total
        return bool(added) and not any(w in asked for w in added)

    def _measure_unsaid(self, q: QuestionAnalysis, cand: Candidate) -> list[str]:
        """The words of the question's measure that the sentence, its heading and its table row's label do not say
        (nor a dictionary synonym of them), unless the report is about them."""
        if not q.measure:
            return []
        here = fold_for_match(f"{cand.text}\n{cand.section}{self._parent_row(cand)}")
        synonyms = self.index.keywords.lexicon.synonyms
        return [w for w in q.measure if not any(_says(here, s) for s in (w, *synonyms(w)))
                and not self._is_topic(w, cand.source)]

    def _other_modifiers(self, q: QuestionAnalysis, cand: Candidate) -> tuple[list[str], list[str]] | None:
        """(what the question says of its measure, what the sentence says instead) when both qualify the measure and
        each says something the other does not: 全体居民人均可支配收入 asked, 农村常住居民人均可支配收入 given is
        another population's figure (a communique that gives only the urban and rural ones). None otherwise: a
        sentence that adds nothing (全市居民…) or says the measure without a qualifier still answers."""
        asked = q.modifiers
        given = measure_modifiers(cand.text, q.measure) if asked else None
        if not asked or not given:
            return None
        here = fold_for_match(cand.text)
        synonyms = self.index.keywords.lexicon.synonyms
        names = {fold_for_match(s) for a in q.anchors for s in a}
        # A word is said when its two parts are (农村居民 by 农村常住居民).
        unsaid = [w for w in asked if fold_for_match(w) not in names and not self._is_topic(w, cand.source)
                  and not any(_says(here, s) for s in (w, *synonyms(w)))
                  and not all(_says(here, part) for part in word_parts(w))]
        unasked = [w for w in given if w not in q.wording and not any(s in q.wording for s in synonyms(w))]
        return (unsaid, unasked) if unsaid and unasked else None

    def _names_topic(self, cand: Candidate, topic: str) -> bool:
        """Whether the sentence, its section heading or its table row's label names ``topic``: every word of it, or
        a synonym (木兰许可证 is named by 木兰开源许可证); an English topic is not judged against Chinese text."""
        return names_topic(f"{cand.text}\n{cand.section}{self._parent_row(cand)}", topic,
                           self.index.keywords.lexicon.synonyms)

    def ranked_candidates(self, q: QuestionAnalysis, hits: list[ScoredChunk], query_vector: np.ndarray,
                          context: str | None = None) -> list[Candidate]:
        """The sentences (and headings) of the top passages that say something the question does not, scored and
        best first; each keeps its features."""
        cands = [c for c in self._candidates(hits) if new_chars(q.question, c.text) >= self.settings.min_new_chars
                 and not _PLACEHOLDER.search(c.text)]
        self._score(q, query_vector, cands, context)
        # The most similar sentence's lead over the next (a different text: a page may print a sentence twice); none
        # when there is nothing to lead.
        by_dense = sorted(cands, key=lambda c: -c.dense)
        if by_dense:
            runner_up = next((c.dense for c in by_dense[1:] if c.text != by_dense[0].text), by_dense[0].dense)
            by_dense[0].dense_lead = by_dense[0].dense - runner_up
        return sorted(cands, key=lambda c: -c.score)

    def answer(self, question: str, language: str, hits: list[ScoredChunk], query_vector: np.ndarray,
               context: str | None = None, topic: str | None = None) -> Extraction:
        """Quote the sentences of ``hits`` that answer ``question``, or refuse. ``context`` is the earlier question a
        follow-up depends on (他们来了做了哪些事？): its terms count towards how well a sentence matches, while
        the things the follow-up itself names (years, places, figures) must still be in the sentence. ``topic`` is
        what an elliptical follow-up asks about (``question`` is then the earlier question with it put in): the
        quoted sentence must name it."""
        q = analyse(question, language, self.index.keywords.lexicon)
        settled = self.settled(q, hits)
        if settled is not None:
            return settled
        ranked = self.ranked_candidates(q, hits, query_vector, context)
        if not ranked:
            return Extraction(REFUSAL[language], True, [], "no passages")
        if q.amount:
            ranked = self._narrower_last(q, ranked, context)
        # The best-scoring sentence may be a neighbouring fact (尖扎县's 700万元 when 泽库县 is asked); the answer
        # is the best sentence that passes every check, among those scoring close to the top.
        # Only a miss on a named thing sends the search further down: a weak term match at the top means the
        # reports are not about this, and a lower sentence that happens to match better is a near miss.
        best, reason = None, ""
        # A sentence that cannot answer by its kind (for a how-much question, a table's caption, a sentence with
        # no figure in the unit asked or one that does not say the measure asked; for a follow-up, one that does not
        # name its topic) does not set the bar the others are measured against: 规模以上工业增加值增长5.0% is no
        # bar for the row 集体企业·比上年增长（%）：-28.0 when 集体企业增加值增速 is asked.
        top = next((c for c in ranked if (not q.amount or (
            has_count(c.text) and (q.unit not in _STRICT_UNITS or c.unit_match) and not self._measure_unsaid(q, c)))
            and (not topic or self._names_topic(c, topic))), ranked[0])
        # Nor does one that does not name what the question names: for "Table 3 … in Hubei?" a sentence on the
        # table as a whole, without 湖北, is no bar for the 湖北 row. ``top`` still decides which lower sentences
        # must match the question's words clearly (below).
        required = self._required_anchors(q)
        bar = next((c for c in ranked[ranked.index(top):] if not self._missing_anchors(required, c)), top)
        tries = ranked[: self.settings.support_tries]
        for cand in tries + ([top] if all(top is not c for c in tries) else []):
            if cand.score < self.settings.support_margin * bar.score:
                break
            ok, why, named_miss = self._check(q, cand, topic)
            if (ok and cand is not top and cand.context_coverage < self.settings.fallback_coverage and not q.quoted
                    and cand.dense_lead < self.settings.min_dense_lead):
                # A lower sentence must match the question's words clearly, not just pass: a county's 1000万元
                # medical project is not the answer to the total investment of its road project. Or stand out from
                # every other sentence as the one the question is like (its dense lead): a paraphrase matches few
                # words by nature.
                ok, why = False, f"fallback with term coverage {cand.context_coverage:.2f} only"
            logger.debug("candidate %.3f %s: %s", cand.score, cand.text[:40], why)
            reason = reason or why
            if ok:
                best, reason = cand, why
                break
            if not named_miss:
                break
        if best is None:
            logger.info("refusing %r: %s", question, reason)
            return Extraction(REFUSAL[language], True, [], reason)
        chosen = [best]
        for cand in ranked:
            if cand is best:
                continue
            if len(chosen) >= self.settings.max_sentences:
                break
            if any(cand.text == c.text for c in chosen):
                continue  # a page that prints the same sentence twice (a news article's summary and body)
            if cand.score >= self.settings.companion_ratio * best.score and self._supported(q, cand, topic)[0]:
                chosen.append(cand)
        amount, unit = q.amount, q.unit
        figure_sentences = [best]
        if _ends_clause(best.text) and (q.is_list or unit):
            # A report's statement often runs on over a chain of ；-clauses (实施了A、B…；启动C…；推动D…。 /
            # 投入700万元…；投入1000万元…；另投入1400万元…。): the clauses after the best one carry the rest of
            # the items, or the other figures of the same kind (医疗方面投入了多少资金？ → all three).
            more = [c for c in self._continuation(best) if all(c.start != x.start for x in chosen)]
            if more:
                self._score(q, query_vector, more, context)
            if not q.is_list:
                more = [c for c in more if self._figures_in(c, unit) and self._check(q, c, topic)[0]]
            chosen[1:1] = more
            figure_sentences += more
            chosen = sorted(chosen, key=lambda c: (c.source, c.start))[: self.settings.list_max_sentences]
        # The best sentence is quoted with the sentences it leans on (its cause before 因此…, the items after 以下
        # 三点：); for a question that asks no figure every sentence is quoted whole, except for a follow-up on one
        # topic (那第二次呢？: the clause that names 第二次, not the whole 第一次…；第二次…；… sentence). A sentence an
        # earlier quote (the best one's first) then takes in is not quoted twice.
        whole = not amount and not topic
        shown = self._in_context(best, whole=whole)
        widened = {id(c): shown if c is best else self._in_context(c, whole=True) if whole else c for c in chosen}
        kept = [shown]
        for c in chosen:
            wide = widened[id(c)]
            if c is not best and not any(wide.source == k.source and wide.start < k.end and k.start < wide.end
                                         for k in kept):
                kept.append(wide)
        chosen = [widened[id(c)] for c in chosen if any(widened[id(c)] is k for k in kept)]
        citations = [self._citation(i + 1, c) for i, c in enumerate(chosen)]

        def citation_of(cand: Candidate) -> int | None:
            return next((c.id for c in citations if c.source == cand.source and c.start <= cand.start
                         and cand.end <= c.end), None)

        figures: list[CitedFigure] = []
        if amount:
            for cand in sorted(figure_sentences, key=lambda c: (c.source, c.start)):
                cid = citation_of(cand)
                if cid is None:
                    continue
                for f in self._answering_figures(q, cand, list(q.units)):
                    figures.append(CitedFigure(raw=f.raw, value=f.value, unit=f.unit, qualifier=f.qualifier,
                                               measures=f.measures, citation_id=cid, start=f.start, end=f.end))
        elif q.when:
            cid = citation_of(best)
            # A sentence that dates itself only by the one before (赛后，…) is dated by the sentence taken in.
            dates = (self._figures_between(best.source, best.start, best.end, ("year", "date"))
                     or self._figures_between(shown.source, shown.start, best.start, ("year", "date")))
            figures = [CitedFigure(raw=f.raw, value=f.value, unit=f.unit, qualifier=f.qualifier, measures=f.measures,
                                   citation_id=cid, start=f.start, end=f.end)
                       for f in whole_dates(dates, self.index.documents[best.source].text)]
        lead = None
        best_citation = citation_of(best)
        if q.direction and best_citation is not None:
            # The change may not be the figure that best matches the question (某车辆保有量50万辆，下降2.0%).
            stated = [CitedFigure(raw=f.raw, value=f.value, unit=f.unit, qualifier=f.qualifier, measures=f.measures,
                                  citation_id=best_citation, start=f.start, end=f.end)
                      for f in self._figures_between(best.source, best.start, best.end, ("amount",))]
            lead = direction_lead(q.direction, [f for f in figures if f.citation_id == best_citation], stated,
                                  self.index.documents[best.source].text, language)
        for c in citations:
            c.highlights = [(f.start, f.end) for f in figures if f.citation_id == c.id]
        total = compute_total(figures, citations) if figures and q.total else None
        return Extraction(render_answer(language, citations, figures, total, lead=lead), False, citations, reason,
                          figures, total)

    # ---- figures ------------------------------------------------------------------------------------------

    def _figures_between(self, source: str, start: int, end: int, kinds: tuple[str, ...]) -> list[Figure]:
        figs = self._figures.get(source, [])
        i = bisect.bisect_left(self._figure_starts.get(source, []), start)
        out = []
        while i < len(figs) and figs[i].start < end:
            if figs[i].end <= end and figs[i].kind in kinds:
                out.append(figs[i])
            i += 1
        return out

    def _figures_in(self, cand: Candidate, units: list[str] | str | None) -> list[Figure]:
        """Amount figures inside the candidate sentence in one of ``units`` (or, failing that, their families:
        名/人次 count people too); all of them when no unit is asked."""
        inside = self._figures_between(cand.source, cand.start, cand.end, ("amount", "ordinal"))
        wanted = [units] if isinstance(units, str) else list(units or [])
        if not wanted:
            return inside
        exact = [f for f in inside if f.unit in wanted]
        return exact or [f for f in inside if any(f.unit in _UNIT_FAMILIES.get(u, ()) for u in wanted)]

    def _answering_figures(self, q: QuestionAnalysis, cand: Candidate, units: list[str]) -> list[Figure]:
        """The figures of the sentence that answer the question: in the asked units, and among several in one
        unit, those whose own words (what they measure) best match the question."""
        # A figure the question itself states (2015年全国338个城市PM2.5浓度是多少 → 338个) is what it asks about, not
        # the answer.
        asked_numbers = set(numbers_in(fold_width(q.question)))

        def echoes(f: Figure) -> bool:
            numbers = set(numbers_in(fold_width(f.raw)))
            return bool(numbers) and numbers <= asked_numbers

        figs = [f for f in self._figures_in(cand, units) if not echoes(f)]
        if q.rank:
            figs = [f for f in figs if f.kind == "ordinal"] or figs
        relatives = [r for u in units for r in _UNIT_FAMILIES.get(u, ())]
        if relatives and figs and not any(f.unit in relatives for f in figs):
            # A near relative wins only when it plainly fits better (观众人数 → 超10万人次, not 百人规模).
            figs += [f for f in self._figures_in(cand, relatives) if f.unit in relatives and not echoes(f)]
        if len(units) > 1:  # 几批次、多少人次: one best figure per asked unit
            return [f for u in units for f in self._answering_figures(q, cand, [u])[:1]
                    if f.unit == u or f.unit in _UNIT_FAMILIES.get(u, ())]
        if not units and asks_count(q.question):
            # How many suppliers: a count answers, not the sentence's money or share figures.
            figs = [f for f in figs if unit_dimension(f.unit) == "count"] or figs
        bigrams = q.bigrams

        def match(f: Figure) -> int:
            # What a number counts follows it (15场讲座, 2000平方米厂房): the object weighs double.
            obj = "" if _labels_next_figure(f) else f.object
            return len(bigrams & set(char_bigrams(f.measures))) + 2 * len(bigrams & set(char_bigrams(obj)))

        if len(figs) <= 1:
            return figs
        # The verb right before a figure is its own (新增3000公里、突破1.1万公里): when the question uses one figure's
        # verb and another figure has a verb it does not use, the figures with the question's verb answer.
        verbs = {id(f): _own_verb(f.measures) for f in figs}
        # (An English question uses a verb when its Chinese words do: "grow" → 增长.)
        def uses(verb: str) -> bool:
            return verb in q.question if q.language == "zh" else set(char_bigrams(verb)) <= q.bigrams

        used = [f for f in figs if verbs[id(f)] and uses(verbs[id(f)])]
        # A change asked (增长了多少, grow by how much) is answered by the changes, not by the level beside them
        # (人均生产总值5万元，比上年增长3.0%): figures after a change verb the question uses, in their clause
        # (分别下降27.4%、20.9%).
        changes = [f for f in figs if any(v in _clause_before(f) and uses(v) for v in _CHANGE_VERBS)]
        if changes and len(changes) < len(figs):
            figs = changes
            used = [f for f in used if f in changes]
        if used and any(verbs[id(f)] and not uses(verbs[id(f)]) for f in figs):
            figs = used
            if len(figs) == 1:
                return figs
        exact = [f for f in figs if f.unit in units] or figs
        best_exact = max(match(f) for f in exact)
        best = max(match(f) for f in figs)
        if best == 0:
            return exact if units else []
        if best_exact > 0:
            figs = exact
            best = best_exact
        tied = [f for f in figs if match(f) == best]
        # Between equal matches, a figure stated of the asked measure itself: 产能 asked, 公司目前产能为1200吨 rather
        # than 待年产20万吨微生物蛋白 (whose object merely shares a character pair with the question).
        stated = [f for f in tied if any(w in f.measures for w in q.measure)]
        tied = stated or tied
        # Between equal matches still, the figure whose own words add least to the question: 研发投入 asked, 研发投入
        # 7,465.92万元 rather than 研发投入占比6.34% (占比 was not asked).
        extra = {id(f): len(set(char_bigrams(f.measures)) - bigrams) for f in tied}
        return [f for f in tied if extra[id(f)] == min(extra.values())]

    def _continuation(self, first: Candidate) -> list[Candidate]:
        """The sentences after ``first`` in its ；-chain: same paragraph, up to the sentence that ends the chain or
        one that opens a new topic (在…上，)."""
        text = self.index.documents[first.source].text
        para_start, para_end = _paragraph_span(text, first.start, first.end)
        paragraph = text[para_start:para_end]
        out: list[Candidate] = []
        for s, e in split_sentences(text, first.end, para_end):
            sentence = text[s:e]
            if opens_topic(sentence) or len(out) >= self.settings.list_max_sentences - 1:
                break
            out.append(Candidate(first.source, first.section, s, e, sentence, first.chunk_rank, paragraph, para_start,
                                 score=first.score))
            if not _ends_clause(sentence):
                break
        return out

    def _in_context(self, cand: Candidate, whole: bool = False) -> Candidate:
        """``cand`` widened, within its paragraph, to the sentence before it when it leans on it (因此… / 赛后，…:
        ``aidqa.zh.structure.leans_back``) and to the sentences after it when it announces them (以下三点：第一，…),
        up to the list limit; ``cand`` itself when neither.

        ``whole`` (a question that asks no figure): also to the whole sentence its ；-clauses make (标准杆数是指…；
        标准杆数也被定义为…。 / 主治感冒发热…等症；近用于乳糜尿。) and to the sentences after it that lean on it
        (…有些分别。牠们的毛多呈沙色…。牠们背及颈上的鬃毛…): a description or a reason is the sentence, not its last
        clause. A figure question keeps its clause, which states the figure with its measure."""
        if cand.text.startswith("#") or TABLE_ROW_RE.match(cand.text) or cand.text == cand.section:
            return cand  # a table row or a heading stands alone (a row's 以下…： is a header, not an announcement)
        text = self.index.documents[cand.source].text
        para_start, para_end = _paragraph_span(text, cand.start, cand.end)
        start, end = cand.start, cand.end
        limit = self.settings.list_max_sentences
        before = split_sentences(text, para_start, cand.start)
        if whole:
            while before and _ends_clause(text[before[-1][0]:before[-1][1]]) and limit > 1:
                start = before.pop()[0]
                limit -= 1
        if leans_back(text[start:end]) and before:
            start = before[-1][0]
        after = split_sentences(text, end, para_end)
        if announces_items(cand.text):
            if after[: limit - 1]:
                end = after[: limit - 1][-1][1]
        elif whole:
            taken = 0
            while taken < len(after) and taken < limit - 1 and _ends_clause(text[start:end]):
                end = after[taken][1]
                taken += 1
            while taken < len(after) and taken < limit - 1 and leans_back(text[after[taken][0]:after[taken][1]]):
                end = after[taken][1]
                taken += 1
        closing = open_quotation(cand.text)
        if closing:
            # A quotation cut at a 。or ！ inside it is quoted to its end, when that is near.
            close = text.find(closing, cand.end, min(para_end, cand.end + self.settings.quotation_max_chars))
            if close >= 0 and text[close - 1] in SENTENCE_END:
                end = max(end, close + 1)  # …成绩。” ends the sentence
            elif close >= 0:
                end = max(end, next((e for s, e in split_sentences(text, close, para_end)[:1]), close + 1))
        if (start, end) == (cand.start, cand.end):
            return cand
        # The passage shown around the quote must hold all of it.
        p_start = min(cand.passage_start, start)
        p_end = max(cand.passage_start + len(cand.passage_text), end)
        return dataclasses.replace(cand, start=start, end=end, text=text[start:end],
                                   passage_text=text[p_start:p_end], passage_start=p_start)

    def _page_of(self, source: str, offset: int) -> int | None:
        """The page the sentence at ``offset`` starts on, for reports with pages; None otherwise. Every sentence of
        a passage starts on the passage's page (``aidqa.index.chunking``), so the passage holding the offset says
        it. A heading is in no passage: it gets the page its section's text starts on."""
        spans = self._chunk_pages.get(source)
        if not spans:
            return None
        k = bisect.bisect_right(spans, (offset, float("inf"), 0)) - 1
        if k >= 0 and offset < spans[k][1]:
            return spans[k][2]
        return spans[k + 1][2] if k + 1 < len(spans) else spans[k][2]

    def _citation(self, n: int, cand: Candidate) -> Citation:
        doc = self.index.documents[cand.source]
        raw_start, raw_end = doc.raw_span(cand.start, cand.end)
        return Citation(
            id=n, source=cand.source, title=doc.title, page=self._page_of(cand.source, cand.start),
            section=cand.section, quote=cand.text, start=cand.start, end=cand.end,
            score=round(max(0.0, min(1.0, cand.score)), 4), passage=cand.passage_text, passage_start=cand.passage_start,
            raw_start=raw_start, raw_end=raw_end,
        )




