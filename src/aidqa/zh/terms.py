"""Query terms: what a question asks about, each with the glossary's alternative wordings."""

from __future__ import annotations

import re
from functools import lru_cache

from aidqa.zh.numbers import numbers_in
from aidqa.zh.segment import EN_STOP_WORDS, detect_language, tokenize_words

# ---------------------------------------------------------------------------------------------------------------
# Query terms: what a question asks about, with the glossary's alternatives
# ---------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def glossary() -> dict[str, tuple[str, ...]]:
    """term → the words reports use for it (data/glossary.tsv)."""
    from importlib.resources import files

    table: dict[str, tuple[str, ...]] = {}
    for line in files("aidqa").joinpath("data/glossary.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        term, alternatives = line.split("\t", 1)
        table[term.strip().lower()] = tuple(a for a in alternatives.strip().split("|") if a)
    return table


_EN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*")


def query_term_groups(question: str) -> list[tuple[str, ...]]:
    """The question's key terms, each as a group of interchangeable spellings (the term and its glossary
    alternatives). A passage covers a group when it contains any of them.

    Chinese: jieba content words. English: words the glossary can put into Chinese (others cannot be judged
    against Chinese text and are left out), plus numbers and acronyms (GDP) as they are."""
    table = glossary()
    groups: list[tuple[str, ...]] = []
    if detect_language(question) == "en":
        for word in _EN_WORD.findall(question):
            low = word.lower()
            if low in EN_STOP_WORDS:
                continue
            if low in table:
                groups.append(table[low])
            elif word.isupper() and len(word) > 1:
                groups.append((word,))
        groups.extend((n,) for n in numbers_in(question))
    else:
        for tok in tokenize_words(question):
            groups.append((tok, *table.get(tok, ())))
    unique: list[tuple[str, ...]] = []
    for g in groups:
        if g not in unique:
            unique.append(g)
    return unique


def expansion_text(question: str) -> str:
    """Glossary alternatives of the question's terms, as extra text for keyword search."""
    return " ".join(alt for group in query_term_groups(question) for alt in group[1:] or group if alt.lower() not in question.lower())
