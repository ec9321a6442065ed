"""The project's one outbound HTTP client factory, and the translation of httpx's errors.

Every request Burble sends to another service goes through a client made by `http_client`:

- explicit timeouts: `timeout` seconds each for connecting, reading, writing and waiting for a
  pooled connection (httpx's per-operation timeouts, not a total deadline);
- ``User-Agent: burble/<version>`` unless the caller's `headers` name another;
- redirects are not followed (a 3xx is an answer like any other);
- nothing is read from the process environment (``trust_env=False``): proxies, CA bundles and
  netrc credentials are never picked up implicitly; pass a `transport` to change how requests
  travel (tests pass none and talk to a real loopback server).

httpx exceptions never travel past the caller: it catches `httpx.HTTPError` and raises
`translate(exc)`, a `ConnectorError` whose message names the method, scheme, host and path but
never the query string, user info or headers (where API keys live).
"""

from __future__ import annotations

import functools
import math
from importlib import metadata

import httpx

from burble.errors import BurbleError

__all__ = ["ConnectorError", "ConnectorTimeout", "http_client", "translate"]


class ConnectorError(BurbleError):
    """A call to another service failed: unreachable, broken answer, or an HTTP error status.

    `status` is the HTTP status when the failure is an error status, else None.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ConnectorTimeout(ConnectorError):
    """The other service did not connect, answer or accept data within the timeout."""


@functools.cache
def _user_agent() -> str:
    try:
        version = metadata.version("burble")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"burble/{version}"


def http_client(
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """A new `httpx.Client` with Burble's outbound defaults (see the module docstring).

    The caller owns the client and closes it (`client.close()` or a ``with`` block).
    """
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError("timeout must be a positive number of seconds")
    merged = {"User-Agent": _user_agent()}
    if headers:
        merged.update(headers)
    return httpx.Client(
        timeout=httpx.Timeout(connect=timeout, read=timeout, write=timeout, pool=timeout),
        transport=transport,
        headers=merged,
        follow_redirects=False,
        trust_env=False,
    )


def _target(exc: httpx.HTTPError) -> str:
    """``GET https://host:port/path`` for the failed request, without query or user info."""
    try:
        request = exc.request
    except RuntimeError:  # raised by httpx when the exception carries no request
        return "a request"
    url = request.url
    port = f":{url.port}" if url.port is not None else ""
    return f"{request.method} {url.scheme}://{url.host}{port}{url.path}"


def translate(exc: httpx.HTTPError) -> ConnectorError:
    """The domain error for an httpx exception; raise it ``from`` nothing that holds the URL.

    Messages are built here from the exception's class and request target only, never from
    ``str(exc)``, which may quote the full URL.
    """
    target = _target(exc)
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return ConnectorTimeout(f"timed out ({kind}) calling {target}")
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return ConnectorError(f"{target} answered HTTP {status}", status=status)
    if isinstance(exc, httpx.ConnectError | httpx.ProxyError):
        return ConnectorError(f"could not connect ({kind}) calling {target}")
    if isinstance(exc, httpx.TooManyRedirects):
        return ConnectorError(f"too many redirects calling {target}")
    if isinstance(exc, httpx.DecodingError):
        return ConnectorError(f"undecodable response body from {target}")
    return ConnectorError(f"request failed ({kind}) calling {target}")
