"""The app's access control: one ASGI guard in front of the JSON API and the Gradio UI alike.

Why one guard in front rather than Gradio's own checks: Gradio's checks differ between a launched and a mounted app
(its allowed-path check on file data is skipped when the Blocks are mounted), and every request field is untrusted,
including the "file data" objects that Gradio would otherwise copy into its cache and serve. The guard sees every
request first and refuses, in order (the threat model is in ``docs/security.md``):

1. a ``Host`` (or ``X-Forwarded-Host``) that is not one of the server's names — 400 ``bad_host`` (DNS rebinding);
2. a path that is never served — 403: ``file=`` other than this app's own CSV in Gradio's cache, ``..`` in any
   encoding, ``.env``, the index or corpus folder, Gradio's upload/proxy/recording routes;
3. a write from another origin's web page — 403, unless the origin is in ``AIDQA_CORS_ORIGINS``;
4. missing or wrong HTTP Basic credentials when ``AIDQA_AUTH`` is set — 401 (the accepted user is put in the scope
   as ``USER_KEY`` for the routes that need to know who, i.e. corpus management);
5. a body over ``MAX_BODY_BYTES`` on any route (an administrator's upload to ``POST /api/documents``: over
   ``uploads.max_bytes`` + ``MULTIPART_OVERHEAD``, which the route also counts) — 413; and on Gradio's routes, a body that is not JSON text data:
   anything shaped like file data (a ``path``, ``url``, ``meta`` or ``file`` key at any depth), nesting deeper than
   ``MAX_JSON_DEPTH`` or a list longer than ``MAX_JSON_ITEMS`` (the 50-turn history cap) — 422/413, before Gradio
   reads it.

Every response then gets the security headers, and CORS headers only for a listed origin.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import os
import re
import secrets
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi.responses import Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aidqa.settings import Settings
from aidqa.web.errors import API_PREFIX, app_path, error_response, is_api_scope

logger = logging.getLogger(__name__)

AUTH_REALM = "aidqa"
MAX_BODY_BYTES = 2 * 1024 * 1024  # a full batch of 500-character questions with history is far below this
MAX_HISTORY_TURNS = 50  # of a chat, for /api/ask and for Gradio's /ask alike
MAX_JSON_ITEMS = 2 * MAX_HISTORY_TURNS + 2  # the longest list a Gradio event takes: the chat (2 messages a turn)
MAX_JSON_DEPTH = 12  # a chat message's text part sits at depth 6 of a queue/join body
# Keys that make a JSON object file data for Gradio (FileData, a chat message's file part, a URL to fetch). No
# component of this app takes a file, so an object with any of them is refused wherever it stands.
FILE_DATA_KEYS = frozenset({"path", "url", "meta", "file", "orig_name", "mime_type", "is_stream"})
ANONYMOUS_HEALTH_KEY = "aidqa.anonymous_health"  # in the ASGI scope: GET /api/health without credentials
USER_KEY = "aidqa.user"  # in the ASGI scope: the user whose HTTP Basic credentials the guard accepted
UPLOAD_PATH = f"{API_PREFIX}/documents"  # POST: an administrator's report upload, under its own body limit
MULTIPART_OVERHEAD = 64 * 1024  # an upload's body beyond the file: part headers, boundaries, the small form fields
SAFE_METHODS = frozenset({"GET", "HEAD"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("0.0.0.0", "::", "")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}
# Gradio routes this app never uses: uploads (no component takes a file), screen recordings, the Spaces proxy and the
# old /file/ route (the UI fetches files through /gradio_api/file=, which is checked instead).
BLOCKED_ROUTES = ("/gradio_api/upload", "/gradio_api/process_recording", "/gradio_api/proxy=", "/gradio_api/file/")
_DOT_DOT = re.compile(r"(?:^|[/=])\.\.(?:[/?&#;]|$)")
_DOT_ENV = re.compile(r"(?:^|[/=])\.env", re.IGNORECASE)
_FILE_PARAM = re.compile(r"(?<![\w.-])file=", re.IGNORECASE)  # file=, not profile=
_MAX_DECODES = 8


# ---- pure checks -------------------------------------------------------------------------------------------


def fully_decoded(raw: str) -> str | None:
    """``raw`` percent-decoded until it no longer changes (so %252e%252e is ..), backslashes as slashes. None when
    it keeps changing or holds a control character (NUL, newline …): such a request is refused."""
    text = raw
    for _ in range(_MAX_DECODES):
        once = unquote(text)
        if once == text:
            break
        text = once
    else:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    return text.replace("\\", "/")


def host_name(header: str) -> str | None:
    """The host of a Host header value, lower case, without port or brackets ("[::1]:7860" → "::1"); None when the
    value is not a host[:port]."""
    try:
        parts = urlsplit("//" + header.strip())
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if not host or parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    return host


def server_names(settings: Settings) -> frozenset[str] | None:
    """The host names this server answers to: loopback names, the configured host (unless it is a wildcard bind)
    and ``AIDQA_ALLOWED_HOSTS``. None when ``*`` is listed (any name: the proxy in front checks it)."""
    listed = [h.strip().lower().rstrip(".") for h in settings.allowed_hosts]
    if "*" in listed:
        return None
    names = {*LOOPBACK_HOSTS, *listed}
    bind = settings.host.strip().strip("[]").lower()
    if bind not in WILDCARD_BINDS:
        names.add(bind)
    return frozenset(n for n in names if n)


def same_origin(origin: str, headers: Headers) -> bool:
    """Whether ``origin`` (the Origin header) is this server as the browser sees it: the Host header (or a proxy's
    X-Forwarded-Host; a cross-origin page cannot set that header without a preflight, which is refused)."""
    try:
        o = urlsplit(origin)
        port = o.port
    except ValueError:
        return False
    if o.scheme not in ("http", "https") or not o.hostname:
        return False  # includes "null" (sandboxed frames, file: pages)
    default = 443 if o.scheme == "https" else 80
    port = port or default
    hosts = [headers.get("host", ""), headers.get("x-forwarded-host", "").split(",")[0].strip()]
    for host in filter(None, hosts):
        try:
            h = urlsplit("//" + host)
            if h.hostname == o.hostname and (h.port or default) == port:
                return True
        except ValueError:
            continue
    return False


def text_data_problem(value: Any, depth: int = 0) -> tuple[int, str] | None:
    """Why a decoded JSON event body is not plain text data, as (HTTP status, message); None when it is. Refused:
    an object shaped like file data, nesting deeper than MAX_JSON_DEPTH, a list longer than MAX_JSON_ITEMS."""
    if depth > MAX_JSON_DEPTH:
        return 422, f"the request nests deeper than {MAX_JSON_DEPTH} levels"
    if isinstance(value, dict):
        if FILE_DATA_KEYS & value.keys():
            return 422, "this app accepts text only: file data (path, url, meta or file fields) is refused"
        items = value.values()
    elif isinstance(value, list):
        if len(value) > MAX_JSON_ITEMS:
            return 413, (f"a list of {len(value)} items is over the limit of {MAX_JSON_ITEMS} (a chat keeps at most "
                         f"{MAX_HISTORY_TURNS} turns)")
        items = value
    else:
        return None
    for item in items:
        if problem := text_data_problem(item, depth + 1):
            return problem
    return None


def private_dirs(*settings: Settings) -> list[str]:
    """The index and corpus folders, as absolute paths (as given and with links resolved)."""
    found: set[str] = set()
    for s in settings:
        for d in (s.index_dir, s.corpus_dir):
            for form in (str(Path(d).absolute()), os.path.realpath(d)):
                found.add(form.replace("\\", "/").rstrip("/"))
    return sorted(d for d in found if d)


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes ``limit`` bytes or the client goes away."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the already-read ``body``, then waits on the real one (for a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


# ---- the guard ---------------------------------------------------------------------------------------------


class SecurityGuard:
    """The app's access control (see the module docstring), as ASGI middleware, outermost.

    ``gradio_cache`` is the folder Gradio caches files in; ``served_files(path)`` says whether a file there is one
    this app created itself (today: the 数据一览 CSV); ``served_file_names`` limits that to those file names."""

    def __init__(self, app: ASGIApp, *, settings: Settings, gradio_cache: str,
                 served_files: Callable[[str], bool], served_file_names: Collection[str],
                 private: list[str]) -> None:
        self.app = app
        self.users = [(u.encode(), p.encode()) for u, p in settings.auth_users().items()]
        self.upload_limit = settings.uploads.max_bytes + MULTIPART_OVERHEAD
        self.cors_origins = frozenset(settings.cors_origins)
        self.names = server_names(settings)
        self.cache_dir = os.path.realpath(gradio_cache)
        self.served_files = served_files
        self.served_file_names = frozenset(served_file_names)
        mentions = []
        for d in private:
            if d == "" or self.cache_dir == d or self.cache_dir.startswith(d + "/"):
                logger.warning("%s holds Gradio's cache %s: it is left to Gradio's blocked_paths", d, self.cache_dir)
                continue
            mentions.append(re.compile(re.escape(d) + r"(?:[/?&#]|$)", re.IGNORECASE))
        self.mentions = mentions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        cors_allowed = origin is not None and origin.strip().rstrip("/").lower() in self.cors_origins
        send = self._send_with_headers(send, strip_cors=not cors_allowed)
        refusal = self._refusal(scope, headers, origin, cors_allowed)
        if refusal is None and scope["type"] == "http" and scope.get("method") in BODY_METHODS:
            refusal, receive = await self._checked_body(scope, headers, receive)
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await refusal(scope, receive, send)

    def _refusal(self, scope: Scope, headers: Headers, origin: str | None, cors_allowed: bool) -> Response | None:
        if not self._host_allowed(headers):
            return error_response(400, "bad_host", "the Host header does not name this server (add the name to "
                                  "AIDQA_ALLOWED_HOSTS when it is served under that name)")
        if not self._path_served(scope):
            return error_response(403, "forbidden", "this path is not served")
        method = scope.get("method", "GET")
        preflight = method == "OPTIONS" and "access-control-request-method" in headers
        foreign = origin is not None and not cors_allowed and not same_origin(origin, headers)
        if foreign and (scope["type"] == "websocket" or method not in SAFE_METHODS):
            return error_response(403, "forbidden", "cross-origin requests are not allowed (the page's origin is "
                                  "not in AIDQA_CORS_ORIGINS)")
        # A preflight carries no credentials; the listed origins' preflights are answered by the CORSMiddleware.
        if not self.users or (preflight and cors_allowed):
            return None
        if (user := self._user(headers)) is not None:
            scope[USER_KEY] = user  # the routes that need a particular user (corpus management) read it here
            return None
        if scope["type"] == "http" and method in SAFE_METHODS and app_path(scope) == f"{API_PREFIX}/health":
            scope[ANONYMOUS_HEALTH_KEY] = True  # answered with its status only
            return None
        message = ("wrong user name or password" if "authorization" in headers
                   else "authentication required: send HTTP Basic credentials")
        return error_response(401, "unauthorized", message,
                              headers={"WWW-Authenticate": f'Basic realm="{AUTH_REALM}", charset="UTF-8"'})

    def _host_allowed(self, headers: Headers) -> bool:
        if self.names is None:
            return True
        values = [headers.get("host")]
        if forwarded := headers.get("x-forwarded-host"):
            values.append(forwarded.split(",")[0])
        for value in values:
            host = host_name(value) if value else None
            if host is None:
                return False
            if host not in self.names and not _is_loopback_address(host):
                return False
        return True

    async def _checked_body(self, scope: Scope, headers: Headers, receive: Receive) -> tuple[Response | None, Receive]:
        """413 for a declared or actual body over the limit; on Gradio's routes, 422/413 for a body that is not
        JSON text data. Returns (refusal or None, the receive the app should use)."""
        limit = MAX_BODY_BYTES
        if scope.get("method") == "POST" and app_path(scope) == UPLOAD_PATH:
            limit = self.upload_limit  # a report file; the route counts an undeclared body itself
        too_big = error_response(413, "payload_too_large", f"the request body is over the limit of {limit} bytes")
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return too_big, receive
        if is_api_scope(scope):
            return None, receive  # the API's routes cap undeclared bodies themselves and validate them with pydantic
        body = await read_body(receive, MAX_BODY_BYTES)
        if body is None:
            return too_big, receive
        if body.strip():
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):
                return error_response(422, "invalid_request", "invalid request: the body is not valid JSON"), receive
            if problem := text_data_problem(data):
                status, message = problem
                code = "payload_too_large" if status == 413 else "invalid_request"
                logger.warning("refused a %s %s body: %s", scope.get("method"), app_path(scope), message)
                return error_response(status, code, message), receive
        return None, replaying(body, receive)

    def _path_served(self, scope: Scope) -> bool:
        """False for a path or query that names what this app does not serve: a file= that is not one of the files
        this app put in Gradio's cache, a blocked route, ``..``, ``.env``, the index or corpus folder."""
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        path = fully_decoded(raw_path.decode("utf-8", "replace"))
        query = fully_decoded(scope.get("query_string", b"").decode("utf-8", "replace"))
        if path is None or query is None:
            return False
        lowered = app_path({**scope, "path": path}).lower()
        if any(route in lowered for route in BLOCKED_ROUTES):
            return False
        for text in (path, query):
            if _DOT_DOT.search(text) or _DOT_ENV.search(text) or any(m.search(text) for m in self.mentions):
                return False
        # Every file= value, as fully decoded and as Gradio will read it (the path decoded once), must be served.
        values = [path[m.end():] for m in _FILE_PARAM.finditer(path)]
        values += [re.split(r"[&#]", query[m.end():], maxsplit=1)[0] for m in _FILE_PARAM.finditer(query)]
        gradio_path = scope.get("path", "")
        values += [gradio_path[m.end():] for m in _FILE_PARAM.finditer(gradio_path)]
        return all(self._own_cached_file(v) for v in values)

    def _own_cached_file(self, value: str) -> bool:
        """Whether ``value`` is a file this app created and Gradio copied into its cache (the 数据一览 CSV). A file
        Gradio copied there from an event's input is not one of them, whatever its name."""
        if not os.path.isabs(value) or value.startswith("//"):
            return False
        real = os.path.realpath(value)
        if not real.startswith(self.cache_dir + os.sep) or os.path.basename(real) not in self.served_file_names:
            return False
        return self.served_files(value)

    def _user(self, headers: Headers) -> str | None:
        """The user named by valid HTTP Basic credentials, else None. Compares in constant time, and checks every
        account (so the time does not tell whether a user name exists)."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not token.strip():
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return None
        user, sep, password = decoded.partition(b":")
        if not sep:
            return None
        found = None
        for u, p in self.users:
            if secrets.compare_digest(user, u) & secrets.compare_digest(password, p):
                found = u
        return found.decode() if found is not None else None

    @staticmethod
    def _send_with_headers(send: Send, strip_cors: bool) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if strip_cors:  # e.g. Gradio echoes any Origin when the server is not on localhost
                    for name in {k for k in headers if k.startswith("access-control-")}:
                        del headers[name]
            await send(message)

        return wrapped


def _is_loopback_address(host: str) -> bool:
    """127.0.0.0/8 and ::1 as literal addresses (a rebinding page's Host is a name, never one of these)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
