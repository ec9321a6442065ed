"""`create_app()`: the composition root of the HTTP server.

Routes: `/api/1.1/...` (Live; also `/version-live/api/1.1/...`) and
`/version-test/api/1.1/...` (Development): `obj/` the Data API (`api.data_api`), `wf/` the
Workflow API (`api.workflow_api`). Duplicate slashes and a trailing slash are
tolerated (bubble-wire.md §1.1). Synchronous work (database, token lookup) runs in a thread.
Uploaded files: `/fileupload/f<id>/<name>` and `/version-test/fileupload/...` (`api.files`).
"""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from burble.api import data_api, files, workflow_api
from burble.api.auth import resolve_actor, user_auth
from burble.api.errors import error_response, unexpected_response
from burble.errors import BurbleError, RouteNotFound, TooLarge
from burble.runtime import Runtime, Version

_SLASHES = re.compile(r"/{2,}")
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_WITH_BODY = {"POST", "PUT", "PATCH"}


def parse_path(path: str) -> tuple[Version, list[str]]:
    """(environment, the parts after `/api/1.1/`) or RouteNotFound."""
    parts = [p for p in _SLASHES.sub("/", path).strip("/").split("/") if p]
    version = Version.LIVE
    if parts and parts[0].startswith("version-"):
        name = parts.pop(0)[len("version-") :]
        if name == "test":
            version = Version.TEST
        elif name != "live":
            raise RouteNotFound(f"Unknown version: {name}")
    if len(parts) < 2 or parts[0] != "api" or parts[1] != "1.1":
        raise RouteNotFound("Not found")
    return version, parts[2:]


async def _read_body(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"The request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(runtime: Runtime, max_body_bytes: int = 50 * 1024 * 1024) -> Starlette:
    def handle(request: Request, version: Version, parts: list[str], raw: bytes) -> Response:
        actor = resolve_actor(request, runtime.tokens, user_auth(runtime, version))
        env = runtime.environment(version)
        if parts and parts[0] == "obj":
            return data_api.handle(env, actor, request.method, parts[1:], request.query_params, raw)
        if parts and parts[0] == "wf":
            return workflow_api.handle(
                env, actor, request.method, parts[1:], request.query_params, request.headers, raw
            )
        raise RouteNotFound(f"No endpoint at /api/1.1/{'/'.join(parts)}")

    async def endpoint(request: Request) -> Response:
        try:
            # --- file uploads: /[version-test/]fileupload/f<id>/<name> (burble.api.files) ---
            file_route = files.match(request.url.path)
            if file_route is not None:
                return await files.serve(runtime, file_route, request)
            # --- end file uploads ---
            version, parts = parse_path(request.url.path)
            raw = b""
            if request.method in _WITH_BODY:
                raw = await _read_body(request, max_body_bytes)
            return await run_in_threadpool(handle, request, version, parts, raw)
        except BurbleError as exc:
            return error_response(exc)
        except Exception as exc:
            return unexpected_response(exc)

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=_METHODS)])
    app.state.runtime = runtime
    return app
