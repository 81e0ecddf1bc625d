"""Corpus management over HTTP (issue 11, item 5): administrators upload (POST /api/documents, multipart) and delete
(DELETE /api/documents/{id}) reports; each change is indexed incrementally in a background job whose progress
GET /api/documents/jobs/{id} shows, and /api/health shows the last build's changes.

Checked: the routes are off without AIDQA_AUTH / AIDQA_ADMINS, 401 with wrong credentials, 403 for a user who is not
an administrator; a real report uploaded becomes answerable once its job is done and its answers go when it is
deleted; bad files (wrong type by content, too big, ``../`` and absolute names, a zip bomb disguised as DOCX, a broken
DOCX …) are refused and leave the corpus and the served index exactly as they were; concurrent uploads.

Real reports are read from ``../shared/dev-reports/`` at test time (their licences do not all allow copying them into
the repository) into a temporary corpus with the seed report. Uses the packaged model. Multipart bodies are built by
hand where the test must control the file name's exact bytes (an HTTP client may clean a name up).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
import time
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest
from conftest import REPO, REPORT, serve_app
from fastapi.testclient import TestClient
from pydantic import ValidationError

from aidqa.qa.assistant import Assistant
from aidqa.settings import Settings, UploadSettings
from aidqa.web import uploads
from aidqa.web.app import create_app
from aidqa.web.uploads import CorpusManager, safe_file_name

SHARED = REPO.parent / "shared" / "dev-reports"
SICHUAN = SHARED / "sichuan-2026-government-work-report.txt"
NUCLEAR = SHARED / "nuclear-psr-part1-standard-draft-2023.docx"  # a real DOCX with a merged-cell table
ZHOUKOU = SHARED / "zhoukou-2023-statistical-communique.pdf"
PLAN = SHARED / "state-council-2016-eco-environment-plan.txt"
SICHUAN_QUESTION = "2025年四川地区生产总值是多少？"
SICHUAN_FIGURE = "67665亿元"
NUCLEAR_QUESTION = "核电厂PSR通常多久开展一次？"
NUCLEAR_FIGURE = "10年左右"
MAX_BYTES = 1024 * 1024  # the test server's upload limit (real reports here are 26 KB to 480 KB)
JOB_TIMEOUT = 600  # a hang guard while polling a job, not a performance bound
USERS = "boss:admin-pw-1,reader:reader-pw-2"

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared dev reports not found at {SHARED}")


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


ADMIN = _basic("boss", "admin-pw-1")
READER = _basic("reader", "reader-pw-2")


# ---- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("uploads") / "corpus"
    folder.mkdir()
    (folder / REPORT.name).write_bytes(REPORT.read_bytes())
    return folder


@pytest.fixture(scope="module")
def admin_settings(corpus, tmp_path_factory) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("uploads-index"), auth=USERS,
                    admins="boss", uploads=UploadSettings(max_bytes=MAX_BYTES))


@pytest.fixture(scope="module")
def app(admin_settings):
    return create_app(admin_settings, Assistant(admin_settings))


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, base_url="http://localhost") as c:
        app.state.loader.join(JOB_TIMEOUT)
        assert app.state.loader.ready, app.state.loader.error
        yield c


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with its content hash."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _multipart(filename: str | bytes, data: bytes, **fields: str) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with a ``file`` part named exactly ``filename`` (bytes as given)."""
    boundary = f"aidqa-test-{uuid.uuid4().hex}".encode()
    name = filename.encode() if isinstance(filename, str) else filename
    body = b""
    for key, value in fields.items():
        body += b"--" + boundary + f'\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
    body += (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="' + name
             + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + data + b"\r\n--" + boundary + b"--\r\n")
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}


def _upload(client, filename: str | bytes, data: bytes, headers: dict[str, str] | None = None, **fields: str):
    body, content_type = _multipart(filename, data, **fields)
    return client.post("/api/documents", content=body, headers={**(ADMIN if headers is None else headers), **content_type})


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert "Traceback" not in response.text
    return error["message"]


def _wait(client, job_id: str) -> dict:
    """Poll the job until it is done or failed; its final state."""
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        r = client.get(f"/api/documents/jobs/{job_id}", headers=ADMIN)
        assert r.status_code == 200, r.text
        job = r.json()
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['state']}"
        time.sleep(0.2)  # polling the background job


def _ask(client, question: str) -> dict:
    r = client.post("/api/ask", json={"question": question}, headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()


def _docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _bomb(compression: int) -> bytes:
    """A zip that sniffs as DOCX and expands to 300 MiB: written in 1 MiB steps, never held or stored whole."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            block = bytes(1024 * 1024)
            for _ in range(300):
                fh.write(block)
    return out.getvalue()


# ---- who may ----------------------------------------------------------------------------------------------


def test_management_is_off_without_authentication(settings, assistant):
    # The shared app of the other tests: no AIDQA_AUTH. Every management route says so, and nothing is written.
    corpus = Path(settings.corpus_dir)
    before = _snapshot(corpus)
    with TestClient(create_app(settings, assistant), base_url="http://localhost") as c:
        try:
            body, content_type = _multipart("probe-report.txt", "二〇二五年新建学校12所。".encode())
            message = _error(c.post("/api/documents", content=body, headers=content_type), 403, "management_disabled")
            assert "AIDQA_AUTH" in message and "AIDQA_ADMINS" in message
            _error(c.delete(f"/api/documents/{REPORT.name}"), 403, "management_disabled")
            _error(c.get("/api/documents/jobs/0123456789abcdef"), 403, "management_disabled")
        finally:
            (corpus / "probe-report.txt").unlink(missing_ok=True)  # only there if the test failed
    assert _snapshot(corpus) == before


def test_admins_must_be_auth_users_and_unset_admins_turn_management_off():
    with pytest.raises(ValidationError, match=r"auth \(AIDQA_AUTH\) is not"):
        Settings(admins="boss")
    with pytest.raises(ValidationError, match="'nobody'"):
        Settings(auth=USERS, admins="boss,nobody")
    off = CorpusManager(Settings(auth=USERS), rebuild=lambda progress: None, describe=str)
    with pytest.raises(uploads.ApiError) as info:
        off.require_admin("boss")
    assert (info.value.status, info.value.code) == (403, "management_disabled")
    on = CorpusManager(Settings(auth=USERS, admins=" boss "), rebuild=lambda progress: None, describe=str)
    assert on.require_admin("boss") == "boss"
    with pytest.raises(uploads.ApiError) as info:
        on.require_admin("reader")
    assert (info.value.status, info.value.code) == (403, "admin_required")


def test_wrong_credentials_and_non_admins_are_refused_before_anything_is_read(client, corpus):
    before = _snapshot(corpus)
    data = SICHUAN.read_bytes()
    for headers, status, code in [({}, 401, "unauthorized"), (_basic("boss", "wrong"), 401, "unauthorized"),
                                  (READER, 403, "admin_required")]:
        _error(_upload(client, "sichuan.txt", data, headers=headers), status, code)
        _error(client.delete(f"/api/documents/{REPORT.name}", headers=headers), status, code)
        _error(client.get("/api/documents/jobs/0123456789abcdef", headers=headers), status, code)
    # A reader still reads: the listing and answers are not management.
    assert client.get("/api/documents", headers=READER).status_code == 200
    assert _snapshot(corpus) == before


# ---- a real report in, and out again -------------------------------------------------------------------------


def test_uploaded_report_becomes_answerable_and_its_answers_go_when_deleted(app, client, corpus, monkeypatch):
    assert SICHUAN_FIGURE not in _ask(client, SICHUAN_QUESTION)["answer"]
    jobs, seen = app.state.service.corpus.jobs, []
    rebuild = jobs.rebuild

    def recording_rebuild(progress):  # what the job's progress callback is told, stage by stage
        return rebuild(lambda stage, done, total: (seen.append((stage, done, total)), progress(stage, done, total)))

    monkeypatch.setattr(jobs, "rebuild", recording_rebuild)
    r = _upload(client, "四川政府工作报告.txt", SICHUAN.read_bytes())
    assert r.status_code == 202, r.text
    body = r.json()
    name = body["document"]["id"]
    assert name == "四川政府工作报告.txt" and body["document"]["format"] == "text"
    assert body["document"]["sha256"] == hashlib.sha256(SICHUAN.read_bytes()).hexdigest()
    assert r.headers["location"] == f"/api/documents/jobs/{body['job']['id']}"
    assert body["job"]["state"] in ("queued", "running", "done") and body["job"]["action"] == "upload"
    assert (corpus / name).read_bytes() == SICHUAN.read_bytes()

    job = _wait(client, body["job"]["id"])
    assert job["state"] == "done", job
    changes = job["changes"]
    assert changes["added"] == [name] and changes["removed"] == [] and changes["updated"] == []
    assert REPORT.name in changes["unchanged"] and changes["mode"] == "incremental"
    assert changes["embedded_chunks"] > 0 and changes["reused_chunks"] > 0  # only the new report was embedded
    # …and only its sentences (the answerer's candidates, embedded at build time): the others' were reused.
    assert changes["embedded_sentences"] > 0 and changes["reused_sentences"] > 0
    embedding = [(done, total) for stage, done, total in seen if stage == "embedding"]
    assert embedding[0] == (0, changes["embedded_chunks"]) and embedding[-1] == (changes["embedded_chunks"],) * 2
    assert job["done"] == job["total"] > 0  # the last stage it showed was complete

    health = client.get("/api/health", headers=ADMIN).json()
    assert health["index"]["changes"]["added"] == [name] and name in health["corpus_files"]
    assert name in [d["id"] for d in client.get("/api/documents", headers=ADMIN).json()["documents"]]
    answer = _ask(client, SICHUAN_QUESTION)
    assert SICHUAN_FIGURE in answer["answer"] and {c["source"] for c in answer["citations"]} == {name}

    r = client.delete(f"/api/documents/{name}", headers=ADMIN)
    assert r.status_code == 202, r.text
    assert r.json()["id"] == name and r.json()["job"]["action"] == "delete"
    assert not (corpus / name).exists()
    job = _wait(client, r.json()["job"]["id"])
    assert job["state"] == "done" and job["changes"]["removed"] == [name] and job["changes"]["embedded_chunks"] == 0
    answer = _ask(client, SICHUAN_QUESTION)
    assert SICHUAN_FIGURE not in answer["answer"] and name not in {c["source"] for c in answer["citations"]}
    assert client.get("/api/health", headers=ADMIN).json()["index"]["changes"]["removed"] == [name]


def test_replacing_needs_replace_true_and_a_name_is_taken_whatever_its_case(client, corpus):
    before = _snapshot(corpus)
    seed = REPORT.read_bytes()
    assert "replace=true" in _error(_upload(client, REPORT.name, seed), 409, "file_exists")
    _error(_upload(client, REPORT.name.upper(), seed), 409, "file_exists")
    _error(_upload(client, REPORT.name.upper(), seed, replace="true"), 409, "file_exists")  # differs in case
    _error(_upload(client, REPORT.name, seed, replace="maybe"), 422, "invalid_request")
    assert _snapshot(corpus) == before
    # The same content again, replacing: accepted, and the build finds nothing to do.
    r = _upload(client, REPORT.name, seed, replace="true")
    assert r.status_code == 202, r.text
    assert r.json()["document"]["replaced"] is True
    job = _wait(client, r.json()["job"]["id"])
    assert job["state"] == "done" and job["changes"]["built"] is False and job["changes"]["embedded_chunks"] == 0
    assert _snapshot(corpus) == before


def test_deleting_needs_a_listed_report_and_never_the_last_one(client, corpus):
    before = _snapshot(corpus)
    _error(client.delete("/api/documents/no-such-report.txt", headers=ADMIN), 404, "not_found")
    _error(client.delete("/api/documents/..%2F..%2Fetc%2Fpasswd", headers=ADMIN), 403, "forbidden")  # the guard
    _error(client.delete("/api/documents/%2Fetc%2Fpasswd", headers=ADMIN), 404, "not_found")
    _error(client.delete(f"/api/documents/{REPORT.name}", headers=ADMIN), 409, "last_report")
    _error(client.get("/api/documents/jobs/not-a-job", headers=ADMIN), 404, "not_found")
    _error(client.get("/api/documents/jobs/0123456789abcdef", headers=ADMIN), 404, "not_found")
    assert _snapshot(corpus) == before


# ---- bad files: refused, and nothing changes ---------------------------------------------------------------


def _random_bytes(n: int) -> bytes:
    return hashlib.sha256(b"seed").digest() * (n // 32)


def _broken_docx() -> bytes:
    real = NUCLEAR.read_bytes()
    return real[: len(real) // 2]  # a download cut short: the signature is there, the archive is not


def _docx_without_document() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/styles.xml", "<styles/>")
    return out.getvalue()


def _many_entries() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        for i in range(1200):  # over uploads.max_archive_entries (1000)
            zf.writestr(f"word/media/p{i}.xml", "")
    return out.getvalue()


BAD_FILES = [
    # (file name, content, status, code)
    ("report.pdf", lambda: _random_bytes(4096), 415, "unsupported_type"),  # random binary named .pdf
    ("report.docx", lambda: _random_bytes(4096), 415, "unsupported_type"),
    ("report.pdf", lambda: SICHUAN.read_bytes(), 415, "unsupported_type"),  # text named .pdf
    ("report.txt", lambda: ZHOUKOU.read_bytes(), 415, "unsupported_type"),  # a PDF named .txt
    ("report.md", lambda: NUCLEAR.read_bytes(), 415, "unsupported_type"),
    ("report.txt", lambda: _random_bytes(4096), 422, "unreadable_document"),  # binary: not text in any encoding
    ("report.docx", _broken_docx, 422, "unreadable_document"),
    ("report.docx", _docx_without_document, 422, "unreadable_document"),
    ("report.docx", _many_entries, 422, "unsafe_archive"),
    ("empty.txt", lambda: b"", 422, "unreadable_document"),
    ("blank.txt", lambda: b" \n\t\n", 422, "unreadable_document"),
    ("report.exe", lambda: SICHUAN.read_bytes(), 415, "unsupported_type"),
    ("report", lambda: SICHUAN.read_bytes(), 415, "unsupported_type"),
    ("../report.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("../../etc/cron.d/x.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("..\\report.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("/tmp/report.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("C:\\reports\\report.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("sub/report.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("．．／report.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),  # full-width ../
    (".hidden.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("..", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("report\u202etxt.pdf", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),  # right-to-left override
    ("re\u200bport.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),  # zero-width space
    ("report\x7f.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("report .txt ", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("report:stream.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("CON.txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("报" * 130 + ".txt", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ("", lambda: SICHUAN.read_bytes(), 422, "bad_filename"),
    ('a\\"b.txt', lambda: SICHUAN.read_bytes(), 422, "bad_filename"),  # a quote, sent escaped
]


@pytest.mark.parametrize(("filename", "content", "status", "code"), BAD_FILES,
                         ids=[f"{i}-{c}" for i, (_, _, _, c) in enumerate(BAD_FILES)])
def test_bad_uploads_are_refused_and_change_nothing(client, app, corpus, filename, content, status, code):
    before = _snapshot(corpus)
    build = client.get("/api/health", headers=ADMIN).json()["index"]["path"]
    _error(_upload(client, filename, content()), status, code)
    assert _snapshot(corpus) == before  # no file, no temporary file left behind
    assert not list(corpus.parent.rglob("report*")) and not (corpus.parent / "etc").exists()
    assert client.get("/api/health", headers=ADMIN).json()["index"]["path"] == build  # no build was started


@pytest.mark.parametrize("compression", [zipfile.ZIP_BZIP2, zipfile.ZIP_DEFLATED], ids=["bzip2", "deflate"])
def test_a_zip_bomb_disguised_as_docx_is_refused_before_any_parser_opens_it(client, corpus, monkeypatch, compression):
    bomb = _bomb(compression)
    assert len(bomb) < 400 * 1024  # a few hundred bytes (bzip2) or ~300 KB (deflate) …
    declared = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(bomb)).infolist())
    assert declared >= 300 * 1024 * 1024  # … that expand to 300 MiB
    opened: list[str] = []

    def no_extraction(self, name, *args, **kwargs):
        opened.append(str(name))
        raise AssertionError("an archive entry was opened")

    def no_parsing(*args, **kwargs):
        opened.append("load_document")
        raise AssertionError("a parser was reached")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_extraction)
    monkeypatch.setattr(uploads, "load_document", no_parsing)
    before = _snapshot(corpus)
    message = _error(_upload(client, "年度报告.docx", bomb), 422, "unsafe_archive")
    assert "zip bomb" in message
    assert opened == []
    assert _snapshot(corpus) == before


def test_too_big_uploads_are_refused_however_they_arrive(client, corpus):
    before = _snapshot(corpus)
    text = "二〇二五年全市新建学校12所。\n".encode()
    big = text * (MAX_BYTES // len(text) + 1)  # just over the file limit, within the form's extra room
    assert MAX_BYTES < len(big) < MAX_BYTES + 64 * 1024
    assert str(MAX_BYTES) in _error(_upload(client, "big.txt", big), 413, "payload_too_large")
    huge = text * (3 * MAX_BYTES // len(text))
    _error(_upload(client, "huge.txt", huge), 413, "payload_too_large")  # declared Content-Length: the guard
    body, content_type = _multipart("huge.txt", huge)

    def chunks():  # no Content-Length: counted as it arrives
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    r = client.post("/api/documents", content=chunks(), headers={**ADMIN, **content_type})
    assert "content-length" not in {k.lower() for k in r.request.headers}
    _error(r, 413, "payload_too_large")
    assert _snapshot(corpus) == before


def test_malformed_forms_are_refused(client, corpus):
    before = _snapshot(corpus)
    _error(client.post("/api/documents", json={"file": "x"}, headers=ADMIN), 422, "invalid_request")
    body, content_type = _multipart("a.txt", "二〇二五年新建学校12所。".encode(), comment="hello")
    _error(client.post("/api/documents", content=body, headers={**ADMIN, **content_type}), 422, "invalid_request")
    boundary = "aidqa-test-two-files"
    part = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
            "二〇二五年新建学校12所。\r\n")
    doubled = (part * 2 + f"--{boundary}--\r\n").encode()
    r = client.post("/api/documents", content=doubled,
                    headers={**ADMIN, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    _error(r, 422, "invalid_request")  # two file parts
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=x"):
        r = client.post("/api/documents", content=b"--y\r\n\r\ngarbage", headers={**ADMIN, "Content-Type": content_type})
        _error(r, 422, "invalid_request")
    assert _snapshot(corpus) == before


def test_unfinished_uploads_are_cleared_at_start_but_recent_ones_are_kept(tmp_path):
    (tmp_path / REPORT.name).write_bytes(REPORT.read_bytes())
    old, recent = tmp_path / ".aidqa-upload-old", tmp_path / ".aidqa-upload-recent"
    other_hidden = tmp_path / ".aidqa-other"
    for p in (old, recent, other_hidden):
        p.write_bytes(b"half a report")
    os.utime(old, (time.time() - 2 * 3600, time.time() - 2 * 3600))
    os.utime(other_hidden, (time.time() - 2 * 3600, time.time() - 2 * 3600))
    CorpusManager(Settings(corpus_dir=tmp_path, auth=USERS, admins="boss"), rebuild=lambda progress: None,
                  describe=str)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([REPORT.name, recent.name, other_hidden.name])


def test_file_names_are_stored_nfc_normalised():
    decomposed = "Cafe\u0301-报告.txt"
    assert safe_file_name(decomposed) == "Caf\u00e9-报告.txt"
    assert safe_file_name("2023年（第一季度）统计公报.pdf") == "2023年（第一季度）统计公报.pdf"


# ---- concurrent uploads, over a real server ------------------------------------------------------------------


def test_concurrent_uploads_all_land_and_a_name_race_has_one_winner(app, client, corpus):
    before = _snapshot(corpus)
    generated = _docx(["2025年示范区建设情况", "2025年，示范区新建公共充电桩4321个，比上年增长12.5%。"],
                      table=[["项目", "数量（个）"], ["公共充电桩", "4321"], ["换电站", "37"]])
    uploads_to_make = [("核电厂定期安全评价.docx", NUCLEAR.read_bytes()), ("示范区建设.docx", generated),
                       ("周口统计公报.pdf", ZHOUKOU.read_bytes()),
                       ("race.txt", SICHUAN.read_bytes()), ("race.txt", PLAN.read_bytes())]
    results: list[httpx.Response] = []
    barrier = threading.Barrier(len(uploads_to_make))
    with serve_app(app) as base, httpx.Client(base_url=base, timeout=JOB_TIMEOUT) as http:
        def send(name: str, data: bytes) -> None:
            body, content_type = _multipart(name, data)
            barrier.wait()
            results.append(http.post("/api/documents", content=body, headers={**ADMIN, **content_type}))

        threads = [threading.Thread(target=send, args=item) for item in uploads_to_make]
        for t in threads:
            t.start()
        for t in threads:
            t.join(JOB_TIMEOUT)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [202, 202, 202, 202, 409], [r.text for r in results]
    accepted = [r.json() for r in results if r.status_code == 202]
    race = next(a for a in accepted if a["document"]["id"] == "race.txt")
    assert hashlib.sha256((corpus / "race.txt").read_bytes()).hexdigest() == race["document"]["sha256"]
    jobs = [_wait(client, a["job"]["id"]) for a in accepted]
    assert all(j["state"] == "done" for j in jobs), jobs
    added = set().union(*(j["changes"]["added"] for j in jobs))
    assert added == {"核电厂定期安全评价.docx", "示范区建设.docx", "周口统计公报.pdf", "race.txt"}
    listed = {d["id"]: d for d in client.get("/api/documents", headers=ADMIN).json()["documents"]}
    assert listed["核电厂定期安全评价.docx"]["format"] == "docx" and listed["示范区建设.docx"]["format"] == "docx"
    assert listed["周口统计公报.pdf"]["format"] == "pdf" and listed["周口统计公报.pdf"]["pages"] == 13
    assert NUCLEAR_FIGURE in _ask(client, NUCLEAR_QUESTION)["answer"]
    answer = _ask(client, "示范区新建了多少个公共充电桩？")
    assert "4321" in answer["answer"] and {c["source"] for c in answer["citations"]} == {"示范区建设.docx"}
    assert not [p for p in corpus.iterdir() if p.name.startswith(".")]  # no temporary file left
    for name in added:  # back to the seed report alone
        r = client.delete(f"/api/documents/{name}", headers=ADMIN)
        assert r.status_code == 202, r.text
        assert _wait(client, r.json()["job"]["id"])["state"] == "done"
    assert _snapshot(corpus) == before


# ---- the 管理报告 tab ----------------------------------------------------------------------------------------


def _panels(app) -> list:
    return [b for b in app.state.demo.blocks.values() if getattr(b, "elem_id", None) == "aidqa-manage"]


def test_the_manage_tab_and_the_schema_entries_are_there_only_when_management_is_on(app, client, settings, assistant):
    assert len(_panels(app)) == 1
    paths = client.get("/api/openapi.json", headers=READER).json()["paths"]
    assert {"post", "get"} <= set(paths["/api/documents"]) and "delete" in paths["/api/documents/{report_id}"]
    assert "multipart/form-data" in paths["/api/documents"]["post"]["requestBody"]["content"]
    assert "/api/documents/jobs/{job_id}" in paths
    off = create_app(settings, assistant)  # no AIDQA_AUTH / AIDQA_ADMINS
    assert _panels(off) == []
    with TestClient(off, base_url="http://localhost") as c:
        paths = c.get("/api/openapi.json").json()["paths"]
    assert set(paths["/api/documents"]) == {"get"} and not any("jobs" in p or "{report_id}" in p for p in paths)


@pytest.mark.browser
@pytest.mark.skipif(os.environ.get("AIDQA_SKIP_BROWSER") == "1", reason="AIDQA_SKIP_BROWSER=1")
def test_an_admin_uploads_and_deletes_from_the_manage_tab_and_a_reader_is_refused(app, client, corpus, tmp_path):
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("AIDQA_CHROMIUM") or "/usr/bin/chromium"
    assert Path(chromium).exists(), f"Chromium not found at {chromium!r} (AIDQA_CHROMIUM); see docs/testing.md"
    before = _snapshot(corpus)
    report = tmp_path / "园区建设.txt"
    report.write_text('园区建设情况\n\n<img src=x onerror="window.__pwned=1">2025年，园区新建标准厂房86栋。\n',
                      encoding="utf-8")
    status = "#aidqa-manage .aidqa-manage-status"
    with serve_app(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium)
        try:
            admin = browser.new_context(http_credentials={"username": "boss", "password": "admin-pw-1"}).new_page()
            admin.goto(base + "/")
            admin.get_by_role("tab", name="管理报告 Manage").click()
            admin.wait_for_selector(f"#aidqa-manage tr:has-text('{REPORT.name}')")
            admin.set_input_files("#aidqa-manage input[type=file]", str(report))
            admin.click("#aidqa-manage button[type=submit]")
            admin.wait_for_function(f"document.querySelector({status!r}).textContent.includes('完成')",
                                    timeout=JOB_TIMEOUT * 1000)
            assert "added 1" in admin.inner_text(status)
            assert admin.locator("#aidqa-manage tr:has-text('园区建设.txt')").count() == 1
            assert (corpus / "园区建设.txt").read_bytes() == report.read_bytes()
            assert "86栋" in _ask(client, "园区新建了多少栋标准厂房？")["answer"]
            assert admin.evaluate("window.__pwned") is None and admin.locator("#aidqa-manage img").count() == 0

            reader = browser.new_context(http_credentials={"username": "reader", "password": "reader-pw-2"}).new_page()
            reader.goto(base + "/")
            reader.get_by_role("tab", name="管理报告 Manage").click()
            reader.wait_for_selector("#aidqa-manage tr:has-text('园区建设.txt')")
            reader.once("dialog", lambda dialog: dialog.accept())
            reader.click("#aidqa-manage tr:has-text('园区建设.txt') button")
            reader.wait_for_function(f"document.querySelector({status!r}).textContent.includes('失败')")
            assert "administrators" in reader.inner_text(status)
            assert (corpus / "园区建设.txt").exists()

            admin.once("dialog", lambda dialog: dialog.accept())
            admin.click("#aidqa-manage tr:has-text('园区建设.txt') button")
            admin.wait_for_function(f"document.querySelector({status!r}).textContent.includes('removed 1')",
                                    timeout=JOB_TIMEOUT * 1000)
            assert admin.locator("#aidqa-manage tr:has-text('园区建设.txt')").count() == 0
        finally:
            browser.close()
    assert _snapshot(corpus) == before
    assert "86栋" not in _ask(client, "园区新建了多少栋标准厂房？")["answer"]
