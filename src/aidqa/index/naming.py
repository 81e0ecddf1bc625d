"""The index's name: a hash of everything that shaped its contents, so a stale index is never reused."""

from __future__ import annotations

import hashlib
import json

from aidqa.index.chunking import CHUNK_RULES_VERSION
from aidqa.index.figures import FIGURE_RULES_VERSION
from aidqa.settings import Settings
from aidqa.zh.normalize import TEXT_RULES_VERSION


def index_name(settings: Settings) -> str:
    """Names the index by what built it: embedding model, prefixes, chunking settings and rules, text rules. Changing
    any of them gives a new name, so stale vectors are never reused. (The figure rules are in it too: figures are
    extracted at index time.)"""
    key = {
        "embedding_model": settings.embedding_model,
        "query_prefix": settings.embedding_query_prefix,
        "passage_prefix": settings.embedding_passage_prefix,
        "chunking": settings.chunking.model_dump(),
        "chunk_rules": CHUNK_RULES_VERSION,
        "text_rules": TEXT_RULES_VERSION,
        "figure_rules": FIGURE_RULES_VERSION,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return f"aidqa-{digest}"
