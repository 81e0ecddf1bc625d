"""Corpus management: an administrator's upload or delete of a report, checked, written and indexed in the background.

Why the checks are here and so strict: the corpus folder is trusted (the index reads every file in it, and its text
becomes answers), so a file may only enter it once it is known to be a report. Every part of an upload is untrusted:

- the **file name** must be a plain name (no folder, no ``..``, not absolute, no control or invisible characters,
  not hidden, no characters other systems forbid), is NFC-normalised, and must end in a supported suffix; a name
  already taken (compared case-insensitively) is refused unless the upload says ``replace``;
- the **content** decides the type: the suffix's format must be what the bytes are (a PDF signature for ``.pdf``, a
  Word zip for ``.docx``); a zip's directory is checked against bombs (entries, declared total size, compression
  ratio) **before** any parser opens it; then the real loader must read it and find text;
- the **size** is capped while the body arrives (``uploads.max_bytes``).

An accepted file is written beside its final name under a hidden temporary name (which the corpus walk ignores) and
moved into place in one step, so a failed or concurrent upload never leaves half a file and never clobbers another
report. The index is then rebuilt incrementally (only the new report is embedded) by ``IndexJobs``, one build at a
time in a background thread; jobs submitted while a build runs share the next build.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import secrets
import threading
import time
import unicodedata
import uuid
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from aidqa.ingest import CorpusError, corpus_files, load_document
from aidqa.ingest.document import normalise_document
from aidqa.ingest.registry import LoadError, by_content, by_suffix, supported_suffixes
from aidqa.settings import Settings, UploadSettings
from aidqa.web.schemas import ApiError, BuildChanges, IndexJobInfo, StoredReport
from aidqa.web.security import USER_KEY

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 240  # UTF-8; most file systems allow 255 bytes per name
_WINDOWS_FORBIDDEN = set('<>:"|?*')
_RESERVED_STEMS = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
# Unicode categories that never belong in a file name: control, format (bidi overrides, zero-width), surrogate,
# private use, unassigned, line and paragraph separators.
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_ZIP_ENTRY_RATIO_FLOOR = 1024 * 1024  # a small part (styles.xml) may compress well; a big one must not compress wildly
_TEMP_PREFIX = ".aidqa-upload-"
JOB_ID = re.compile(r"[0-9a-f]{16}")


def _bad_name(message: str) -> ApiError:
    return ApiError(422, "bad_filename", f"bad file name: {message}")


# ---- pure checks -------------------------------------------------------------------------------------------


def safe_file_name(raw: object) -> str:
    """The upload's file name as it will be stored (NFC), or ApiError 422 ``bad_filename`` (415
    ``unsupported_type`` for a suffix no loader reads). Refused rather than repaired: a client that sends
    ``../x.pdf`` is told so, and no file lands under a name nobody chose."""
    if not isinstance(raw, str) or not raw:
        raise _bad_name("the file part has no file name")
    name = unicodedata.normalize("NFC", raw)
    folded = unicodedata.normalize("NFKC", name)  # full-width ．．／ is ../ to some tools
    for form in (name, folded):
        if form.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", form):
            raise _bad_name("an absolute path is not a file name; send the name alone")
        if "/" in form or "\\" in form:
            parts = re.split(r"[/\\]", form)
            what = "'..' is not allowed" if ".." in parts else "a folder is not allowed"
            raise _bad_name(f"{what}; send the file name alone, without '/' or '\\'")
    if any(unicodedata.category(c) in _BAD_CATEGORIES for c in name):
        raise _bad_name("it holds a control or invisible character")
    if name != name.strip() or name.endswith("."):
        raise _bad_name("it starts or ends with a space, or ends with a dot")
    if name.startswith("."):
        raise _bad_name("a hidden file (a name starting with '.') is never read as a report")
    if _WINDOWS_FORBIDDEN & set(name):
        raise _bad_name("the characters < > : \" | ? * are not allowed")
    if len(name) > MAX_NAME_CHARS or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise _bad_name(f"longer than {MAX_NAME_CHARS} characters")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem.strip():
        raise ApiError(415, "unsupported_type", f"the file name has no suffix; reports are "
                       f"{', '.join(supported_suffixes())}")
    if stem.split(".")[0].strip().lower() in _RESERVED_STEMS:
        raise _bad_name(f"{stem!r} is a reserved device name on Windows")
    if by_suffix("." + suffix) is None:
        raise ApiError(415, "unsupported_type", f"unsupported file type '.{suffix}'; reports are "
                       f"{', '.join(supported_suffixes())}")
    return name


def check_archive(data: bytes, limits: UploadSettings) -> None:
    """ApiError 422 ``unsafe_archive`` when a zip's directory declares too many entries, too much uncompressed
    data, or a compression ratio no document has (overall, or per entry over 1 MiB); 422 ``unreadable_document``
    when it is not a readable zip. Only the central directory is read: nothing is decompressed."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise ApiError(422, "unreadable_document", f"not a readable zip archive ({exc})") from exc
    if len(infos) > limits.max_archive_entries:
        raise ApiError(422, "unsafe_archive", f"the archive has {len(infos)} entries (limit "
                       f"{limits.max_archive_entries})")
    total = sum(i.file_size for i in infos)
    if total > limits.max_unpacked_bytes:
        raise ApiError(422, "unsafe_archive", f"the archive would expand to {total} bytes (limit "
                       f"{limits.max_unpacked_bytes}); possibly a zip bomb")
    if total > limits.max_compression_ratio * len(data):
        raise ApiError(422, "unsafe_archive", f"the archive would expand {total // max(len(data), 1)} times its "
                       f"size (limit {limits.max_compression_ratio}); possibly a zip bomb")
    for i in infos:
        if i.file_size > _ZIP_ENTRY_RATIO_FLOOR and i.file_size > limits.max_compression_ratio * max(i.compress_size, 1):
            raise ApiError(422, "unsafe_archive", f"an entry is compressed {i.file_size // max(i.compress_size, 1)}:1 "
                           f"(limit {limits.max_compression_ratio}:1); possibly a zip bomb")


def _looks_like_zip(data: bytes) -> bool:
    return data.startswith((b"PK\x03\x04", b"PK\x05\x06")) or zipfile.is_zipfile(BytesIO(data))


def check_content(name: str, data: bytes, limits: UploadSettings) -> str:
    """The format of an upload named ``name`` (already a safe name), checked by its content; ApiError otherwise:
    413 over ``max_bytes``, 422 ``unsafe_archive`` for a zip over the limits (checked before any parser opens it),
    415 ``unsupported_type`` when the content is not what the name says, 422 ``unreadable_document`` when the
    loader cannot read it or it holds no text."""
    if len(data) > limits.max_bytes:
        raise ApiError(413, "payload_too_large", f"the file is {len(data)} bytes, over the upload limit of "
                       f"{limits.max_bytes} bytes")
    if not data:
        raise ApiError(422, "unreadable_document", "the file is empty")
    if _looks_like_zip(data):
        check_archive(data, limits)
    declared = by_suffix("." + name.rpartition(".")[2])
    assert declared is not None  # safe_file_name checked the suffix
    sniffed = by_content(data)
    if sniffed is not None and sniffed is not declared:
        raise ApiError(415, "unsupported_type", f"the name says {declared.format} but the content is "
                       f"{sniffed.format}; give the file its own suffix")
    if sniffed is None and getattr(declared, "binary", False):
        raise ApiError(415, "unsupported_type", f"the content is not {declared.format.upper()} (no "
                       f"{declared.format.upper()} signature); a renamed or damaged file is not accepted")
    try:
        document = load_document(data, name)
        normalised = document.normalised or normalise_document(document)[0]
    except LoadError as exc:
        raise ApiError(422, "unreadable_document", f"cannot be read as a report: {exc}") from exc
    except Exception as exc:  # a parser library failing on a damaged file
        logger.info("upload %r failed to parse: %s: %s", name, type(exc).__name__, exc)
        raise ApiError(422, "unreadable_document", f"cannot be read as a report ({type(exc).__name__})") from exc
    if not normalised.text.strip():
        raise ApiError(422, "unreadable_document", "no text in it (a scan without a text layer?)")
    return declared.format


# ---- the corpus folder -----------------------------------------------------------------------------------


class CorpusFolder:
    """Adds and removes report files in the corpus folder, one change at a time (a process-wide lock per folder),
    never leaving a partial file under a report's name."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()

    def _taken(self, name: str) -> str | None:
        """The name of a file or folder in the corpus folder that ``name`` would collide with (case-insensitive,
        Unicode-normalised), or None."""
        key = unicodedata.normalize("NFC", name).casefold()
        try:
            entries = os.listdir(self.root)
        except OSError as exc:
            raise ApiError(500, "storage_error", f"cannot read the corpus folder ({exc.strerror or exc})") from exc
        return next((e for e in entries if unicodedata.normalize("NFC", e).casefold() == key), None)

    def add(self, name: str, data: bytes, replace: bool) -> bool:
        """Write ``data`` as ``root/name`` atomically; returns whether a report was replaced. ApiError 409
        ``file_exists`` when the name is taken and ``replace`` is false (or the taken name differs in case, or is
        not a regular file)."""
        with self._lock:
            taken = self._taken(name)
            target = self.root / name
            if taken is not None:
                if not replace:
                    raise ApiError(409, "file_exists", f"a report named {taken!r} is already in the corpus; send "
                                   "replace=true to replace it, or rename the file")
                if taken != name or target.is_symlink() or not target.is_file():
                    raise ApiError(409, "file_exists", f"{taken!r} is in the corpus and is not the same file name "
                                   "or not a plain file; delete it first")
            tmp = self.root / f"{_TEMP_PREFIX}{uuid.uuid4().hex}"
            try:
                with open(tmp, "xb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                if taken is None:
                    _link_new(tmp, target)
                else:
                    os.replace(tmp, target)
                _fsync_folder(self.root)
            except FileExistsError as exc:
                raise ApiError(409, "file_exists", f"a report named {name!r} appeared in the corpus meanwhile; "
                               "send replace=true to replace it") from exc
            except OSError as exc:
                raise ApiError(500, "storage_error", f"cannot write the report into the corpus folder "
                               f"({exc.strerror or exc})") from exc
            finally:
                tmp.unlink(missing_ok=True)
            return taken is not None

    def remove_stale_temporaries(self, older_than_seconds: float = 3600) -> list[str]:
        """Delete the temporary files of uploads that never finished (a crash between write and rename); a recent
        one may belong to an upload in progress in another process and is kept. Returns the names removed."""
        removed = []
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return removed
        cutoff = time.time() - older_than_seconds
        for entry in entries:
            try:
                if entry.name.startswith(_TEMP_PREFIX) and entry.is_file(follow_symlinks=False) \
                        and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed.append(entry.name)
            except OSError:
                continue
        if removed:
            logger.info("removed %d unfinished upload(s) from the corpus folder", len(removed))
        return removed

    def remove(self, report_id: str) -> None:
        """Delete the corpus file whose id (path relative to the corpus folder) is ``report_id``. Only a file the
        corpus walk lists can be named; ApiError 404 otherwise, 409 ``last_report`` for the only one."""
        with self._lock:
            try:
                listed = {p.relative_to(self.root).as_posix(): p for p in corpus_files(self.root)}
            except CorpusError as exc:
                raise ApiError(500, "storage_error", str(exc)) from exc
            path = listed.get(report_id)
            if path is None:
                raise ApiError(404, "not_found", f"no report file with the id {report_id!r} in the corpus (GET "
                               "/api/documents lists them)")
            if len(listed) == 1:
                raise ApiError(409, "last_report", "this is the corpus's only report; upload another one first "
                               "(an index needs at least one report)")
            try:
                path.unlink()
                _fsync_folder(path.parent)
            except OSError as exc:
                raise ApiError(500, "storage_error", f"cannot delete the report ({exc.strerror or exc})") from exc


def _link_new(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the name ``target`` only if no file has it: a hard link fails if another process made the name
    meanwhile (FileExistsError), so nothing is clobbered. Where hard links are not supported, a rename after a
    check (the caller holds this process's lock)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
            raise
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from exc
        os.rename(tmp, target)


def _fsync_folder(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (where the platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- background indexing -----------------------------------------------------------------------------------

Rebuild = Callable[[Callable[[str, int, int], None]], Any]  # (progress) -> IndexChanges


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class _Job:
    id: str
    action: str
    file: str
    state: str = "queued"
    stage: str | None = None
    done: int = 0
    total: int = 0
    changes: BuildChanges | None = None
    error: str | None = None
    created_at: str = field(default_factory=_now)
    finished_at: str | None = None

    def info(self) -> IndexJobInfo:
        return IndexJobInfo(id=self.id, action=self.action, file=self.file, state=self.state, stage=self.stage,
                            done=self.done, total=self.total, changes=self.changes, error=self.error,
                            created_at=self.created_at, finished_at=self.finished_at)


class IndexJobs:
    """Indexing jobs, run one build at a time in a background thread. ``rebuild(progress)`` builds the index
    (incrementally) and serves it, returning the build's ``IndexChanges``; ``describe(exc)`` is what a client is
    told when it fails. The thread exists only while there is work."""

    def __init__(self, rebuild: Rebuild, describe: Callable[[BaseException], str], keep: int) -> None:
        self.rebuild, self.describe, self.keep = rebuild, describe, keep
        self._jobs: OrderedDict[str, _Job] = OrderedDict()
        self._pending: list[_Job] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, action: str, file: str) -> IndexJobInfo:
        with self._cond:
            job = _Job(secrets.token_hex(8), action, file)
            self._jobs[job.id] = job
            self._pending.append(job)
            finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
            for old in finished[: max(0, len(self._jobs) - self.keep)]:
                del self._jobs[old.id]
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="aidqa-corpus-jobs", daemon=True)
                self._thread.start()
            self._cond.notify_all()
            return job.info()

    def get(self, job_id: str) -> IndexJobInfo | None:
        with self._cond:
            job = self._jobs.get(job_id)
            return job.info() if job is not None else None

    def wait(self, job_id: str, timeout: float | None = None) -> IndexJobInfo | None:
        """Block until the job is done or failed (or ``timeout`` passes); its state then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while (job := self._jobs.get(job_id)) is not None and job.state in ("queued", "running"):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)
            return job.info() if job is not None else None

    def _work(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    self._thread = None
                    return
                batch, self._pending = self._pending, []
                for job in batch:
                    job.state = "running"
                self._cond.notify_all()

            def progress(stage: str, done: int, total: int, batch: list[_Job] = batch) -> None:
                with self._cond:
                    for job in batch:
                        job.stage, job.done, job.total = stage, done, total

            try:
                changes = self.rebuild(progress)
            except Exception as exc:  # the previous index keeps serving; the job says why
                logger.exception("indexing after %s failed", ", ".join(f"{j.action} {j.file}" for j in batch))
                outcome: dict[str, Any] = {"state": "failed", "error": self.describe(exc)}
            else:
                summary = BuildChanges(**changes.to_manifest(), built=changes.built) if changes is not None else None
                outcome = {"state": "done", "changes": summary}
                logger.info("corpus change indexed (%s): %s", ", ".join(f"{j.action} {j.file}" for j in batch),
                            changes.summary() if changes is not None else "no changes reported")
            with self._cond:
                for job in batch:
                    job.state, job.finished_at, job.stage = outcome["state"], _now(), None
                    job.error, job.changes = outcome.get("error"), outcome.get("changes")
                self._cond.notify_all()


# ---- the manager -------------------------------------------------------------------------------------------


class CorpusManager:
    """What the management routes (and the UI's 管理报告 tab) call: who may, the checks, the write, the job."""

    def __init__(self, settings: Settings, rebuild: Rebuild, describe: Callable[[BaseException], str]) -> None:
        self.settings = settings
        self.limits = settings.uploads
        self.admins = settings.admin_users() if settings.auth_users() else frozenset()
        self.folder = CorpusFolder(Path(settings.corpus_dir))
        self.jobs = IndexJobs(rebuild, describe, settings.uploads.jobs_kept)
        if self.enabled:
            self.folder.remove_stale_temporaries()

    @property
    def enabled(self) -> bool:
        return bool(self.admins)

    def require_admin(self, user: str | None) -> str:
        """The administrator's name, or ApiError: 403 ``management_disabled`` when management is off (no
        AIDQA_AUTH or no AIDQA_ADMINS), 401 without a user, 403 ``admin_required`` for a user who is not one."""
        if not self.enabled:
            raise ApiError(403, "management_disabled", "corpus management is off: it needs AIDQA_AUTH (HTTP Basic "
                           "users) and AIDQA_ADMINS (which of them may upload and delete reports)")
        if user is None:
            raise ApiError(401, "unauthorized", "authentication required: send HTTP Basic credentials",
                           {"WWW-Authenticate": 'Basic realm="aidqa", charset="UTF-8"'})
        if user not in self.admins:
            raise ApiError(403, "admin_required", "only administrators (AIDQA_ADMINS) may change the corpus")
        return user

    def require_admin_scope(self, scope: dict[str, Any]) -> str:
        """``require_admin`` for the user the security guard authenticated on this request."""
        return self.require_admin(scope.get(USER_KEY))

    def upload(self, user: str, raw_name: object, data: bytes, replace: bool) -> tuple[StoredReport, IndexJobInfo]:
        """Check, store and index one report (blocking: call it from a worker thread). Nothing is written unless
        every check passes; the index job is queued once the file is in place."""
        name = safe_file_name(raw_name)
        file_format = check_content(name, data, self.limits)
        replaced = self.folder.add(name, data, replace)
        logger.info("%s uploaded %s (%s, %d bytes%s)", user, name, file_format, len(data),
                    ", replacing the previous one" if replaced else "")
        job = self.jobs.submit("upload", name)
        stored = StoredReport(id=name, format=file_format, bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                              replaced=replaced)
        return stored, job

    def delete(self, user: str, report_id: str) -> IndexJobInfo:
        self.folder.remove(report_id)
        logger.info("%s deleted %s", user, report_id)
        return self.jobs.submit("delete", report_id)

    def job(self, job_id: str) -> IndexJobInfo:
        found = self.jobs.get(job_id) if JOB_ID.fullmatch(job_id) else None
        if found is None:
            raise ApiError(404, "not_found", "no such job (jobs are kept in memory until the server restarts, the "
                           f"last {self.limits.jobs_kept} finished ones)")
        return found
