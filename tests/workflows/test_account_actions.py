"""Account and email actions through the Workflow API, on SQLite and PostgreSQL: sign up,
log in, log out, keep logged in, and Send email queued in the run's transaction."""

from __future__ import annotations

import pytest

from burble.mail import outbox
from burble.runtime import Databases
from tests.workflows.support import App

APP = """
name: wfaccounts
settings:
  workflow_api: true
  data_api:
    expose: [Note]
types:
  User:
    fields: {name: text}
  Note:
    fields:
      text: text
      owner: User
    privacy:
      - name: Owner
        when: This Note's owner is Current User
        allow: [find, view all fields]
workflows:
  sign-up:
    expose: true
    auth: none
    parameters: {email: text, password: text, stay: {type: yes/no, optional: true}}
    actions:
      - sign_up:
          email: "[email]"
          password: "[password]"
          keep_logged_in: "[stay]"
          fields: {name: New}
      - create: Note
        fields: {text: mine, owner: "[Result of step 1]"}
      - return: {signed_up: true}
  log-in:
    expose: true
    auth: none
    parameters: {email: text, password: text}
    actions:
      - log_in: {email: "[email]", password: "[password]"}
  log-out:
    expose: true
    auth: user
    actions:
      - log_out: true
  mail:
    expose: true
    auth: none
    parameters: {to: text, fail: yes/no}
    actions:
      - send_email: {to: "[to]", subject: Hello, body: "Hi [to]"}
      - only_when: fail
        terminate: true
"""


@pytest.fixture
def app(databases: Databases) -> App:
    return App(databases, APP)


def _sign_up(app: App, **extra: object) -> dict[str, object]:
    body = {"email": "Ann@Example.com", "password": "secret-pass", **extra}
    return app.run("sign-up", "anonymous", json=body)


def test_sign_up_returns_a_session_that_works_for_the_data_api(app: App) -> None:
    app.thing("Note", text="someone else's")
    response = _sign_up(app)
    assert set(response) == {"token", "user_id", "expires", "signed_up"}
    assert response["expires"] == 86400 and response["signed_up"] is True
    headers = {"Authorization": f"Bearer {response['token']}"}
    r = app.client.get("/version-test/api/1.1/obj/note", headers=headers)
    assert r.status_code == 200, r.text
    results = r.json()["response"]["results"]
    assert [n["text"] for n in results] == ["mine"]
    assert results[0]["owner"] == response["user_id"]


def test_keep_logged_in_gives_twelve_months(app: App) -> None:
    assert _sign_up(app, stay=True)["expires"] == 31536000


def test_log_in_and_wrong_password(app: App) -> None:
    user_id = _sign_up(app)["user_id"]
    ok = app.run(
        "log-in", "anonymous", json={"email": "ann@example.com", "password": "secret-pass"}
    )
    assert ok["user_id"] == user_id and ok["expires"] == 86400 and ok["token"]
    r = app.post("log-in", "anonymous", json={"email": "ann@example.com", "password": "nope-nope"})
    assert r.status_code == 400
    body = r.json()
    assert body["statusCode"] == 400 and body["body"]["status"] == "ERROR"
    assert "didn't find an account with those login credentials" in body["body"]["message"]


def test_sign_up_twice_is_refused_and_keeps_one_user(app: App) -> None:
    _sign_up(app)
    r = app.post("sign-up", "anonymous", json={"email": "ann@example.com", "password": "x" * 9})
    assert r.status_code == 400
    assert "already exists" in r.json()["body"]["message"]
    assert len(app.things("User")) == 1


def test_log_out_revokes_the_token(app: App) -> None:
    token = _sign_up(app)["token"]
    app.headers["ann"] = {"Authorization": f"Bearer {token}"}
    assert app.run("log-out", "ann") == {}
    r = app.client.get("/version-test/api/1.1/obj/note", headers=app.headers["ann"])
    assert r.status_code == 401


def test_send_email_is_queued_with_the_run(app: App) -> None:
    app.run("mail", "anonymous", json={"to": "bob@example.com", "fail": False})
    queued = outbox.emails(app.env.backend)
    assert len(queued) == 1
    assert queued[0].message.to == ("bob@example.com",)
    assert queued[0].message.body == "Hi bob@example.com"
    assert queued[0].status is outbox.Status.QUEUED


def test_a_failing_run_queues_no_email(app: App) -> None:
    r = app.post("mail", "anonymous", json={"to": "not an address", "fail": False})
    assert r.status_code == 400
    assert outbox.emails(app.env.backend) == []
