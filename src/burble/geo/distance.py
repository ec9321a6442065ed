"""Great-circle distances and the bounding boxes that pre-filter a radius search.

The Earth is a sphere of radius `EARTH_RADIUS_KM` (the IUGG mean radius); distances are accurate
to about 0.5% against the ellipsoid, as with Google's and Bubble's own radius searches.

A `BoundingBox` is a 4-tuple ``(min_lat, max_lat, min_lng, max_lng)`` in degrees that contains
every point within the range of its centre (and some points beyond it, in the corners: check
`haversine_km` afterwards). When the box crosses the antimeridian (180°), it follows the
GeoJSON convention (RFC 7946, section 5.2): ``min_lng > max_lng``, meaning longitudes from
``min_lng`` east to 180 and from -180 east to ``max_lng``; `BoundingBox.parts()` splits it into
two ordinary boxes for ``BETWEEN`` queries. When the range reaches a pole, the box spans all
longitudes (-180 to 180) and reaches to that pole's latitude.
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = [
    "EARTH_RADIUS_KM",
    "KM_PER_MILE",
    "MILES_PER_KM",
    "BoundingBox",
    "bounding_box",
    "haversine_km",
    "to_km",
]

EARTH_RADIUS_KM = 6371.0088
KM_PER_MILE = 1.609344  # the international mile, exactly
MILES_PER_KM = 1 / KM_PER_MILE

# Widening of every box edge, in radians (about 0.6 mm), so that points exactly at the range are
# inside despite rounding.
_SLACK = 1e-10


class BoundingBox(NamedTuple):
    """``(min_lat, max_lat, min_lng, max_lng)`` in degrees; see the module docstring."""

    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float

    @property
    def crosses_antimeridian(self) -> bool:
        return self.min_lng > self.max_lng

    def parts(self) -> tuple[BoundingBox, ...]:
        """One box, or two when this one crosses the antimeridian; none has min_lng > max_lng."""
        if not self.crosses_antimeridian:
            return (self,)
        return (
            BoundingBox(self.min_lat, self.max_lat, self.min_lng, 180.0),
            BoundingBox(self.min_lat, self.max_lat, -180.0, self.max_lng),
        )

    def contains(self, lat: float, lng: float) -> bool:
        lng = _wrap(lng)
        if not self.min_lat <= lat <= self.max_lat:
            return False
        if self.crosses_antimeridian:
            return lng >= self.min_lng or lng <= self.max_lng
        return self.min_lng <= lng <= self.max_lng


def _wrap(lng: float) -> float:
    """Longitude in [-180, 180] (180 stays 180)."""
    if -180.0 <= lng <= 180.0:
        return lng
    return (lng + 180.0) % 360.0 - 180.0


def _check(lat: float, lng: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lng)):
        raise ValueError("coordinates must be finite numbers")
    if not -90.0 <= lat <= 90.0:
        raise ValueError("latitude must be between -90 and 90")


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    _check(lat1, lng1)
    _check(lat2, lng2)
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lng: float, range_km: float) -> BoundingBox:
    """The smallest latitude/longitude box holding every point within `range_km` of a centre.

    Uses the bounding-coordinates method (J. P. Matuschek, 2011): the latitude span is exact,
    and the longitude span is that of the circle's tangent meridians. Raises ValueError for a
    negative or non-finite range and for coordinates out of range.
    """
    _check(lat, lng)
    if not (math.isfinite(range_km) and range_km >= 0):
        raise ValueError("range must be a finite number of km, not negative")
    angular = range_km / EARTH_RADIUS_KM + _SLACK
    phi = math.radians(lat)
    min_phi, max_phi = phi - angular, phi + angular
    if min_phi <= -math.pi / 2 or max_phi >= math.pi / 2 or angular >= math.pi:
        # A pole is within range: every meridian passes through the circle.
        return BoundingBox(
            max(math.degrees(min_phi), -90.0), min(math.degrees(max_phi), 90.0), -180.0, 180.0
        )
    delta = math.degrees(math.asin(math.sin(angular) / math.cos(phi)))
    centre = _wrap(lng)
    min_lng, max_lng = centre - delta, centre + delta
    if min_lng < -180.0:
        min_lng += 360.0
    if max_lng > 180.0:
        max_lng -= 360.0
    return BoundingBox(math.degrees(min_phi), math.degrees(max_phi), min_lng, max_lng)


def to_km(range: float, unit: str = "miles") -> float:
    """A distance in `unit` ("miles", Bubble's default, or "km") as km; other units raise.

    `range` is named as in Bubble's geographic search constraint; it must be finite and not
    negative.
    """
    if not (math.isfinite(range) and range >= 0):
        raise ValueError("range must be a finite number, not negative")
    if unit == "miles":
        return range * KM_PER_MILE
    if unit == "km":
        return range
    raise ValueError(f"unknown distance unit {unit!r}: use 'miles' or 'km'")
