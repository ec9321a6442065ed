"""The public surface of burble.geo and the geocoder factory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import burble.geo
from burble.geo import (
    GEOCODER_KINDS,
    GazetteerGeocoder,
    Geocoder,
    GeocoderStyle,
    HttpGeocoder,
    make_geocoder,
)
from burble.values import Address
from tests.connector.loopback import LoopbackServer, Reply


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as s:
        yield s


def test_exports_exist() -> None:
    for name in burble.geo.__all__:
        assert hasattr(burble.geo, name), name
    assert set(GEOCODER_KINDS) == {"gazetteer", "google", "nominatim"}


def test_default_is_the_lazy_gazetteer() -> None:
    geocoder = make_geocoder()
    assert isinstance(geocoder, GazetteerGeocoder)
    assert not geocoder.loaded
    assert isinstance(make_geocoder("gazetteer", min_city_population=5000), GazetteerGeocoder)


def test_http_kinds(server: LoopbackServer) -> None:
    server.routes["/search"] = lambda seen: Reply.json([{"lat": "1", "lon": "2"}])
    geocoder: Geocoder = make_geocoder("nominatim", url=server.url("/search?q={query}"))
    assert isinstance(geocoder, HttpGeocoder) and geocoder.style is GeocoderStyle.NOMINATIM
    with geocoder:
        assert geocoder.geocode("x") == Address("x", 1.0, 2.0)
    google = make_geocoder("google", api_key="k", timeout=3.0)
    assert isinstance(google, HttpGeocoder) and google.style is GeocoderStyle.GOOGLE
    google.close()


def test_bad_kind_or_option() -> None:
    with pytest.raises(ValueError, match="unknown geocoder kind 'bing'"):
        make_geocoder("bing")
    with pytest.raises(TypeError):
        make_geocoder("gazetteer", api_key="k")
    with pytest.raises(ValueError, match="no API key"):
        make_geocoder("google")
