"""The ASGI app itself (`burble.api.app.BurbleApp`): what a Starlette application with one
catch-all route used to do for it — lifespan, other methods, WebSockets, the path — and where
requests run: reads on SQLite on the event loop, everything else in a thread. And the HTTP
protocol `burble serve` runs it with, which joins a response's writes."""

from __future__ import annotations

import asyncio
import base64
import threading
from typing import Any

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from burble.api import app as app_module
from burble.api import data_api
from burble.api.app import BurbleApp, CoalescedWrites, create_app, http_protocol, request_path
from burble.store.things import ThingStore
from tests.api.support import BASE
from tests.conftest import Api


def test_lifespan_closes_the_runtime_only_when_asked(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[bool] = []
    monkeypatch.setattr(api.runtime, "close", lambda: closed.append(True))
    with TestClient(create_app(api.runtime)) as client:
        assert client.get(f"{BASE}/rentalunit", headers=api.auth).status_code == 200
    assert closed == []
    with TestClient(create_app(api.runtime, close_runtime=True)) as client:
        assert client.get(f"{BASE}/rentalunit", headers=api.auth).status_code == 200
        assert closed == []
    assert closed == [True]


def test_state_holds_the_runtime(api: Api) -> None:
    app = create_app(api.runtime)
    assert isinstance(app, BurbleApp)
    assert app.state.runtime is api.runtime


def test_other_methods_are_405_as_before(api: Api) -> None:
    r = api.client.request("TRACE", f"{BASE}/rentalunit")
    assert r.status_code == 405
    assert r.text == "Method Not Allowed"
    assert set(r.headers["allow"].split(", ")) == {
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
    }


def test_websockets_are_closed(api: Api) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        api.client.websocket_connect("/api/1.1/obj/rentalunit"),
    ):
        pass
    assert closed.value.code == 1000


@pytest.mark.parametrize(
    "path",
    ["/api/1.1/obj/x", "/a b/é", "/x%3Fy", "/x?y", "/x#y", "/a\tb", "/a\nb", "//a//b/"],
)
def test_request_path_is_the_urls_path(path: str) -> None:
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "query_string": b"a=1",
        "headers": [(b"host", b"example.com")],
        "scheme": "http",
        "server": ("example.com", 80),
    }
    request = Request(scope)
    assert request_path(Request(scope)) == request.url.path


def _threads_calling(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[str]:
    """The names of the threads that call `owner.name` from now on (filled as they do)."""
    seen: list[str] = []
    real = getattr(owner, name)

    def spy(*args: Any) -> Any:
        seen.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(owner, name, spy)
    return seen


def _handled_in(
    api: Api, monkeypatch: pytest.MonkeyPatch, method: str, path: str, **kw: Any
) -> str:
    seen = _threads_calling(monkeypatch, data_api, "handle")
    r = api.client.request(method, path, headers=api.auth, **kw)
    assert r.status_code < 500, r.text
    assert len(seen) == 1
    return seen[0]


def test_reads_on_sqlite_run_on_the_event_loop(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    made = api.client.post(f"{BASE}/rentalunit", json={"name": "x"}, headers=api.auth)
    thing = made.json()["id"]
    on_sqlite = api.runtime.databases.live.dialect.name == "sqlite"
    for method, path, kw in [
        ("GET", f"{BASE}/rentalunit/{thing}", {}),
        ("GET", f"{BASE}/rentalunit", {"params": {"limit": 5}}),
    ]:
        name = _handled_in(api, monkeypatch, method, path, **kw)
        assert name.startswith("burble") != on_sqlite, (method, path, name)
    # Writes, and searches that might ask an online geocoder, always go to a thread.
    geo = '[{"key": "address", "constraint_type": "geographic_search", "value": null}]'
    for method, path, kw in [
        ("PATCH", f"{BASE}/rentalunit/{thing}", {"json": {"name": "z"}}),
        ("GET", f"{BASE}/rentalunit", {"params": {"constraints": geo}}),
        ("GET", f"{BASE}/rentalunit", {"params": {"geo_reference": "Oslo"}}),
        ("GET", f"{BASE}/rentalunit?%67eo_reference=Oslo", {}),
    ]:
        name = _handled_in(api, monkeypatch, method, path, **kw)
        assert name.startswith("burble"), (method, path, name)


def _inserted_in(api: Api, monkeypatch: pytest.MonkeyPatch, path: str, body: object) -> str:
    seen = _threads_calling(monkeypatch, ThingStore, "insert_many")
    r = api.client.post(path, json=body, headers=api.auth)
    assert r.status_code == 201, r.text
    assert len(seen) == 1
    return seen[0]


def test_creates_on_sqlite_run_on_the_event_loop_unless_they_may_wait(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit (ADR 0013): a create on SQLite is written from the event loop; one that
    hashes a password, stores an upload or geocodes an address goes to a thread."""
    on_sqlite = api.runtime.databases.live.dialect.name == "sqlite"
    name = _inserted_in(api, monkeypatch, f"{BASE}/rentalunit", {"name": "y", "price": 3})
    assert name.startswith("burble") != on_sqlite, name
    png = {"filename": "a.png", "contents": base64.b64encode(b"\x89PNG\r\n").decode()}
    for path, body in [
        (f"{BASE}/rentalunit", {"name": "y", "address": "Oslo"}),
        (f"{BASE}/rentalunit", {"name": "y", "floor plan": png}),
        (f"{BASE}/rentalunit", {"name": "y", "photos": ["//a.png", png]}),
        (f"{BASE}/user", {"email": "a@example.com", "password": "secret"}),
    ]:
        name = _inserted_in(api, monkeypatch, path, body)
        assert name.startswith("burble"), (path, body, name)


def test_one_thread_pool_for_every_app(api: Api) -> None:
    create_app(api.runtime)
    first = app_module._threads()
    create_app(api.runtime)
    assert app_module._threads() is first


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info {name}"


def test_writes_of_one_loop_turn_go_out_together() -> None:
    async def scenario() -> _Transport:
        inner = _Transport()
        transport = CoalescedWrites(inner)  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"body")
        assert inner.writes == []
        await asyncio.sleep(0)
        assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
        transport.write(b"next")
        transport.close()  # flushes first
        assert inner.writes[-1] == b"next" and inner.closed
        transport.write(b"after")  # the client is gone: dropped
        await asyncio.sleep(0)
        assert inner.writes[-1] == b"next"
        assert transport.get_extra_info("peername") == "info peername"
        return inner

    asyncio.run(scenario())


def test_serve_uses_the_coalescing_protocol() -> None:
    protocol = http_protocol()
    assert protocol is app_module.CoalescedHttpToolsProtocol
