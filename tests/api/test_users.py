"""The User type through the Data API: email, password, `authentication` (bubble-wire.md §6)."""

from __future__ import annotations

from tests.api.support import BASE, assert_shape_a, create, get, search, shape_a
from tests.conftest import Api

TAKEN = shape_a(400, "INVALID_DATA", "Invalid data for field email: another user has this email")


def test_create_user_requires_email(api: Api) -> None:
    for body in ({"name": "No Mail"}, {}, {"email": None}, {"email": ""}):
        r = api.client.post(f"{BASE}/user", json=body, headers=api.auth)
        assert r.status_code == 400, body
        assert r.json()["body"]["status"] in ("MISSING_DATA", "INVALID_DATA"), body
    r = api.client.post(f"{BASE}/user", json={"name": "No Mail"}, headers=api.auth)
    assert r.json() == shape_a(
        400, "MISSING_DATA", "Missing data for field email: a new user needs an email"
    )
    assert search(api, "user")["count"] == 0


def test_invalid_email(api: Api) -> None:
    uid = create(api, "user", {"email": "ok@example.com"})
    for email in ("not-an-email", "a@b", "two@@example.com", "a b@example.com", 42, ["a@b.co"]):
        r = api.client.post(f"{BASE}/user", json={"email": email}, headers=api.auth)
        body = assert_shape_a(r, 400, "INVALID_DATA")
        assert "email" in body["body"]["message"], email
        r = api.client.patch(f"{BASE}/user/{uid}", json={"email": email}, headers=api.auth)
        assert_shape_a(r, 400, "INVALID_DATA")
    assert search(api, "user")["count"] == 1
    assert get(api, "user", uid)["authentication"]["email"]["email"] == "ok@example.com"


def test_duplicate_email_case_insensitive(api: Api) -> None:
    create(api, "user", {"email": "Ann@Example.com"})
    for email in ("ann@example.com", "ANN@EXAMPLE.COM", " ann@example.com "):
        r = api.client.post(f"{BASE}/user", json={"email": email}, headers=api.auth)
        assert r.status_code == 400
        assert r.json() == TAKEN
    assert search(api, "user")["count"] == 1


def test_patch_to_a_taken_email(api: Api) -> None:
    create(api, "user", {"email": "ann@example.com"})
    bob = create(api, "user", {"email": "bob@example.com"})
    r = api.client.patch(f"{BASE}/user/{bob}", json={"email": "ANN@example.com"}, headers=api.auth)
    assert r.json() == TAKEN
    assert get(api, "user", bob)["authentication"]["email"]["email"] == "bob@example.com"
    r = api.client.patch(
        f"{BASE}/user/{bob}", json={"email": "bobby@example.com"}, headers=api.auth
    )
    assert r.status_code == 204
    assert get(api, "user", bob)["authentication"]["email"]["email"] == "bobby@example.com"


def test_password_never_returned(api: Api) -> None:
    secret = "correct horse battery staple"
    uid = create(
        api, "user", {"email": "pw@example.com", "password": secret, "name": "Pat", "phone": "1"}
    )
    r = api.client.get(f"{BASE}/user/{uid}", headers=api.auth)
    assert secret not in r.text
    assert "password" not in r.text.lower()
    assert "argon2" not in r.text
    r = api.client.get(f"{BASE}/user", headers=api.auth)
    assert secret not in r.text and "argon2" not in r.text
    thing = r.json()["response"]["results"][0]
    assert thing["name"] == "Pat" and thing["phone"] == "1"
    r = api.client.patch(f"{BASE}/user/{uid}", json={"password": "another one"}, headers=api.auth)
    assert r.status_code == 204
    assert "another one" not in api.client.get(f"{BASE}/user/{uid}", headers=api.auth).text


def test_admin_sees_authentication_email(api: Api) -> None:
    uid = create(api, "user", {"email": " Reader@Example.com ", "name": "Reader"})
    thing = get(api, "user", uid)
    assert thing["authentication"]["email"]["email"] == "reader@example.com"
    assert thing["authentication"] == {
        "email": {"email": "reader@example.com", "email_confirmed": False}
    }
    assert thing["user_signed_up"] is True
    assert thing["name"] == "Reader"
    assert thing["_id"] == uid
    assert "email" not in thing  # the email lives under authentication


def test_put_keeps_email(api: Api) -> None:
    uid = create(api, "user", {"email": "keep@example.com", "name": "Before", "phone": "123"})
    r = api.client.put(f"{BASE}/user/{uid}", json={"name": "After"}, headers=api.auth)
    assert r.status_code == 204
    thing = get(api, "user", uid)
    assert thing["name"] == "After"
    assert "phone" not in thing
    assert thing["authentication"]["email"]["email"] == "keep@example.com"
    # The email is still taken.
    r = api.client.post(f"{BASE}/user", json={"email": "keep@example.com"}, headers=api.auth)
    assert r.json() == TAKEN


def test_user_reserved_keys_are_not_fields(api: Api) -> None:
    uid = create(api, "user", {"email": "r@example.com"})
    for key in ("authentication", "user_signed_up"):
        r = api.client.patch(f"{BASE}/user/{uid}", json={key: "x"}, headers=api.auth)
        assert_shape_a(r, 400)


def test_anonymous_cannot_see_or_create_users(api: Api) -> None:
    uid = create(api, "user", {"email": "hidden@example.com"})
    r = api.client.get(f"{BASE}/user/{uid}")
    assert r.status_code == 404 and "hidden@example.com" not in r.text
    r = api.client.get(f"{BASE}/user")
    assert r.json()["response"]["results"] == [] and "hidden@example.com" not in r.text
    r = api.client.post(f"{BASE}/user", json={"email": "new@example.com"})
    assert r.status_code == 401
