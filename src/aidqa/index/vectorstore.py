"""The vector store client (embedded on-disk Chroma today); the one place a client is chosen."""

from __future__ import annotations

from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings


def chroma_client(path: Path) -> chromadb.ClientAPI:
    """The embedded on-disk client. Telemetry off: this runs without a network."""
    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
