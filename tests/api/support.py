"""Small helpers shared by the API tests (not fixtures: those live in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import orjson

from tests.conftest import Api

BASE = "/version-test/api/1.1/obj"
LIVE = "/api/1.1/obj"


def shape_a(status: int, code: str, message: str) -> dict[str, Any]:
    """Bubble's nested error body (bubble-wire.md §9.1)."""
    return {"statusCode": status, "body": {"status": code, "message": message}}


def assert_shape_a(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is a shape A error with this status (and code); returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"statusCode", "body"}
    assert body["statusCode"] == status
    assert set(body["body"]) == {"status", "message"}
    assert isinstance(body["body"]["message"], str) and body["body"]["message"]
    if code is not None:
        assert body["body"]["status"] == code, body
    return body


def bulk_body(items: list[dict[str, Any]]) -> str:
    """How BA/BIO/BD send a bulk create: JSON lines, no trailing newline."""
    return "\n".join(orjson.dumps(item).decode() for item in items)


def bulk_create(
    api: Api, typename: str, items: list[dict[str, Any]], base: str = BASE
) -> list[str]:
    """Create things with one bulk request; returns their ids in input order."""
    r = api.client.post(
        f"{base}/{typename}/bulk",
        content=bulk_body(items),
        headers={**api.auth, "Content-Type": "text/plain"},
    )
    assert r.status_code == 200, r.text
    lines = [orjson.loads(line) for line in r.text.split("\n")]
    assert all(line["status"] == "success" for line in lines), lines
    return [line["id"] for line in lines]


def create(api: Api, typename: str, body: dict[str, Any], base: str = BASE) -> str:
    r = api.client.post(f"{base}/{typename}", json=body, headers=api.auth)
    assert r.status_code == 201, r.text
    thing_id: str = r.json()["id"]
    return thing_id


def get(api: Api, typename: str, thing_id: str, base: str = BASE) -> dict[str, Any]:
    r = api.client.get(f"{base}/{typename}/{thing_id}", headers=api.auth)
    assert r.status_code == 200, r.text
    thing: dict[str, Any] = r.json()["response"]
    return thing


def search(api: Api, typename: str, base: str = BASE, **params: Any) -> dict[str, Any]:
    """GET the list endpoint; JSON-encodes list/dict params; returns `response`."""
    query = {
        k: orjson.dumps(v).decode() if isinstance(v, list | dict) else v for k, v in params.items()
    }
    r = api.client.get(f"{base}/{typename}", params=query, headers=api.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"response"}
    response: dict[str, Any] = body["response"]
    assert set(response) == {"cursor", "results", "count", "remaining"}
    return response
