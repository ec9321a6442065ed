"""Values in (lenient coercion) and out (API 1.1 formats) for every field type, through the API.

Seed 003 "Sending Data" and "API Versions"; bubble-wire.md §4.3, §5.3, §6.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from burble.runtime import Databases
from tests.api.support import BASE, assert_shape_a, create, get, search
from tests.conftest import Api, make_api

EVERYTHING = """
name: values
settings:
  data_api:
    expose: [Sample, User]
option_sets:
  Color: [Red, Green, Blue]
types:
  Sample:
    fields:
      title: text
      amount: number
      span: numeric range
      when: date
      period: date range
      flag: yes/no
      place: geographic address
      doc: file
      picture: image
      person: User
      other: Sample
      color: Color
      tags: list of texts
      amounts: list of numbers
      colors: list of Colors
      pictures: list of images
      days: list of dates
      people: list of Users
"""


@pytest.fixture
def vapi(databases: Databases) -> Api:
    return make_api(databases, EVERYTHING)


def roundtrip(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """POST the body, GET the thing back; the search result must be the same object."""
    uid = create(api, "sample", body)
    thing = get(api, "sample", uid)
    found = search(
        api, "sample", constraints=[{"key": "_id", "constraint_type": "equals", "value": uid}]
    )
    assert found["results"] == [thing]
    return thing


def one(api: Api, key: str, value: Any) -> Any:
    """The value read back after writing `value` to `key` (KeyError if omitted)."""
    return roundtrip(api, {key: value})[key]


NUMBERS: list[tuple[Any, float]] = [
    ("1200", 1200),
    (" 42 ", 42),
    ("12.5", 12.5),
    ("-0.25", -0.25),
    ("1e3", 1000),
    (7, 7),
    (3.0, 3),
    (0, 0),
    ("0", 0),
    (1234567.891, 1234567.891),
]


def test_number(vapi: Api) -> None:
    for sent, expected in NUMBERS:
        got = one(vapi, "amount", sent)
        assert got == expected, sent
        assert type(got) is type(expected), sent  # 3, not 3.0


YES_NO = [
    ("true", True),
    ("True", True),
    ("yes", True),
    (True, True),
    ("false", False),
    ("False", False),
    ("no", False),
    (False, False),
]


def test_yes_no(vapi: Api) -> None:
    for sent, expected in YES_NO:
        assert one(vapi, "flag", sent) is expected, sent  # false is a value, not an empty field


DATES: list[tuple[Any, str]] = [
    ("2016-01-13T21:45:09Z", "2016-01-13T21:45:09.000Z"),
    ("2016-01-13T21:45:09.123Z", "2016-01-13T21:45:09.123Z"),
    ("2016-01-13T21:45:09.123456Z", "2016-01-13T21:45:09.123Z"),  # BA: 6 digits
    ("2016-01-13T21:45:09", "2016-01-13T21:45:09.000Z"),  # naive: UTC (BC, BD)
    ("2016-01-13T16:45:09-05:00", "2016-01-13T21:45:09.000Z"),
    ("2016-01-13T22:45:09.5+01:00", "2016-01-13T21:45:09.500Z"),
    ("2016-01-13", "2016-01-13T00:00:00.000Z"),
    ("Wed Jan 13 2016", "2016-01-13T00:00:00.000Z"),
    ("01/13/2016", "2016-01-13T00:00:00.000Z"),
    ("Wed Jan 13 2016 16:45:09 GMT-0500 (EST)", "2016-01-13T21:45:09.000Z"),
    (1453398788637, "2016-01-21T17:53:08.637Z"),
    ("1453398788637", "2016-01-21T17:53:08.637Z"),
]


def test_date(vapi: Api) -> None:
    for sent, expected in DATES:
        assert one(vapi, "when", sent) == expected, sent


def test_date_range(vapi: Api) -> None:
    for sent in (
        {"start": "2024-01-01", "end": "2024-01-05T12:00:00Z"},
        ["2024-01-01T00:00:00.000Z", "2024-01-05T12:00:00.000000Z"],
        {"start": 1704067200000, "end": "1704456000000"},
    ):
        assert one(vapi, "period", sent) == {
            "start": "2024-01-01T00:00:00.000Z",
            "end": "2024-01-05T12:00:00.000Z",
        }, sent


def test_numeric_range(vapi: Api) -> None:
    for sent in ({"start": 1, "end": "5.5"}, [1, 5.5], ["1", "5.5"]):
        got = one(vapi, "span", sent)
        assert got == {"start": 1, "end": 5.5}, sent
        assert type(got["start"]) is int


def test_numeric_range_in_example_app(api: Api) -> None:
    uid = create(api, "rentalunit", {"price range": [100, 250]})
    assert get(api, "rentalunit", uid)["price range"] == {"start": 100, "end": 250}


def test_address_object(vapi: Api) -> None:
    sent = {"address": "33 Nassau Avenue, Brooklyn, NY 11222", "lat": 40.72, "lng": -73.95}
    assert one(vapi, "place", sent) == sent
    got = one(
        vapi, "place", {"address": "Les Ferreys, 14130, France", "lat": 49.19959, "lng": 0.19707}
    )
    assert got == {"address": "Les Ferreys, 14130, France", "lat": 49.19959, "lng": 0.19707}


def test_address_string_and_coordinates_only(vapi: Api) -> None:
    assert one(vapi, "place", "1 Main St") == {"address": "1 Main St"}
    assert one(vapi, "place", {"lat": "51.5", "lng": -0.1}) == {"lat": 51.5, "lng": -0.1}


def test_text(vapi: Api) -> None:
    assert one(vapi, "title", "Hello, wörld 👋") == "Hello, wörld 👋"
    assert one(vapi, "title", "  padded  ") == "  padded  "
    assert one(vapi, "title", 5) == "5"


def test_list_of_texts(vapi: Api) -> None:
    assert one(vapi, "tags", ["b", "a", "b"]) == ["b", "a", "b"]  # order and duplicates kept
    assert one(vapi, "tags", "single") == ["single"]


def test_list_of_numbers_and_dates(vapi: Api) -> None:
    got = one(vapi, "amounts", ["1", 2.5, 3])
    assert got == [1, 2.5, 3] and type(got[0]) is int
    assert one(vapi, "days", ["2016-01-13", 1453398788637]) == [
        "2016-01-13T00:00:00.000Z",
        "2016-01-21T17:53:08.637Z",
    ]


def test_option_and_list_of_options(vapi: Api) -> None:
    assert one(vapi, "color", "Green") == "Green"
    assert one(vapi, "colors", ["Blue", "Red"]) == ["Blue", "Red"]
    r = vapi.client.post(f"{BASE}/sample", json={"colors": ["Blue", "Pink"]}, headers=vapi.auth)
    assert r.status_code == 400
    assert r.json()["body"] == {
        "status": "INVALID_DATA",
        "message": "Invalid data for field colors: could not parse this as a Color",
    }


def test_option_in_example_app(api: Api) -> None:
    uid = create(api, "rentalunit", {"amenities": ["Wifi", "Air conditioning"], "status": "Rented"})
    thing = get(api, "rentalunit", uid)
    assert thing["amenities"] == ["Wifi", "Air conditioning"]
    assert thing["status"] == "Rented"


def test_references_by_id(vapi: Api) -> None:
    user = create(vapi, "user", {"email": "owner@example.com"})
    other = create(vapi, "sample", {"title": "other"})
    thing = roundtrip(vapi, {"person": user, "other": other, "people": [user]})
    assert thing["person"] == user
    assert thing["other"] == other
    assert thing["people"] == [user]


def test_reference_in_example_app(api: Api) -> None:
    user = create(api, "user", {"email": "owner@example.com", "name": "Olive"})
    unit = create(api, "rentalunit", {"owner": user})
    assert get(api, "rentalunit", unit)["owner"] == user
    booking = create(api, "booking", {"unit": unit, "guest": user, "nights": "3"})
    got = get(api, "booking", booking)
    assert (got["unit"], got["guest"], got["nights"], got["paid"]) == (unit, user, 3, False)


def test_reference_must_look_like_a_unique_id(vapi: Api) -> None:
    # Only the shape is checked (docs/data-api.md "References are not looked up").
    for body in ({"person": "bob"}, {"person": 12}, {"people": ["1x2", "nope"]}):
        r = vapi.client.post(f"{BASE}/sample", json=body, headers=vapi.auth)
        assert_shape_a(r, 400, "INVALID_DATA")


def test_text_with_nul_character_is_not_500(vapi: Api) -> None:
    # PostgreSQL cannot store U+0000 in text; the answer must still be a clean one, the same
    # on every backend: stored and returned as sent, or refused with 400 INVALID_DATA.
    for body in ({"title": "a\u0000b"}, {"tags": ["a\u0000b"]}):
        r = vapi.client.post(f"{BASE}/sample", json=body, headers=vapi.auth)
        assert r.status_code in (201, 400), (body, r.text)
        if r.status_code == 201:
            thing = get(vapi, "sample", r.json()["id"])
            key = next(iter(body))
            assert thing[key] == body[key]
        else:
            assert_shape_a(r, 400, "INVALID_DATA")
    constraint = '[{"key": "title", "constraint_type": "equals", "value": "a\\u0000b"}]'
    r = vapi.client.get(f"{BASE}/sample", params={"constraints": constraint}, headers=vapi.auth)
    assert r.status_code in (200, 400), r.text


def test_image_and_file_urls(vapi: Api) -> None:
    for url in (
        "//s3.amazonaws.com/appforest_uf/f1654532240098x456360325454682430/Belluno.png",
        "https://abc123.cdn.bubble.io/f1700000000000x1/photo.jpg",
    ):
        thing = roundtrip(vapi, {"picture": url, "doc": url, "pictures": [url, url]})
        assert thing["picture"] == url
        assert thing["doc"] == url
        assert thing["pictures"] == [url, url]


KEYS = [
    "title",
    "amount",
    "span",
    "when",
    "period",
    "flag",
    "place",
    "doc",
    "picture",
    "person",
    "other",
    "color",
    "tags",
    "amounts",
    "colors",
    "pictures",
    "days",
    "people",
]


def test_empty_values_are_omitted(vapi: Api) -> None:
    for empty in (None, "", []):
        thing = roundtrip(vapi, dict.fromkeys(KEYS, empty))
        assert set(thing) == {"_id", "Created Date", "Modified Date", "Created By"}, empty


def test_empty_items_in_lists_are_dropped(vapi: Api) -> None:
    assert one(vapi, "tags", ["a", None, "", "b"]) == ["a", "b"]
    thing = roundtrip(vapi, {"tags": [None, ""], "title": "x"})
    assert "tags" not in thing


FULL = {
    "title": "Full",
    "amount": 5,
    "span": [1, 2],
    "when": "2024-01-01",
    "period": ["2024-01-01", "2024-01-02"],
    "flag": False,
    "place": {"address": "Somewhere", "lat": 1.5, "lng": 2.5},
    "doc": "//x/doc.pdf",
    "picture": "//x/p.png",
    "color": "Red",
    "tags": ["a"],
    "amounts": [1],
    "colors": ["Blue"],
    "pictures": ["//x/q.png"],
    "days": ["2024-01-03"],
}


def test_patch_with_empty_clears_fields(vapi: Api) -> None:
    cleared = [k for k in FULL if k != "title"]
    for empty in (None, "", []):
        uid = create(vapi, "sample", FULL)
        assert set(FULL) <= set(get(vapi, "sample", uid))
        r = vapi.client.patch(
            f"{BASE}/sample/{uid}", json=dict.fromkeys(cleared, empty), headers=vapi.auth
        )
        assert r.status_code == 204
        thing = get(vapi, "sample", uid)
        assert thing["title"] == "Full"
        for key in cleared:
            assert key not in thing, (key, empty)
        found = search(
            vapi,
            "sample",
            constraints=[
                {"key": "amount", "constraint_type": "is_empty"},
                {"key": "_id", "constraint_type": "equals", "value": uid},
            ],
        )
        assert [t["_id"] for t in found["results"]] == [uid]


def test_patch_replaces_lists_wholesale(vapi: Api) -> None:
    uid = create(vapi, "sample", {"tags": ["a", "b"]})
    r = vapi.client.patch(f"{BASE}/sample/{uid}", json={"tags": ["c"]}, headers=vapi.auth)
    assert r.status_code == 204
    assert get(vapi, "sample", uid)["tags"] == ["c"]


def test_put_keeps_nothing_but_what_is_sent(vapi: Api) -> None:
    uid = create(vapi, "sample", FULL)
    r = vapi.client.put(f"{BASE}/sample/{uid}", json={"amount": "9"}, headers=vapi.auth)
    assert r.status_code == 204
    thing = get(vapi, "sample", uid)
    assert thing["amount"] == 9
    assert set(thing) == {"_id", "Created Date", "Modified Date", "Created By", "amount"}


def test_builtin_formats(vapi: Api) -> None:
    thing = roundtrip(vapi, {"title": "x"})
    for key in ("Created Date", "Modified Date"):
        assert len(thing[key]) == 24 and thing[key].endswith("Z") and thing[key][19] == "."
    assert thing["Created By"] == "admin_user_values_test"


def test_patch_and_put_update_modified_date_only(vapi: Api) -> None:
    uid = create(vapi, "sample", {"title": "x"})
    before = get(vapi, "sample", uid)
    assert before["Modified Date"] == before["Created Date"]
    for method in ("PATCH", "PUT"):
        time.sleep(0.003)
        r = vapi.client.request(
            method, f"{BASE}/sample/{uid}", json={"title": method}, headers=vapi.auth
        )
        assert r.status_code == 204
        after = get(vapi, "sample", uid)
        assert after["Modified Date"] > before["Modified Date"], method
        assert after["Created Date"] == before["Created Date"]
        assert after["Created By"] == before["Created By"]
        before = after
    found = search(vapi, "sample", sort_field="Modified Date", descending="true")
    assert found["results"][0]["_id"] == uid
