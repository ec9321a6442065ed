"""A real HTTP server on a free loopback port, for tests of outbound HTTP (not a fixture).

Routes map a path to a function of the request that returns a `Reply`. Every request is
recorded. A reply with a `delay` waits before answering; closing the server ends the wait, so
slow handlers never outlive the test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

import orjson


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    path: str
    query: dict[str, list[str]]
    raw_target: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @staticmethod
    def json(value: object, status: int = 200) -> Reply:
        return Reply(status, orjson.dumps(value), {"Content-Type": "application/json"})


Route = Callable[[Seen], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True

    def __init__(self, owner: LoopbackServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        owner = self.server.owner
        split = urlsplit(self.path)
        seen = Seen(
            split.path,
            parse_qs(split.query, keep_blank_values=True),
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
        )
        with owner.lock:
            owner.requests.append(seen)
        route = owner.routes.get(split.path)
        reply = route(seen) if route is not None else Reply(404, b"not found")
        if reply.delay and owner.closing.wait(reply.delay):
            return  # the test is over: drop the connection
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def log_message(self, format: str, *args: object) -> None:
        pass


class LoopbackServer:
    """``with LoopbackServer() as server: server.routes["/x"] = ...; server.url("/x")``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests_to(self, path: str) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
