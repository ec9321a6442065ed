"""Geocoding (address text -> coordinates) and distances for Bubble's geographic addresses.

`make_geocoder` builds the configured `Geocoder`: the offline `GazetteerGeocoder` by default,
or an `HttpGeocoder` for Google's Geocoding API or a Nominatim service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from burble.geo.distance import (
    EARTH_RADIUS_KM,
    KM_PER_MILE,
    MILES_PER_KM,
    BoundingBox,
    bounding_box,
    haversine_km,
    to_km,
)
from burble.geo.gazetteer import GazetteerGeocoder
from burble.geo.geocoder import Geocoder, GeocodingFailed
from burble.geo.http_geocoder import GOOGLE_URL, NOMINATIM_URL, GeocoderStyle, HttpGeocoder

__all__ = [
    "EARTH_RADIUS_KM",
    "GEOCODER_KINDS",
    "GOOGLE_URL",
    "KM_PER_MILE",
    "MILES_PER_KM",
    "NOMINATIM_URL",
    "BoundingBox",
    "GazetteerGeocoder",
    "Geocoder",
    "GeocoderStyle",
    "GeocodingFailed",
    "HttpGeocoder",
    "bounding_box",
    "haversine_km",
    "make_geocoder",
    "to_km",
]


def _google(**options: Any) -> Geocoder:
    return HttpGeocoder(style=GeocoderStyle.GOOGLE, **options)


def _nominatim(**options: Any) -> Geocoder:
    return HttpGeocoder(style=GeocoderStyle.NOMINATIM, **options)


GEOCODER_KINDS: dict[str, Callable[..., Geocoder]] = {
    "gazetteer": GazetteerGeocoder,
    "google": _google,
    "nominatim": _nominatim,
}
"""Every geocoder kind `make_geocoder` knows, with the factory that builds it."""


def make_geocoder(kind: str = "gazetteer", **options: Any) -> Geocoder:
    """A new geocoder of `kind`, built with `options` (keyword arguments of its class).

    - "gazetteer": `GazetteerGeocoder(min_city_population=15000,
      alternate_names_min_population=100_000)`; offline, loads on first use.
    - "google": `HttpGeocoder(url=GOOGLE_URL, api_key=..., timeout=10.0, transport=None,
      cache_size=10_000)` in the Google style; `api_key` is required with the default URL.
    - "nominatim": the same in the Nominatim style, `url` defaulting to `NOMINATIM_URL`.

    Raises ValueError for an unknown kind and TypeError for an option the kind does not take.
    """
    factory = GEOCODER_KINDS.get(kind)
    if factory is None:
        known = ", ".join(sorted(GEOCODER_KINDS))
        raise ValueError(f"unknown geocoder kind {kind!r}: use one of {known}")
    return factory(**options)
