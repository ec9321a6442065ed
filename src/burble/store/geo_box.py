"""Bounding boxes for the geographic-search prefilter (temporary home; see burble.geo)."""

from __future__ import annotations

import math

KM_PER_DEGREE = 111.195


def bounding_boxes(
    lat: float, lng: float, range_km: float
) -> list[tuple[float, float, float, float]]:
    """(min_lat, max_lat, min_lng, max_lng) boxes covering every point within range_km;
    two boxes when the circle crosses the antimeridian, a full band near the poles."""
    dlat = range_km / KM_PER_DEGREE
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    if min_lat <= -90.0 or max_lat >= 90.0:
        return [(min_lat, max_lat, -180.0, 180.0)]
    widest = max(abs(min_lat), abs(max_lat))
    dlng = dlat / max(math.cos(math.radians(widest)), 1e-9)
    if dlng >= 180.0:
        return [(min_lat, max_lat, -180.0, 180.0)]
    lo, hi = lng - dlng, lng + dlng
    if lo < -180.0:
        return [(min_lat, max_lat, lo + 360.0, 180.0), (min_lat, max_lat, -180.0, hi)]
    if hi > 180.0:
        return [(min_lat, max_lat, lo, 180.0), (min_lat, max_lat, -180.0, hi - 360.0)]
    return [(min_lat, max_lat, lo, hi)]
