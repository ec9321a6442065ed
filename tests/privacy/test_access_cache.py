"""A caller's privacy SQL is compiled once and reused (`privacy.enforce.AccessCache`), and
nothing changes because of it: a user's data read by a rule is read at query time, a rule on
the current date/time is compiled for every request, a deploy brings new rules, and masking
by flag combination gives what masking row by row gave."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from burble.api.app import create_app
from burble.appdef.load import parse_app
from burble.appdef.model import KeyStyle
from burble.auth.actor import ANONYMOUS, Actor, ActorKind
from burble.privacy.enforce import AccessCache, Policy
from burble.privacy.rules import rules_or_raise
from burble.runtime import Databases, Runtime, Version, deploy
from burble.store.sqlite import SQLiteDialect
from tests.api.support import BASE, LIVE
from tests.auth.support import new_user
from tests.conftest import Api, make_api

APP = """
name: cache
settings:
  data_api: {expose: [Rental Unit, Offer, User]}
types:
  User:
    fields: {name: text, vip: yes/no}
  Rental Unit:
    fields:
      name: text
      price: number
      secret: text
      owner: User
    privacy:
      - name: Owner
        when: This Rental Unit's owner is Current User
        allow: [find, view all fields, create via API, modify via API, delete via API]
      - name: VIPs
        when: Current User's vip is yes
        allow: [find, {view: [name, price]}]
  Offer:
    fields: {title: text, ends: date}
    privacy:
      - name: Running
        when: This Offer's ends > Current date/time
        allow: [find, view all fields]
"""


def _token(api: Api, user_id: str) -> dict[str, str]:
    _, token = api.runtime.user_tokens[Version.TEST].create(user_id)
    return {"Authorization": f"Bearer {token}"}


def _found(api: Api, headers: dict[str, str], typename: str) -> list[dict[str, Any]]:
    r = api.client.get(f"{BASE}/{typename}", headers=headers)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["response"]["results"]
    return results


@pytest.fixture
def api(databases: Databases) -> Api:
    return make_api(databases, APP)


def test_one_access_per_caller_and_type(api: Api) -> None:
    env = api.runtime.environment(Version.TEST)
    unit = env.definition.types["Rental Unit"]
    ann = Actor(ActorKind.USER, "1x1")
    bob = Actor(ActorKind.USER, "2x2")
    first = env.things.access(ann, unit)
    assert first is not None
    assert env.things.access(ann, unit) is first
    assert env.things.access(bob, unit) is not first
    assert env.things.access(ANONYMOUS, unit) is env.things.access(ANONYMOUS, unit)
    assert env.things.access(ANONYMOUS, unit) is not first
    assert env.things.access(Actor(ActorKind.ADMIN), unit) is None


def test_rules_on_the_current_time_are_compiled_per_request(api: Api) -> None:
    env = api.runtime.environment(Version.TEST)
    offer = env.definition.types["Offer"]
    ann = Actor(ActorKind.USER, "1x1")
    assert env.things.access(ann, offer) is not env.things.access(ann, offer)
    # and the time it compiles with moves on: an offer that has just ended is no longer found
    user = new_user(env, "ann@example.com")
    headers = _token(api, user)
    clock = {"now": 1_800_000_000_000}
    env.things._clock = lambda: clock["now"]
    admin = api.auth
    created = api.client.post(
        f"{BASE}/offer", json={"title": "Spring", "ends": 1_800_000_060_000}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert [o["title"] for o in _found(api, headers, "offer")] == ["Spring"]
    clock["now"] = 1_800_000_120_000
    assert _found(api, headers, "offer") == []


def test_a_users_data_is_read_when_the_query_runs(api: Api) -> None:
    """`Current User's vip` compiles to a subquery: the cached SQL sees the user change."""
    env = api.runtime.environment(Version.TEST)
    owner = new_user(env, "owner@example.com")
    ann = new_user(env, "ann@example.com")
    made = api.client.post(
        f"{BASE}/rentalunit",
        json={"name": "Loft", "price": 900, "secret": "code 1234", "owner": owner},
        headers=api.auth,
    )
    assert made.status_code == 201
    headers = _token(api, ann)
    assert _found(api, headers, "rentalunit") == []
    changed = api.client.patch(f"{BASE}/user/{ann}", json={"vip": True}, headers=api.auth)
    assert changed.status_code == 204
    found = _found(api, headers, "rentalunit")
    assert [(t["name"], t["price"], "secret" in t) for t in found] == [("Loft", 900, False)]
    one = api.client.get(f"{BASE}/rentalunit/{made.json()['id']}", headers=headers)
    assert one.status_code == 200 and "secret" not in one.json()["response"]
    api.client.patch(f"{BASE}/user/{ann}", json={"vip": False}, headers=api.auth)
    assert _found(api, headers, "rentalunit") == []
    gone = api.client.get(f"{BASE}/rentalunit/{made.json()['id']}", headers=headers)
    assert gone.status_code == 404
    # The owner sees everything, by the same cached SQL with another user.
    mine = _found(api, _token(api, owner), "rentalunit")
    assert [t["secret"] for t in mine] == ["code 1234"]


def test_a_deploy_brings_new_rules(databases: Databases) -> None:
    working = parse_app(APP)
    deploy(databases, working)
    seconds = {"now": 0.0}
    runtime = Runtime(databases, working, clock=lambda: seconds["now"])
    live = runtime.environment(Version.LIVE)
    owner = new_user(live, "owner@example.com")
    _, admin = runtime.tokens.create("t")
    _, user_token = runtime.user_tokens[Version.LIVE].create(owner)
    api = make_api_from(runtime, admin)
    headers = {"Authorization": f"Bearer {user_token}"}
    made = api.client.post(
        f"{LIVE}/rentalunit",
        json={"name": "Loft", "price": 900, "secret": "s", "owner": owner},
        headers=api.auth,
    )
    assert made.status_code == 201
    r = api.client.get(f"{LIVE}/rentalunit", headers=headers)
    assert r.json()["response"]["count"] == 1
    # The owner may no longer view the secret after the next deploy.
    deploy(
        databases,
        parse_app(
            APP.replace(
                "allow: [find, view all fields, create via API, modify via API, delete via API]",
                "allow: [find, {view: [name]}]",
            )
        ),
    )
    seconds["now"] += Runtime.LIVE_CHECK_SECONDS  # the next request checks Live's version
    r = api.client.get(f"{LIVE}/rentalunit", headers=headers)
    assert r.status_code == 200
    builtins = {"_id", "Created Date", "Modified Date", "Created By"}
    assert [set(t) - builtins for t in r.json()["response"]["results"]] == [{"name"}]
    runtime.close()


def make_api_from(runtime: Runtime, token: str) -> Api:
    return Api(runtime, TestClient(create_app(runtime)), token)


def test_the_cache_is_bounded() -> None:
    definition = parse_app(APP)
    cache = AccessCache(rules_or_raise(definition), SQLiteDialect(), KeyStyle.DISPLAY, 3)
    for n in range(10):
        cache.access("Rental Unit", f"{n}x{n}", 0)
        assert len(cache) <= 3


def test_masks_by_flag_combination_match_row_by_row_masking() -> None:
    definition = parse_app(APP)
    rules = rules_or_raise(definition)
    unit = definition.types["Rental Unit"]
    for keys in KeyStyle:
        policy = Policy(rules["Rental Unit"], keys)
        for flags in [(0, 0), (1, 0), (0, 1), (1, 1), (True, False), (2, 0), [1, 1]]:
            visible = set(policy.always)
            for rule, flag in zip(policy.flagged, flags, strict=True):
                if flag:
                    visible.update(f for f in unit.fields if rule.views(f))
            expected = [
                (f.name if keys is KeyStyle.DISPLAY else f.id_key)
                for f in unit.fields
                if f not in visible
            ]
            assert policy.visible_fields(flags) == visible
            assert policy.hidden_keys(flags) == (*expected, "authentication", "user_signed_up")
        with pytest.raises(ValueError):
            policy.visible_fields((1,))  # one flag per conditional rule that views fields
