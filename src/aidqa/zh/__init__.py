"""Chinese text, one definition of each concept: characters and folding (``chars``), normalisation with an offset map
(``normalize``), headings and topic openers (``structure``), sentences and tokens (``segment``), numbers, units and
amounts (``numbers``), and a question's key terms (``terms``). Everything else in aidqa calls these; nothing else
decides what a sentence, a token or a number is."""

from aidqa.zh.chars import fold_for_match, fold_width, is_cjk, is_han
from aidqa.zh.normalize import TEXT_RULES_VERSION, NormalisedText, normalise
from aidqa.zh.numbers import NUMBER_RE, figure_value, format_amount, numbers_in
from aidqa.zh.segment import char_bigrams, detect_language, split_clauses, split_sentences, tokenize_words

__all__ = [
    "NUMBER_RE", "TEXT_RULES_VERSION", "NormalisedText", "char_bigrams", "detect_language", "figure_value",
    "fold_for_match", "fold_width", "format_amount", "is_cjk", "is_han", "normalise", "numbers_in", "split_clauses",
    "split_sentences", "tokenize_words",
]
