"""Great-circle distances, unit conversion and radius-search bounding boxes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from burble.geo import (
    EARTH_RADIUS_KM,
    KM_PER_MILE,
    MILES_PER_KM,
    BoundingBox,
    bounding_box,
    haversine_km,
    to_km,
)

NEW_YORK = (40.7128, -74.0060)
LOS_ANGELES = (34.0522, -118.2437)
LONDON = (51.5074, -0.1278)
PARIS = (48.8566, 2.3522)
SUVA = (-18.1416, 178.4419)


def destination(lat: float, lng: float, bearing: float, km: float) -> tuple[float, float]:
    """The point `km` from (lat, lng) along `bearing` degrees (spherical direct problem)."""
    phi, lam, theta = math.radians(lat), math.radians(lng), math.radians(bearing)
    delta = km / EARTH_RADIUS_KM
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), (math.degrees(lam2) + 540.0) % 360.0 - 180.0


# --- distances ---------------------------------------------------------------------------


def test_known_city_distances() -> None:
    assert haversine_km(*NEW_YORK, *LOS_ANGELES) == pytest.approx(3936, rel=0.01)
    assert haversine_km(*LONDON, *PARIS) == pytest.approx(344, rel=0.02)


def test_distance_properties() -> None:
    assert haversine_km(*PARIS, *PARIS) == 0.0
    assert haversine_km(*LONDON, *PARIS) == haversine_km(*PARIS, *LONDON)
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert haversine_km(90, 0, -90, 0) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    # Across the antimeridian: Suva to a point 2 degrees east, at -179.56.
    assert haversine_km(*SUVA, SUVA[0], -179.5581) == pytest.approx(211.4, rel=0.01)


@pytest.mark.parametrize("bad", [(91, 0, 0, 0), (0, 0, -90.5, 0), (math.nan, 0, 0, 0)])
def test_distance_rejects_bad_coordinates(bad: tuple[float, float, float, float]) -> None:
    with pytest.raises(ValueError):
        haversine_km(*bad)


def test_to_km() -> None:
    assert to_km(1) == KM_PER_MILE == 1.609344
    assert to_km(10, "miles") == pytest.approx(16.09344)
    assert to_km(10, "km") == 10
    assert to_km(0) == 0
    assert round(MILES_PER_KM, 9) == 0.621371192
    assert pytest.approx(1.0) == MILES_PER_KM * KM_PER_MILE
    for unit in ("mi", "Miles", "kilometers", "KM", "", "m"):
        with pytest.raises(ValueError, match="unit"):
            to_km(1, unit)
    for value in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError):
            to_km(value)


# --- bounding boxes ----------------------------------------------------------------------


def _circle(lat: float, lng: float, km: float, steps: int = 720) -> list[tuple[float, float]]:
    return [destination(lat, lng, 360.0 * i / steps, km) for i in range(steps)]


def _extremes(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The northmost, southmost, eastmost and westmost points (longitudes not wrapping)."""
    return [
        max(points, key=lambda p: p[0]),
        min(points, key=lambda p: p[0]),
        max(points, key=lambda p: p[1]),
        min(points, key=lambda p: p[1]),
    ]


@pytest.mark.parametrize(
    ("centre", "km"),
    [(NEW_YORK, 50.0), (LONDON, 1.0), (PARIS, 1000.0), ((0.0, 0.0), 3000.0), ((-60.0, 10.0), 500)],
)
def test_box_holds_the_circle_and_is_tight(centre: tuple[float, float], km: float) -> None:
    box = bounding_box(*centre, km)
    assert not box.crosses_antimeridian and box.parts() == (box,)
    circle = _circle(*centre, km)
    assert all(box.contains(lat, lng) for lat, lng in circle)
    # Every edge is touched by the circle (the box is the smallest one).
    assert max(lat for lat, _ in circle) == pytest.approx(box.max_lat, abs=1e-6)
    assert min(lat for lat, _ in circle) == pytest.approx(box.min_lat, abs=1e-6)
    assert max(lng for _, lng in circle) == pytest.approx(box.max_lng, abs=1e-3)
    assert min(lng for _, lng in circle) == pytest.approx(box.min_lng, abs=1e-3)
    # The northmost, southmost, eastmost and westmost points just beyond the range are outside.
    for point in _extremes(_circle(*centre, km * 1.01)):
        assert not box.contains(*point)


def test_box_across_the_antimeridian_at_fiji() -> None:
    box = bounding_box(*SUVA, 300.0)
    assert box.crosses_antimeridian
    assert box.min_lng > 175 and box.max_lng < -175
    east, west = box.parts()
    assert (east.min_lng, east.max_lng) == (box.min_lng, 180.0)
    assert (west.min_lng, west.max_lng) == (-180.0, box.max_lng)
    # 250 km due east lies past 180: at a negative longitude, and inside.
    lat, lng = destination(*SUVA, 90, 250.0)
    assert lng < 0 and haversine_km(*SUVA, lat, lng) == pytest.approx(250.0)
    assert box.contains(lat, lng) and west.contains(lat, lng) and not east.contains(lat, lng)
    assert box.contains(lat, lng + 360)  # longitudes are wrapped before comparing
    for lat, lng in _circle(*SUVA, 300.0):
        assert box.contains(lat, lng)
        assert sum(part.contains(lat, lng) for part in box.parts()) >= 1
    unwrapped = [(lat, lng % 360.0) for lat, lng in _circle(*SUVA, 310.0)]  # 0..360
    for lat, lng in _extremes(unwrapped):
        assert not box.contains(lat, lng)
        assert not any(part.contains(lat, lng) for part in box.parts())
    # Far away on the other side of the box's longitude gap.
    assert not box.contains(SUVA[0], 0.0)


def test_box_at_the_western_side_of_the_antimeridian() -> None:
    box = bounding_box(-17.0, -179.5, 200.0)
    assert box.crosses_antimeridian and box.min_lng > 170
    assert box.contains(*destination(-17.0, -179.5, 270, 190.0))


@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_box_reaching_a_pole(pole: float) -> None:
    sign = 1 if pole > 0 else -1
    centre = (sign * 89.5, 20.0)  # 55.6 km from the pole
    box = bounding_box(*centre, 100.0)
    assert (box.min_lng, box.max_lng) == (-180.0, 180.0)
    assert (box.max_lat if sign > 0 else box.min_lat) == pole
    # Across the pole, on the opposite meridian: within range and inside.
    beyond_pole = (sign * 89.7, -160.0)
    assert haversine_km(*centre, *beyond_pole) < 100
    assert box.contains(*beyond_pole)
    for lat, lng in _circle(*centre, 100.0):
        assert box.contains(lat, lng)
    # 167 km towards the equator: outside.
    away = (sign * 88.0, 20.0)
    assert haversine_km(*centre, *away) > 100
    assert not box.contains(*away)


def test_box_near_but_not_at_a_pole() -> None:
    box = bounding_box(88.0, 0.0, 100.0)  # the pole is 222 km away
    assert box.max_lat < 90 and box.max_lng - box.min_lng < 360
    for lat, lng in _circle(88.0, 0.0, 100.0):
        assert box.contains(lat, lng)
    for point in _extremes(_circle(88.0, 0.0, 101.0)):
        assert not box.contains(*point)


def test_box_centred_on_a_pole_and_whole_earth() -> None:
    assert bounding_box(90.0, 0.0, 10.0)[2:] == (-180.0, 180.0)
    assert bounding_box(10.0, 10.0, 30_000.0) == BoundingBox(-90.0, 90.0, -180.0, 180.0)


def test_box_shape_and_zero_range() -> None:
    box = bounding_box(*PARIS, 0.0)
    assert isinstance(box, tuple) and len(box) == 4
    min_lat, max_lat, min_lng, max_lng = box
    assert min_lat == pytest.approx(PARIS[0]) and max_lat == pytest.approx(PARIS[0])
    assert min_lng == pytest.approx(PARIS[1]) and max_lng == pytest.approx(PARIS[1])
    assert box.contains(*PARIS)


@pytest.mark.parametrize(
    "args", [(0, 0, -1.0), (0, 0, math.nan), (0, 0, math.inf), (90.1, 0, 1), (0, math.nan, 1)]
)
def test_box_rejects_bad_input(args: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError):
        bounding_box(*args)


@given(
    lat=st.floats(-90, 90),
    lng=st.floats(-180, 180),
    km=st.floats(0, 21_000),
    bearing=st.floats(0, 360),
    fraction=st.floats(0, 1),
)
def test_every_point_within_range_is_in_the_box(
    lat: float, lng: float, km: float, bearing: float, fraction: float
) -> None:
    box = bounding_box(lat, lng, km)
    point = destination(lat, lng, bearing, km * fraction)
    assert box.contains(*point), (box, point)
    assert any(part.contains(*point) for part in box.parts())
