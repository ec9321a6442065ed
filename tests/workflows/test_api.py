"""The Workflow API's surface, on SQLite and PostgreSQL: routing, exposure, methods, auth
levels, Bubble's error bodies verbatim, conditions, response kinds and /initialize."""

from __future__ import annotations

import pytest

from burble.runtime import Databases
from tests.api.support import assert_shape_a
from tests.workflows.support import LIVE_WF, WF, App

APP = """
name: wfapi
settings:
  workflow_api: true
types:
  User:
    fields: {name: text}
    privacy:
      - name: Self
        when: This User is Current User
        allow: [find, view all fields]
  Item:
    fields: {name: text}
workflows:
  open:
    expose: true
    auth: none
    actions:
      - return: {who: "[Current User's name]", logged in: "[Current User is logged in]"}
  members:
    expose: true
    auth: user
    actions:
      - return: {who: "[Current User's name]"}
  admins:
    expose: true
    auth: admin
    actions:
      - return: {ok: true}
  hidden:
    actions:
      - return: {ok: true}
  lookup:
    expose: true
    method: GET
    auth: none
    parameters: {q: text}
    actions:
      - return: {q: "[q]"}
  needs:
    expose: true
    auth: none
    parameters:
      code: text
      user_id: User
    actions:
      - return: {ok: true}
  guarded:
    expose: true
    auth: none
    parameters: {n: number}
    only_when: n > 10
    actions:
      - create: Item
        fields: {name: guarded}
      - return: {ran: true}
  webhook:
    expose: true
    auth: none
    parameters: {n: number}
    only_when: n > 10
    return_200_if_not_run: true
    actions:
      - return: {ran: true}
  plain:
    expose: true
    auth: none
    parameters: {name: text}
    response: text
    actions:
      - return: "Hello [name]!"
  csv:
    expose: true
    auth: none
    response: {content_type: text/csv}
    actions:
      - return: "a,b\\n1,2"
  nothing:
    expose: true
    auth: none
    actions: []
"""


@pytest.fixture
def app(databases: Databases) -> App:
    a = App(databases, APP)
    a.user("ann", name="Ann")
    return a


def shape_a_body(response: object, status: int, code: str, message: str) -> None:
    body = assert_shape_a(response, status, code)
    assert body["body"]["message"] == message


# --- routing and exposure -----------------------------------------------------------------


def test_success_envelope_on_both_prefixes(databases: Databases) -> None:
    app = App(databases, APP, deploy_live=True)
    app.user("ann", name="Ann")
    for base in (WF, LIVE_WF, "/version-live/api/1.1/wf"):
        r = app.post("open", "anonymous", base=base)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.json() == {"status": "success", "response": {"who": None, "logged in": False}}
    # Duplicate and trailing slashes are tolerated.
    r = app.client.post("/version-test/api/1.1//wf/open/")
    assert r.status_code == 200, r.text


def test_no_return_answers_an_empty_response(app: App) -> None:
    assert app.run("nothing", "anonymous") == {}


def test_unknown_and_unexposed_workflows_are_404(app: App) -> None:
    shape_a_body(app.post("nope"), 404, "NOT_FOUND", "Workflow not found nope")
    shape_a_body(app.post("hidden"), 404, "NOT_FOUND", "Workflow not found hidden")
    shape_a_body(app.post("open/extra"), 404, "NOT_FOUND", "Workflow not found open/extra")
    shape_a_body(app.post("Open"), 404, "NOT_FOUND", "Workflow not found Open")  # case-sensitive
    r = app.client.post("/version-test/api/1.1/wf")
    assert_shape_a(r, 404, "NOT_FOUND")


def test_disabled_workflow_api_is_404_everywhere(databases: Databases) -> None:
    app = App(databases, APP.replace("workflow_api: true", "workflow_api: false"))
    message = "This application does not expose a Workflow API"
    for path in ("open", "hidden", "nope", "open/initialize", ""):
        shape_a_body(app.post(path), 404, "NOT_FOUND", message)
    shape_a_body(app.get("lookup", params={"q": "x"}), 404, "NOT_FOUND", message)
    # Live before any deploy has no definition at all: the same answer.
    shape_a_body(app.post("open", base=LIVE_WF), 404, "NOT_FOUND", message)


def test_methods(app: App) -> None:
    r = app.get("open", "anonymous")
    assert_shape_a(r, 405, "ERROR")
    assert r.headers["allow"] == "POST"
    r = app.post("lookup", "anonymous", params={"q": "x"})
    assert_shape_a(r, 405, "ERROR")
    assert r.headers["allow"] == "GET"
    r = app.get("lookup", "anonymous", params={"q": "hi there"})
    assert r.status_code == 200 and r.json()["response"] == {"q": "hi there"}


# --- auth ---------------------------------------------------------------------------------


def test_auth_none_runs_for_everyone(app: App) -> None:
    assert app.run("open", "anonymous") == {"who": None, "logged in": False}
    assert app.run("open", "ann") == {"who": "Ann", "logged in": True}
    assert app.run("open", "admin") == {"who": None, "logged in": False}


def test_auth_user_needs_a_user_or_admin_token(app: App) -> None:
    shape_a_body(
        app.post("members", "anonymous"),
        401,
        "UNAUTHORIZED",
        "Workflow members requires authentication: send a user token or an admin API token",
    )
    assert app.run("members", "ann") == {"who": "Ann"}
    assert app.run("members", "admin") == {"who": None}
    token = app.headers["ann"]["Authorization"].split()[1]
    r = app.client.post(f"{WF}/members", params={"api_token": token})
    assert r.status_code == 200 and r.json()["response"] == {"who": "Ann"}


def test_auth_admin_needs_an_admin_token(app: App) -> None:
    for who in ("anonymous", "ann"):
        shape_a_body(
            app.post("admins", who),
            401,
            "UNAUTHORIZED",
            "Workflow admins requires an admin API token",
        )
    assert app.run("admins", "admin") == {"ok": True}


def test_a_bad_token_is_the_auth_layer_401(app: App) -> None:
    for name in ("open", "members", "nope"):
        r = app.client.post(f"{WF}/{name}", headers={"Authorization": "Bearer nonsense"})
        assert r.status_code == 401
        assert r.json() == {
            "error_class": "Unauthorized",
            "args": {"code": "INVALID_TOKEN"},
            "message": None,
            "translation": "Invalid or expired token",
        }


# --- parameter errors, verbatim -----------------------------------------------------------


def test_missing_and_invalid_parameters(app: App) -> None:
    shape_a_body(
        app.post("needs", json={}),
        400,
        "MISSING_DATA",
        "Missing parameter for workflow needs: parameter code",
    )
    shape_a_body(
        app.post("needs", json={"code": "x"}),
        400,
        "MISSING_DATA",
        "Missing parameter for workflow needs: parameter user_id",
    )
    shape_a_body(
        app.post("needs", json={"code": "", "user_id": app.ids["ann"]}),
        400,
        "MISSING_DATA",
        "Missing parameter for workflow needs: parameter code",
    )
    for bad in ("not an id", "1700000000000x123456789012345678", 5):
        shape_a_body(
            app.post("needs", json={"code": "x", "user_id": bad}),
            400,
            "INVALID",
            "Invalid value for parameter user_id (must be user)",
        )
    assert app.run("needs", json={"code": "x", "user_id": app.ids["ann"]}) == {"ok": True}


def test_unreadable_bodies(app: App) -> None:
    r = app.post("needs", content=b"{nope", headers={"content-type": "application/json"})
    assert_shape_a(r, 400, "ERROR")
    r = app.post("needs", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert r.json()["body"]["message"] == "The request body must be a JSON object"
    r = app.post("needs", files={"code": ("a.txt", b"x")})
    assert_shape_a(r, 400, "ERROR")


# --- conditions ---------------------------------------------------------------------------


def test_a_false_condition_is_not_run_with_the_flat_body(app: App) -> None:
    r = app.post("guarded", json={"n": 3})
    assert r.status_code == 400
    assert r.json() == {
        "status": "NOT_RUN",
        "message": "The condition for the workflow guarded is not met. Workflow won't run",
    }
    assert app.things("Item") == []
    assert app.run("guarded", json={"n": 11}) == {"ran": True}
    assert [i["name"] for i in app.things("Item")] == ["guarded"]


def test_return_200_if_not_run(app: App) -> None:
    r = app.post("webhook", "anonymous", json={"n": 1})
    assert r.status_code == 200
    assert r.json() == {"status": "success", "response": {}}
    assert app.run("webhook", "anonymous", json={"n": 100}) == {"ran": True}


# --- response kinds -----------------------------------------------------------------------


def test_text_and_custom_content_type_responses(app: App) -> None:
    r = app.post("plain", "anonymous", json={"name": "Ann"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text == "Hello Ann!"
    r = app.post("csv", "anonymous")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv"
    assert r.text == "a,b\n1,2"


# --- /initialize --------------------------------------------------------------------------


def test_initialize_reports_names_and_types(app: App) -> None:
    sample = {
        "name": "Ann",
        "amount": 12.5,
        "paid": True,
        "when": "2024-03-04T14:38:27.880Z",
        "tags": ["a", "b"],
        "scores": [1, 2],
        "place": {"address": "Paris", "lat": 48.85, "lng": 2.35},
        "data": {"nested": 1},
    }
    r = app.post("needs/initialize", "anonymous", json=sample, params={"ref": "x"})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "success",
        "parameters": {
            "ref": "text",
            "name": "text",
            "amount": "number",
            "paid": "yes/no",
            "when": "date",
            "tags": "list of texts",
            "scores": "list of numbers",
            "place": "geographic address",
            "data": "object",
        },
        # Ready to paste under the workflow in app.yaml (an object is left as a comment).
        "yaml": "parameters:\n  ref: text\n  name: text\n  amount: number\n  paid: yes/no\n"
        "  when: date\n  tags: list of texts\n  scores: list of numbers\n"
        "  place: geographic address\n  # data: an object is not a parameter type\n",
    }
    r = app.post("needs/initialize", "anonymous", data={"a": "1", "b": "x"})
    assert r.json()["parameters"] == {"a": "text", "b": "text"}
    assert r.json()["yaml"] == "parameters:\n  a: text\n  b: text\n"
    assert app.things("Item") == []  # nothing ran


def test_initialize_outside_development_or_for_unknown_workflows(databases: Databases) -> None:
    app = App(databases, APP, deploy_live=True)
    for base, name in ((LIVE_WF, "needs"), (WF, "nope"), (WF, "hidden")):
        shape_a_body(
            app.post(f"{name}/initialize", base=base, json={"a": 1}),
            404,
            "NOT_FOUND",
            f"Workflow {name} not in initialization mode",
        )
    assert app.client.post(f"{LIVE_WF}/needs/initialize").json() == {
        "statusCode": 404,
        "body": {"status": "NOT_FOUND", "message": "Workflow needs not in initialization mode"},
    }
