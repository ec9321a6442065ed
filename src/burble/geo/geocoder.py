"""The geocoder seam: text in, an `Address` with coordinates (or None) out."""

from __future__ import annotations

from typing import Protocol

from burble.errors import BurbleError
from burble.values import Address

__all__ = ["Geocoder", "GeocodingFailed"]


class GeocodingFailed(BurbleError):
    """The geocoder could not answer: service unreachable, too slow, or a bad response.

    Not raised for a place that does not exist: `Geocoder.geocode` returns None for that.
    Messages never contain API keys or full request URLs.
    """


class Geocoder(Protocol):
    """Turns an address typed as text into coordinates.

    Implementations: `GazetteerGeocoder` (offline, bundled city data) and `HttpGeocoder`
    (Google Geocoding API or Nominatim). Both are safe to share between threads.
    """

    def geocode(self, text: str) -> Address | None:
        """The place `text` names, or None when it names no place the geocoder knows.

        Raises `GeocodingFailed` when the geocoder cannot answer at all.
        """
        ...
