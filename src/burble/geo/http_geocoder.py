"""Geocoding through a real service: Google's Geocoding API or an OpenStreetMap Nominatim.

`HttpGeocoder` sends one GET per address to a URL built from a template: ``{query}`` is
replaced by the percent-encoded address text and ``{key}`` by the percent-encoded API key. It
reads the answer in one of two styles:

``google``  Google Geocoding API JSON. ``status`` "OK": the first of ``results`` gives
            ``geometry.location.lat``/``lng`` and ``formatted_address``; "ZERO_RESULTS" (or an
            empty ``results``): not found (None); any other status ("REQUEST_DENIED",
            "OVER_QUERY_LIMIT", ...): `GeocodingFailed`.
            Default URL: `GOOGLE_URL`.
``nominatim`` Nominatim ``/search`` JSON (``format=json`` or ``jsonv2``): a list whose first
            item gives ``lat``/``lon`` (strings) and ``display_name``; an empty list: not found.
            Default URL: `NOMINATIM_URL` (the public instance: at most one request a second,
            see its usage policy; a self-hosted instance takes the same URL shape).

The returned `Address` holds the service's formatted address (``formatted_address`` or
``display_name``), or the caller's text when the service gives none.

Failures raise `GeocodingFailed`: no connection, a timeout (`timeout` seconds to connect and
between reads), an HTTP status other than 200 (redirects are not followed), an answer over
1 MiB, not JSON, or not of the expected shape. Messages name the service's host (and, for
connection failures, the URL's path), never its query string; the API key is scrubbed from
every message and chained cause, including text the service sends back, and the httpx
exception (whose request holds the full URL) is not chained.

Answers, found or not, are kept in an in-memory LRU cache of `cache_size` entries keyed by the
stripped text; failures are not cached. Two threads asking for the same new text at once may
both call the service.
"""

from __future__ import annotations

import enum
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from burble.connector.client import ConnectorError, ConnectorTimeout, http_client, translate
from burble.geo.geocoder import GeocodingFailed
from burble.values import Address

__all__ = ["GOOGLE_URL", "NOMINATIM_URL", "GeocoderStyle", "HttpGeocoder"]

GOOGLE_URL = "https://maps.googleapis.com/maps/api/geocode/json?address={query}&key={key}"
NOMINATIM_URL = "https://nominatim.openstreetmap.org/search?q={query}&format=jsonv2&limit=1"

_MAX_BODY = 1024 * 1024


class GeocoderStyle(enum.Enum):
    """The JSON dialect a geocoding service answers in."""

    GOOGLE = "google"
    NOMINATIM = "nominatim"


class _Refused(Exception):
    """The service answered, but with an error of its own (Google's status field)."""


_Found = tuple[str | None, float, float]


def _coordinate(value: object, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("coordinate is not a number")
    number = float(value)
    if not (math.isfinite(number) and -limit <= number <= limit):
        raise ValueError("coordinate out of range")
    return number


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _read_google(data: Any) -> _Found | None:
    status = data["status"]
    if status == "ZERO_RESULTS":
        return None
    if status != "OK":
        detail = data.get("error_message")
        raise _Refused(f"{status}: {detail}" if isinstance(detail, str) else str(status))
    results = data["results"]
    if not results:
        return None
    first = results[0]
    location = first["geometry"]["location"]
    return (
        _text(first.get("formatted_address")),
        _coordinate(location["lat"], 90.0),
        _coordinate(location["lng"], 180.0),
    )


def _read_nominatim(data: Any) -> _Found | None:
    if isinstance(data, dict) and "error" in data:
        raise _Refused(str(data["error"]))
    if not isinstance(data, list):
        raise TypeError("expected a JSON list")
    if not data:
        return None
    first = data[0]
    return (
        _text(first.get("display_name")),
        _coordinate(first["lat"], 90.0),
        _coordinate(first["lon"], 180.0),
    )


_READERS: dict[GeocoderStyle, Callable[[Any], _Found | None]] = {
    GeocoderStyle.GOOGLE: _read_google,
    GeocoderStyle.NOMINATIM: _read_nominatim,
}
_DEFAULT_URLS = {GeocoderStyle.GOOGLE: GOOGLE_URL, GeocoderStyle.NOMINATIM: NOMINATIM_URL}


class _LRU:
    """A bounded, thread-safe least-recently-used map of text -> answer."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, Address | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, Address | None]:
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def put(self, key: str, value: Address | None) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class HttpGeocoder:
    """A `Geocoder` calling a geocoding service over HTTP; see the module docstring.

    Owns an httpx client: call `close()` (or use it as a context manager) when done.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        style: GeocoderStyle | str,
        api_key: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self.style = GeocoderStyle(style)
        api_key = api_key or None
        template = url or _DEFAULT_URLS[self.style]
        if "{query}" not in template:
            raise ValueError("the geocoder URL template has no {query} placeholder")
        if api_key is not None and "{key}" not in template:
            raise ValueError("an API key was given but the URL template has no {key} placeholder")
        if api_key is None and "{key}" in template:
            raise ValueError("the URL template has a {key} placeholder but no API key was given")
        if cache_size < 0:
            raise ValueError("cache_size must not be negative")
        try:
            parsed = httpx.URL(template.replace("{query}", "q").replace("{key}", "k"))
        except httpx.InvalidURL:
            raise ValueError("the geocoder URL template is not a valid URL") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("the geocoder URL template must be an http(s) URL with a host")
        self._template = template
        self._key = api_key
        self._timeout = timeout
        self._service = parsed.host if parsed.port is None else f"{parsed.host}:{parsed.port}"
        self._read = _READERS[self.style]
        self._cache = _LRU(cache_size)
        self._client = http_client(
            timeout=timeout, transport=transport, headers={"Accept": "application/json"}
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpGeocoder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def geocode(self, text: str) -> Address | None:
        query = text.strip()
        if not query:
            return None
        hit, cached = self._cache.get(query)
        if hit:
            return cached
        found = self._ask(query)
        answer = None if found is None else Address(found[0] or text, found[1], found[2])
        self._cache.put(query, answer)
        return answer

    def _url(self, query: str) -> str:
        url = self._template.replace("{query}", quote(query, safe=""))
        if self._key is not None:
            url = url.replace("{key}", quote(self._key, safe=""))
        return url

    def _scrub(self, message: str) -> str:
        if self._key:
            for form in {self._key, quote(self._key, safe=""), quote(self._key)}:
                message = message.replace(form, "[api key]")
        return message

    def _failed(self, problem: str, cause: ConnectorError | None = None) -> GeocodingFailed:
        error = GeocodingFailed(self._scrub(f"geocoding service {self._service} {problem}"))
        if cause is not None:
            error.__cause__ = type(cause)(self._scrub(cause.message), status=cause.status)
        return error

    def _fetch(self, query: str) -> tuple[int, bytes]:
        connector_error: ConnectorError | None = None
        try:
            with self._client.stream("GET", self._url(query)) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > _MAX_BODY:
                        break
                return response.status_code, bytes(body)
        except httpx.HTTPError as exc:
            connector_error = translate(exc)
        # Raised outside the handler so the httpx exception (whose request holds the full URL)
        # is not kept as the new error's context.
        assert connector_error is not None
        if isinstance(connector_error, ConnectorTimeout):
            raise self._failed(f"did not answer within {self._timeout:g} s", connector_error)
        raise self._failed(f"failed: {connector_error.message}", connector_error)

    def _ask(self, query: str) -> _Found | None:
        status, body = self._fetch(query)
        if status != 200:
            raise self._failed(f"answered HTTP {status}")
        if len(body) > _MAX_BODY:
            raise self._failed(f"sent an answer over {_MAX_BODY} bytes")
        # Errors are raised outside the handlers so that nothing the service sent is kept as
        # the new error's context.
        try:
            return self._read(orjson.loads(body))
        except orjson.JSONDecodeError:
            problem = "sent an answer that is not JSON"
        except _Refused as exc:
            problem = f"refused the request: {self._scrub(str(exc))[:200]}"
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            problem = f"sent an answer not in {self.style.value} style"
        raise self._failed(problem)
