"""Index → ranked passages: hybrid search fused by rank (``hybrid``) and its LangChain retriever (``langchain``)."""

from aidqa.retrieval.hybrid import HybridSearcher, ScoredChunk, reciprocal_rank_fusion
from aidqa.retrieval.langchain import HybridRetriever

__all__ = ["HybridRetriever", "HybridSearcher", "ScoredChunk", "reciprocal_rank_fusion"]
