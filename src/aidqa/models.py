"""The one typed result shared by the Python API, the CLI (--json), the HTTP API and the UI."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Citation(BaseModel):
    """A verbatim quote from a report. ``quote == stored_text[start:end]`` where the stored text is the report's
    normalised text (``aidqa.ingest.read_document(path).text``); ``raw_start``/``raw_end`` locate it in the file
    as it is on disk."""

    id: int = Field(description="The n of the [n] marker in the answer.")
    source: str = Field(description="Report file, relative to the corpus folder (the report's id).")
    title: str = Field("", description="The report's title (from its metadata or first heading; the file name "
                       "when it has none), so that a reader knows which report a quote comes from.")
    page: int | None = Field(None, description="1-based page of the quote for formats with pages (PDF): the page "
                             "its paragraph or table row starts on; null for formats without pages.")
    section: str = Field(description="Heading of the section the quote falls under.")
    quote: str = Field(description="The exact cited text.")
    start: int = Field(description="Start offset of the quote in the report's stored (normalised) text.")
    end: int = Field(description="End offset (exclusive) of the quote in the stored text.")
    score: float = Field(description="How well the quoted sentence answers the question (0–1, higher is better).")
    passage: str = Field(description="The retrieved passage the quote comes from, for context.")
    passage_start: int = Field(description="Start offset of the passage in the stored text.")
    raw_start: int = Field(description="Start offset of the quote in the file on disk (characters).")
    raw_end: int = Field(description="End offset of the quote in the file on disk (characters).")
    highlights: list[tuple[int, int]] = Field(
        default_factory=list,
        description="Stored-text offsets (start, end) of the figures in this quote that answer the question.")


class CitedFigure(BaseModel):
    """A figure the answer states, as the report writes it, and where it stands."""

    raw: str = Field(description="The figure exactly as written, with its qualifier and unit: 近2.5万人.")
    value: float = Field(description="The number normalised: 18.51亿元 → 1851000000.")
    unit: str = Field(description="元, 人, 人次, 个, %, …")
    qualifier: str = Field(description="none, approx (近/约), more_than (超/余/多) or at_least (以上).")
    measures: str = Field(description="What it quantifies, in the report's words (全年粮食产量, 实现利润).")
    citation_id: int = Field(description="The citation whose quote holds it.")
    start: int = Field(description="Offset of the figure in the report's stored text (inside the quote).")
    end: int = Field(description="End offset (exclusive).")


class ComputedTotal(BaseModel):
    """A sum the assistant computed from cited figures (only when the question asks for a total). Never a figure
    of the report: the answer says so."""

    text: str = Field(description="The total as written in the answer: 3100万元.")
    value: float = Field(description="The total, normalised.")
    unit: str
    operands: list[str] = Field(description="The cited figures that were added, as written.")
    citation_ids: list[int] = Field(description="Citations holding the operands.")


class RetrievedPassage(BaseModel):
    """A passage retrieval returned, in fused rank order (for evaluation and debugging)."""

    chunk_id: str
    source: str
    section: str
    start: int
    end: int
    score: float = Field(description="Reciprocal-rank-fusion score.")
    text: str


class Grounding(BaseModel):
    """How an LLM's reply was checked before it reached the user (see docs/api.md#the-result-answer)."""

    checked: bool = Field(False, description="True when a language model's reply was verified sentence by sentence "
                          "(answering.backend 'llm'); false for the extractive answerer, or when no reply came back.")
    dropped: list[str] = Field(default_factory=list, description="Sentences of the model's reply that failed "
                               "verification and were left out, with their numbers masked as ×××.")
    fallback_reason: str | None = Field(None, description="Why the extractive answer was returned instead of the "
                                        "model's (unreachable, timed out, HTTP error, nothing verifiable, …); null "
                                        "when there was no fallback.")


class Answer(BaseModel):
    question: str = Field(description="The question as asked (after input clean-up).")
    answer: str = Field(description="The answer; every [n] refers to citations[n-1].")
    refused: bool = Field(description="True when the reports do not answer the question.")
    citations: list[Citation] = Field(default_factory=list)
    language: str = Field("zh", description="Language of the question and answer: 'zh' or 'en'.")
    standalone_question: str | None = Field(
        None, description="A follow-up rewritten against the conversation history (那泽库县呢？ → the previous question "
        "about 泽库县); null when the question was answered as asked.")
    retrieval_query: str | None = Field(
        None, description="What retrieval searched with when it differs from the question (a follow-up searched "
        "together with the previous question); null otherwise.")
    figures: list[CitedFigure] = Field(
        default_factory=list, description="For a how-much/how-many question: every figure the answer states, in order.")
    total: ComputedTotal | None = Field(
        None, description="A total computed from the cited figures, when the question asks for one (一共/合计/in total).")
    retrieved: list[RetrievedPassage] = Field(default_factory=list, description="Top passages from retrieval.")
    timings_ms: dict[str, float] = Field(default_factory=dict, description="Milliseconds per stage and in total.")
    answered_by: Literal["llm", "extractive"] = Field(
        "extractive", description="Who wrote the answer: the language model (verified) or the extractive answerer.")
    grounding: Grounding = Field(default_factory=Grounding, description="How the language model's reply was checked.")
