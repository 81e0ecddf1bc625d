"""The persisted keyword index (bm25s): same scores as rank-bm25's BM25Okapi, built once, memory-mapped on load,
and broken or missing files are reported, not silently rebuilt into something else."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import CORPUS, REPORT
from rank_bm25 import BM25Okapi

from aidqa.index.chunking import chunk_document
from aidqa.index.keyword import EMPTY, KeywordIndex, bm25_okapi
from aidqa.ingest import read_document
from aidqa.settings import ChunkingSettings
from aidqa.zh.segment import char_bigrams, tokenize_words

QUESTIONS = ["天津对口支援黄南州累计投入了多少资金？", "举办了多少场招聘活动？", "教育 医疗 的 的", "no such words 无此词语"]


@pytest.fixture(scope="module")
def report_tokens() -> tuple[list[list[str]], list[list[str]]]:
    """Words and bigrams of the real report's chunks, with one chunk emptied (an empty chunk must keep its place)."""
    chunks = chunk_document(read_document(REPORT, CORPUS), ChunkingSettings())
    words = [tokenize_words(c.text) for c in chunks]
    bigrams = [char_bigrams(c.text) for c in chunks]
    words[3] = []
    return words, bigrams


@pytest.fixture(scope="module")
def saved(report_tokens, tmp_path_factory):
    folder = tmp_path_factory.mktemp("keywords")
    KeywordIndex.from_tokens(*report_tokens).save(folder)
    return folder


@pytest.mark.parametrize("question", QUESTIONS)
def test_loaded_scores_equal_rank_bm25(report_tokens, saved, question):
    words, bigrams = report_tokens
    loaded = KeywordIndex.load(saved)
    for view, docs, tokens in ((loaded.words, words, tokenize_words(question)),
                               (loaded.bigrams, bigrams, char_bigrams(question))):
        reference = BM25Okapi([d or [EMPTY] for d in docs]).get_scores(tokens)
        np.testing.assert_allclose(view.get_scores(tokens), reference, rtol=1e-9, atol=1e-12)


def test_load_maps_the_score_files_instead_of_reading_them(saved):
    loaded = KeywordIndex.load(saved)
    assert isinstance(loaded.words._retriever.scores["data"], np.memmap)
    assert isinstance(loaded.bigrams.idf_array, np.memmap)


def test_word_idf_and_lexicon_match_rank_bm25(report_tokens, saved):
    words, _ = report_tokens
    reference = BM25Okapi([d or [EMPTY] for d in words])
    loaded = KeywordIndex.load(saved)
    assert loaded.word_idf("天津") == pytest.approx(reference.idf["天津"])
    assert loaded.word_idf("从未出现的词") == pytest.approx(max(reference.idf.values()))  # unknown: the rarest
    assert set(loaded.words.vocab) - {EMPTY} == set(reference.idf) - {EMPTY}


def test_common_terms_get_the_floored_idf_not_zero():
    # "的" is in every chunk: its raw IDF is negative and BM25Okapi raises it to 0.25 × the mean IDF (> 0 here).
    docs = [["的", "天津"], ["的", "青海"], ["的", "黄南"], ["的", "黄南", "天津"]]
    vocab, idf, *_ = bm25_okapi(docs)
    assert idf[vocab["的"]] == pytest.approx(0.25 * np.mean(
        [np.log(4 - n + 0.5) - np.log(n + 0.5) for n in (4, 2, 1, 2)]))
    assert idf[vocab["的"]] == pytest.approx(BM25Okapi(docs).idf["的"])


def test_empty_query_and_unknown_terms_score_nothing(saved):
    loaded = KeywordIndex.load(saved)
    assert not loaded.words.get_scores([]).any()
    assert not loaded.bigrams.get_scores(["无此", "此词"]).any()


def test_missing_or_foreign_index_is_an_error(saved, tmp_path):
    with pytest.raises(FileNotFoundError):
        KeywordIndex.load(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "format.json").write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    with pytest.raises(ValueError, match="not"):
        KeywordIndex.load(other)


def test_views_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="one of each per chunk"):
        KeywordIndex.from_tokens([["天津"]], [])


def test_the_build_persists_the_keyword_index_and_loads_it_mapped(assistant):
    index = assistant.ensure_ready()
    assert (index.path / "keywords" / "format.json").is_file()
    assert isinstance(index.keywords.words._retriever.scores["data"], np.memmap)
    assert index.keywords.num_chunks == len(index.chunks)


def test_a_build_from_before_the_persisted_index_still_loads(assistant, tmp_path, caplog):
    import shutil

    from aidqa.index.store import IndexStore

    index = assistant.ensure_ready()
    settings = assistant.settings.model_copy(update={"index_dir": tmp_path})
    shutil.copytree(index.path.parent.parent, tmp_path / index.name)
    old = tmp_path / index.name / "builds" / index.path.name
    shutil.rmtree(old / "keywords")
    loaded = IndexStore(settings, assistant.embeddings).load()
    try:
        assert "no persisted keyword index" in caplog.text
        question = tokenize_words(QUESTIONS[0])
        np.testing.assert_allclose(loaded.keywords.words.get_scores(question), index.keywords.words.get_scores(question))
    finally:
        loaded.close()


def test_a_word_only_some_chunk_holds_without_the_other():
    index = KeywordIndex.from_tokens([["印度", "开发者"], ["india", "占比"], ["越南", "vietnam"]],
                                     [["印度"], ["in"], ["越南"]])
    assert index.only_first_in_some_chunk("india", "印度")  # the table row says India alone
    assert not index.only_first_in_some_chunk("vietnam", "越南")  # always beside 越南
    assert not index.only_first_in_some_chunk("brazil", "巴西")  # in no chunk
