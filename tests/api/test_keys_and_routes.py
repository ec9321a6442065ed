"""Key styles, typename matching, URL layout, Live vs Development, token transport.

bubble-wire.md §1 (URL layout, typenames, field keys) and §2 (authentication).
"""

from __future__ import annotations

import pytest

from burble.appdef.model import KeyStyle
from burble.runtime import Databases
from tests.api.support import BASE, LIVE, assert_shape_a, create, get, search, shape_a
from tests.conftest import Api, make_api


@pytest.fixture
def id_api(databases: Databases, example_text: str) -> Api:
    assert "keys: display" in example_text
    return make_api(databases, example_text.replace("keys: display", "keys: id"))


def id_key(api: Api, type_name: str, field_name: str) -> str:
    """The id-style key, built from the field type's Bubble suffix."""
    field = api.runtime.test.definition.types[type_name].by_name[field_name]
    key = field_name.lower().replace(" ", "_") + "_" + field.type.id_suffix()
    assert key == field.id_key
    return key


def test_id_suffixes(id_api: Api) -> None:
    assert id_api.runtime.test.definition.settings.keys is KeyStyle.ID
    expected = {
        "name": "name_text",
        "price": "price_number",
        "owner": "owner_user",
        "status": "status_option_unit_status",
        "amenities": "amenities_list_option_amenity",
        "photos": "photos_list_image",
        "floor plan": "floor_plan_file",
        "active": "active_boolean",
        "available from": "available_from_date",
        "price range": "price_range_number_range",
        "address": "address_geographic_address",
    }
    for name, key in expected.items():
        assert id_key(id_api, "Rental Unit", name) == key
    assert id_key(id_api, "Booking", "unit") == "unit_custom_rental_unit"
    assert id_key(id_api, "Booking", "notes") == "notes_list_text"
    assert id_key(id_api, "Booking", "stay") == "stay_date_range"


def test_id_keys_on_read_and_write(id_api: Api) -> None:
    user = create(id_api, "user", {"email": "o@example.com", "name_text": "Olive"})
    body = {
        "name_text": "Loft",
        "price_number": "1200",
        "owner_user": user,
        "status_option_unit_status": "Rented",
        "amenities_list_option_amenity": ["Wifi"],
        "available_from_date": "2024-01-01",
    }
    uid = create(id_api, "rentalunit", body)
    thing = get(id_api, "rentalunit", uid)
    assert thing["_id"] == uid
    assert "Created Date" in thing and "Modified Date" in thing  # built-ins keep their names
    assert thing["name_text"] == "Loft"
    assert thing["price_number"] == 1200
    assert thing["owner_user"] == user
    assert thing["status_option_unit_status"] == "Rented"
    assert thing["amenities_list_option_amenity"] == ["Wifi"]
    assert thing["available_from_date"] == "2024-01-01T00:00:00.000Z"
    assert thing["bedrooms_number"] == 1  # default
    assert thing["active_boolean"] is True
    for display in ("name", "price", "owner", "status", "bedrooms", "active"):
        assert display not in thing
    page = search(id_api, "rentalunit")
    assert page["results"] == [thing]
    r = id_api.client.patch(
        f"{BASE}/rentalunit/{uid}", json={"price_number": 900}, headers=id_api.auth
    )
    assert r.status_code == 204
    assert get(id_api, "rentalunit", uid)["price_number"] == 900


def test_id_mode_rejects_display_names_on_write(id_api: Api) -> None:
    uid = create(id_api, "rentalunit", {"name_text": "x"})
    for key in ("name", "price", "Price", "available from", "availablefrom"):
        expected = shape_a(400, "ERROR", f"Unrecognized field: {key}")
        r = id_api.client.post(f"{BASE}/rentalunit", json={key: "1"}, headers=id_api.auth)
        assert r.status_code == 400
        assert r.json() == expected
        r = id_api.client.patch(f"{BASE}/rentalunit/{uid}", json={key: "1"}, headers=id_api.auth)
        assert r.json() == expected
    assert search(id_api, "rentalunit")["count"] == 1


def test_id_mode_search_accepts_every_spelling(id_api: Api) -> None:
    create(id_api, "rentalunit", {"price_number": 5})
    create(id_api, "rentalunit", {"price_number": 50})
    for key in ("price_number", "price", "Price"):
        page = search(
            id_api,
            "rentalunit",
            constraints=[{"key": key, "constraint_type": "greater than", "value": 10}],
            sort_field=key,
        )
        assert [t["price_number"] for t in page["results"]] == [50]


def test_id_mode_error_messages_name_the_field(id_api: Api) -> None:
    r = id_api.client.post(f"{BASE}/rentalunit", json={"price_number": "abc"}, headers=id_api.auth)
    assert_shape_a(r, 400, "INVALID_DATA")


def test_typename_matching(api: Api) -> None:
    for segment in ("rentalunit", "RentalUnit", "Rental%20Unit", "RENTALUNIT", "rentalUNIT"):
        r = api.client.post(f"{BASE}/{segment}", json={"name": segment}, headers=api.auth)
        assert r.status_code == 201, segment
        uid = r.json()["id"]
        r = api.client.get(f"{BASE}/{segment}/{uid}", headers=api.auth)
        assert r.status_code == 200 and r.json()["response"]["name"] == segment
        r = api.client.get(f"{BASE}/{segment}", headers=api.auth)
        assert r.status_code == 200
        # Every spelling reaches the same type.
        assert get(api, "rentalunit", uid)["name"] == segment
    assert search(api, "rentalunit")["count"] == 5


def test_typename_for_user(api: Api) -> None:
    for segment in ("user", "User", "USER"):
        r = api.client.get(f"{BASE}/{segment}", headers=api.auth)
        assert r.status_code == 200


SLASHES = [
    "/version-test//api/1.1/obj/rentalunit/",
    "/version-test/api/1.1/obj/rentalunit/",
    "/version-test/api/1.1//obj//rentalunit",
    "/version-test///api//1.1///obj/rentalunit//",
]


def test_duplicate_and_trailing_slashes(api: Api) -> None:
    for path in SLASHES:
        r = api.client.post(path, json={"name": "slashes"}, headers=api.auth)
        assert r.status_code == 201, (path, r.text)
        uid = r.json()["id"]
        r = api.client.get(path, headers=api.auth)
        assert r.status_code == 200
        assert [t["_id"] for t in r.json()["response"]["results"]] == [uid]
        r = api.client.get(f"{path.rstrip('/')}/{uid}/", headers=api.auth)
        assert r.status_code == 200 and r.json()["response"]["_id"] == uid
        r = api.client.delete(f"{path.rstrip('/')}//{uid}", headers=api.auth)
        assert r.status_code == 204, path
    r = api.client.post(
        "/version-test//api/1.1/obj/rentalunit/bulk/",
        content='{"name": "a"}',
        headers={**api.auth, "Content-Type": "text/plain"},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "text/plain"


def test_live_base_with_duplicate_slashes(both: Api) -> None:
    r = both.client.post("/api/1.1//obj/rentalunit/", json={"name": "x"}, headers=both.auth)
    assert r.status_code == 201
    assert search(both, "rentalunit", base=LIVE)["count"] == 1


def test_unknown_version_is_404(api: Api) -> None:
    for name in ("foo", "1234x5678"):
        path = f"/version-{name}/api/1.1/obj/rentalunit"
        expected = shape_a(404, "NOT_FOUND", f"Unknown version: {name}")
        r = api.client.get(path, headers=api.auth)
        assert r.status_code == 404 and r.json() == expected
        r = api.client.post(path, json={"name": "x"}, headers=api.auth)
        assert r.status_code == 404 and r.json() == expected
    assert search(api, "rentalunit")["count"] == 0


def test_other_characters_are_kept_in_typenames(api: Api) -> None:
    for segment in ("rental_unit", "rental-unit", "rentalunits"):
        r = api.client.get(f"{BASE}/{segment}", headers=api.auth)
        assert r.status_code == 404
        assert r.json() == shape_a(404, "NOT_FOUND", f"Type not found {segment}")


@pytest.fixture
def both(databases: Databases, example_text: str) -> Api:
    """Live deployed with the example definition; Development on the same one."""
    return make_api(databases, example_text, deploy_live=True)


def test_version_live_is_live(both: Api) -> None:
    uid = create(both, "rentalunit", {"name": "live one"}, base=LIVE)
    r = both.client.get(f"/version-live/api/1.1/obj/rentalunit/{uid}", headers=both.auth)
    assert r.status_code == 200 and r.json()["response"]["name"] == "live one"
    r = both.client.post(
        "/version-live/api/1.1/obj/rentalunit", json={"name": "live two"}, headers=both.auth
    )
    assert r.status_code == 201
    names = sorted(t["name"] for t in search(both, "rentalunit", base=LIVE)["results"])
    assert names == ["live one", "live two"]
    assert search(both, "rentalunit")["count"] == 0  # not in Development


def test_live_and_development_are_separate(both: Api) -> None:
    dev = create(both, "rentalunit", {"name": "dev"})
    live = create(both, "rentalunit", {"name": "live"}, base=LIVE)
    dev_page = search(both, "rentalunit")
    live_page = search(both, "rentalunit", base=LIVE)
    assert [t["_id"] for t in dev_page["results"]] == [dev]
    assert [t["_id"] for t in live_page["results"]] == [live]
    missing = both.client.get(f"{LIVE}/rentalunit/{dev}", headers=both.auth)
    assert_shape_a(missing, 404, "MISSING_DATA")
    missing = both.client.get(f"{BASE}/rentalunit/{live}", headers=both.auth)
    assert_shape_a(missing, 404, "MISSING_DATA")
    r = both.client.delete(f"{LIVE}/rentalunit/{dev}", headers=both.auth)
    assert r.status_code == 404
    assert get(both, "rentalunit", dev)["name"] == "dev"
    # Bulk goes to the environment of the URL, too.
    r = both.client.post(
        f"{LIVE}/rentalunit/bulk",
        content='{"name": "bulk live"}',
        headers={**both.auth, "Content-Type": "text/plain"},
    )
    assert r.status_code == 200
    assert search(both, "rentalunit", base=LIVE)["count"] == 2
    assert search(both, "rentalunit")["count"] == 1


def test_users_are_per_environment(both: Api) -> None:
    create(both, "user", {"email": "same@example.com"})
    # The same email is free in the other environment.
    create(both, "user", {"email": "same@example.com"}, base=LIVE)


def test_tokens_work_in_both_environments(both: Api) -> None:
    for base in (BASE, LIVE, "/version-live/api/1.1/obj"):
        create(both, "rentalunit", {"name": base}, base=base)
        r = both.client.get(f"{base}/rentalunit", params={"api_token": both.token})
        assert r.status_code == 200
        assert r.json()["response"]["count"] >= 1


def test_api_token_query_parameter(api: Api) -> None:
    uid = create(api, "rentalunit", {"name": "Loft"})
    q = {"api_token": api.token}
    r = api.client.get(f"{BASE}/rentalunit/{uid}", params=q)
    assert r.status_code == 200 and r.json()["response"]["name"] == "Loft"
    r = api.client.get(f"{BASE}/rentalunit", params=q)
    assert r.json()["response"]["count"] == 1
    r = api.client.post(f"{BASE}/rentalunit", params=q, json={"name": "Studio"})
    assert r.status_code == 201
    r = api.client.patch(f"{BASE}/rentalunit/{uid}", params=q, json={"price": 5})
    assert r.status_code == 204
    r = api.client.post(
        f"{BASE}/rentalunit/bulk",
        params=q,
        content='{"name": "a"}',
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 200
    r = api.client.delete(f"{BASE}/rentalunit/{uid}", params=q)
    assert r.status_code == 204
    # Without any token the same calls see nothing.
    r = api.client.get(f"{BASE}/rentalunit")
    assert r.json()["response"]["count"] == 0


def test_bearer_header_wins_over_query_token(api: Api) -> None:
    create(api, "rentalunit", {"name": "Loft"})
    r = api.client.get(f"{BASE}/rentalunit", params={"api_token": "nonsense"}, headers=api.auth)
    assert r.status_code == 200 and r.json()["response"]["count"] == 1


def test_query_strings_plus_and_percent_encoded(api: Api) -> None:
    # BD/BA send `sort_field=Created+Date`; others use %20.
    for i in range(3):
        create(api, "rentalunit", {"price": i})
    for query in (
        "sort_field=Created+Date&descending=true",
        "sort_field=Created%20Date&descending=true",
    ):
        r = api.client.get(f"{BASE}/rentalunit?{query}", headers=api.auth)
        assert r.status_code == 200
        assert r.json()["response"]["count"] == 3
