"""Sending data (seed 003): addresses as text are geocoded; things are sent by id and must
exist with the field's type. And the seed's example search: cafes within 10 miles of New York."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from burble.runtime import Databases
from tests.api.support import BASE, assert_shape_a, bulk_body, create, get
from tests.conftest import Api, make_api

APP = """
name: places
settings:
  data_api: {expose: [Coffee Shop, Review, User]}
types:
  Coffee Shop:
    fields:
      name: text
      address: geographic address
      stops: list of geographic addresses
      owner: User
  Review:
    fields:
      shop: Coffee Shop
      shops: list of Coffee Shops
"""


@pytest.fixture
def places(databases: Databases) -> Api:
    return make_api(databases, APP)


def test_address_text_is_geocoded_offline(places: Api) -> None:
    uid = create(places, "coffeeshop", {"name": "Cafe Central", "address": "New York"})
    address = get(places, "coffeeshop", uid)["address"]
    assert address["address"] == "New York"
    assert abs(address["lat"] - 40.71) < 0.2 and abs(address["lng"] + 74.01) < 0.2


def test_address_that_cannot_be_found_is_kept_without_coordinates(places: Api) -> None:
    uid = create(places, "coffeeshop", {"address": "Nowhere Special 12", "stops": ["Paris, TX"]})
    thing = get(places, "coffeeshop", uid)
    assert thing["address"] == {"address": "Nowhere Special 12"}
    assert abs(thing["stops"][0]["lat"] - 33.66) < 0.2  # Paris, Texas, not Paris, France


def search(api: Api, *constraints: dict[str, Any], **params: str) -> list[str]:
    r = api.client.get(
        f"{BASE}/coffeeshop",
        params={"constraints": orjson.dumps(list(constraints)).decode(), **params},
        headers=api.auth,
    )
    assert r.status_code == 200, r.text
    return [t.get("name", "") for t in r.json()["response"]["results"]]


def test_the_seeds_example_search(places: Api) -> None:
    for name, address in [
        ("Cafe Central", "Brooklyn, NY"),
        ("Cafe Luna", "Philadelphia"),
        ("Tea House", "Jersey City"),
        ("Cafe Paris", "Paris, France"),
    ]:
        create(places, "coffeeshop", {"name": name, "address": address})
    near_ny = {"range": 10, "origin_address": "New York"}
    found = search(
        places,
        {"key": "name", "constraint_type": "text contains", "value": "cafe"},
        {"key": "address", "constraint_type": "geographic_search", "value": near_ny},
    )
    assert found == ["Cafe Central"]
    wide = {"range": 150, "origin_address": "New York", "unit": "km"}
    assert sorted(
        search(places, {"key": "address", "constraint_type": "geographic_search", "value": wide})
    ) == ["Cafe Central", "Cafe Luna", "Tea House"]
    by_distance = search(places, sort_field="address", geo_reference="Philadelphia")
    assert by_distance == ["Cafe Luna", "Tea House", "Cafe Central", "Cafe Paris"]


def test_unknown_origin_address_is_400(places: Api) -> None:
    r = places.client.get(
        f"{BASE}/coffeeshop",
        params={
            "constraints": orjson.dumps(
                [
                    {
                        "key": "address",
                        "constraint_type": "geographic_search",
                        "value": {"range": 5, "origin_address": "Atlantis Under The Sea"},
                    }
                ]
            ).decode()
        },
        headers=places.auth,
    )
    body = assert_shape_a(r, 400, "INVALID_DATA")
    assert "could not find the address" in body["body"]["message"]


def test_references_must_exist_and_have_the_fields_type(places: Api) -> None:
    shop = create(places, "coffeeshop", {"name": "A"})
    review = create(places, "review", {"shop": shop, "shops": [shop]})
    assert get(places, "review", review)["shop"] == shop

    missing = "1671702337369x488321592367327900"
    for body, field in (
        ({"shop": missing}, "shop"),
        ({"shop": review}, "shop"),  # a Review's id where a Coffee Shop is expected
        ({"shops": [shop, missing]}, "shops"),
    ):
        r = places.client.post(f"{BASE}/review", json=body, headers=places.auth)
        error = assert_shape_a(r, 400, "INVALID_DATA")
        assert error["body"]["message"].startswith(f"Invalid data for field {field}: ")
        assert "there is no Coffee Shop with id" in error["body"]["message"]

    r = places.client.patch(f"{BASE}/review/{review}", json={"shop": missing}, headers=places.auth)
    assert_shape_a(r, 400, "INVALID_DATA")
    assert get(places, "review", review)["shop"] == shop  # unchanged

    r = places.client.post(
        f"{BASE}/review/bulk",
        content=bulk_body([{"shop": shop}, {"shop": missing}]),
        headers={**places.auth, "Content-Type": "text/plain"},
    )
    assert r.status_code == 400
    lines = [orjson.loads(line) for line in r.text.split("\n")]
    assert lines[0]["status"] == "success"
    assert lines[1] == {
        "status": "error",
        "message": f"Invalid data for field shop: there is no Coffee Shop with id {missing}",
    }
    assert get(places, "review", lines[0]["id"])["shop"] == shop
