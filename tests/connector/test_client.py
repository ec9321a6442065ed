"""The one outbound client factory, against a real loopback server, and error translation."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from burble.connector import ConnectorError, ConnectorTimeout, http_client, translate
from burble.errors import BurbleError
from tests.connector.loopback import LoopbackServer, Reply


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as s:
        yield s


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _all_subclasses(cls: type[httpx.HTTPError]) -> list[type[httpx.HTTPError]]:
    found: list[type[httpx.HTTPError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def test_defaults() -> None:
    with http_client() as client:
        timeout = client.timeout
        assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (10.0,) * 4
        assert client.headers["User-Agent"].startswith("burble/")
        assert client.headers["User-Agent"] != "burble/"
        assert client.follow_redirects is False
        assert client.trust_env is False
    with http_client(timeout=2.5, headers={"User-Agent": "other", "X-A": "b"}) as client:
        assert client.timeout.read == 2.5
        assert client.headers["User-Agent"] == "other"
        assert client.headers["X-A"] == "b"


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("nan"), float("inf")])
def test_rejects_bad_timeouts(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        http_client(timeout=timeout)


def test_sends_user_agent_and_does_not_follow_redirects(server: LoopbackServer) -> None:
    server.routes["/hello"] = lambda seen: Reply(200, b"hi")
    server.routes["/moved"] = lambda seen: Reply(302, headers={"Location": server.url("/hello")})
    with http_client(timeout=5) as client:
        assert client.get(server.url("/hello")).text == "hi"
        assert client.get(server.url("/moved")).status_code == 302
    (hello,) = server.requests_to("/hello")
    assert hello.headers["user-agent"].startswith("burble/")


def test_transport_is_injectable(server: LoopbackServer) -> None:
    server.routes["/t"] = lambda seen: Reply(200, b"via transport")
    with http_client(transport=httpx.HTTPTransport(retries=0)) as client:
        assert client.get(server.url("/t")).text == "via transport"


def test_a_real_timeout_becomes_connector_timeout(server: LoopbackServer) -> None:
    server.routes["/slow"] = lambda seen: Reply(200, b"late", delay=5.0)
    with http_client(timeout=0.2) as client, pytest.raises(httpx.ReadTimeout) as caught:
        client.get(server.url("/slow?token=secret-123"))
    error = translate(caught.value)
    assert isinstance(error, ConnectorTimeout)
    assert "/slow" in error.message
    assert "secret-123" not in error.message


def test_refused_connection_becomes_connector_error() -> None:
    with http_client(timeout=2) as client, pytest.raises(httpx.ConnectError) as caught:
        client.get(f"http://127.0.0.1:{_closed_port()}/x?key=secret-456")
    error = translate(caught.value)
    assert type(error) is ConnectorError
    assert "could not connect" in error.message
    assert "secret-456" not in error.message


def test_status_errors_carry_the_status(server: LoopbackServer) -> None:
    server.routes["/boom"] = lambda seen: Reply(503, b"down")
    with http_client() as client:
        response = client.get(server.url("/boom?key=secret-789"))
        with pytest.raises(httpx.HTTPStatusError) as caught:
            response.raise_for_status()
    error = translate(caught.value)
    assert error.status == 503
    assert "503" in error.message and "secret-789" not in error.message


def test_every_httpx_error_is_translated() -> None:
    """Completeness: each httpx.HTTPError subclass, with or without a request, translates."""
    request = httpx.Request("GET", "https://user:pw@example.test/path?key=secret-000")
    response = httpx.Response(500, request=request)
    classes: list[type[httpx.HTTPError]] = [httpx.HTTPError, *_all_subclasses(httpx.HTTPError)]
    assert httpx.ReadTimeout in classes and httpx.HTTPStatusError in classes
    for cls in classes:
        for with_request in (True, False):
            if cls is httpx.HTTPStatusError:
                exc: httpx.HTTPError = httpx.HTTPStatusError(
                    "x", request=request, response=response
                )
            elif with_request and issubclass(cls, httpx.RequestError):
                exc = cls("x", request=request)
            else:
                exc = cls("x")
            error = translate(exc)
            assert isinstance(error, ConnectorError) and isinstance(error, BurbleError)
            assert isinstance(error, ConnectorTimeout) == issubclass(cls, httpx.TimeoutException)
            assert "secret-000" not in error.message and "pw" not in error.message
            if with_request and cls is not httpx.HTTPError:
                assert "GET https://example.test/path" in error.message
