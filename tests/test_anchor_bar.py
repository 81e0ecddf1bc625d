"""A sentence that does not name what the question names sets no bar for the others; and an English question's name
and possessives are matched as a report writes them. The answerer tries lower
sentences only when they score close to the best; when the best is a table's caption-like sentence without the
province asked, the province's own row (scoring lower in English, where the words are translated) was never tried
and the question was refused. On the shared open-source research chapter (Markdown, a table of provinces), copied from
``../shared/dev-reports/`` at test time, with the packaged model."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

OPEN_SOURCE = "china-open-source-2023-data-chapter.md"


@pytest.fixture(scope="module")
def open_source(tmp_path_factory):
    return one_report_assistant(tmp_path_factory, OPEN_SOURCE)


def test_a_row_is_tried_when_the_best_sentence_lacks_the_place_asked(open_source):
    answer = open_source.ask("Based on the estimates in Table 1.2, approximately what is the actual total number of "
                             "developers in Sichuan?")
    assert not answer.refused, answer.answer
    assert "四川" in answer.citations[0].quote and "55.75" in answer.citations[0].quote, answer.answer


def test_a_place_no_sentence_names_is_still_refused(open_source):
    # The table lists fifteen provinces; Tibet is not among them, so no row may answer for it.
    assert open_source.ask("Based on the estimates in Table 1.2, approximately what is the actual total number of "
                           "developers in Tibet?").refused


def test_a_row_that_writes_the_name_in_english_answers_an_english_question(open_source):
    # The world table's rows write India, not 印度; "world's" is the world (全球), not the dictionary's 世界第一.
    answer = open_source.ask("In Table 1.1, what percentage of the world's developers are in India?")
    assert not answer.refused and "India" in answer.citations[0].quote and "9.16%" in answer.answer, answer.answer
