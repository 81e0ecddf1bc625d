"""The on-disk index: Chroma vectors + a keyword index (jieba words and character bigrams) + a manifest.

Layout (one folder per index name, i.e. per embedding model + chunking + text rules)::

    index/<index-name>/CURRENT          name of the build that serves (replaced atomically)
    index/<index-name>/builds/<build>/  chroma/ (PersistentClient), keywords/ (bm25s matrices, lexicon.json), chunks.json,
                                        documents.json, figures.json, manifest.json
    index/<index-name>/.lock            held while building, so two builders take turns (.lock.pid: by whom)

With a Chroma server configured (``chroma.url``), a build's vectors are a collection of its own on the server
instead of ``chroma/``; everything else stays in the build folder, which the indexer and the app processes share.
The manifest's ``vector_store`` says which. App processes then never build a stale index (the indexer does), and
``is_current`` lets them notice a new build and switch to it.

A build is written beside the current one and made current by an atomic rename of CURRENT: a crash mid-build
leaves the previous index serving. The manifest records the content hash of every corpus file; when the corpus
changes, the index is stale and is rebuilt on next use. That rebuild is incremental (``aidqa.index.incremental``):
reports whose hash is unchanged are copied from the current build, and a passage whose text was embedded before
keeps its vector, so changing one report embeds only that report's passages. The new build is still a complete
build of its own, written and swapped in the same way; ``build(force=True)`` starts from scratch.

Faults: a CURRENT that names no build, or an unreadable manifest, makes the index "corrupt" (``ensure`` warns and
rebuilds; ``load`` raises ``IndexUnavailable``). Readers never take the lock, so a build in another process does not
stop them from serving the current build. A read-only index folder still serves (Chroma writes to its database when
it opens it, so the vector store is opened from a private temporary copy); a build there fails with an
``IndexUnavailable`` that names the folder.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout
from langchain_chroma import Chroma

from aidqa import __version__
from aidqa.index.chunking import Chunk, chunk_document
from aidqa.index.embeddings import SentenceEmbeddings
from aidqa.index.figures import FIGURE_RULES_VERSION, Figure, extract_figures
from aidqa.index.incremental import IndexChanges, PreviousBuild, passage_key, read_vectors
from aidqa.index.keyword import KeywordIndex
from aidqa.index.naming import index_name
from aidqa.index.sentences import SentenceVectors, embed_sentences
from aidqa.index.vectorstore import build_collection_name, chroma_client
from aidqa.ingest import UNREADABLE, corpus_files, file_sha256, no_readable_report, read_document
from aidqa.settings import Settings
from aidqa.zh.normalize import TEXT_RULES_VERSION
from aidqa.zh.segment import char_bigrams, tokenize_words

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]  # (stage, done, total)
MANIFEST = "manifest.json"
CHUNKS = "chunks.json"
DOCUMENTS = "documents.json"
FIGURES = "figures.json"
KEYWORDS = "keywords"
TOKENS = "tokens.json"  # [words, bigrams] per chunk, in chunks.json order: only a later build reads them
_KEEP_BUILDS = 2  # the current build and the one before it (a reader may still have it open)


class IndexUnavailable(Exception):
    """The index cannot be used (missing, or corrupt)."""


def corpus_fingerprint(corpus_dir: Path) -> dict[str, str]:
    """{relative file name: sha256} of every report file; what the manifest compares against. A file that cannot be
    read (removed after it was listed, no permission) is recorded as ``UNREADABLE`` instead of failing the whole
    corpus; the build skips it, and once it is readable again its hash differs and the index is stale."""
    fingerprint = {}
    for path in corpus_files(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        try:
            fingerprint[rel] = file_sha256(path)
        except OSError as exc:
            logger.info("cannot read %s: %s", rel, exc.strerror or exc)  # the build logs the skip as a warning
            fingerprint[rel] = UNREADABLE
    return fingerprint


def _writable(folder: Path) -> bool:
    """Can this process write to ``folder`` and every file under it (a read-only mount, a chmod a-w, another
    owner)? ``os.access`` also answers for root, whose capabilities it takes into account."""
    try:
        return all(os.access(p, os.W_OK) for p in (folder, *folder.rglob("*")))
    except OSError:
        return False


def _open_error(action: str, folder: Path, exc: OSError) -> "IndexUnavailable":
    """A clear message for a failed write under the index folder, naming the folder (no traceback from deep inside
    a library)."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return IndexUnavailable(f"cannot {action}: the index folder {folder} is not writable ({exc.strerror}); "
                                "make it writable, or set AIDQA_INDEX_DIR to a writable folder")
    return IndexUnavailable(f"cannot {action} in {folder}: {exc}")


@dataclass
class StoredDocument:
    """A report's stored (normalised) text and, per character, its offset in the file on disk."""

    name: str
    sha256: str
    title: str
    text: str
    offsets: list[int]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        return self.offsets[start], self.offsets[end - 1] + 1


@dataclass
class LoadedIndex:
    name: str
    path: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    documents: dict[str, StoredDocument]
    vectorstore: Chroma
    keywords: KeywordIndex
    figures: list[Figure] = field(default_factory=list)
    client: Any = None  # the Chroma client behind ``vectorstore`` (closed when the index is dropped)
    vector_dir: Path | None = None  # the folder the vector store is read from (a private copy for a read-only index)
    changes: IndexChanges | None = None  # what ``IndexStore.build`` just did (None when only loaded)
    sentences: SentenceVectors = field(default_factory=SentenceVectors.empty)  # the answerer's candidates' vectors

    def close(self) -> None:
        """Let go of the vector store's files (Chroma keeps one shared system per folder until its clients close)."""
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # a broken store may fail to close too; it is being dropped either way
                logger.warning("closing the vector store of %s failed", self.path, exc_info=True)


def _chunk_from_record(record: dict[str, Any]) -> Chunk:
    """A chunk from its chunks.json record."""
    return Chunk(record["id"], record["source"], record["section"], record["start"], record["end"], record["text"],
                 record["ordinal"], record.get("page"))


def _without_tokens(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("words", "bigrams")}


def _with_tokens(records: list[dict[str, Any]], build: Path) -> list[dict[str, Any]]:
    """Chunk records with their tokens from the build's tokens.json (builds before it kept them in chunks.json)."""
    if not (build / TOKENS).is_file():
        return records
    tokens = json.loads((build / TOKENS).read_text(encoding="utf-8"))
    if len(tokens) != len(records):
        raise ValueError(f"{TOKENS} in {build} holds {len(tokens)} chunks, {CHUNKS} {len(records)}")
    return [{**r, "words": words, "bigrams": bigrams} for r, (words, bigrams) in zip(records, tokens)]


def _section_lookup(source: str, chunks: list[Chunk]):
    """offset → the section heading of the chunk holding it (or the last chunk before it) in ``source``."""
    spans = sorted((c.start, c.end, c.section) for c in chunks if c.source == source)

    def section_of(offset: int) -> str:
        best = ""
        for start, _end, section in spans:
            if start > offset:
                break
            best = section
        return best

    return section_of


class IndexStore:
    """Finds, builds and loads the index for one configuration."""

    def __init__(self, settings: Settings, embeddings: SentenceEmbeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.name = index_name(settings)
        self.root = Path(settings.index_dir) / self.name

    # ---- the vector store --------------------------------------------------------------------------------

    @property
    def server_mode(self) -> bool:
        """Vectors on a Chroma server (``chroma.url`` set) rather than in each build folder."""
        return bool(self.settings.chroma.url)

    def _client(self, chroma_dir: Path | None):
        """A client for the configured store: the server, or the embedded store in ``chroma_dir``."""
        return chroma_client(chroma_dir, self.settings.chroma if self.server_mode else None)

    def _vector_store_record(self, collection: str) -> dict[str, str]:
        """Where a build's vectors are, for its manifest (no credentials)."""
        if self.server_mode:
            chroma = self.settings.chroma
            return {"kind": "server", "url": chroma.url or "", "tenant": chroma.tenant, "database": chroma.database,
                    "collection": collection}
        return {"kind": "embedded", "collection": collection}

    def _drop_server_collection(self, collection: str) -> None:
        """Delete a build's collection from the server (a failed or pruned build); failures are only logged."""
        try:
            client = self._client(None)
            try:
                client.delete_collection(collection)
            finally:
                client.close()
        except Exception as exc:  # gone already, or the server is down: the collection is only wasted space
            logger.warning("could not delete collection %s from the Chroma server: %s", collection, exc)

    # ---- state -------------------------------------------------------------------------------------------

    def _pointer(self) -> tuple[Path | None, str | None]:
        """(the build CURRENT names, None) or (None, why it names none). No CURRENT file at all is (None, None)."""
        pointer = self.root / "CURRENT"
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError) as exc:  # a folder, no permission, not text
            return None, f"index pointer {pointer} is unreadable: {exc}"
        if not name or name in (".", "..") or Path(name).name != name or name.startswith("tmp-"):
            return None, f"index pointer {pointer} holds {name[:80]!r}, which is not a build name"
        build = self.root / "builds" / name
        if not build.is_dir():
            return None, f"index pointer {pointer} names build {name!r}, which is not in {build.parent}"
        return build, None

    def current_build(self) -> Path | None:
        return self._pointer()[0]

    def read_manifest(self, build: Path) -> dict[str, Any]:
        try:
            return json.loads((build / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"index manifest in {build} is unreadable: {exc}") from exc

    def status(self) -> tuple[str, str]:
        """('ready'|'missing'|'stale'|'corrupt', reason)."""
        build, problem = self._pointer()
        if problem:
            return "corrupt", problem
        if build is None:
            return "missing", f"no index built yet in {self.root}"
        try:
            manifest = self.read_manifest(build)
        except IndexUnavailable as exc:
            return "corrupt", str(exc)
        current = corpus_fingerprint(Path(self.settings.corpus_dir))
        if manifest.get("files") != current:
            changed = sorted(set(current.items()) ^ set(manifest.get("files", {}).items()))
            return "stale", f"corpus changed since the index was built ({len(changed)} file entries differ)"
        if "sentence_count" not in manifest and os.access(build.parent, os.W_OK):
            # Only where a new build can be written: a read-only index serves as it is (its answers then embed
            # their candidate sentences per question).
            return "stale", "the index was built before sentence vectors were stored with it"
        return "ready", "index matches corpus and settings"

    # ---- building ----------------------------------------------------------------------------------------

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """The build lock (``filelock``: an OS lock, released by the kernel if the holder dies, and portable). The
        holder writes its pid beside it (``.lock.pid``), so a waiting builder can say whom it waits for."""
        lock_path, pid_path = self.root / ".lock", self.root / ".lock.pid"
        lock = FileLock(lock_path)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                holder = pid_path.read_text(encoding="utf-8").strip() if pid_path.exists() else ""
                logger.info("waiting for the index lock %s held by another process%s", lock_path,
                            f" (pid {holder})" if holder.isdigit() else "")
                lock.acquire()
        except OSError as exc:
            raise _open_error("build the index", self.root, exc) from exc
        logger.info("acquired the index lock %s (pid %d)", lock_path, os.getpid())
        try:
            pid_path.write_text(f"{os.getpid()}\n", encoding="utf-8")
            yield
        finally:
            logger.info("released the index lock %s (pid %d)", lock_path, os.getpid())
            lock.release()

    def build(self, progress: ProgressCallback | None = None, force: bool = False) -> LoadedIndex:
        """Build the index beside the current one, then swap it in atomically. Reports whose content is unchanged
        since the current build keep their chunks, figures and vectors, and a passage whose text is unchanged keeps
        its vector; ``force`` starts from scratch (every report read and every chunk embedded again). The returned
        index's ``changes`` says what was done."""
        with self._lock():
            if not force and self.status()[0] == "ready":
                # Up to date, or someone else built it while we waited for the lock.
                loaded = self.load()
                loaded.changes = IndexChanges(unchanged=sorted(loaded.manifest.get("files", {})), built=False)
                return loaded
            return self._build_locked(progress, incremental=not force)

    def _build_locked(self, progress: ProgressCallback | None, incremental: bool) -> LoadedIndex:
        started = time.perf_counter()
        corpus_dir = Path(self.settings.corpus_dir)
        fingerprint = corpus_fingerprint(corpus_dir)
        previous_path = self.current_build()
        changes = IndexChanges.between(self._previous_files(previous_path), fingerprint)
        changes.previous_build = previous_path.name if previous_path else None
        builds = self.root / "builds"
        tmp = builds / f"tmp-{uuid.uuid4().hex[:8]}"
        try:
            builds.mkdir(parents=True, exist_ok=True)
            tmp.mkdir()
        except OSError as exc:
            raise _open_error("build the index", builds, exc) from exc
        final, collection = None, None
        try:
            previous = self._previous_build(previous_path) if incremental and previous_path else None
            if previous is not None:
                changes.mode = "incremental"
            documents, chunk_records, figure_records = self._collect_reports(corpus_dir, fingerprint, previous)
            chunks = [_chunk_from_record(r) for r in chunk_records]
            logger.info("building index in %s: %d chunks from %d files", tmp, len(chunks), len(documents))
            collection = build_collection_name(self.name, tmp.name) if self.server_mode else self.name
            changes.embedded_chunks, changes.reused_chunks = self._write_vectors(
                tmp, chunks, progress, previous.vectors if previous else {}, collection)
            sentences, changes.embedded_sentences, changes.reused_sentences = embed_sentences(
                chunks, self.embeddings.embed_passages, self.embeddings.dimension,
                previous.sentences if previous else SentenceVectors.empty(), self.settings.embedding_batch_size,
                (lambda done, total: progress("sentence vectors", done, total)) if progress else None)
            sentences.save(tmp)
            if progress:
                progress("keyword index", 0, 1)
            KeywordIndex.from_tokens([r["words"] for r in chunk_records], [r["bigrams"] for r in chunk_records]
                                     ).save(tmp / KEYWORDS)
            if progress:
                progress("keyword index", 1, 1)
            # The tokens go in a file of their own: loading reads the persisted keyword index instead, and only a
            # later build reuses them (they are most of the chunk records' size).
            (tmp / CHUNKS).write_text(json.dumps([_without_tokens(r) for r in chunk_records], ensure_ascii=False),
                                      encoding="utf-8")
            (tmp / TOKENS).write_text(json.dumps([[r["words"], r["bigrams"]] for r in chunk_records],
                                                 ensure_ascii=False), encoding="utf-8")
            (tmp / DOCUMENTS).write_text(json.dumps(documents, ensure_ascii=False), encoding="utf-8")
            (tmp / FIGURES).write_text(json.dumps(figure_records, ensure_ascii=False), encoding="utf-8")
            manifest = {
                "index_name": self.name,
                "aidqa_version": __version__,
                "embedding_model": self.settings.embedding_model,
                "embedding_dimension": self.embeddings.dimension,
                "chunking": self.settings.chunking.model_dump(),
                "text_rules": TEXT_RULES_VERSION,
                "files": fingerprint,
                "documents": list(documents),
                "skipped_files": sorted(set(fingerprint) - set(documents)),
                "chunk_count": len(chunks),
                "sentence_count": len(sentences),
                "vector_store": self._vector_store_record(collection),
                "figure_count": len(figure_records),
                "figure_rules": FIGURE_RULES_VERSION,
                "changes": changes.to_manifest(),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "build_seconds": round(time.perf_counter() - started, 3),
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            final = builds / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
            os.rename(tmp, final)
            self._point_current_to(final.name)
        except BaseException as exc:
            # CURRENT still names the previous build (its replacement is the last, atomic step): drop this one.
            shutil.rmtree(tmp, ignore_errors=True)
            if final is not None:
                shutil.rmtree(final, ignore_errors=True)
            if self.server_mode and collection is not None:
                self._drop_server_collection(collection)
            if isinstance(exc, OSError):
                raise _open_error("write the index build", builds, exc) from exc
            raise
        self._prune_builds(keep=final.name)
        logger.info("built index %s: %d chunks from %d files in %.2fs (%s build: %s)", final, len(chunks),
                    len(documents), manifest["build_seconds"], changes.mode, changes.summary())
        loaded = self.load()
        loaded.changes = changes
        return loaded

    def _stored_vector_record(self, build: Path) -> dict[str, str]:
        """The manifest's ``vector_store`` of ``build``; builds made before server mode existed are embedded."""
        try:
            record = self.read_manifest(build).get("vector_store")
        except IndexUnavailable:
            return {}
        return record if isinstance(record, dict) else {"kind": "embedded", "collection": self.name}

    def _check_vector_store(self, build: Path, record: dict[str, str]) -> None:
        """Raise ``IndexUnavailable`` when ``build`` keeps its vectors where this configuration does not look."""
        wanted = "server" if self.server_mode else "embedded"
        if record.get("kind") != wanted:
            raise IndexUnavailable(f"build {build.name} keeps its vectors in the {record.get('kind')} store, but "
                                   f"the {wanted} store is configured (AIDQA_CHROMA_URL); build the index again")
        if self.server_mode and (record.get("tenant"), record.get("database")) != (
                self.settings.chroma.tenant, self.settings.chroma.database):
            raise IndexUnavailable(f"build {build.name} is in tenant/database {record.get('tenant')}/"
                                   f"{record.get('database')}, not the configured {self.settings.chroma.tenant}/"
                                   f"{self.settings.chroma.database}; build the index again")

    def _previous_files(self, previous_path: Path | None) -> dict[str, str]:
        """The corpus files of the build being replaced ({} when there is none, or its manifest is unreadable)."""
        if previous_path is None:
            return {}
        try:
            files = self.read_manifest(previous_path).get("files", {})
        except IndexUnavailable:
            return {}
        return files if isinstance(files, dict) else {}

    def _previous_build(self, path: Path) -> PreviousBuild | None:
        """What the build being replaced offers for reuse, or None (with the reason logged): then every report is
        read and every chunk embedded, exactly as in a first build. Anything unreadable means no reuse at all."""
        try:
            manifest = self.read_manifest(path)
            if manifest.get("index_name") != self.name or manifest.get("embedding_dimension") != self.embeddings.dimension:
                raise ValueError(f"it was built as {manifest.get('index_name')} "
                                 f"({manifest.get('embedding_dimension')} dimensions)")
            documents = json.loads((path / DOCUMENTS).read_text(encoding="utf-8"))
            chunk_records = _with_tokens(json.loads((path / CHUNKS).read_text(encoding="utf-8")), path)
            figure_records = json.loads((path / FIGURES).read_text(encoding="utf-8"))
            record = self._stored_vector_record(path)
            self._check_vector_store(path, record)
            if not self.server_mode and not (path / "chroma" / "chroma.sqlite3").is_file():
                # A PersistentClient would create an empty store here; there is nothing to read.
                raise FileNotFoundError(f"no vector store in {path / 'chroma'}")
            client = self._client(path / "chroma")
            try:
                vectors = read_vectors(client.get_collection(record["collection"]), self.settings.embedding_model,
                                       self.embeddings.passage_prefix, self.embeddings.dimension)
            finally:
                # Reference-counted: a reader of the same build in this process keeps its own handle open.
                client.close()
            sentences = SentenceVectors.load(path, self.embeddings.dimension)
            previous = PreviousBuild.from_records(path.name, documents, chunk_records, figure_records, vectors,
                                                  sentences)
        except Exception as exc:  # JSON, file and chromadb errors alike: a build must never fail for want of reuse
            logger.warning("not reusing the previous build %s (%s: %s); embedding every chunk", path.name,
                           type(exc).__name__, exc)
            return None
        logger.info("reusing from build %s: %d report(s), %d vector(s)", path.name, len(documents), len(vectors))
        return previous

    def _collect_reports(self, corpus_dir: Path, fingerprint: dict[str, str], previous: PreviousBuild | None
                         ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """(stored documents, chunk records, figure records) of the corpus, in corpus order. A report indexed
        with the same content by the previous build is copied from it; every other file is read, chunked and
        its figures extracted (a file that cannot be used is skipped, with the reason logged)."""
        documents: dict[str, dict[str, Any]] = {}
        chunk_records: list[dict[str, Any]] = []
        figure_records: list[dict[str, Any]] = []
        copied = 0
        for name, sha256 in fingerprint.items():
            kept = previous.report(name, sha256) if previous is not None else None
            if kept is not None:
                documents[name], chunks, figures = kept
                chunk_records.extend(chunks)
                figure_records.extend(figures)
                copied += 1
                continue
            doc = read_document(corpus_dir / name, corpus_dir)
            if doc is None:
                continue
            chunks = chunk_document(doc, self.settings.chunking)
            documents[doc.name] = {"sha256": doc.sha256, "title": doc.title, "text": doc.text,
                                   "offsets": doc.normalised.offsets}
            chunk_records.extend({**c.metadata(), "id": c.id, "text": c.text, "words": tokenize_words(c.text),
                                  "bigrams": char_bigrams(c.text)} for c in chunks)
            figure_records.extend(f.model_dump() for f in extract_figures(doc.text, doc.name,
                                                                          _section_lookup(doc.name, chunks)))
        if not documents:
            raise no_readable_report(corpus_dir)
        if previous is not None:
            logger.info("%d report(s) copied from build %s, %d read", copied, previous.name, len(documents) - copied)
        return documents, chunk_records, figure_records

    def _write_vectors(self, build: Path, chunks: list[Chunk], progress: ProgressCallback | None,
                       reusable: dict[str, np.ndarray], collection_name: str) -> tuple[int, int]:
        """The build's vector store: a passage's vector is taken from ``reusable`` when its text was embedded
        before, the rest are embedded in batches. Returns (embedded, reused) chunk counts."""
        keys = [passage_key(self.settings.embedding_model, self.embeddings.passage_prefix, c.text) for c in chunks]
        vectors: list[np.ndarray | None] = [reusable.get(k) for k in keys]
        missing = [i for i, v in enumerate(vectors) if v is None]
        logger.info("embedding %d of %d chunks, reusing %d", len(missing), len(chunks), len(chunks) - len(missing))
        batch = self.settings.embedding_batch_size
        if progress and missing:
            progress("embedding", 0, len(missing))
        for start in range(0, len(missing), batch):
            part = missing[start : start + batch]
            for i, vector in zip(part, self.embeddings.embed_passages([chunks[i].text for i in part])):
                vectors[i] = vector
            if progress:
                progress("embedding", min(start + batch, len(missing)), len(missing))
        client = self._client(build / "chroma")
        try:
            collection = client.create_collection(
                collection_name,
                metadata={"embedding_model": self.settings.embedding_model, "index_name": self.name,
                          "chunking": json.dumps(self.settings.chunking.model_dump())},
                configuration={"hnsw": {"space": "cosine"}},
            )
            step = min(client.get_max_batch_size(), 1000)
            for start in range(0, len(chunks), step):
                part = chunks[start : start + step]
                collection.add(ids=[c.id for c in part], embeddings=np.stack(vectors[start : start + step]),
                               documents=[c.text for c in part], metadatas=[c.metadata() for c in part])
        finally:
            client.close()  # the files are renamed next; the build is opened afresh by ``load``
        return len(missing), len(chunks) - len(missing)

    def _point_current_to(self, build_name: str) -> None:
        tmp = self.root / f".CURRENT.{uuid.uuid4().hex[:8]}"
        try:
            tmp.write_text(build_name + "\n", encoding="utf-8")
            os.replace(tmp, self.root / "CURRENT")
        except OSError:
            tmp.unlink(missing_ok=True)
            raise

    def _prune_builds(self, keep: str) -> None:
        builds = sorted((p for p in (self.root / "builds").iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        finished = [p for p in builds if not p.name.startswith("tmp-")]
        for old in finished[:-_KEEP_BUILDS]:
            if old.name != keep:
                record = self._stored_vector_record(old)
                if record.get("kind") == "server" and self.server_mode:
                    self._drop_server_collection(record["collection"])
                shutil.rmtree(old, ignore_errors=True)
        for stale_tmp in (p for p in builds if p.name.startswith("tmp-")):
            # Left by a crashed build (we hold the lock, so no build is running).
            shutil.rmtree(stale_tmp, ignore_errors=True)

    # ---- loading -----------------------------------------------------------------------------------------

    def load(self) -> LoadedIndex:
        build, problem = self._pointer()
        if problem:
            raise IndexUnavailable(f"{problem}; run `aidqa index --rebuild`")
        if build is None:
            raise IndexUnavailable(f"no index in {self.root}; run `aidqa index`")
        manifest = self.read_manifest(build)
        try:
            raw_chunks = json.loads((build / CHUNKS).read_text(encoding="utf-8"))
            chunks = [_chunk_from_record(r) for r in raw_chunks]
            keywords = self._load_keywords(build, raw_chunks)
            stored = json.loads((build / DOCUMENTS).read_text(encoding="utf-8"))
            documents = {name: StoredDocument(name=name, **d) for name, d in stored.items()}
            figures = [Figure.model_validate(f) for f in json.loads((build / FIGURES).read_text(encoding="utf-8"))]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexUnavailable(f"keyword index in {build} is unreadable: {exc}") from exc
        sentences = SentenceVectors.load(build, manifest.get("embedding_dimension") or self.embeddings.dimension)
        record = self._stored_vector_record(build)
        self._check_vector_store(build, record)
        if self.server_mode:
            vectorstore, client, count = self._open_collection(build, record["collection"], None)
            return self._checked(LoadedIndex(self.name, build, manifest, chunks, documents, vectorstore, keywords,
                                             figures, client, None, sentences=sentences), count)
        chroma_dir = build / "chroma"
        if not (chroma_dir / "chroma.sqlite3").is_file():
            raise IndexUnavailable(f"vector index in {build} is missing (no {chroma_dir.name}/chroma.sqlite3)")
        private_copy = None
        if not _writable(chroma_dir):
            # Chroma opens its SQLite database for writing ("attempt to write a readonly database" otherwise), so a
            # read-only index is served from a private copy of its vector store; the copy goes with the index.
            private_copy = Path(tempfile.mkdtemp(prefix="aidqa-readonly-index-"))
            try:
                shutil.copytree(chroma_dir, private_copy / "chroma", copy_function=shutil.copyfile)
                for p in (private_copy / "chroma", *(private_copy / "chroma").rglob("*")):
                    p.chmod(0o700 if p.is_dir() else 0o600)  # copytree keeps the folders' read-only modes
            except OSError as exc:
                shutil.rmtree(private_copy, ignore_errors=True)
                raise IndexUnavailable(f"vector index in {build} is read-only and could not be copied: {exc}") from exc
            logger.warning("index folder %s is read-only; serving its vector store from a private copy in %s",
                           build, private_copy)
            chroma_dir = private_copy / "chroma"
        try:
            vectorstore, client, count = self._open_collection(build, record["collection"], chroma_dir)
            loaded = self._checked(LoadedIndex(self.name, build, manifest, chunks, documents, vectorstore, keywords,
                                               figures, client, chroma_dir, sentences=sentences), count)
        except IndexUnavailable:
            if private_copy:
                shutil.rmtree(private_copy, ignore_errors=True)
            raise
        if private_copy:
            weakref.finalize(loaded, shutil.rmtree, private_copy, True)
        return loaded

    def _load_keywords(self, build: Path, raw_chunks: list[dict[str, Any]]) -> KeywordIndex:
        """The build's persisted keyword index; a build made before it was persisted gets it built from the
        chunks' tokens (slower, and only in memory: the build folder is not written to by readers)."""
        try:
            keywords = KeywordIndex.load(build / KEYWORDS)
        except FileNotFoundError:
            logger.warning("build %s has no persisted keyword index; building it in memory (rebuild the index to "
                           "load it in milliseconds)", build.name)
            records = _with_tokens(raw_chunks, build)
            keywords = KeywordIndex.from_tokens([r["words"] for r in records], [r["bigrams"] for r in records])
        return keywords

    def _open_collection(self, build: Path, collection: str, chroma_dir: Path | None) -> tuple[Chroma, Any, int]:
        """(LangChain vector store, client, vector count) of a build's collection; ``IndexUnavailable`` when it
        cannot be read."""
        client = None
        try:
            client = self._client(chroma_dir)
            vectorstore = Chroma(collection_name=collection, client=client, embedding_function=self.embeddings,
                                 create_collection_if_not_exists=False)
            count = vectorstore._collection.count()
        except Exception as exc:  # chromadb raises its own, sqlite and HTTP errors
            if client is not None:
                client.close()
            where = f"collection {collection} on the Chroma server {self.settings.chroma.url}" if chroma_dir is None \
                else f"vector index in {build}"
            raise IndexUnavailable(f"{where} is unreadable: {type(exc).__name__}: {exc}") from exc
        return vectorstore, client, count

    @staticmethod
    def _checked(loaded: LoadedIndex, count: int) -> LoadedIndex:
        """``loaded`` if its vectors, chunks and manifest agree; else it is closed and ``IndexUnavailable`` raised."""
        chunks, manifest = len(loaded.chunks), loaded.manifest.get("chunk_count")
        keywords = loaded.keywords.num_chunks
        if count != chunks or manifest != chunks or keywords != chunks:
            loaded.close()
            raise IndexUnavailable(f"index in {loaded.path} is inconsistent: {count} vectors, {chunks} chunks, "
                                   f"manifest says {manifest}, keyword index covers {keywords}")
        return loaded

    def is_current(self, loaded: LoadedIndex) -> bool:
        """Whether ``loaded`` is still the build CURRENT names (the indexer may have swapped in a newer one)."""
        build = self.current_build()
        return build is None or build.name == Path(loaded.path).name

    def ensure(self, progress: ProgressCallback | None = None) -> LoadedIndex:
        """The ready index: built when missing or stale, rebuilt (with a warning) when corrupt."""
        state, reason = self.status()
        if state == "ready":
            try:
                return self.load()
            except IndexUnavailable as exc:
                logger.warning("index unusable, rebuilding: %s", exc)
                return self.build(progress, force=True)
        if state == "stale" and self.server_mode:
            # App processes share a server index: the indexer (`aidqa index`) refreshes it, and until it has, a
            # reader serves the current build rather than write one of its own (it picks the new one up later).
            try:
                loaded = self.load()
            except IndexUnavailable as exc:
                logger.warning("index unusable, building it: %s", exc)
            else:
                logger.warning("%s; serving build %s until `aidqa index` builds a new one", reason, loaded.path.name)
                return loaded
        if state == "corrupt":
            logger.warning("index unusable, rebuilding: %s", reason)
        else:
            logger.info("building index (%s: %s)", state, reason)
        return self.build(progress, force=state == "corrupt")
