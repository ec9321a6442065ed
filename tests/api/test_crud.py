"""Data API CRUD through the ASGI app, on every backend (bubble-wire.md §3–§4, §6)."""

from __future__ import annotations

import re

from tests.conftest import Api

BASE = "/version-test/api/1.1/obj"


def test_create_get_patch_put_delete(api: Api) -> None:
    c, h = api.client, api.auth
    r = c.post(
        f"{BASE}/rentalunit", json={"name": "Loft", "price": "1200", "status": "Rented"}, headers=h
    )
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "success"
    uid = body["id"]
    assert re.fullmatch(r"\d{13}x\d{18}", uid)

    r = c.get(f"{BASE}/rentalunit/{uid}", headers=h)
    assert r.status_code == 200
    thing = r.json()["response"]
    assert thing["_id"] == uid
    assert thing["name"] == "Loft"
    assert thing["price"] == 1200
    assert thing["status"] == "Rented"
    assert thing["bedrooms"] == 1  # default applied
    assert thing["active"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", thing["Created Date"])
    assert thing["Created By"] == "admin_user_rentals_test"
    assert "description" not in thing  # empty fields omitted

    r = c.patch(f"{BASE}/rentalunit/{uid}", json={"description": "Bright"}, headers=h)
    assert r.status_code == 204 and r.content == b""
    thing = c.get(f"{BASE}/rentalunit/{uid}", headers=h).json()["response"]
    assert thing["description"] == "Bright" and thing["name"] == "Loft"

    r = c.put(f"{BASE}/rentalunit/{uid}", json={"name": "Studio"}, headers=h)
    assert r.status_code == 204
    thing = c.get(f"{BASE}/rentalunit/{uid}", headers=h).json()["response"]
    assert thing["name"] == "Studio"
    assert "price" not in thing and "description" not in thing and "bedrooms" not in thing

    r = c.delete(f"{BASE}/rentalunit/{uid}", headers=h)
    assert r.status_code == 204 and r.content == b""
    r = c.get(f"{BASE}/rentalunit/{uid}", headers=h)
    assert r.status_code == 404
    assert r.json() == {
        "statusCode": 404,
        "body": {
            "status": "MISSING_DATA",
            "message": f"Missing object of type rentalunit: object with id {uid} does not exist",
        },
    }
