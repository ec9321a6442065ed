"""The account actions beyond sign-up and log-in, through the Workflow API on SQLite and
PostgreSQL: create an account for someone else, make changes to the current user, update the
credentials, the password reset token and reset, log out other sessions, and the password
policy setting."""

from __future__ import annotations

from typing import Any

import pytest

from burble.runtime import Databases
from tests.workflows.support import App

APP = """
name: wfmanage
settings:
  workflow_api: true
  data_api:
    expose: [User]
  password_policy: {min_length: 10, require_number: true}
types:
  User:
    fields: {name: text, invited_by: User}
    privacy:
      - name: Self
        when: This User is Current User
        allow: [find, view all fields]
workflows:
  sign-up:
    expose: true
    auth: none
    parameters: {email: text, password: text}
    actions:
      - sign_up: {email: "[email]", password: "[password]"}
  log-in:
    expose: true
    auth: none
    parameters: {email: text, password: text}
    actions:
      - log_in: {email: "[email]", password: "[password]"}
  invite:
    expose: true
    auth: user
    parameters: {email: text, again: {type: yes/no, optional: true}}
    actions:
      - create_account:
          email: "[email]"
          return_existing: true
          fields: {name: Invited, invited_by: "[Current User]"}
      - only_when: again
        create_account: {email: "[email]"}
      - return: {id: "[Result of step 1's unique id]", name: "[Result of step 1's name]"}
  invite-as-admin:
    expose: true
    auth: user
    ignore_privacy: true
    parameters: {email: text}
    actions:
      - create_account: {email: "[email]", fields: {name: Invited}}
      - return: {name: "[Result of step 1's name]"}
  rename:
    expose: true
    auth: user
    parameters: {name: text}
    actions:
      - change_current_user: {fields: {name: "[name]"}}
      - return: {name: "[Result of step 1's name]"}
  credentials:
    expose: true
    auth: user
    parameters:
      email: {type: text, optional: true}
      password: {type: text, optional: true}
      current: {type: text, optional: true}
    actions:
      - update_credentials: {email: "[email]", password: "[password]", current_password: "[current]"}
  forgot:
    expose: true
    auth: none
    parameters: {email: text}
    actions:
      - reset_password_token: {email: "[email]"}
      - return: {token: "[Result of step 1]"}
  reset:
    expose: true
    auth: none
    parameters: {token: text, password: text}
    actions:
      - reset_password: {token: "[token]", password: "[password]"}
      - return: {user: "[Result of step 1's unique id]"}
  others-out:
    expose: true
    auth: user
    actions:
      - log_out_other_sessions: true
"""

PASSWORD = "first-pass-1"


@pytest.fixture
def app(databases: Databases) -> App:
    return App(databases, APP)


def _session(app: App, who: str, email: str = "ann@example.com", pw: str = PASSWORD) -> str:
    """Log `email` in and remember the token's headers as `who`; returns the user id."""
    body = app.run("log-in", "anonymous", json={"email": email, "password": pw})
    app.headers[who] = {"Authorization": f"Bearer {body['token']}"}
    user_id: str = body["user_id"]
    return user_id


def _ann(app: App) -> str:
    app.run("sign-up", "anonymous", json={"email": "ann@example.com", "password": PASSWORD})
    return _session(app, "ann")


def _error(r: Any, status: int = 400) -> str:
    assert r.status_code == status, r.text
    message: str = r.json()["body"]["message"]
    return message


def _log_in_fails(app: App, email: str, password: str) -> bool:
    r = app.post("log-in", "anonymous", json={"email": email, "password": password})
    return r.status_code == 400


def test_password_policy_from_the_settings(app: App) -> None:
    r = app.post("sign-up", "anonymous", json={"email": "a@example.com", "password": "short"})
    assert _error(r) == (
        "Workflow sign-up, step 1 (Sign the user up): "
        "The password must have at least 10 characters and a number"
    )
    r = app.post("sign-up", "anonymous", json={"email": "a@example.com", "password": "x" * 12})
    assert _error(r).endswith("The password must have a number")
    assert app.things("User") == []


def test_create_an_account_for_someone_else(app: App) -> None:
    ann = _ann(app)
    made = app.run("invite", "ann", json={"email": "Bob@Example.com"})
    # Ann may not view Bob (privacy applies inside the run), so his name reads empty...
    assert made["name"] is None
    # ...unless the workflow ignores privacy rules.
    assert app.run("invite-as-admin", "ann", json={"email": "cy@example.com"}) == {
        "name": "Invited"
    }
    users = {u["_id"]: u for u in app.things("User")}
    bob = users[made["id"]]
    assert bob["authentication"]["email"]["email"] == "bob@example.com"
    assert bob["invited_by"] == ann
    # No password yet: the new user cannot log in until a reset sets one.
    assert _log_in_fails(app, "bob@example.com", "")
    # return_existing gives back the same user; without it the second one is refused.
    assert app.run("invite", "ann", json={"email": "bob@example.com"})["id"] == bob["_id"]
    r = app.post("invite", "ann", json={"email": "bob@example.com", "again": True})
    assert _error(r).endswith("An account with this email already exists")
    assert len(app.things("User")) == 3


def test_make_changes_to_the_current_user(app: App) -> None:
    ann = _ann(app)
    assert app.run("rename", "ann", json={"name": "Ann B."}) == {"name": "Ann B."}
    r = app.client.get(f"/version-test/api/1.1/obj/user/{ann}", headers=app.headers["ann"])
    assert r.json()["response"]["name"] == "Ann B."
    r = app.post("rename", "admin", json={"name": "nobody"})
    assert r.status_code == 401, r.text
    assert "No user is logged in" in r.json()["body"]["message"]


def test_update_credentials_checks_the_current_password(app: App) -> None:
    _ann(app)
    r = app.post("credentials", "ann", json={"password": "second-pass-2", "current": "wrong"})
    assert _error(r).endswith("The current password is not correct")
    assert not _log_in_fails(app, "ann@example.com", PASSWORD)
    app.run("credentials", "ann", json={"password": "second-pass-2", "current": PASSWORD})
    assert _log_in_fails(app, "ann@example.com", PASSWORD)
    assert not _log_in_fails(app, "ann@example.com", "second-pass-2")
    r = app.post("credentials", "ann", json={"password": "weak", "current": "second-pass-2"})
    assert "The password must have" in _error(r)


def test_update_credentials_changes_the_email_unless_taken(app: App) -> None:
    _ann(app)
    app.run("sign-up", "anonymous", json={"email": "cy@example.com", "password": PASSWORD})
    r = app.post("credentials", "ann", json={"email": "CY@example.com", "current": PASSWORD})
    assert _error(r).endswith("An account with this email already exists")
    app.run("credentials", "ann", json={"email": "Ann.New@Example.com", "current": PASSWORD})
    assert _log_in_fails(app, "ann@example.com", PASSWORD)
    assert not _log_in_fails(app, "ann.new@example.com", PASSWORD)


def test_password_reset_token_and_reset(app: App) -> None:
    ann = _ann(app)
    assert app.run("forgot", "anonymous", json={"email": "nobody@example.com"}) == {"token": None}
    token = app.run("forgot", "anonymous", json={"email": "ANN@example.com"})["token"]
    assert isinstance(token, str) and len(token) >= 32
    r = app.post("reset", "anonymous", json={"token": token, "password": "weak"})
    assert "The password must have" in _error(r)
    done = app.run("reset", "anonymous", json={"token": token, "password": "reset-pass-3"})
    assert done == {"user": ann}
    assert not _log_in_fails(app, "ann@example.com", "reset-pass-3")
    assert _log_in_fails(app, "ann@example.com", PASSWORD)
    # The reset ended the sessions that existed before it, and the token is used up.
    r = app.client.get(f"/version-test/api/1.1/obj/user/{ann}", headers=app.headers["ann"])
    assert r.status_code == 401
    r = app.post("reset", "anonymous", json={"token": token, "password": "again-pass-4"})
    assert _error(r).endswith("This password reset link is invalid or has expired")


def test_log_out_other_sessions_keeps_the_callers(app: App) -> None:
    ann = _ann(app)
    _session(app, "ann-phone")
    _session(app, "ann-laptop")
    assert app.run("others-out", "ann-phone") == {}
    url = f"/version-test/api/1.1/obj/user/{ann}"
    assert app.client.get(url, headers=app.headers["ann-phone"]).status_code == 200
    assert app.client.get(url, headers=app.headers["ann"]).status_code == 401
    assert app.client.get(url, headers=app.headers["ann-laptop"]).status_code == 401


def test_logs_show_the_inputs_with_secrets_masked(app: App) -> None:
    from burble.logs.search import search

    _ann(app)
    app.run("credentials", "ann", json={"password": "second-pass-2", "current": PASSWORD})
    logged = [e.data for e in search(app.env.backend) if e.kind.value == "action"]
    assert logged == [
        {"email": "ann@example.com", "password": "***"},  # sign up
        {"email": "ann@example.com", "password": "***"},  # log in
        {"email": None, "password": "***", "current_password": "***"},
    ]
