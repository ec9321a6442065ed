"""Users' tokens and session cookies through the ASGI app, on every backend: who a request
is resolved as (api/auth.py), and which credentials are refused."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from burble.api.auth import login_cookie, logout_cookie, resolve_actor, user_auth
from burble.auth.actor import ADMIN, ANONYMOUS, Actor, ActorKind
from burble.auth.user_tokens import SHORT_MS, UserTokenStore
from burble.runtime import Databases, Version
from burble.values import now_ms
from tests.api.support import BASE, LIVE, assert_shape_a, create
from tests.auth.support import Clock
from tests.conftest import Api, make_api

LIVE_COOKIE = "burble_session"
TEST_COOKIE = "burble_session_test"


@pytest.fixture
def both(databases: Databases, example_text: str) -> Api:
    """The example app on Development and (deployed) on Live."""
    return make_api(databases, example_text, deploy_live=True)


def user_token(api: Api, version: Version, email: str, **kw: Any) -> tuple[str, str]:
    """(user id, token) for a new user of this environment."""
    user_id = create(api, "user", {"email": email}, base=BASE if version is Version.TEST else LIVE)
    _, token = api.runtime.user_tokens[version].create(user_id, **kw)
    return user_id, token


def request(
    path: str = "/version-test/api/1.1/obj/user",
    headers: dict[str, str] | None = None,
    query: str = "",
    scheme: str = "http",
) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": scheme,
            "server": ("testserver", 80),
            "path": path,
            "query_string": query.encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        }
    )


def actor(api: Api, version: Version, req: Request) -> Actor:
    return resolve_actor(req, api.runtime.tokens, user_auth(api.runtime, version))


def assert_invalid_token(response: Any, token: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {
        "error_class": "Unauthorized",
        "args": {"code": "INVALID_TOKEN"},
        "message": None,
        "translation": "Invalid or expired token",
    }
    assert token not in response.text


# --- resolve_actor ------------------------------------------------------------------------


def test_resolve_actor_order(both: Api) -> None:
    ann, token = user_token(both, Version.TEST, "ann@example.com")
    bob, other = user_token(both, Version.TEST, "bob@example.com")
    me = Actor(ActorKind.USER, ann)
    assert actor(both, Version.TEST, request()) == ANONYMOUS
    assert actor(both, Version.TEST, request(headers={"Authorization": f"Bearer {token}"})) == me
    assert actor(both, Version.TEST, request(query=f"api_token={token}")) == me
    assert actor(both, Version.TEST, request(headers={"Cookie": f"{TEST_COOKIE}={token}"})) == me
    # The header comes first, then api_token, then the cookie.
    assert (
        actor(
            both,
            Version.TEST,
            request(headers={"Authorization": f"Bearer {token}"}, query=f"api_token={other}"),
        )
        == me
    )
    assert actor(
        both,
        Version.TEST,
        request(query=f"api_token={other}", headers={"Cookie": f"{TEST_COOKIE}={token}"}),
    ) == Actor(ActorKind.USER, bob)
    # Admin tokens first, in both environments.
    admin = {"Authorization": f"Bearer {both.token}"}
    assert actor(both, Version.TEST, request(headers=admin)) == ADMIN
    assert actor(both, Version.LIVE, request("/api/1.1/obj/user", headers=admin)) == ADMIN


def test_resolve_actor_without_user_auth_knows_only_admin_tokens(both: Api) -> None:
    _, token = user_token(both, Version.TEST, "ann@example.com")
    cookie = request(headers={"Cookie": f"{TEST_COOKIE}={token}"})
    assert resolve_actor(cookie, both.runtime.tokens) == ANONYMOUS
    admin = request(headers={"Authorization": f"Bearer {both.token}"})
    assert resolve_actor(admin, both.runtime.tokens) == ADMIN


def test_a_cookie_for_the_other_environment_is_ignored(both: Api) -> None:
    _, token = user_token(both, Version.TEST, "ann@example.com")
    live = request("/api/1.1/obj/user", headers={"Cookie": f"{TEST_COOKIE}={token}"})
    assert actor(both, Version.LIVE, live) == ANONYMOUS
    wrong_name = request(headers={"Cookie": f"{LIVE_COOKIE}={token}"})
    assert actor(both, Version.TEST, wrong_name) == ANONYMOUS


def test_login_and_logout_cookies_follow_the_request() -> None:
    https = request(scheme="https")
    [(_, dev)] = login_cookie(https, Version.TEST, "tok", 1_767_225_600_000)
    assert dev.startswith("burble_session_test=tok; ") and dev.endswith("; Secure")
    [(_, live)] = login_cookie(request("/api/1.1/obj/user"), Version.LIVE, "tok", 0)
    assert live.startswith("burble_session=tok; ") and "Secure" not in live
    [(_, gone)] = logout_cookie(https, Version.LIVE)
    assert gone.startswith("burble_session=; ") and "Max-Age=0" in gone


# --- through the app ----------------------------------------------------------------------


def test_a_user_token_authenticates_on_its_environment(both: Api) -> None:
    _, token = user_token(both, Version.TEST, "ann@example.com")
    for kw in (
        {"headers": {"Authorization": f"Bearer {token}"}},
        {"params": {"api_token": token}},
    ):
        r = both.client.get(f"{BASE}/user", **kw)  # type: ignore[arg-type]
        assert r.status_code == 200, r.text
        assert "response" in r.json()


def test_tokens_do_not_cross_environments(both: Api) -> None:
    _, dev = user_token(both, Version.TEST, "dev@example.com")
    _, live = user_token(both, Version.LIVE, "live@example.com")
    assert both.client.get(f"{LIVE}/user", params={"api_token": live}).status_code == 200
    assert_invalid_token(
        both.client.get(f"{LIVE}/user", headers={"Authorization": f"Bearer {dev}"}), dev
    )
    assert_invalid_token(
        both.client.get(f"{BASE}/user", headers={"Authorization": f"Bearer {live}"}), live
    )
    assert_invalid_token(both.client.get(f"{LIVE}/user", params={"api_token": dev}), dev)
    r = both.client.get(
        "/version-live/api/1.1/obj/user", headers={"Authorization": f"Bearer {live}"}
    )
    assert r.status_code == 200


def test_admin_tokens_still_work_everywhere(both: Api) -> None:
    create(both, "user", {"email": "seen@example.com"})
    for base in (BASE, LIVE):
        r = both.client.get(f"{base}/user", headers=both.auth)
        assert r.status_code == 200
    r = both.client.get(f"{BASE}/user", params={"api_token": both.token})
    assert r.json()["response"]["count"] == 1


def test_revoked_expired_and_orphaned_tokens_are_401(both: Api) -> None:
    store = both.runtime.user_tokens[Version.TEST]
    ann, revoked = user_token(both, Version.TEST, "ann@example.com")
    assert both.client.get(f"{BASE}/user", params={"api_token": revoked}).status_code == 200
    assert store.revoke_token(revoked)
    assert_invalid_token(both.client.get(f"{BASE}/user", params={"api_token": revoked}), revoked)

    # Issued 24 hours ago (by a store whose clock says so).
    past = UserTokenStore(both.runtime.databases.test, Clock(now_ms() - SHORT_MS))
    _, expired = past.create(ann)
    assert_invalid_token(
        both.client.get(f"{BASE}/user", headers={"Authorization": f"Bearer {expired}"}), expired
    )

    bob, orphan = user_token(both, Version.TEST, "bob@example.com")
    r = both.client.delete(f"{BASE}/user/{bob}", headers=both.auth)
    assert r.status_code == 204
    assert_invalid_token(
        both.client.get(f"{BASE}/user", headers={"Authorization": f"Bearer {orphan}"}), orphan
    )
    for garbage in ("not-a-token", "a" * 64):
        assert_invalid_token(
            both.client.get(f"{BASE}/user", headers={"Authorization": f"Bearer {garbage}"}),
            garbage,
        )


def test_a_session_cookie_authenticates_and_a_stale_one_is_anonymous(both: Api) -> None:
    _, token = user_token(both, Version.TEST, "ann@example.com")
    both.client.cookies.set(TEST_COOKIE, token)
    r = both.client.get(f"{BASE}/user")
    assert r.status_code == 200, r.text
    assert both.runtime.user_tokens[Version.TEST].revoke_token(token)
    r = both.client.get(f"{BASE}/user")  # stale: anonymous, not 401
    assert r.status_code == 200, r.text
    assert r.json()["response"]["results"] == []
    both.client.cookies.set(TEST_COOKIE, "not-a-token")
    assert both.client.get(f"{BASE}/user").status_code == 200
    r = both.client.post(f"{BASE}/user", json={"email": "x@example.com"})
    assert_shape_a(r, 401, "UNAUTHORIZED")  # anonymous may not write
    # An admin token alongside a stale cookie: the token decides.
    assert both.client.get(f"{BASE}/user", headers=both.auth).json()["response"]["count"] == 1
    both.client.cookies.clear()


# --- email confirmed ----------------------------------------------------------------------


def test_email_confirmed_is_read_only_and_false_on_creation(both: Api) -> None:
    uid = create(both, "user", {"email": "c@example.com"})
    r = both.client.get(f"{BASE}/user/{uid}", headers=both.auth)
    assert r.json()["response"]["authentication"] == {
        "email": {"email": "c@example.com", "email_confirmed": False}
    }
    for key in ("email_confirmed", "email confirmed", "_email_confirmed"):
        r = both.client.patch(f"{BASE}/user/{uid}", json={key: True}, headers=both.auth)
        assert_shape_a(r, 400)
        r = both.client.post(
            f"{BASE}/user", json={"email": "d@example.com", key: True}, headers=both.auth
        )
        assert_shape_a(r, 400)
    backend = both.runtime.databases.test
    with backend.write() as tx:
        tx.execute(
            f"UPDATE {backend.dialect.table('t_user')} SET _email_confirmed = ? WHERE _id = ?",
            [True, uid],
        )
    r = both.client.get(f"{BASE}/user/{uid}", headers=both.auth)
    assert r.json()["response"]["authentication"]["email"]["email_confirmed"] is True
    r = both.client.get(f"{BASE}/user", headers=both.auth)
    assert r.json()["response"]["results"][0]["authentication"]["email"]["email_confirmed"]
    # PUT keeps built-ins (ADR 0006), this one too.
    assert both.client.put(f"{BASE}/user/{uid}", json={}, headers=both.auth).status_code == 204
    r = both.client.get(f"{BASE}/user/{uid}", headers=both.auth)
    assert r.json()["response"]["authentication"]["email"]["email_confirmed"] is True
