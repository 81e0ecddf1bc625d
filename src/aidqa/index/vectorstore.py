"""The vector store client, the one place a client is chosen: embedded on-disk Chroma, or a Chroma server.

Embedded (``chroma.url`` unset): each index build holds its own ``chroma/`` folder, opened by one process. Server
(``chroma.url`` set): every build is a collection of its own on the server, named after the index and the build,
so the indexer can write a new build while app processes still read the current one, and an app process moves to
the new build by opening another collection — nothing is renamed or overwritten on the server.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import chromadb
from chromadb.config import Settings as ClientSettings

from aidqa.settings import ChromaSettings


def server_headers(server: ChromaSettings) -> dict[str, str]:
    """The headers that carry the configured credential (none without a token)."""
    if server.token is None:
        return {}
    token = server.token.get_secret_value()
    if server.auth_header.lower() == "authorization":
        return {"Authorization": f"Bearer {token}"}
    return {server.auth_header: token}


def chroma_client(path: Path | None, server: ChromaSettings | None = None) -> chromadb.ClientAPI:
    """A Chroma client: over HTTP when ``server`` names a URL, else the embedded on-disk client for ``path``.
    Telemetry off: this runs without a network."""
    settings = ClientSettings(anonymized_telemetry=False)
    if server is not None and server.url:
        url = urlsplit(server.url)
        return chromadb.HttpClient(host=url.hostname or "", port=url.port or (443 if url.scheme == "https" else 80),
                                   ssl=url.scheme == "https", headers=server_headers(server), tenant=server.tenant,
                                   database=server.database, settings=settings)
    if path is None:
        raise ValueError("an embedded vector store needs a folder")
    return chromadb.PersistentClient(path=str(path), settings=settings)


def build_collection_name(index_name: str, build_name: str) -> str:
    """A build's collection on a Chroma server: the index name and a short hash of the build (Chroma allows 3–512
    characters of [a-zA-Z0-9._-], starting and ending with a letter or digit)."""
    return f"{index_name}-{hashlib.sha256(build_name.encode()).hexdigest()[:12]}"
