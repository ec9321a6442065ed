"""`create_app()`: the composition root of the HTTP server.

Routes: `/api/1.1/...` (Live; also `/version-live/api/1.1/...`) and
`/version-test/api/1.1/...` (Development): `obj/` the Data API (`api.data_api`), `wf/` the
Workflow API (`api.workflow_api`). Duplicate slashes and a trailing slash are
tolerated (bubble-wire.md §1.1). Synchronous work (database, token lookup) runs in a thread.
Uploaded files: `/fileupload/f<id>/<name>` and `/version-test/fileupload/...` (`api.files`).

The app is a plain ASGI callable rather than a Starlette application: every path goes to the
one endpoint below, so a router and a middleware stack would only add work to each request.
Requests and responses are still Starlette's.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from burble.api import data_api, files, scheduler_api, workflow_api
from burble.api.auth import resolve_actor, user_auth
from burble.api.errors import error_response, unexpected_response
from burble.appdef.load import parse_app
from burble.errors import BurbleError, RouteNotFound, TooLarge
from burble.malloc import limit_malloc_arenas
from burble.runtime import Databases, Runtime, Version
from burble.settings import Settings
from burble.store.group_commit import group_writer
from burble.store.sqlite import SQLiteBackend

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("burble.api")

_SLASHES = re.compile(r"/{2,}")
_METHODS = frozenset(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
_WITH_BODY = {"POST", "PUT", "PATCH"}
# Characters after which `request.url.path` (a URL re-parsed) differs from the raw path.
_URL_SPECIAL = re.compile(r"[?#\t\r\n]")
# Threads for the synchronous work, shared by every app of the process (as anyio's are): as
# many as Starlette's default limit.
THREADS = 40
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="burble")
    return _pool


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


def request_path(request: Request) -> str:
    """`request.url.path`, without building the URL in the usual case."""
    scope = request.scope
    path: str = scope.get("root_path", "") + scope["path"]
    return request.url.path if _URL_SPECIAL.search(path) else path


async def _read_body(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"The request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class BurbleApp:
    """The ASGI application. `state.runtime` is the `Runtime` it serves; with
    `close_runtime`, the lifespan's shutdown closes it (a server process of its own)."""

    def __init__(self, runtime: Runtime, max_body_bytes: int, close_runtime: bool = False) -> None:
        self.runtime = runtime
        self.state = State()
        self.state.runtime = runtime
        self._max_body_bytes = max_body_bytes
        self._close_runtime = close_runtime
        # On SQLite a read is CPU work in this process: run on the event loop, it skips the
        # hand-over to a thread and back, which costs more than a read by id itself.
        self._inline_reads = runtime.databases.live.dialect.name == "sqlite"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            request = Request(scope, receive)
            if request.method in _METHODS:
                response = await self.endpoint(request)
            else:  # as a Starlette route with these methods answered
                allow = ", ".join(sorted(_METHODS))
                response = PlainTextResponse("Method Not Allowed", 405, {"Allow": allow})
            await response(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":  # no WebSocket endpoint: closed, as by a router
            await send({"type": "websocket.close", "code": 1000, "reason": ""})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        """With `close_runtime`, close the databases (at the lifespan's shutdown)."""
        if self._close_runtime:
            self.runtime.close()

    @staticmethod
    def _is_quick_read(request: Request, parts: list[str]) -> bool:
        """A Data API read, which waits for nothing: not for a lock (it writes nothing but,
        once an hour per user token, its last use), not for the network (unless a geographic
        search or sort asks an online geocoder: those go to a thread)."""
        if request.method not in ("GET", "HEAD") or not parts or parts[0] != "obj":
            return False
        query: bytes = request.scope.get("query_string", b"")
        return b"geo" not in query.lower() and (
            b"%" not in query or "geo" not in unquote(query.decode("latin-1")).lower()
        )

    def _handle(self, request: Request, version: Version, parts: list[str], raw: bytes) -> Response:
        runtime = self.runtime
        actor = resolve_actor(request, runtime.tokens, user_auth(runtime, version))
        env = runtime.environment(version)
        if parts and parts[0] == "obj":
            return data_api.handle(env, actor, request.method, parts[1:], request.query_params, raw)
        if parts and parts[0] == "wf":
            return workflow_api.handle(
                env, actor, request.method, parts[1:], request.query_params, request.headers, raw
            )
        if parts and parts[0] == "scheduler":
            return scheduler_api.handle(
                env, actor, request.method, parts[1:], request.query_params, raw
            )
        raise RouteNotFound(f"No endpoint at /api/1.1/{'/'.join(parts)}")

    async def _in_thread(
        self, request: Request, version: Version, parts: list[str], raw: bytes
    ) -> Response:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_threads(), self._handle, request, version, parts, raw)

    async def _create(
        self, request: Request, version: Version, parts: list[str], raw: bytes
    ) -> Response:
        """A Data API create on SQLite: prepared on the event loop, written with the other
        creates waiting (group commit, `burble.store.group_commit`); in a thread when its
        preparation may wait (a password to hash, an upload, an address to geocode)."""
        runtime = self.runtime
        actor = resolve_actor(request, runtime.tokens, user_auth(runtime, version))
        env = runtime.environment(version)
        dtype = data_api.data_type(env, parts[1])
        backend, body = env.backend, data_api.parse_body(raw)
        if not isinstance(backend, SQLiteBackend) or not env.things.creates_quickly(dtype, body):
            return await self._in_thread(request, version, parts, raw)
        creation = env.things.prepare_create(actor, dtype, body)
        return data_api.created(await group_writer(backend).write(creation))

    async def endpoint(self, request: Request) -> Response:
        try:
            path = request_path(request)
            # --- file uploads: /[version-test/]fileupload/f<id>/<name> (burble.api.files) ---
            file_route = files.match(path)
            if file_route is not None:
                return await files.serve(self.runtime, file_route, request)
            # --- end file uploads ---
            version, parts = parse_path(path)
            raw = b""
            if request.method in _WITH_BODY:
                raw = await _read_body(request, self._max_body_bytes)
            if self._inline_reads:
                if self._is_quick_read(request, parts):
                    return self._handle(request, version, parts, raw)
                if request.method == "POST" and len(parts) == 2 and parts[0] == "obj":
                    return await self._create(request, version, parts, raw)
            return await self._in_thread(request, version, parts, raw)
        except BurbleError as exc:
            return error_response(exc)
        except Exception as exc:
            return unexpected_response(exc)


def create_app(
    runtime: Runtime, max_body_bytes: int = 50 * 1024 * 1024, close_runtime: bool = False
) -> BurbleApp:
    return BurbleApp(runtime, max_body_bytes, close_runtime)


def worker_app(definition: str, filename: str, settings: Settings) -> BurbleApp:
    """The app of one process of `burble serve --workers N`, built in that process: its own
    database connections and caches, Development serving `definition` (the text of the
    app.yaml the server was started with, so that every process serves the same one)."""
    limit_malloc_arenas(settings.malloc_arenas)
    runtime = Runtime(Databases(settings), parse_app(definition, filename))
    return create_app(runtime, settings.max_body_bytes, close_runtime=True)


# --- the HTTP protocol `burble serve` gives uvicorn ------------------------------------------


class CoalescedWrites:
    """A transport whose writes made during one turn of the event loop go out as one: uvicorn
    writes a response's status line and headers, then its body, each with a system call of
    its own (about half of a small request's time in the server); joined, they cost one.
    Everything else is the transport's."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():  # the client left: nothing to send it
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # uvicorn without httptools: left to uvicorn's own choice
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

if HttpToolsProtocol is not None:

    class CoalescedHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol writing through `CoalescedWrites`."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.transport = CoalescedWrites(transport)  # type: ignore[assignment]


def http_protocol() -> type[asyncio.Protocol] | str:
    """uvicorn's `http` setting for `burble serve`."""
    if HttpToolsProtocol is None:
        return "auto"
    return CoalescedHttpToolsProtocol
