"""Serving uploaded files: `GET` (and `HEAD`) `/fileupload/f<id>/<filename>` for Live (also
under `/version-live/`) and `/version-test/fileupload/f<id>/<filename>` for Development —
the URLs `burble.files.store.LocalFileStore.url` hands out. Each environment serves only its
own files.

A public file is served to anyone, cached for a year (a stored file never changes). A private
file is served only to callers allowed to view the attached thing's files; until privacy rules
exist that is an admin token, and anyone else gets the same 404 as for a file that does not
exist. A token that is sent but not valid answers 401, as everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from burble.api.auth import resolve_actor, user_auth
from burble.errors import MethodNotAllowed, RouteNotFound
from burble.files.store import StoredFile
from burble.runtime import Runtime, Version

_SLASHES = re.compile(r"/{2,}")
_CHUNK = 256 * 1024
_PUBLIC_CACHE = "public, max-age=31536000, immutable"
_PRIVATE_CACHE = "private, no-store"
# Types a browser would run as a page: served with scripts, plugins and forms off, so that a
# file cannot act on the server's origin.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
    }
)
_SANDBOX = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


@dataclass(frozen=True, slots=True)
class FileRoute:
    version: Version
    file_id: str  # "" for a malformed file path: it is then not found
    filename: str


def match(path: str) -> FileRoute | None:
    """The file a (decoded) request path names; None when the path is not a file path."""
    parts = [p for p in _SLASHES.sub("/", path).strip("/").split("/") if p]
    version = Version.LIVE
    if parts and parts[0] in ("version-test", "version-live"):
        version = Version.TEST if parts.pop(0) == "version-test" else Version.LIVE
    if not parts or parts[0] != "fileupload":
        return None
    if len(parts) != 3 or not parts[1].startswith("f"):
        return FileRoute(version, "", "")
    return FileRoute(version, parts[1][1:], parts[2])


async def serve(runtime: Runtime, route: FileRoute, request: Request) -> Response:
    """Raises BurbleError (404, 401, 405) like any endpoint; the file is read in a thread."""
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method, ("GET", "HEAD"))
    return await run_in_threadpool(_respond, runtime, route, request)


def _respond(runtime: Runtime, route: FileRoute, request: Request) -> Response:
    actor = resolve_actor(request, runtime.tokens, user_auth(runtime, route.version))
    store = runtime.files[route.version]
    stored = store.get(route.file_id) if route.file_id else None
    if stored is None or stored.filename != route.filename:
        raise RouteNotFound("File not found")
    if stored.private and not (
        stored.attach_to is not None
        and runtime.environment(route.version).things.can_view_files(actor, stored.attach_to)
    ):
        raise RouteNotFound(
            "File not found"
        )  # as if missing: a private file's existence is private too
    headers = _headers(stored)
    if _matches(request.headers.get("if-none-match"), headers["etag"]):
        del headers["content-length"]
        del headers["content-type"]
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        return Response(b"", headers=headers)
    try:
        stream = store.open(stored)
    except FileNotFoundError:
        raise RouteNotFound("File not found") from None
    return StreamingResponse(_chunks(stream), headers=headers)


def _headers(stored: StoredFile) -> dict[str, str]:
    headers = {
        "content-type": stored.content_type,
        "content-length": str(stored.size),
        "content-disposition": content_disposition(stored.filename),
        "x-content-type-options": "nosniff",
        "etag": f'"f{stored.id}"',
        "cache-control": _PRIVATE_CACHE if stored.private else _PUBLIC_CACHE,
    }
    if stored.content_type in _ACTIVE_TYPES:
        headers["content-security-policy"] = _SANDBOX
    return headers


def content_disposition(filename: str) -> str:
    """`inline` with the filename; non-ASCII names also as RFC 6266 `filename*` (UTF-8)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    if fallback == filename:
        return f'inline; filename="{filename}"'
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(_CHUNK):
            yield chunk
