"""The privacy matrix through the Data API, on SQLite and PostgreSQL: anonymous / user /
owner / admin × rules × find, view fields, create, modify (before and after), delete, with
counts checked (seed 004 "privacy rules"; docs/privacy.md)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from burble.runtime import Databases, Version
from tests.api.support import BASE, assert_shape_a, bulk_body, create
from tests.conftest import Api, make_api

APP = """
name: privacy
settings:
  data_api: {expose: [Rental Unit, Booking, Note, User]}
types:
  User:
    fields: {name: text}
    privacy:
      - name: Self
        when: This User is Current User
        allow: [find, view all fields]
  Rental Unit:
    fields:
      name: text
      price: number
      description: text
      owner: User
    privacy:
      - name: Owner
        when: This Rental Unit's owner is Current User
        allow: [find, view all fields, create via API, modify via API, delete via API]
      - name: Everyone else
        allow: [find, {view: [name, price]}]
  Booking:
    fields:
      unit: Rental Unit
      guest: User
      nights: number
    privacy:
      - name: Host
        when: This Booking's unit's owner is Current User
        allow: [find, view all fields]
      - name: Guest
        when: This Booking's guest is Current User and Current User is logged in
        allow: [find, view all fields, create via API]
  Note:
    fields: {text: text}
"""


class World:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.ids: dict[str, str] = {}
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}, "admin": api.auth}

    def login(self, name: str, user_id: str) -> None:
        _, token = self.api.runtime.user_tokens[Version.TEST].create(user_id)
        self.headers[name] = {"Authorization": f"Bearer {token}"}

    def request(self, who: str, method: str, path: str, **kw: Any) -> Any:
        headers = {**self.headers[who], **kw.pop("headers", {})}
        return self.api.client.request(method, f"{BASE}/{path}", headers=headers, **kw)

    def search(self, who: str, typename: str, **params: Any) -> dict[str, Any]:
        r = self.request(who, "GET", typename, params=params)
        assert r.status_code == 200, r.text
        response: dict[str, Any] = r.json()["response"]
        return response


@pytest.fixture
def world(databases: Databases) -> World:
    api = make_api(databases, APP)
    w = World(api)
    for name in ("alice", "bob", "carol"):
        w.ids[name] = create(api, "user", {"email": f"{name}@example.com", "name": name.title()})
        w.login(name, w.ids[name])
    w.ids["A"] = create(
        api,
        "rentalunit",
        {"name": "A", "price": 1, "description": "alice's", "owner": w.ids["alice"]},
    )
    w.ids["B"] = create(
        api, "rentalunit", {"name": "B", "price": 2, "description": "bob's", "owner": w.ids["bob"]}
    )
    w.ids["C"] = create(api, "rentalunit", {"name": "C", "price": 3, "description": "nobody's"})
    w.ids["X"] = create(api, "booking", {"unit": w.ids["A"], "guest": w.ids["bob"], "nights": 2})
    create(api, "note", {"text": "admins only"})
    return w


def names(response: dict[str, Any]) -> list[str]:
    return [t["name"] for t in response["results"]]


def test_find_and_view_fields(world: World) -> None:
    for who in ("anonymous", "bob", "carol"):
        found = world.search(who, "rentalunit", sort_field="name")
        assert names(found) == ["A", "B", "C"] and found["count"] == 3
        a = found["results"][0]
        assert "description" not in a and "owner" not in a, who
        assert a["price"] == 1 and a["_id"] == world.ids["A"] and "Created Date" in a
    mine = world.search("alice", "rentalunit", sort_field="name")["results"]
    assert mine[0]["description"] == "alice's" and mine[0]["owner"] == world.ids["alice"]
    assert "description" not in mine[1]  # bob's unit: the Everyone else rule only
    admin = world.search("admin", "rentalunit", sort_field="name")["results"]
    assert [t["description"] for t in admin] == ["alice's", "bob's", "nobody's"]


def test_count_and_remaining_are_exact_under_rules(world: World) -> None:
    page = world.search("bob", "booking", limit=1)
    assert (page["count"], page["remaining"]) == (1, 0)
    assert world.search("alice", "booking")["count"] == 1  # through unit → owner
    assert world.search("carol", "booking")["count"] == 0
    assert world.search("anonymous", "booking")["count"] == 0


def test_a_type_without_rules_is_for_admins_only(world: World) -> None:
    for who in ("anonymous", "alice"):
        assert world.search(who, "note")["count"] == 0
    assert world.search("admin", "note")["count"] == 1


def test_get_of_a_thing_you_cannot_find_is_404(world: World) -> None:
    r = world.request("carol", "GET", f"booking/{world.ids['X']}")
    assert_shape_a(r, 404, "MISSING_DATA")
    r = world.request("bob", "GET", f"booking/{world.ids['X']}")
    assert r.status_code == 200 and r.json()["response"]["nights"] == 2
    r = world.request("carol", "GET", f"user/{world.ids['alice']}")
    assert_shape_a(r, 404, "MISSING_DATA")
    me = world.request("alice", "GET", f"user/{world.ids['alice']}").json()["response"]
    assert me["name"] == "Alice" and "authentication" not in me


def test_no_search_on_hidden_fields(world: World) -> None:
    constraint = [{"key": "description", "constraint_type": "equals", "value": "bob's"}]
    for who in ("anonymous", "alice"):
        r = world.request(
            who, "GET", "rentalunit", params={"constraints": orjson.dumps(constraint).decode()}
        )
        body = assert_shape_a(r, 400, "ERROR")
        assert "description" in body["body"]["message"]
        r = world.request(who, "GET", "rentalunit", params={"sort_field": "owner"})
        assert_shape_a(r, 400, "ERROR")
    ok = [{"key": "price", "constraint_type": "greater than", "value": 1}]
    r = world.request(
        "anonymous", "GET", "rentalunit", params={"constraints": orjson.dumps(ok).decode()}
    )
    assert r.status_code == 200 and r.json()["response"]["count"] == 2


def test_create_needs_a_rule_that_holds_for_the_new_thing(world: World) -> None:
    before = world.search("admin", "rentalunit")["count"]
    r = world.request("anonymous", "POST", "rentalunit", json={"name": "D"})
    assert_shape_a(r, 401, "UNAUTHORIZED")
    r = world.request("alice", "POST", "rentalunit", json={"name": "D", "owner": world.ids["bob"]})
    assert_shape_a(r, 401, "UNAUTHORIZED")
    assert world.search("admin", "rentalunit")["count"] == before  # nothing half-written
    r = world.request(
        "alice", "POST", "rentalunit", json={"name": "D", "owner": world.ids["alice"]}
    )
    assert r.status_code == 201
    r = world.request(
        "alice",
        "POST",
        "rentalunit/bulk",
        content=bulk_body(
            [{"name": "E", "owner": world.ids["alice"]}, {"name": "F", "owner": world.ids["bob"]}]
        ),
        headers={**world.headers["alice"], "Content-Type": "text/plain"},
    )
    assert r.status_code == 400
    lines = [orjson.loads(line) for line in r.text.split("\n")]
    assert lines[0]["status"] == "success" and lines[1]["status"] == "error"
    assert sorted(names(world.search("admin", "rentalunit"))) == ["A", "B", "C", "D", "E"]


def test_modify_is_checked_before_and_after(world: World) -> None:
    a = world.ids["A"]
    r = world.request("bob", "PATCH", f"rentalunit/{a}", json={"price": 9})
    assert_shape_a(r, 401, "UNAUTHORIZED")
    r = world.request("carol", "PATCH", f"booking/{world.ids['X']}", json={"nights": 9})
    assert_shape_a(r, 401, "UNAUTHORIZED")  # no rule grants modify on bookings at all
    r = world.request("alice", "PATCH", f"rentalunit/{a}", json={"price": 9})
    assert r.status_code == 204
    # Giving the unit away would take away alice's own ability to modify it: refused.
    r = world.request("alice", "PATCH", f"rentalunit/{a}", json={"owner": world.ids["bob"]})
    assert_shape_a(r, 401, "UNAUTHORIZED")
    r = world.request("alice", "PUT", f"rentalunit/{a}", json={"name": "A2"})  # clears owner
    assert_shape_a(r, 401, "UNAUTHORIZED")
    thing = world.request("admin", "GET", f"rentalunit/{a}").json()["response"]
    assert (thing["price"], thing["owner"], thing["name"]) == (9, world.ids["alice"], "A")


def test_delete_needs_its_permission(world: World) -> None:
    a = world.ids["A"]
    assert_shape_a(world.request("bob", "DELETE", f"rentalunit/{a}"), 401, "UNAUTHORIZED")
    assert_shape_a(world.request("carol", "DELETE", f"booking/{world.ids['X']}"), 401)
    assert world.request("alice", "DELETE", f"rentalunit/{a}").status_code == 204
    assert world.request("admin", "GET", f"rentalunit/{a}").status_code == 404


def test_admin_bypasses_rules(world: World) -> None:
    assert world.search("admin", "booking")["count"] == 1
    r = world.request(
        "admin", "PATCH", f"rentalunit/{world.ids['A']}", json={"owner": world.ids["bob"]}
    )
    assert r.status_code == 204
