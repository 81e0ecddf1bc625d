"""Query terms: what a question asks about, each as a group of interchangeable spellings.

Chinese questions: jieba content words, as written. English questions: each content word (or two-word phrase) put
into the corpus's Chinese through ``QueryLexicon`` (CC-CEDICT + the corpus's own names by pinyin); a word with no
Chinese counterpart in the corpus cannot be judged against Chinese text and is left out; numbers and acronyms
(GDP) stay as they are.
"""

from __future__ import annotations

import re

from aidqa.zh.lexicon import QueryLexicon
from aidqa.zh.numbers import numbers_in
from aidqa.zh.segment import EN_STOP_WORDS, detect_language, tokenize_words

_EN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*")
_NO_CORPUS = QueryLexicon(())


def english_groups(question: str, lexicon: QueryLexicon | None = None) -> list[tuple[str, ...]]:
    """The English question's content words as Chinese spelling groups: a two-word phrase the dictionary knows
    (per capita, fixed assets) wins over its words; acronyms (GDP) stay Latin."""
    lexicon = lexicon or _NO_CORPUS
    words = _EN_WORD.findall(question)
    groups: list[tuple[str, ...]] = []
    i = 0
    while i < len(words):
        word, low = words[i], words[i].lower()
        if i + 1 < len(words) and low not in EN_STOP_WORDS and words[i + 1].lower() not in EN_STOP_WORDS:
            phrase = lexicon.translate(f"{low} {words[i + 1].lower()}")
            if phrase:
                groups.append(phrase)
                i += 2
                continue
        i += 1
        if low in EN_STOP_WORDS:
            continue
        if word.isupper() and len(word) > 1:
            groups.append((word,))
            continue
        translated = lexicon.translate(low)
        if translated:
            groups.append(translated)
    return groups


def query_term_groups(question: str, lexicon: QueryLexicon | None = None) -> list[tuple[str, ...]]:
    """The question's key terms, each as a group of interchangeable spellings; a passage covers a group when it
    contains any of them."""
    if detect_language(question) == "en":
        groups = english_groups(question, lexicon)
        groups.extend((n,) for n in numbers_in(question))
    else:
        # A word the report may say otherwise (林子 ↔ 森林) counts as present when any of its synonyms is.
        synonyms = (lexicon or _NO_CORPUS).synonyms
        groups = [(tok, *synonyms(tok)) for tok in tokenize_words(question)]
    return list(dict.fromkeys(groups))


def expansion_text(question: str, lexicon: QueryLexicon | None = None) -> str:
    """The corpus's words for the question's words that the question does not spell itself, as extra text for
    keyword search: an English question's Chinese words, a Chinese question's synonyms."""
    groups = english_groups(question, lexicon) if detect_language(question) == "en" else query_term_groups(question, lexicon)
    return " ".join(dict.fromkeys(alt for group in groups for alt in group if alt.lower() not in question.lower()))
