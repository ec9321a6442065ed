"""Search / list: envelope, paging, sorting and constraints (seed 004; bubble-wire.md §4.2, §5, §7)."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from burble.runtime import Databases
from tests.api.support import BASE, assert_shape_a, bulk_create, create, search, shape_a
from tests.conftest import Api, make_api

# Five rental units; `description` is a label to read results by.
UNITS: list[dict[str, Any]] = [
    {
        "description": "a",
        "name": "Alpha",
        "price": 100,
        "bedrooms": 2,
        "available from": "2024-01-01T00:00:00.000Z",
        "status": "Available",
    },
    {
        "description": "b",
        "name": "Bravo",
        "price": 300,
        "bedrooms": 1,
        "available from": "2024-03-01T00:00:00.000Z",
        "status": "Rented",
        "active": False,
    },
    {"description": "c", "name": "Charlie", "price": 200, "bedrooms": 2, "status": "Rented"},
    {
        "description": "d",
        "name": "Delta",
        "bedrooms": 3,
        "available from": "2024-02-01T00:00:00.000Z",
        "status": "Unlisted",
    },
    {"description": "e", "price": 50, "bedrooms": 1, "available from": "2024-02-15T12:00:00.000Z"},
]


@pytest.fixture
def units(api: Api) -> dict[str, str]:
    """label → id of the five units."""
    ids = bulk_create(api, "rentalunit", UNITS)
    return {u["description"]: i for u, i in zip(UNITS, ids, strict=True)}


def json(value: Any) -> str:
    return orjson.dumps(value).decode()


def labels(response: dict[str, Any]) -> list[str]:
    return [r["description"] for r in response["results"]]


def find(api: Api, *constraints: dict[str, Any], **params: Any) -> list[str]:
    """Labels of the units matching the constraints, in label order unless sorted."""
    if constraints:
        params["constraints"] = list(constraints)
    params.setdefault("sort_field", "description")
    return labels(search(api, "rentalunit", **params))


def c(key: str, kind: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "constraint_type": kind, **extra}
    if value is not None:
        out["value"] = value
    return out


# --- envelope and paging ------------------------------------------------------------------


def test_list_envelope(api: Api, units: dict[str, str]) -> None:
    r = api.client.get(f"{BASE}/rentalunit", headers=api.auth)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["response"]
    response = body["response"]
    assert set(response) == {"cursor", "results", "count", "remaining"}
    assert response["cursor"] == 0
    assert response["count"] == 5
    assert response["remaining"] == 0
    assert sorted(t["_id"] for t in response["results"]) == sorted(units.values())
    thing = next(t for t in response["results"] if t["_id"] == units["a"])
    assert thing["name"] == "Alpha" and thing["price"] == 100


def test_empty_list(api: Api) -> None:
    assert search(api, "rentalunit") == {"cursor": 0, "results": [], "count": 0, "remaining": 0}


@pytest.fixture
def many(api: Api) -> list[str]:
    """105 units created with one bulk request; price is the creation index."""
    return bulk_create(api, "rentalunit", [{"price": i, "bedrooms": i % 3} for i in range(105)])


def test_limit_default_and_max_is_100(api: Api, many: list[str]) -> None:
    default = search(api, "rentalunit")
    assert (default["count"], len(default["results"]), default["remaining"]) == (100, 100, 5)
    capped = search(api, "rentalunit", limit=500)
    assert capped["cursor"] == 0
    assert len(capped["results"]) == 100
    assert capped["count"] == 100
    assert capped["remaining"] == 5
    rest = search(api, "rentalunit", cursor=100, limit=500)
    assert (rest["cursor"], rest["count"], rest["remaining"]) == (100, 5, 0)
    seen = [t["_id"] for t in capped["results"] + rest["results"]]
    assert sorted(seen) == sorted(many)


def test_cursor_echoed_as_int_and_count_remaining_arithmetic(api: Api) -> None:
    bulk_create(api, "rentalunit", [{"price": i} for i in range(11)])
    page = search(api, "rentalunit", cursor="3", limit="4", sort_field="price")
    assert page["cursor"] == 3 and isinstance(page["cursor"], int)
    assert page["count"] == 4 == len(page["results"])
    assert page["remaining"] == 4
    assert [t["price"] for t in page["results"]] == [3, 4, 5, 6]
    last = search(api, "rentalunit", cursor=8, limit=4, sort_field="price")
    assert (last["cursor"], last["count"], last["remaining"]) == (8, 3, 0)
    for cursor in range(12):
        p = search(api, "rentalunit", cursor=cursor, limit=4)
        assert p["cursor"] + p["count"] + p["remaining"] == 11


def test_cursor_paging_covers_every_thing_once(api: Api) -> None:
    # One bulk request: many things share a Created Date, and bedrooms has many ties.
    ids = bulk_create(api, "rentalunit", [{"bedrooms": i % 2} for i in range(11)])
    for sort_field in (None, "bedrooms", "Created Date"):
        params = {"sort_field": sort_field} if sort_field else {}
        seen: list[str] = []
        cursor = 0
        for _ in range(20):
            page = search(api, "rentalunit", cursor=cursor, limit=2, **params)
            assert page["cursor"] == cursor
            assert page["count"] == len(page["results"]) <= 2
            seen += [t["_id"] for t in page["results"]]
            assert page["remaining"] == 11 - len(seen), sort_field
            if page["remaining"] == 0:
                break
            cursor += page["count"]  # BA: cursor + count
        assert len(seen) == len(set(seen)) == 11, sort_field
        assert set(seen) == set(ids)


def test_cursor_past_the_end(api: Api, units: dict[str, str]) -> None:
    page = search(api, "rentalunit", cursor=5)
    assert page == {"cursor": 5, "results": [], "count": 0, "remaining": 0}
    page = search(api, "rentalunit", cursor=1000, limit=10)
    assert page == {"cursor": 1000, "results": [], "count": 0, "remaining": 0}


def test_exclude_remaining_still_returns_four_keys(api: Api, units: dict[str, str]) -> None:
    page = search(
        api,
        "rentalunit",
        limit=1,
        exclude_remaining="true",
        constraints=[c("name", "is_not_empty")],
    )
    assert page["count"] == 1 and page["cursor"] == 0
    assert isinstance(page["remaining"], int)


def test_unknown_query_params_ignored(api: Api, units: dict[str, str]) -> None:
    # BC's get_one(name="x") sends ?name=x&limit=1&cursor=0: a plain parameter, not a filter.
    page = search(api, "rentalunit", name="x", limit=1, cursor=0, geo_reference="", foo="bar")
    assert page["count"] == 1 and page["remaining"] == 4


def test_anonymous_search_is_empty(api: Api, units: dict[str, str]) -> None:
    r = api.client.get(f"{BASE}/rentalunit")
    assert r.status_code == 200
    assert r.json() == {"response": {"cursor": 0, "results": [], "count": 0, "remaining": 0}}
    r = api.client.get(f"{BASE}/rentalunit", params={"limit": 1, "sort_field": "price"})
    assert r.json() == {"response": {"cursor": 0, "results": [], "count": 0, "remaining": 0}}


# --- sorting ------------------------------------------------------------------------------


def test_sort_number_ascending_empty_last(api: Api, units: dict[str, str]) -> None:
    assert find(api, sort_field="price") == ["e", "a", "c", "b", "d"]
    assert find(api, sort_field="price", descending="false") == ["e", "a", "c", "b", "d"]
    assert find(api, sort_field="price", descending="False") == ["e", "a", "c", "b", "d"]


def test_sort_number_descending_any_case_empty_last(api: Api, units: dict[str, str]) -> None:
    for descending in ("true", "True", "TRUE"):
        got = find(api, sort_field="price", descending=descending)
        assert got == ["b", "c", "a", "e", "d"], descending


def test_sort_text_and_date_empty_last_both_ways(api: Api, units: dict[str, str]) -> None:
    assert find(api, sort_field="name") == ["a", "b", "c", "d", "e"]
    assert find(api, sort_field="name", descending="true") == ["d", "c", "b", "a", "e"]
    assert find(api, sort_field="available from") == ["a", "d", "e", "b", "c"]
    assert find(api, sort_field="available from", descending="true") == ["b", "e", "d", "a", "c"]


def test_additional_sort_fields(api: Api, units: dict[str, str]) -> None:
    extra = [{"sort_field": "price", "descending": True}]
    got = find(api, sort_field="bedrooms", additional_sort_fields=extra)
    assert got == ["b", "e", "c", "a", "d"]
    extra = [{"sort_field": "price", "descending": "false"}]
    got = find(api, sort_field="bedrooms", descending="true", additional_sort_fields=extra)
    assert got == ["d", "a", "c", "e", "b"]
    # Several entries, the last one only breaking remaining ties.
    extra = [{"sort_field": "status"}, {"sort_field": "name", "descending": True}]
    assert find(api, sort_field="bedrooms", additional_sort_fields=extra) == [
        "e",
        "b",
        "a",
        "c",
        "d",
    ]


def test_sort_on_builtin_created_date_and_id(api: Api) -> None:
    ids = []
    for i in range(3):
        ids.append(create(api, "rentalunit", {"description": str(i)}))
        time.sleep(0.003)  # distinct Created Dates (ms resolution)
    asc = search(api, "rentalunit", sort_field="Created Date", descending="false")
    assert [t["_id"] for t in asc["results"]] == ids
    desc = search(api, "rentalunit", sort_field="Created Date", descending="true")
    assert [t["_id"] for t in desc["results"]] == ids[::-1]
    by_id = search(api, "rentalunit", sort_field="_id")
    assert [t["_id"] for t in by_id["results"]] == sorted(ids)
    by_id = search(api, "rentalunit", sort_field="_id", descending="true")
    assert [t["_id"] for t in by_id["results"]] == sorted(ids, reverse=True)
    # BD's scan: Created Date ascending, then _id, with a `greater than` on Created Date.
    first = asc["results"][0]["Created Date"]
    later = search(
        api,
        "rentalunit",
        sort_field="Created Date",
        descending="false",
        additional_sort_fields=[{"sort_field": "_id", "descending": False}],
        constraints=[c("Created Date", "greater than", first)],
    )
    assert [t["_id"] for t in later["results"]] == ids[1:]


def test_sort_on_list_field_is_400(api: Api, units: dict[str, str]) -> None:
    for field in ("photos", "amenities"):
        r = api.client.get(f"{BASE}/rentalunit", params={"sort_field": field}, headers=api.auth)
        body = assert_shape_a(r, 400, "ERROR")
        assert body["body"]["message"] == f"Cannot sort on list field {field}"
        r = api.client.get(
            f"{BASE}/rentalunit",
            params={"sort_field": "name", "additional_sort_fields": json([{"sort_field": field}])},
            headers=api.auth,
        )
        assert_shape_a(r, 400, "ERROR")


def test_unknown_sort_field_is_400(api: Api, units: dict[str, str]) -> None:
    r = api.client.get(f"{BASE}/rentalunit", params={"sort_field": "colour"}, headers=api.auth)
    assert r.status_code == 400
    assert r.json() == shape_a(400, "ERROR", "Unrecognized field: colour")


def test_empty_sort_field_ignored(api: Api, units: dict[str, str]) -> None:
    # BA async sends `sort_field=` (empty) on every search.
    page = search(api, "rentalunit", sort_field="", descending="false")
    assert page["count"] == 5


# --- constraints --------------------------------------------------------------------------


def test_equals_and_not_equal_on_number(api: Api, units: dict[str, str]) -> None:
    assert find(api, c("price", "equals", 200)) == ["c"]
    assert find(api, c("price", "equals", "200")) == ["c"]  # BA sends numbers as strings
    # `not equal` includes things where the field is empty (d has no price).
    assert find(api, c("price", "not equal", "200")) == ["a", "b", "d", "e"]


def test_equals_on_text_option_and_yes_no(api: Api, units: dict[str, str]) -> None:
    assert find(api, c("name", "equals", "Bravo")) == ["b"]
    assert find(api, c("name", "equals", "bravo")) == []  # strict equality
    assert find(api, c("name", "not equal", "Bravo")) == ["a", "c", "d", "e"]
    assert find(api, c("status", "equals", "Rented")) == ["b", "c"]
    assert find(api, c("active", "equals", "False")) == ["b"]  # BA sends str(bool)
    assert find(api, c("active", "equals", True)) == ["a", "c", "d", "e"]
    assert find(api, c("active", "equals", "yes")) == ["a", "c", "d", "e"]


def test_emptiness(api: Api, units: dict[str, str]) -> None:
    for kind, expected in [
        ("is_empty", ["d"]),
        ("is empty", ["d"]),
        ("is_not_empty", ["a", "b", "c", "e"]),
        ("is not empty", ["a", "b", "c", "e"]),
    ]:
        assert find(api, c("price", kind)) == expected, kind


def test_emptiness_on_text_and_date(api: Api, units: dict[str, str]) -> None:
    assert find(api, c("name", "is_empty")) == ["e"]
    assert find(api, c("available from", "is_empty")) == ["c"]
    assert find(api, c("available from", "is_not_empty")) == ["a", "b", "d", "e"]


def test_greater_and_less_than_on_number(api: Api, units: dict[str, str]) -> None:
    assert find(api, c("price", "greater than", 100)) == ["b", "c"]
    assert find(api, c("price", "greater than", "100")) == ["b", "c"]
    assert find(api, c("price", "less than", "200")) == ["a", "e"]  # empty d is not < 200
    assert find(api, c("price", "greater than", 60), c("bedrooms", "equals", 2)) == ["a", "c"]


def test_greater_and_less_than_on_date(api: Api, units: dict[str, str]) -> None:
    # BA formats datetimes with 6 fraction digits.
    assert find(api, c("available from", "greater than", "2024-01-15T00:00:00.000000Z")) == [
        "b",
        "d",
        "e",
    ]
    assert find(api, c("available from", "less than", "2024-02-10T00:00:00.000000Z")) == [
        "a",
        "d",
    ]
    assert find(api, c("available from", "greater than", "2024-02-15")) == ["b", "e"]
    assert find(api, c("available from", "less than", "2024-02-01T00:00:00Z")) == ["a"]


def test_greater_and_less_than_on_text(api: Api, units: dict[str, str]) -> None:
    assert find(api, c("name", "greater than", "Bravo")) == ["c", "d"]
    assert find(api, c("name", "less than", "Charlie")) == ["a", "b"]


def test_id_equals(api: Api, units: dict[str, str]) -> None:
    assert find(api, c("_id", "equals", units["c"])) == ["c"]
    assert find(api, c("_id", "equals", "1x2")) == []


def test_constraint_without_value_is_ignored(api: Api, units: dict[str, str]) -> None:
    # "Constraints with an undefined value are ignored" (seed 004).
    missing = {"key": "price", "constraint_type": "greater than"}
    explicit_null = {**missing, "value": None}
    assert find(api, missing) == ["a", "b", "c", "d", "e"]
    assert find(api, explicit_null) == ["a", "b", "c", "d", "e"]
    assert find(api, explicit_null, c("name", "equals", "Delta")) == ["d"]


def test_constraint_key_spellings(api: Api, units: dict[str, str]) -> None:
    for key in ("available from", "availablefrom", "Available From", "available_from_date"):
        assert find(api, c(key, "greater than", "2024-02-10T00:00:00Z")) == ["b", "e"], key
        assert find(api, sort_field=key) == ["a", "d", "e", "b", "c"], key


def test_constraint_key_by_id_key(api: Api, units: dict[str, str]) -> None:
    assert find(api, c("price_number", "equals", 300)) == ["b"]
    assert find(api, c("name_text", "equals", "Alpha")) == ["a"]
    assert find(api, c("status_option_unit_status", "equals", "Unlisted")) == ["d"]
    assert find(api, sort_field="price_number", descending="true") == ["b", "c", "a", "e", "d"]


def test_unknown_constraint_key_is_400(api: Api, units: dict[str, str]) -> None:
    r = api.client.get(
        f"{BASE}/rentalunit",
        params={"constraints": '[{"key": "colour", "constraint_type": "equals", "value": "red"}]'},
        headers=api.auth,
    )
    assert r.status_code == 400
    assert r.json() == {
        "statusCode": 400,
        "body": {"status": "ERROR", "message": "Unrecognized field: colour"},
    }


BAD_CONSTRAINTS = [
    (
        '[{"key": "name", "constraint_type": "sounds like", "value": "x"}]',
        "Unknown constraint type: sounds like",
    ),
    (
        '[{"key": "price", "constraint_type": "text contains", "value": "x"}]',
        "Constraint type 'text contains' needs a text field; price is a number",
    ),
    (
        '[{"key": "name", "constraint_type": "equals", "value": "x"',  # malformed JSON
        "Invalid constraints: not valid JSON",
    ),
    (
        '{"key": "name", "constraint_type": "equals", "value": "x"}',  # not an array
        "Invalid constraints: expected a JSON array",
    ),
    ("[1]", None),
    ('[{"key": "name", "value": "x"}]', None),  # no constraint_type
]


def test_bad_constraints_are_400(api: Api, units: dict[str, str]) -> None:
    for constraints, message in BAD_CONSTRAINTS:
        r = api.client.get(
            f"{BASE}/rentalunit", params={"constraints": constraints}, headers=api.auth
        )
        body = assert_shape_a(r, 400, "ERROR")
        if message is not None:
            assert body["body"]["message"] == message


WRONG_FIELD_TYPE = [
    ("name", "contains", "a list field; name is a text"),
    ("name", "empty", "a list field; name is a text"),
    ("photos", "in", "a field that is not a list; photos is a list of image"),
    ("price", "not text contains", "a text field; price is a number"),
    ("name", "geographic_search", "a geographic address field; name is a text"),
    ("status", "greater than", "a text, number or date field; status is a Unit Status"),
]


def test_constraint_on_the_wrong_field_type_is_400(api: Api, units: dict[str, str]) -> None:
    for key, kind, needs in WRONG_FIELD_TYPE:
        constraint = {"key": key, "constraint_type": kind, "value": ["x"]}
        r = api.client.get(
            f"{BASE}/rentalunit", params={"constraints": json([constraint])}, headers=api.auth
        )
        body = assert_shape_a(r, 400, "ERROR")
        assert body["body"]["message"] == f"Constraint type '{kind}' needs {needs}"


def test_constraint_type_case_and_spaces(api: Api, units: dict[str, str]) -> None:
    assert find(api, c("price", "Greater  Than", 250)) == ["b"]
    assert find(api, c("price", "IS_EMPTY")) == ["d"]


def test_constraint_value_of_wrong_type_is_invalid_data(api: Api, units: dict[str, str]) -> None:
    r = api.client.get(
        f"{BASE}/rentalunit",
        params={"constraints": '[{"key": "price", "constraint_type": "equals", "value": "abc"}]'},
        headers=api.auth,
    )
    assert r.status_code == 400
    assert r.json() == shape_a(
        400, "INVALID_DATA", "Invalid data for field price: could not parse this as a number"
    )


def test_empty_constraints_array(api: Api, units: dict[str, str]) -> None:
    # BD may send constraints=[].
    assert search(api, "rentalunit", constraints=[])["count"] == 5


def test_malformed_limit_or_cursor_is_400(api: Api, units: dict[str, str]) -> None:
    for params in ({"limit": "abc"}, {"cursor": "x"}):
        r = api.client.get(f"{BASE}/rentalunit", params=params, headers=api.auth)
        body = assert_shape_a(r, 400, "ERROR")
        assert body["body"]["message"] == f"Invalid number: {next(iter(params.values()))}"
    r = api.client.get(
        f"{BASE}/rentalunit", params={"additional_sort_fields": "{"}, headers=api.auth
    )
    assert_shape_a(r, 400, "ERROR")


def test_decimal_limit_and_cursor_are_truncated(api: Api, units: dict[str, str]) -> None:
    page = search(api, "rentalunit", limit="2.9", cursor="1.5", sort_field="description")
    assert page["cursor"] == 1 and labels(page) == ["b", "c"]


def test_limit_zero_or_negative(api: Api, units: dict[str, str]) -> None:
    for limit in ("0", "-1"):
        page = search(api, "rentalunit", limit=limit)
        assert page == {"cursor": 0, "results": [], "count": 0, "remaining": 5}


def test_random_sorting(api: Api, units: dict[str, str]) -> None:
    page = search(
        api,
        "rentalunit",
        sort_field="_random_sorting",
        additional_sort_fields=[{"sort_field": "photos"}],  # ignored with random order
    )
    assert sorted(labels(page)) == ["a", "b", "c", "d", "e"]


def test_huge_cursor_is_past_the_end(api: Api, units: dict[str, str]) -> None:
    # A cursor past the end answers 200 with no results (BC stops on an empty page), however large.
    for cursor in (2**31, 2**63, 10**22):
        r = api.client.get(f"{BASE}/rentalunit", params={"cursor": cursor}, headers=api.auth)
        assert r.status_code == 200, (cursor, r.text)
        page = r.json()["response"]
        assert page["results"] == [] and page["count"] == 0 and page["remaining"] == 0


def test_huge_limit_is_capped(api: Api, units: dict[str, str]) -> None:
    # "larger values silently capped to 100" (bubble-wire.md §4.2)
    for limit in ("1000", "1e3", "2147483647", str(10**30), "1e400"):
        r = api.client.get(f"{BASE}/rentalunit", params={"limit": limit}, headers=api.auth)
        assert r.status_code == 200, (limit, r.text)
        assert r.json()["response"]["count"] == 5


SORTABLE = """
name: sortable
settings:
  data_api:
    expose: [Item]
option_sets:
  Grade: [b, B, a, A]
types:
  Item:
    fields:
      label: text
      grade: Grade
      flag: yes/no
      place: geographic address
"""


def test_texts_options_and_addresses_sort_bytewise(databases: Databases) -> None:
    # docs/data-api.md "Order": byte-wise on both databases (`B` before `a`), whatever the
    # database collation; yes/no sorts false before true.
    api = make_api(databases, SORTABLE)
    values = ["b", "B", "a", "A"]
    bulk_create(
        api,
        "item",
        [{"label": v, "grade": v, "place": v, "flag": v in ("a", "b")} for v in values],
    )
    for key in ("label", "grade", "place"):
        page = search(api, "item", sort_field=key)
        assert [t["label"] for t in page["results"]] == ["A", "B", "a", "b"], key
        page = search(api, "item", sort_field=key, descending="true")
        assert [t["label"] for t in page["results"]] == ["b", "a", "B", "A"], key
    page = search(api, "item", sort_field="flag", additional_sort_fields=[{"sort_field": "label"}])
    assert [t["label"] for t in page["results"]] == ["A", "B", "a", "b"]
    assert [t["flag"] for t in page["results"]] == [False, False, True, True]
    less = search(
        api, "item", constraints=[{"key": "label", "constraint_type": "less than", "value": "a"}]
    )
    assert sorted(t["label"] for t in less["results"]) == ["A", "B"]
