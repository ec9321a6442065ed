"""Errors: status codes and bodies (bubble-wire.md §9; seed 004).

Every error is shape A `{"statusCode", "body": {"status", "message"}}`, except a bad token
(shape C). No input here may produce a 500.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from burble.api.app import create_app
from burble.runtime import Databases
from tests.api.support import BASE, LIVE, assert_shape_a, create, get, search, shape_a
from tests.conftest import Api, make_api

UNKNOWN_ID = "1671702337369x488321592367327900"


def test_malformed_json_body(api: Api) -> None:
    r = api.client.post(
        f"{BASE}/rentalunit",
        content=b'{"name": "x",',
        headers={**api.auth, "Content-Type": "application/json"},
    )
    assert r.json() == shape_a(400, "ERROR", "Could not parse the request body as JSON")
    assert search(api, "rentalunit")["count"] == 0


def test_body_not_an_object(api: Api) -> None:
    for body in (b'[{"name": "x"}]', b'"name"', b"42", b"null", b"true"):
        r = api.client.post(
            f"{BASE}/rentalunit",
            content=body,
            headers={**api.auth, "Content-Type": "application/json"},
        )
        assert r.status_code == 400, body
        assert r.json() == shape_a(400, "ERROR", "The request body must be a JSON object")
    assert search(api, "rentalunit")["count"] == 0


def test_empty_body_is_an_empty_object(api: Api) -> None:
    r = api.client.post(f"{BASE}/rentalunit", headers=api.auth)
    assert r.status_code == 201
    thing = get(api, "rentalunit", r.json()["id"])
    assert thing["bedrooms"] == 1 and "name" not in thing


def test_body_too_large_is_413(api: Api) -> None:
    client = TestClient(create_app(api.runtime, max_body_bytes=100))
    r = client.post(f"{BASE}/rentalunit", json={"name": "x" * 200}, headers=api.auth)
    assert_shape_a(r, 413, "ERROR")
    r = client.post(f"{BASE}/rentalunit", json={"name": "small"}, headers=api.auth)
    assert r.status_code == 201


def test_malformed_json_on_patch_and_put(api: Api) -> None:
    uid = create(api, "rentalunit", {"name": "x"})
    for method in ("PATCH", "PUT"):
        r = api.client.request(
            method,
            f"{BASE}/rentalunit/{uid}",
            content=b"{oops",
            headers={**api.auth, "Content-Type": "application/json"},
        )
        assert_shape_a(r, 400, "ERROR")
        r = api.client.request(method, f"{BASE}/rentalunit/{uid}", json=[1], headers=api.auth)
        assert_shape_a(r, 400)
    assert get(api, "rentalunit", uid)["name"] == "x"


def test_unknown_field_on_write(api: Api) -> None:
    r = api.client.post(f"{BASE}/rentalunit", json={"name": "a", "x": 1}, headers=api.auth)
    assert r.status_code == 400
    assert r.json() == shape_a(400, "ERROR", "Unrecognized field: x")
    uid = create(api, "rentalunit", {"name": "a"})
    r = api.client.patch(f"{BASE}/rentalunit/{uid}", json={"x": 1}, headers=api.auth)
    assert r.json() == shape_a(400, "ERROR", "Unrecognized field: x")
    r = api.client.put(f"{BASE}/rentalunit/{uid}", json={"x": 1}, headers=api.auth)
    assert r.json() == shape_a(400, "ERROR", "Unrecognized field: x")


def test_other_key_spellings_rejected_on_write_in_display_mode(api: Api) -> None:
    # Writes must use the display name exactly (bubble-wire.md §1.4).
    for key in ("price_number", "priceNumber", "Price", "availablefrom", "available_from_date"):
        r = api.client.post(f"{BASE}/rentalunit", json={key: 3}, headers=api.auth)
        assert r.status_code == 400
        assert r.json() == shape_a(400, "ERROR", f"Unrecognized field: {key}")
    assert search(api, "rentalunit")["count"] == 0


def test_builtin_keys_rejected_on_write(api: Api) -> None:
    r = api.client.post(f"{BASE}/rentalunit", json={"Slug": "my-slug"}, headers=api.auth)
    assert_shape_a(r, 400)


def test_wrong_value_type(api: Api) -> None:
    r = api.client.post(f"{BASE}/rentalunit", json={"price": "abc"}, headers=api.auth)
    assert r.status_code == 400
    assert r.json() == shape_a(
        400, "INVALID_DATA", "Invalid data for field price: could not parse this as a number"
    )


def test_option_not_in_set(api: Api) -> None:
    r = api.client.post(f"{BASE}/rentalunit", json={"status": "Sold"}, headers=api.auth)
    assert r.status_code == 400
    assert r.json() == shape_a(
        400, "INVALID_DATA", "Invalid data for field status: could not parse this as a Unit Status"
    )
    # Sending a number for an option fails the same way (SPL: "... could not parse this as a Days").
    r = api.client.post(f"{BASE}/rentalunit", json={"status": 1}, headers=api.auth)
    assert r.json()["body"]["message"] == (
        "Invalid data for field status: could not parse this as a Unit Status"
    )


def test_reference_not_an_id(api: Api) -> None:
    r = api.client.post(f"{BASE}/rentalunit", json={"owner": "bob"}, headers=api.auth)
    assert_shape_a(r, 400, "INVALID_DATA")


def test_unknown_type(api: Api) -> None:
    for method, path in [
        ("GET", "foo"),
        ("POST", "foo"),
        ("GET", f"foo/{UNKNOWN_ID}"),
        ("PATCH", f"foo/{UNKNOWN_ID}"),
        ("DELETE", f"foo/{UNKNOWN_ID}"),
        ("POST", "foo/bulk"),
    ]:
        r = api.client.request(method, f"{BASE}/{path}", json={}, headers=api.auth)
        assert r.status_code == 404, (method, path)
        assert r.json() == {
            "statusCode": 404,
            "body": {"status": "NOT_FOUND", "message": "Type not found foo"},
        }


HIDDEN = """
name: hidden
settings:
  data_api:
    expose: [Shown]
types:
  Shown:
    fields:
      name: text
  Secret:
    fields:
      name: text
"""


def test_type_not_exposed(databases: Databases) -> None:
    api = make_api(databases, HIDDEN)
    r = api.client.get(f"{BASE}/shown", headers=api.auth)
    assert r.status_code == 200
    for segment in ("secret", "Secret", "user"):
        r = api.client.get(f"{BASE}/{segment}", headers=api.auth)
        assert r.status_code == 404
        assert r.json() == shape_a(404, "NOT_FOUND", f"Type not found {segment}")
        r = api.client.post(f"{BASE}/{segment}", json={"name": "x"}, headers=api.auth)
        assert r.json() == shape_a(404, "NOT_FOUND", f"Type not found {segment}")


DISABLED = """
name: closed
types:
  Thing:
    fields:
      name: text
"""

DISABLED_EXPLICIT = """
name: closed
settings:
  data_api: {enabled: false, expose: [Thing]}
types:
  Thing:
    fields:
      name: text
"""

NO_DATA_API = shape_a(404, "NOT_FOUND", "This application does not expose a Data API")


@pytest.mark.parametrize("text", [DISABLED, DISABLED_EXPLICIT], ids=["default", "explicit"])
def test_data_api_disabled(databases: Databases, text: str) -> None:
    api = make_api(databases, text)
    for method, path in [
        ("GET", "thing"),
        ("POST", "thing"),
        ("GET", "nosuchtype"),
        ("GET", f"thing/{UNKNOWN_ID}"),
        ("POST", "thing/bulk"),
    ]:
        r = api.client.request(method, f"{BASE}/{path}", json={}, headers=api.auth)
        assert r.status_code == 404, (method, path)
        assert r.json() == NO_DATA_API


def test_live_before_any_deploy(api: Api) -> None:
    for path in ("/api/1.1/obj/rentalunit", "/version-live/api/1.1/obj/rentalunit"):
        r = api.client.get(path, headers=api.auth)
        assert r.status_code == 404
        assert r.json() == NO_DATA_API
    r = api.client.post(f"{LIVE}/rentalunit", json={"name": "x"}, headers=api.auth)
    assert r.json() == NO_DATA_API


BAD_TOKEN = "0123456789abcdefdeadbeefcafebabe"


def _assert_token_401(r: Any) -> None:
    assert r.status_code == 401
    assert r.json() == {
        "error_class": "Unauthorized",
        "args": {"code": "INVALID_TOKEN"},
        "message": None,
        "translation": "Invalid or expired token",
    }
    assert BAD_TOKEN not in r.text  # never echo the credential back (unlike Bubble)


def test_invalid_token(api: Api) -> None:
    bearer = ({"Authorization": f"Bearer {BAD_TOKEN}"}, {})
    query: tuple[dict[str, str], dict[str, str]] = ({}, {"api_token": BAD_TOKEN})
    for headers, params in (bearer, query):
        for method, path in [
            ("GET", f"{BASE}/rentalunit"),
            ("POST", f"{BASE}/rentalunit"),
            ("GET", f"{BASE}/rentalunit/{UNKNOWN_ID}"),
            ("DELETE", f"{BASE}/rentalunit/{UNKNOWN_ID}"),
            ("POST", f"{BASE}/rentalunit/bulk"),
            ("GET", f"{BASE}/nosuchtype"),
            ("GET", f"{LIVE}/rentalunit"),
            ("GET", "/version-test/api/1.1/nothing"),
        ]:
            r = api.client.request(method, path, params=params, json={}, headers=headers)
            _assert_token_401(r)
    assert search(api, "rentalunit")["count"] == 0


def test_invalid_token_checked_before_disabled_data_api(databases: Databases) -> None:
    api = make_api(databases, DISABLED)
    r = api.client.get(f"{BASE}/thing", headers={"Authorization": f"Bearer {BAD_TOKEN}"})
    _assert_token_401(r)
    r = api.client.get(f"{BASE}/thing", params={"api_token": BAD_TOKEN})
    _assert_token_401(r)


def test_revoked_token_is_invalid(api: Api) -> None:
    api.runtime.tokens.revoke("test")
    r = api.client.get(f"{BASE}/rentalunit", headers=api.auth)
    assert r.status_code == 401
    assert api.token not in r.text


def test_wrong_method(api: Api) -> None:
    uid = create(api, "rentalunit", {"name": "Loft"})
    for method, path in [
        ("DELETE", "rentalunit"),
        ("PATCH", "rentalunit"),
        ("PUT", "rentalunit"),
        ("POST", f"rentalunit/{UNKNOWN_ID}"),
        ("POST", f"rentalunit/{uid}"),
    ]:
        r = api.client.request(method, f"{BASE}/{path}", json={"name": "x"}, headers=api.auth)
        body = assert_shape_a(r, 405, "ERROR")
        assert body["body"]["message"] == f"Method {method} is not allowed here"
        allowed = {m.strip() for m in r.headers["allow"].split(",")}
        assert method not in allowed
        expected = {"GET", "POST"} if "/" not in path else {"GET", "PATCH", "PUT", "DELETE"}
        assert allowed == expected
    assert search(api, "rentalunit")["count"] == 1
    assert get(api, "rentalunit", uid)["name"] == "Loft"
    # A GET of /obj/<type>/bulk looks up a thing with id "bulk".
    assert_shape_a(api.client.get(f"{BASE}/rentalunit/bulk", headers=api.auth), 404)


def test_unknown_id(api: Api) -> None:
    expected = shape_a(
        404,
        "MISSING_DATA",
        f"Missing object of type rentalunit: object with id {UNKNOWN_ID} does not exist",
    )
    for method in ("PATCH", "PUT", "DELETE", "GET"):
        r = api.client.request(
            method, f"{BASE}/rentalunit/{UNKNOWN_ID}", json={"name": "x"}, headers=api.auth
        )
        assert r.status_code == 404, method
        assert r.json() == expected, method
    assert search(api, "rentalunit")["count"] == 0


def test_unknown_id_not_shaped_like_an_id(api: Api) -> None:
    r = api.client.get(f"{BASE}/rentalunit/not-an-id", headers=api.auth)
    assert_shape_a(r, 404, "MISSING_DATA")


def test_failed_patch_changes_nothing(api: Api) -> None:
    uid = create(api, "rentalunit", {"name": "Loft", "price": 100})
    before = get(api, "rentalunit", uid)
    for body in (
        {"name": "Changed", "price": "abc"},
        {"price": "abc", "name": "Changed"},
        {"name": "Changed", "colour": "red"},
        {"name": "Changed", "status": "Sold"},
    ):
        r = api.client.patch(f"{BASE}/rentalunit/{uid}", json=body, headers=api.auth)
        assert_shape_a(r, 400)
        r = api.client.put(f"{BASE}/rentalunit/{uid}", json=body, headers=api.auth)
        assert_shape_a(r, 400)
    assert get(api, "rentalunit", uid) == before


SHORT_LISTS = """
name: short
settings:
  data_api:
    expose: [Note]
  max_list_length: 3
types:
  Note:
    fields:
      tags: list of texts
      scores: list of numbers
"""


def test_list_too_long(databases: Databases) -> None:
    api = make_api(databases, SHORT_LISTS)
    uid = create(api, "note", {"tags": ["a", "b", "c"]})
    assert get(api, "note", uid)["tags"] == ["a", "b", "c"]
    expected = shape_a(
        400,
        "LIST_TOO_LONG",
        "Invalid data for field tags: array length exceeds the limit of 3 entries.",
    )
    r = api.client.post(f"{BASE}/note", json={"tags": ["a", "b", "c", "d"]}, headers=api.auth)
    assert r.status_code == 400
    assert r.json() == expected
    r = api.client.patch(
        f"{BASE}/note/{uid}", json={"tags": ["a", "b", "c", "d"]}, headers=api.auth
    )
    assert r.json() == expected
    assert get(api, "note", uid)["tags"] == ["a", "b", "c"]
    r = api.client.post(f"{BASE}/note", json={"scores": [1, 2, 3, 4, 5]}, headers=api.auth)
    assert r.json()["body"]["message"] == (
        "Invalid data for field scores: array length exceeds the limit of 3 entries."
    )


def test_anonymous_writes_are_401(api: Api) -> None:
    uid = create(api, "rentalunit", {"name": "Loft"})
    for method, path, body in [
        ("POST", "rentalunit", {"name": "x"}),
        ("PATCH", f"rentalunit/{uid}", {"name": "x"}),
        ("PUT", f"rentalunit/{uid}", {"name": "x"}),
        ("DELETE", f"rentalunit/{uid}", None),
    ]:
        r = api.client.request(method, f"{BASE}/{path}", json=body)
        err = assert_shape_a(r, 401, "UNAUTHORIZED")
        verb = {"POST": "create", "PATCH": "modify", "PUT": "modify", "DELETE": "delete"}[method]
        assert err["body"]["message"] == (
            f"You are not allowed to {verb} this thing (no privacy rule grants it)"
        )
    assert get(api, "rentalunit", uid)["name"] == "Loft"


def test_anonymous_get_is_404(api: Api) -> None:
    uid = create(api, "rentalunit", {"name": "Loft"})
    r = api.client.get(f"{BASE}/rentalunit/{uid}")
    assert_shape_a(r, 404, "MISSING_DATA")


def test_unknown_routes_are_404(api: Api) -> None:
    for path in (
        "/version-test/api/1.1/obj",
        "/version-test/api/1.1/obj/rentalunit/1x2/extra",
        "/version-test/api/1.1/nothing",
        "/version-test/api/1.2/obj/rentalunit",
        "/version-test/",
        "/",
        "/version-foo/api/1.1/obj/rentalunit",
    ):
        for method in ("GET", "POST"):
            r = api.client.request(method, path, json={}, headers=api.auth)
            assert_shape_a(r, 404, "NOT_FOUND")


def test_no_500_for_odd_inputs(api: Api) -> None:
    uid = create(api, "rentalunit", {"name": "Loft"})
    bodies: list[Any] = [
        {"price": {"nested": 1}},
        {"price": [1, 2]},
        {"price": True},
        {"price": "NaN"},
        {"name": {"a": 1}},
        {"name": ["a"]},
        {"available from": "not a date"},
        {"available from": "2024-02-30"},
        {"available from": 10**30},
        {"available from": True},
        {"price range": {"start": 5, "end": 1}},
        {"price range": [1]},
        {"price range": "1-5"},
        {"address": 12},
        {"address": {"lat": 100, "lng": 0}},
        {"address": {"lat": 1}},
        {"photos": {"filename": "a.png", "contents": "!!"}},
        {"photos": [1, 2]},
        {"floor plan": {"filename": "a.pdf", "privat": True, "contents": "aGk="}},
        {"owner": 12},
        {"owner": ["1x2"]},
        {"active": "maybe"},
        {"active": 2},
        {"amenities": ["Pool"]},
        {"amenities": "Pool"},
        {"status": ["Rented"]},
        {"": 1},
        {"name\u0000": "x"},
    ]
    for body in bodies:
        for method, path in (("POST", "rentalunit"), ("PATCH", f"rentalunit/{uid}")):
            r = api.client.request(method, f"{BASE}/{path}", json=body, headers=api.auth)
            assert r.status_code != 500, (body, r.text)
            assert_shape_a(r, 400)
    for raw in (b'{"price": 1e400}', b'{"price": NaN}', b'{"name": "\\ud800"}', b"\xff\xfe"):
        r = api.client.post(
            f"{BASE}/rentalunit",
            content=raw,
            headers={**api.auth, "Content-Type": "application/json"},
        )
        assert r.status_code != 500, (raw, r.text)
        assert_shape_a(r, 400)
    for params in (
        {"constraints": '[{"key": "price", "constraint_type": "equals", "value": {"a": 1}}]'},
        {"constraints": '[{"key": "price", "constraint_type": "greater than", "value": []}]'},
        {"constraints": '[{"key": "photos", "constraint_type": "greater than", "value": "x"}]'},
        {"constraints": '[{"key": "address", "constraint_type": "greater than", "value": "x"}]'},
        {"constraints": '[{"key": 1, "constraint_type": "equals", "value": 1}]'},
        {"constraints": "null"},
        {"additional_sort_fields": '[{"descending": true}]'},
        {"additional_sort_fields": '{"sort_field": "name"}'},
    ):
        r = api.client.get(f"{BASE}/rentalunit", params=params, headers=api.auth)
        assert r.status_code != 500, (params, r.text)
        assert_shape_a(r, 400)
    assert get(api, "rentalunit", uid)["name"] == "Loft"
