"""The corpus management routes: ``POST /api/documents`` (upload a report), ``DELETE /api/documents/{id}`` and
``GET /api/documents/jobs/{job_id}`` (the background indexing job). Only for administrators (``AIDQA_ADMINS``, who
must be ``AIDQA_AUTH`` users); off (403 ``management_disabled``) when either setting is unset. The checks, the
write and the jobs are in ``aidqa.web.uploads``; this module is the HTTP adapter.

Kept apart from ``aidqa.web.api`` so that the API's own routes stay one readable page; ``api`` includes this
router before its catch-all route.

The upload body is multipart/form-data: a ``file`` part (the report, with its file name) and an optional
``replace`` field (``true`` replaces a report of the same name). It is read here with its own limit
(``uploads.max_bytes`` plus room for the form), counted as it arrives: the API's 2 MiB limit is for JSON bodies.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations as real types.

import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from aidqa.web.errors import ErrorResponse
from aidqa.web.schemas import ApiError, DeleteResponse, IndexJobInfo, UploadResponse
from aidqa.web.security import MULTIPART_OVERHEAD
from aidqa.web.service import ApiService

_FORM_FIELDS = {"file", "replace"}
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}
_MANAGEMENT_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No or wrong HTTP Basic credentials (unauthorized)."},
    403: {"model": ErrorResponse, "description": "Corpus management is off (management_disabled: AIDQA_AUTH or "
          "AIDQA_ADMINS unset), the user is not an administrator (admin_required), or a cross-origin page sent it "
          "(forbidden)."},
    404: {"model": ErrorResponse, "description": "No such report or job (not_found)."},
}
_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    **{k: v for k, v in _MANAGEMENT_ERRORS.items() if k != 404},
    409: {"model": ErrorResponse, "description": "A report of that name is in the corpus (file_exists); send "
          "replace=true to replace it."},
    413: {"model": ErrorResponse, "description": "The file is over uploads.max_bytes (payload_too_large)."},
    415: {"model": ErrorResponse, "description": "Not a supported format, or the content is not the format its "
          "name says (unsupported_type)."},
    422: {"model": ErrorResponse, "description": "Bad file name (bad_filename), a DOCX/zip over the archive limits "
          "(unsafe_archive), a file that cannot be read as a report (unreadable_document), or a malformed form "
          "(invalid_request)."},
}
_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "The report: PDF, DOCX, HTML, Markdown or "
                 "text. Its file name becomes its id; the content must be what the name says."},
        "replace": {"type": "boolean", "default": False, "description": "Replace a report of the same name."},
    }}}}}}


async def _capped(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body as it arrives, refused with 413 once it passes ``limit`` bytes (a chunked body has no
    Content-Length for the guard to check)."""
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "payload_too_large", f"the upload is over the limit of {limit} bytes (the file may "
                           f"be at most {limit - MULTIPART_OVERHEAD} bytes)")
        yield chunk


_FILENAME_PARAM = re.compile(r';\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))', re.IGNORECASE)


def sent_file_name(upload: UploadFile) -> str | None:
    """The file name exactly as the client sent it. python-multipart cuts a Windows path down to its last part
    (``C:\\x\\a.txt`` → ``a.txt``, for an old browser's habit); a name sent with a path must be refused, not
    quietly shortened, so it is read again from the part's raw Content-Disposition."""
    raw = upload.headers.get("content-disposition", "")
    match = _FILENAME_PARAM.search(raw)
    if match is None:
        return upload.filename
    quoted, bare = match.groups()
    # Only an escaped quote is undone: a backslash stays, so a Windows path is seen as one.
    value = quoted.replace('\\"', '"') if quoted is not None else bare.strip()
    try:
        return value.encode("latin-1").decode("utf-8")  # headers arrive as latin-1; browsers send UTF-8
    except (UnicodeEncodeError, UnicodeDecodeError):
        return upload.filename


async def read_upload(request: Request, limit: int) -> tuple[object, bytes, bool]:
    """(file name as sent, file bytes, replace) from a multipart/form-data body; ApiError 422 ``invalid_request``
    for anything else: another content type, a missing ``file`` part, unknown or repeated fields."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        raise ApiError(422, "invalid_request", "invalid request: send the report as multipart/form-data with a "
                       "'file' part (curl -F file=@report.pdf)")
    parser = MultiPartParser(request.headers, _capped(request, limit), max_files=1, max_fields=1, max_part_size=64)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise ApiError(422, "invalid_request", f"invalid request: {exc.message}") from exc
    try:
        unknown = sorted(set(form.keys()) - _FORM_FIELDS)
        if unknown:
            raise ApiError(422, "invalid_request", f"invalid request: unknown form field(s) "
                           f"{', '.join(repr(u[:40]) for u in unknown)}; send 'file' and optionally 'replace'")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "invalid_request", "invalid request: no 'file' part with a file name")
        replace = form.get("replace", "false")
        if not isinstance(replace, str) or replace.strip().lower() not in _TRUE | _FALSE:
            raise ApiError(422, "invalid_request", "invalid request: replace must be true or false")
        data = await upload.read()
        return sent_file_name(upload), data, replace.strip().lower() in _TRUE
    finally:
        await form.close()


def corpus_router(service: ApiService, route_class: type[APIRoute] = APIRoute) -> APIRouter:
    """The management routes, relative to the API prefix (the caller includes this router in its own)."""
    manager = service.corpus
    limit = manager.limits.max_bytes + MULTIPART_OVERHEAD
    # FastAPI's own body limit sits above ours (which counts the same bytes and says what the limit is for).
    # Off (AIDQA_AUTH or AIDQA_ADMINS unset): the routes still answer, with 403 management_disabled, but the schema
    # does not offer them.
    router = APIRouter(route_class=route_class, max_body_size=2 * limit, tags=["corpus management"],
                       include_in_schema=manager.enabled)

    @router.post("/documents", status_code=202, response_model=UploadResponse, responses=_UPLOAD_ERRORS,
                 summary="Upload a report (administrators)", openapi_extra=_UPLOAD_BODY)
    async def upload_document(request: Request) -> JSONResponse:
        """Add a report to the corpus, or replace one (`replace=true`). The file is checked first — its name, its
        size, its content against its suffix, a DOCX's archive against zip bombs, and a real read of the report —
        and only then written into the corpus folder (atomically). The answer is 202 with the indexing `job`:
        the report is answerable once `GET /api/documents/jobs/{job.id}` says `done`. A refused upload changes
        nothing."""
        user = manager.require_admin_scope(request.scope)  # before reading a byte of the body
        raw_name, data, replace = await read_upload(request, limit)
        stored, job = await run_in_threadpool(manager.upload, user, raw_name, data, replace)
        body = UploadResponse(document=stored, job=job)
        return JSONResponse(body.model_dump(mode="json"), status_code=202,
                            headers={"Location": f"{request.scope.get('root_path', '')}/api/documents/jobs/{job.id}"})

    @router.get("/documents/jobs/{job_id}", response_model=IndexJobInfo, responses=_MANAGEMENT_ERRORS,
                summary="An indexing job (administrators)")
    def document_job(job_id: str, request: Request) -> IndexJobInfo:
        """The state of the indexing job an upload or delete started: `queued`, `running` (with `stage`, `done`,
        `total`), `done` (with the build's `changes`) or `failed` (with `error`; the previous index still
        serves)."""
        manager.require_admin_scope(request.scope)
        return manager.job(job_id)

    @router.delete("/documents/{report_id:path}", status_code=202, response_model=DeleteResponse,
                   responses={**_MANAGEMENT_ERRORS, 409: {"model": ErrorResponse, "description": "The corpus's only "
                              "report (last_report)."}}, summary="Delete a report (administrators)")
    async def delete_document(report_id: str, request: Request) -> JSONResponse:
        """Delete a report file from the corpus (its id as in `GET /api/documents`: the path relative to the corpus
        folder) and drop it from the index in the background: 202 with the `job`. Its answers stop once the job is
        `done`."""
        user = manager.require_admin_scope(request.scope)
        job = await run_in_threadpool(manager.delete, user, report_id)
        body = DeleteResponse(id=report_id, job=job)
        return JSONResponse(body.model_dump(mode="json"), status_code=202,
                            headers={"Location": f"{request.scope.get('root_path', '')}/api/documents/jobs/{job.id}"})

    return router
