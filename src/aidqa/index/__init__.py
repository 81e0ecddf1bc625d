"""Documents → a searchable index: chunks, figures, the keyword index, the vector store and the on-disk store that
builds, names and loads them. Lazy, so that reading an index name or a figure does not import Chroma and torch."""

__all__ = ["IndexStore", "IndexUnavailable", "LoadedIndex", "index_name"]


def __getattr__(name: str):
    if name == "index_name":
        from aidqa.index.naming import index_name

        return index_name
    if name in ("IndexStore", "IndexUnavailable", "LoadedIndex"):
        from aidqa.index import store

        return getattr(store, name)
    raise AttributeError(name)
