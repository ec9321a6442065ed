"""HttpGeocoder against a real HTTP server on loopback, in both response styles."""

from __future__ import annotations

import socket
import time
import traceback
from collections.abc import Iterator

import pytest

from burble.connector import ConnectorError, ConnectorTimeout
from burble.errors import BurbleError
from burble.geo import GeocoderStyle, GeocodingFailed, HttpGeocoder
from burble.values import Address
from tests.connector.loopback import LoopbackServer, Reply, Seen

KEY = "AIzaSy-TEST-KEY/with+odd=chars"
BROOKLYN = "33 Nassau Avenue, Brooklyn, NY 11222"


def google_ok(seen: Seen) -> Reply:
    return Reply.json(
        {
            "status": "OK",
            "results": [
                {
                    "formatted_address": "33 Nassau Ave, Brooklyn, NY 11222, USA",
                    "geometry": {"location": {"lat": 40.7232, "lng": -73.9522}},
                }
            ],
        }
    )


def nominatim_ok(seen: Seen) -> Reply:
    return Reply.json(
        [{"lat": "48.8534951", "lon": "2.3483915", "display_name": "Paris, Île-de-France, France"}]
    )


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as s:
        yield s


def google(
    server: LoopbackServer,
    path: str = "/geocode/json",
    *,
    timeout: float = 2.0,
    cache_size: int = 10_000,
) -> HttpGeocoder:
    url = server.url(path) + "?address={query}&key={key}"
    return HttpGeocoder(url, style="google", api_key=KEY, timeout=timeout, cache_size=cache_size)


def nominatim(server: LoopbackServer, path: str = "/search") -> HttpGeocoder:
    url = server.url(path) + "?q={query}&format=jsonv2&limit=1"
    return HttpGeocoder(url, style=GeocoderStyle.NOMINATIM, timeout=2.0)


def _failure(geocoder: HttpGeocoder, text: str = BROOKLYN) -> GeocodingFailed:
    with pytest.raises(GeocodingFailed) as caught:
        geocoder.geocode(text)
    return caught.value


def _assert_no_key(error: BaseException) -> None:
    """Neither the error nor anything chained to it, nor its traceback, shows the key."""
    texts = ["".join(traceback.format_exception(error))]
    seen: BaseException | None = error
    while seen is not None:
        texts += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    for text in texts:
        for form in (KEY, "AIzaSy-TEST-KEY", "AIzaSy-TEST-KEY%2Fwith%2Bodd%3Dchars"):
            assert form not in text, text


# --- answers -----------------------------------------------------------------------------


def test_google_style(server: LoopbackServer) -> None:
    server.routes["/geocode/json"] = google_ok
    with google(server) as geocoder:
        address = geocoder.geocode(BROOKLYN)
    assert address == Address("33 Nassau Ave, Brooklyn, NY 11222, USA", 40.7232, -73.9522)
    (seen,) = server.requests
    assert seen.query == {"address": [BROOKLYN], "key": [KEY]}
    assert "%2C%20Brooklyn" in seen.raw_target  # percent-encoded, spaces as %20
    assert seen.headers["user-agent"].startswith("burble/")
    assert seen.headers["accept"] == "application/json"


def test_nominatim_style(server: LoopbackServer) -> None:
    server.routes["/search"] = nominatim_ok
    with nominatim(server) as geocoder:
        address = geocoder.geocode("Paris")
    assert address == Address("Paris, Île-de-France, France", 48.8534951, 2.3483915)
    assert server.requests[0].query["q"] == ["Paris"]


def test_not_found(server: LoopbackServer) -> None:
    server.routes["/geocode/json"] = lambda seen: Reply.json(
        {"status": "ZERO_RESULTS", "results": []}
    )
    server.routes["/search"] = lambda seen: Reply.json([])
    with google(server) as g, nominatim(server) as n:
        assert g.geocode("Nowhere at all") is None
        assert n.geocode("Nowhere at all") is None


def test_blank_text_asks_nothing(server: LoopbackServer) -> None:
    with google(server) as geocoder:
        assert geocoder.geocode("") is None
        assert geocoder.geocode("   ") is None
    assert server.requests == []


def test_missing_formatted_address_keeps_the_callers_text(server: LoopbackServer) -> None:
    server.routes["/search"] = lambda seen: Reply.json([{"lat": "1.5", "lon": "-2"}])
    with nominatim(server) as geocoder:
        assert geocoder.geocode("Somewhere") == Address("Somewhere", 1.5, -2.0)


# --- failures ----------------------------------------------------------------------------


def test_server_error(server: LoopbackServer) -> None:
    server.routes["/geocode/json"] = lambda seen: Reply(500, b"internal error")
    with google(server) as geocoder:
        error = _failure(geocoder)
    assert isinstance(error, BurbleError)
    assert "HTTP 500" in error.message and f"127.0.0.1:{server.port}" in error.message
    _assert_no_key(error)


def test_slow_answer_times_out(server: LoopbackServer) -> None:
    server.routes["/geocode/json"] = lambda seen: Reply(200, b"{}", delay=10.0)
    started = time.monotonic()
    with google(server, timeout=0.3) as geocoder:
        error = _failure(geocoder)
    assert time.monotonic() - started < 5
    assert "did not answer within 0.3 s" in error.message
    assert isinstance(error.__cause__, ConnectorTimeout)
    _assert_no_key(error)


def test_unreachable_service() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    geocoder = HttpGeocoder(
        f"http://127.0.0.1:{port}/geocode/json?address={{query}}&key={{key}}",
        style="google",
        api_key=KEY,
        timeout=2.0,
    )
    with geocoder:
        error = _failure(geocoder)
    assert "could not connect" in error.message
    assert isinstance(error.__cause__, ConnectorError)
    _assert_no_key(error)


def test_google_error_status_echoing_the_key_is_scrubbed(server: LoopbackServer) -> None:
    server.routes["/geocode/json"] = lambda seen: Reply.json(
        {"status": "REQUEST_DENIED", "error_message": f"The API key {KEY} is invalid."}
    )
    with google(server) as geocoder:
        error = _failure(geocoder)
    assert "REQUEST_DENIED" in error.message and "[api key]" in error.message
    _assert_no_key(error)


def test_key_in_the_path_is_scrubbed_too(server: LoopbackServer) -> None:
    geocoder = HttpGeocoder(
        server.url("/v1/{key}/geocode") + "?q={query}", style="nominatim", api_key=KEY, timeout=0.3
    )
    server.routes["/v1/" + "AIzaSy-TEST-KEY%2Fwith%2Bodd%3Dchars/geocode"] = lambda seen: Reply(
        200, b"[]", delay=10.0
    )
    with geocoder:
        error = _failure(geocoder)
    assert "/v1/[api key]/geocode" in str(error.__cause__)
    _assert_no_key(error)


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (Reply(200, b"<html>not json</html>"), "not JSON"),
        (Reply.json({"results": []}), "not in google style"),
        (Reply.json({"status": "OK", "results": [{"geometry": {}}]}), "not in google style"),
        (
            Reply.json(
                {"status": "OK", "results": [{"geometry": {"location": {"lat": 91, "lng": 0}}}]}
            ),
            "not in google style",
        ),
        (Reply.json({"status": "OVER_QUERY_LIMIT"}), "OVER_QUERY_LIMIT"),
        (Reply(302, headers={"Location": "http://127.0.0.1:1/"}), "HTTP 302"),
        (Reply(200, b"[" + b" " * (1024 * 1024 + 10) + b"]"), "over 1048576 bytes"),
    ],
)
def test_bad_answers(server: LoopbackServer, reply: Reply, problem: str) -> None:
    server.routes["/geocode/json"] = lambda seen: reply
    with google(server) as geocoder:
        error = _failure(geocoder)
    assert problem in error.message
    _assert_no_key(error)


def test_bad_nominatim_answers(server: LoopbackServer) -> None:
    with nominatim(server) as geocoder:
        server.routes["/search"] = lambda seen: Reply.json({"error": "Unable to geocode"})
        assert "Unable to geocode" in _failure(geocoder).message
        server.routes["/search"] = lambda seen: Reply.json([{"lat": "north", "lon": "1"}])
        assert "not in nominatim style" in _failure(geocoder).message


# --- the cache ---------------------------------------------------------------------------


def test_cache_avoids_a_second_request(server: LoopbackServer) -> None:
    server.routes["/geocode/json"] = google_ok
    with google(server) as geocoder:
        first = geocoder.geocode(BROOKLYN)
        second = geocoder.geocode(f"  {BROOKLYN} ")
    assert first is not None and first == second
    assert len(server.requests) == 1


def test_cache_keeps_not_found_but_not_failures(server: LoopbackServer) -> None:
    server.routes["/geocode/json"] = lambda seen: Reply.json(
        {"status": "ZERO_RESULTS", "results": []}
    )
    server.routes["/broken"] = lambda seen: Reply(500)
    with google(server) as g, google(server, "/broken") as broken:
        assert g.geocode("Nowhere") is None
        assert g.geocode("Nowhere") is None
        _failure(broken, "Paris")
        _failure(broken, "Paris")
    assert len(server.requests_to("/geocode/json")) == 1
    assert len(server.requests_to("/broken")) == 2


def test_cache_is_bounded_least_recently_used(server: LoopbackServer) -> None:
    server.routes["/geocode/json"] = google_ok
    with google(server, cache_size=2) as geocoder:
        for text in ("a", "b", "a", "c", "a", "b"):
            geocoder.geocode(text)
    asked = [seen.query["address"][0] for seen in server.requests]
    assert asked == ["a", "b", "c", "b"]  # "b" was evicted by "c"; "a" stayed in use


def test_cache_can_be_disabled(server: LoopbackServer) -> None:
    server.routes["/geocode/json"] = google_ok
    with google(server, cache_size=0) as geocoder:
        geocoder.geocode("a")
        geocoder.geocode("a")
    assert len(server.requests) == 2


# --- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "api_key", "message"),
    [
        ("http://example.test/geocode", None, "no {query}"),
        ("http://example.test/?q={query}", "k", "no {key}"),
        ("http://example.test/?q={query}&key={key}", None, "no API key"),
        ("ftp://example.test/?q={query}", None, "http"),
        ("/relative?q={query}", None, "http"),
    ],
)
def test_url_template_is_checked(url: str, api_key: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        HttpGeocoder(url, style="google", api_key=api_key)


def test_style_is_checked() -> None:
    with pytest.raises(ValueError):
        HttpGeocoder("http://example.test/?q={query}", style="bing")


def test_default_urls() -> None:
    with HttpGeocoder(style="nominatim") as n:
        assert n.style is GeocoderStyle.NOMINATIM
    with pytest.raises(ValueError, match="no API key"):
        HttpGeocoder(style="google")
    with HttpGeocoder(style="google", api_key=KEY) as g:
        assert g.style is GeocoderStyle.GOOGLE
