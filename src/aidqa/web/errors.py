"""The one error shape of the HTTP app: ``{"error": {"code", "message", "details"?}}``, for ``/api`` and for every
refusal the security guard makes in front of Gradio's routes (so no client ever gets a traceback or its own input
echoed back)."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import Scope

API_PREFIX = "/api"


class ErrorDetail(BaseModel):
    loc: list[str | int] = Field(description='Where the problem is, e.g. ["body", "top_k"].')
    msg: str
    type: str = Field(description="Pydantic's error type, e.g. missing, extra_forbidden, json_invalid; "
                      "unknown_document for a `documents` entry that names no report.")


class ErrorInfo(BaseModel):
    code: str = Field(
        description="invalid_request (body does not match the schema, is not JSON, or carries file data), "
        "invalid_question (empty or too long), index_building, index_unavailable, busy (too many questions at once), "
        "unauthorized (AIDQA_AUTH is set and the credentials are missing or wrong), forbidden (a cross-origin "
        "request, or a path that is not served), bad_host (the Host header is not one of the server's names), "
        "not_found, method_not_allowed, payload_too_large, internal_error. Corpus management: management_disabled "
        "(AIDQA_AUTH or AIDQA_ADMINS unset), admin_required (the user is not in AIDQA_ADMINS), bad_filename, "
        "unsupported_type (the content is not a supported format, or not the one the name says), "
        "unreadable_document (it cannot be read as a report), unsafe_archive (a DOCX/zip over the archive limits), "
        "file_exists (the name is taken; send replace=true), last_report (the corpus would be empty), "
        "storage_error (the file could not be written or removed)."
    )
    message: str = Field(description="What went wrong, for a person to read.")
    details: list[ErrorDetail] | None = Field(None, description="Per-field problems (invalid_request only).")


class ErrorResponse(BaseModel):
    """The body of every error response under /api (and of the guard's refusals on every route)."""

    error: ErrorInfo


def error_response(status: int, code: str, message: str, details: list[ErrorDetail] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorResponse(error=ErrorInfo(code=code, message=message, details=details))
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def app_path(scope: Scope) -> str:
    """The request path inside the app (without a proxy's root_path)."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def is_api_scope(scope: Scope) -> bool:
    path = app_path(scope)
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")
