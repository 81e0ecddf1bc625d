"""Query terms: what a question asks about, each as a group of interchangeable spellings.

Chinese questions: jieba content words, as written. English questions: each content word (or two-word phrase) put
into the corpus's Chinese through ``QueryLexicon`` (CC-CEDICT + the corpus's own names by pinyin); a word with no
Chinese counterpart in the corpus cannot be judged against Chinese text and is left out; numbers and acronyms
(GDP) stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from aidqa.zh.chars import fold_for_match
from aidqa.zh.lexicon import QueryLexicon
from aidqa.zh.numbers import numbers_in
from aidqa.zh.segment import EN_NUMBER_WORDS, EN_STOP_WORDS, EN_UNIT_NOUNS, detect_language, tokenize_words

# An initialism with & (R&D, M&A) is one word.
_EN_WORD = re.compile(r"[A-Z]&[A-Z]\b|[A-Za-z][A-Za-z0-9'\-]*")
_POSSESSIVE = re.compile(r"'s?$")
_NO_CORPUS = QueryLexicon(())
# Words that hedge the amount asked for (四川的开发者大约有多少？): the asker's uncertainty, not something the answer
# says. As key terms they only lowered the coverage of the sentence that answers (a table row says 实际总量：55.75万).
HEDGES = frozenset("大约 大概 大致 差不多 左右 约莫".split())
# A year said relative to the asker's today (某省去年GDP是多少？): a report says the year it covers as a number, 全年 or
# 过去一年, and its own title and cover give the year, so as a key term the word only lowered every sentence alike.
RELATIVE_YEARS = frozenset("去年 今年 前年 明年".split())
# Question words that jieba keeps whole with what follows them (哪张, 哪部, 何处, 何时, 多长) and the stop list cannot
# list one by one: they say how something is asked, never what the answer says. As key terms no sentence held them,
# so they were the rarest words of the question and lowered every sentence's coverage alike. (哪吒 is a name.)
_INTERROGATIVE = re.compile(r"哪(?!吒)[\u4e00-\u9fff]{1,2}|何(?:处|时|地|人|种|年|故|在)|几时|多(?:长|远|重|宽|深|厚|久)(?:时间)?")


# After what/which, these words ask for a time (what time, which date), as 几点/哪天 do: the answer holds a time, never
# the word (time → 次, 倍 matched 三次产业 and 2.5倍).
_ASKED_AFTER_WHAT = frozenset({"time", "date"})

# "in units of 10,000 tonnes" says how the answer is counted (万吨): neither a figure the passage must hold nor a word.
UNITS_OF = re.compile(r"\bin\s+units?\s+of\s+[\d,.]+(?:\s+(?:thousand|million|billion))?|\bunits?\s+of\s+[\d,.]+"
                      r"(?:\s+(?:thousand|million|billion))?", re.IGNORECASE)


def english_groups(question: str, lexicon: QueryLexicon | None = None,
                   untranslated: bool = False) -> list[tuple[str, ...]]:
    """The English question's content words as Chinese spelling groups: a two-word phrase the dictionary knows
    (per capita, fixed assets) wins over its words, and so does a hyphenated one (per-capita); an acronym (GDP)
    stays Latin, with the dictionary's Chinese for it (生产总值). With ``untranslated``, a word the dictionary
    translates only into words the corpus never uses keeps those (weather → 天气): it is something the question asks
    that the reports do not say, as a Chinese question's word the corpus lacks is; otherwise it is left out."""
    lexicon = lexicon or _NO_CORPUS
    # A possessive is its noun (the world's developers → world; the company's → company), not a dictionary entry
    # of its own (world's → 世界第一). A name's (Chengdu's) is left as it was: the name is an anchor, checked on its
    # own; as a key term too it lowered the support of sentences that call the place 全市 (three English questions
    # refused on two communiques).
    words = [_POSSESSIVE.sub("", w) if w[:1].islower() else w for w in _EN_WORD.findall(UNITS_OF.sub(" ", question))]
    groups: list[tuple[str, ...]] = []
    i = 0
    while i < len(words):
        word, low = words[i], words[i].lower()
        # A three-word phrase the dictionary knows (chemical oxygen demand) wins over a two-word one, and that over
        # its words.
        phrase_found = False
        for size in (3, 2):
            following = [w.lower() for w in words[i + 1:i + size]]
            if len(following) == size - 1 and low not in EN_STOP_WORDS and not any(w in EN_STOP_WORDS for w in following):
                phrase = lexicon.translate(" ".join([low, *following]))
                # A compound the corpus writes only in its words (chemical oxygen demand → 化学需氧量) stands for a
                # phrase whose words do not all translate; when they do (economic growth rate), the words and their
                # synonyms (增速 for growth rate) say more than one compound.
                if (phrase and lexicon.vocabulary and not any(zh in lexicon.vocabulary for zh in phrase)
                        and all(lexicon.translate(w) for w in [low, *following])):
                    phrase = ()
                if phrase:
                    groups.append(phrase)
                    i += size
                    phrase_found = True
                    break
        if phrase_found:
            continue
        i += 1
        # The word after "how" says how the question asks (how large, how long, how often), as 多大/多长 do in
        # Chinese: never what the answer says.
        before = words[i - 2].lower() if i > 1 else ""
        if (low in EN_STOP_WORDS or low in EN_UNIT_NOUNS or before == "how"
                or (before in ("what", "which") and low in _ASKED_AFTER_WHAT)):
            continue
        if low in EN_NUMBER_WORDS:  # not the dictionary's words for it (five → 伍, 五彩)
            groups.append((EN_NUMBER_WORDS[low],))
            continue
        if word.isupper() and len(word) > 1:
            groups.append((word, *lexicon.translate(low)))
            continue
        translated = lexicon.translate(low)
        if not translated and "-" in low:
            translated = lexicon.translate(low.replace("-", " "))
            if not translated:  # five-year → its words, each on its own
                groups.extend(t for part in low.split("-") if part not in EN_STOP_WORDS and (t := lexicon.translate(part)))
                continue
        if not translated and untranslated and not word[:1].isupper():
            translated = lexicon.dictionary_translations(low)
        if translated and word[:1].isupper() and lexicon.proper_name(word):
            # A name may be written in English in the report too (a table's India): as its anchor, its term.
            translated = (*translated, word)
        if translated:
            groups.append(translated)
    return groups


_ACRONYM = re.compile(r"(?<![A-Za-z])[A-Z]{2,}(?![A-Za-z])")


def written_out(question: str, lexicon: QueryLexicon | None) -> str:
    """A Chinese question with each English acronym it uses replaced by the corpus's words for it (2023年GDP是多少？
    → 2023年生产总值是多少？), for reading what it measures; the question itself unchanged when there are none."""
    if lexicon is None or detect_language(question) == "en":
        return question
    return _ACRONYM.sub(lambda m: next(iter(lexicon.acronym_words(m.group())), m.group()), question)


def query_term_groups(question: str, lexicon: QueryLexicon | None = None,
                      english_spellings: bool = True, untranslated: bool = False) -> list[tuple[str, ...]]:
    """The question's key terms, each as a group of interchangeable spellings; a passage covers a group when it
    contains any of them. A Chinese name's group also holds the English name the corpus writes for it (印度 ↔ a
    table's India) unless ``english_spellings`` is false; ``untranslated``: see ``english_groups``."""
    if detect_language(question) == "en":
        groups = english_groups(question, lexicon, untranslated)
        groups.extend((n,) for n in numbers_in(UNITS_OF.sub(" ", question)))  # "in units of 10,000" is no figure
    else:
        # A word the report may say otherwise (林子 ↔ 森林) counts as present when any of its synonyms is.
        lexicon = lexicon or _NO_CORPUS
        # An acronym (GDP) is the words the report writes out (生产总值), as fully as itself: they lead its group.
        acronyms = {m.group().lower(): lexicon.acronym_words(m.group()) for m in _ACRONYM.finditer(question)}
        groups = [(*acronyms.get(tok, ()), tok, *lexicon.synonyms(tok),
                   *(lexicon.english_names(tok) if english_spellings else ()))
                  for tok in tokenize_words(question)
                  if tok not in HEDGES and tok not in RELATIVE_YEARS and not _INTERROGATIVE.fullmatch(tok)]
    return list(dict.fromkeys(groups))


def expansion_text(question: str, lexicon: QueryLexicon | None = None) -> str:
    """The corpus's words for the question's words that the question does not spell itself, as extra text for
    keyword search: an English question's Chinese words, a Chinese question's synonyms."""
    groups = (english_groups(question, lexicon) if detect_language(question) == "en"
              else query_term_groups(question, lexicon, english_spellings=False))
    return " ".join(dict.fromkeys(alt for group in groups for alt in group if alt.lower() not in question.lower()))


def english_name_text(question: str, lexicon: QueryLexicon, english_only: Callable[[str, str], bool]) -> str:
    """The English names the corpus uses for the Chinese names of a Chinese question (印度 → India, where a table
    writes India), as extra text for keyword search only — and only where some passage writes the name in English
    alone (``english_only(english, chinese)``): in a corpus whose passages say 越南, the one that also says Vietnam
    is not pulled up."""
    if detect_language(question) == "en":
        return ""
    names = (e for word in tokenize_words(question) for e in lexicon.english_names(word)
             if english_only(e.lower(), word))
    return " ".join(dict.fromkeys(names))


def names_topic(text: str, topic: str, synonyms: Callable[[str], tuple[str, ...]]) -> bool:
    """Whether ``text`` names ``topic`` (what an elliptical follow-up asks about): every word of it, as written or as
    one of its ``synonyms`` (木兰许可证 is named by 木兰开源许可证). A topic not in Chinese is not judged against
    Chinese text (True)."""
    if detect_language(topic) != "zh":
        return True
    here = fold_for_match(text)
    return all(any(fold_for_match(s) in here for s in (word, *synonyms(word))) for word in tokenize_words(topic) or [topic])
