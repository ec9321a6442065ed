"""Every constraint type × the field types it applies to, on SQLite and PostgreSQL
(seed 004 "Search constraints"; bubble-wire.md §5.2). Each case names the things it finds."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from burble.runtime import Databases
from tests.api.support import BASE, assert_shape_a, bulk_create
from tests.conftest import Api, make_api

APP = """
name: search
settings:
  data_api: {expose: [Item]}
option_sets:
  Color: [Red, Green, Blue]
types:
  Item:
    fields:
      label: text
      title: text
      body: text
      n: number
      when: date
      ok: yes/no
      color: Color
      place: geographic address
      tags: list of texts
      nums: list of numbers
      colors: list of Color
      places: list of geographic addresses
"""

# (label, fields): the things every case searches.
ITEMS: list[dict[str, Any]] = [
    {
        "label": "a",
        "title": "Cafe Central",
        "body": "Coffee and cakes in Vienna",
        "n": 1,
        "when": "2024-01-01T00:00:00Z",
        "ok": True,
        "color": "Red",
        "place": {"address": "New York", "lat": 40.7128, "lng": -74.0060},
        "tags": ["x", "y"],
        "nums": [1, 2],
        "colors": ["Red"],
        "places": [{"address": "Paris", "lat": 48.8566, "lng": 2.3522}],
    },
    {
        "label": "b",
        "title": "Running shoes",
        "body": "The runner runs",
        "n": 2.5,
        "when": "2024-06-01T12:00:00.000Z",
        "ok": False,
        "color": "Green",
        "place": {"address": "Philadelphia", "lat": 39.9526, "lng": -75.1652},
        "tags": ["y"],
        "nums": [3],
        "colors": ["Green", "Blue"],
    },
    {
        "label": "c",
        "title": "cafes of Paris",
        "n": 10,
        "when": "2025-01-01T00:00:00Z",
        "color": "Blue",
        "place": {"address": "Los Angeles", "lat": 34.0522, "lng": -118.2437},
    },
    {"label": "d"},
]


@pytest.fixture
def items(databases: Databases) -> Api:
    api = make_api(databases, APP)
    bulk_create(api, "item", ITEMS)
    return api


def find(api: Api, *constraints: dict[str, Any], **params: Any) -> list[str]:
    r = api.client.get(
        f"{BASE}/item",
        params={
            "constraints": orjson.dumps(list(constraints)).decode(),
            "sort_field": "label",
            **params,
        },
        headers=api.auth,
    )
    assert r.status_code == 200, r.text
    response = r.json()["response"]
    assert response["count"] + response["remaining"] == len(response["results"])
    return [t["label"] for t in response["results"]]


def c(key: str, kind: str, value: Any = None) -> dict[str, Any]:
    out = {"key": key, "constraint_type": kind}
    if value is not None:
        out["value"] = value
    return out


CASES: list[tuple[dict[str, Any], list[str]]] = [
    # equals / not equal: every field type; not equal includes empty values
    (c("label", "equals", "a"), ["a"]),
    (c("n", "equals", "2.5"), ["b"]),
    (c("when", "equals", "2024-06-01T12:00:00Z"), ["b"]),
    (c("ok", "equals", "no"), ["b"]),
    (c("color", "equals", "Blue"), ["c"]),
    (c("place", "equals", "Philadelphia"), ["b"]),
    (c("tags", "equals", ["x", "y"]), ["a"]),
    (c("n", "not equal", 1), ["b", "c", "d"]),
    (c("color", "not equal", "Red"), ["b", "c", "d"]),
    (c("ok", "not equal", True), ["b", "c", "d"]),
    # is_empty / is_not_empty: every field type (with the spaced aliases)
    (c("n", "is_empty"), ["d"]),
    (c("ok", "is empty"), ["c", "d"]),
    (c("place", "is_not_empty"), ["a", "b", "c"]),
    (c("tags", "is not empty"), ["a", "b"]),
    (c("colors", "is_empty"), ["c", "d"]),
    # text contains: words, case-insensitive, stemmed; not text contains includes empties
    (c("title", "text contains", "cafe"), ["a", "c"]),
    (c("title", "text contains", "CAFÉ central"), ["a"]),
    (c("title", "text contains", "run"), ["b"]),
    (c("body", "text contains", "runs"), ["b"]),
    (c("title", "text contains", "caf"), []),
    (c("title", "not text contains", "cafe"), ["b", "d"]),
    (c("_all", "text contains", "vienna"), ["a"]),
    (c("_all", "text contains", "paris"), ["c"]),
    (c("_all", "not text contains", "coffee"), ["b", "c", "d"]),
    (c("title", "text contains", "  "), ["a", "b", "c", "d"]),  # no words: ignored
    # greater than / less than: text, number, date
    (c("n", "greater than", 2), ["b", "c"]),
    (c("n", "less than", "2.5"), ["a"]),
    (c("when", "greater than", "2024-01-01T00:00:00.000000Z"), ["b", "c"]),
    (c("when", "less than", "01/01/2025"), ["a", "b"]),
    (c("label", "greater than", "b"), ["c", "d"]),
    # in / not in: any field that is not a list; not in includes empties
    (c("label", "in", ["a", "c", "zz"]), ["a", "c"]),
    (c("color", "in", ["Red", "Blue"]), ["a", "c"]),
    (c("n", "in", [1, "10"]), ["a", "c"]),
    (c("n", "not in", [1]), ["b", "c", "d"]),
    (c("label", "in", []), []),
    (c("label", "not in", []), ["a", "b", "c", "d"]),
    (c("label", "in", "b"), ["b"]),  # a single value is a list of one
    # contains / not contains: list fields; not contains includes empty lists
    (c("tags", "contains", "y"), ["a", "b"]),
    (c("nums", "contains", "3"), ["b"]),
    (c("colors", "contains", "Blue"), ["b"]),
    (c("places", "contains", "Paris"), ["a"]),
    (c("tags", "not contains", "x"), ["b", "c", "d"]),
    # empty / not empty: list fields
    (c("tags", "empty"), ["c", "d"]),
    (c("nums", "not empty"), ["a", "b"]),
    # geographic_search: within range of an origin (miles by default, or km)
    (
        c(
            "place",
            "geographic_search",
            {"origin_address": {"lat": 40.7128, "lng": -74.006}, "range": 100},
        ),
        ["a", "b"],
    ),
    (
        c(
            "place",
            "geographic_search",
            {"origin_address": {"lat": 40.7128, "lng": -74.006}, "range": 100, "unit": "km"},
        ),
        ["a"],
    ),
    (
        c(
            "place",
            "geographic_search",
            {"origin_address": {"lat": 40.7128, "lng": -74.006}, "range": 2500},
        ),
        ["a", "b", "c"],
    ),
    # constraints with an undefined value are ignored; constraints are ANDed
    (c("n", "equals"), ["a", "b", "c", "d"]),
    (c("label", "in", ["a", "b", "c"]), ["a", "b", "c"]),
]


def test_constraint_table(items: Api) -> None:
    for constraint, expected in CASES:
        assert find(items, constraint) == expected, constraint


def test_constraints_are_anded(items: Api) -> None:
    assert find(items, c("n", "greater than", 1), c("color", "not equal", "Blue")) == ["b"]
    assert find(items, c("tags", "contains", "y"), c("_all", "text contains", "cafe")) == ["a"]


def test_id_equals_and_in(items: Api) -> None:
    rows = items.client.get(f"{BASE}/item", headers=items.auth).json()["response"]["results"]
    ids = {t["label"]: t["_id"] for t in rows}
    assert find(items, c("_id", "equals", ids["b"])) == ["b"]
    assert find(items, c("_id", "in", [ids["a"], ids["d"], "1x2"])) == ["a", "d"]


def test_text_search_follows_changes(items: Api) -> None:
    rows = items.client.get(f"{BASE}/item", headers=items.auth).json()["response"]["results"]
    d = next(t["_id"] for t in rows if t["label"] == "d")
    r = items.client.patch(f"{BASE}/item/{d}", json={"title": "Cafe Sacher"}, headers=items.auth)
    assert r.status_code == 204
    assert find(items, c("title", "text contains", "cafe")) == ["a", "c", "d"]
    items.client.delete(f"{BASE}/item/{d}", headers=items.auth)
    assert find(items, c("title", "text contains", "sacher")) == []


def test_geographic_search_value_errors(items: Api) -> None:
    for value in (
        ["range", "origin_address"],
        {"range": 5},
        {"origin_address": {"lat": 1, "lng": 2}, "range": "far"},
        {"origin_address": {"lat": 1, "lng": 2}, "range": 5, "unit": "parsecs"},
    ):
        r = items.client.get(
            f"{BASE}/item",
            params={"constraints": orjson.dumps([c("place", "geographic_search", value)]).decode()},
            headers=items.auth,
        )
        assert_shape_a(r, 400, "INVALID_DATA")


def test_sort_addresses_by_distance_from_geo_reference(items: Api) -> None:
    ref = orjson.dumps({"lat": 39.9526, "lng": -75.1652}).decode()
    # geo_reference as a JSON object of coordinates is accepted besides an address text
    assert find(items, sort_field="place", geo_reference=ref)[:3] == ["b", "a", "c"]
    assert find(items, sort_field="place", geo_reference=ref, descending="true")[:3] == [
        "c",
        "a",
        "b",
    ]
