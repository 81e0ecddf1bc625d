"""The hybrid search as a LangChain retriever, so it composes with LangChain chains."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from aidqa.retrieval.hybrid import HybridSearcher


class HybridRetriever(BaseRetriever):
    """The hybrid search as a LangChain retriever (documents carry chunk offsets and fusion scores in metadata),
    so it composes with LangChain chains such as an LLM answerer."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: HybridSearcher
    k: int = 5
    sources: list[str] | None = None  # report ids to search; None: every report

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(
                page_content=hit.chunk.text,
                id=hit.chunk.id,
                metadata={**hit.chunk.metadata(), "chunk_id": hit.chunk.id, "score": hit.score, "ranks": hit.ranks},
            )
            for hit in self.searcher.search(query, self.k, sources=self.sources)
        ]
