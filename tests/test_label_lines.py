"""An infographic's label above its value: a report's "key figures" page puts a short line (营业收入) over a paragraph
that opens with the figure (117,784.66万元经营性现金流金额…). The label says what the opening figure is; without it
the paragraph never names the measure, and the questions were refused. On the shared ESG report (Markdown), copied
from ``../shared/dev-reports/`` at test time, with the packaged model."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

FUXIANG = "fuxiang-pharma-2024-esg-report.md"


@pytest.fixture(scope="module")
def fuxiang(tmp_path_factory):
    return one_report_assistant(tmp_path_factory, FUXIANG)


def test_the_label_above_a_figure_says_what_it_is(fuxiang):
    answer = fuxiang.ask("富祥药业营业收入多少？")
    assert not answer.refused and answer.figures[0].raw.endswith("117,784.66万元"), answer.answer
    investment = fuxiang.ask("2024年公司环保总投入多少？")
    assert not investment.refused and investment.citations[0].quote.startswith("3,631.76万元"), investment.answer


def test_a_label_names_only_the_figure_below_it(fuxiang):
    # The key-figures paragraph does not say what the company's R&D staff number: the label is 营业收入.
    assert fuxiang.ask("公司有多少研发人员？").refused
