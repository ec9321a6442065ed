"""The engine, on SQLite and PostgreSQL: a run is one transaction (a failing step undoes the
earlier ones), the time limit, searches seeing the run's own changes, privacy rules inside
runs, and custom events (parameters, returned values, nesting)."""

from __future__ import annotations

from typing import Any

import pytest

from burble.runtime import Databases
from tests.api.support import assert_shape_a
from tests.workflows.support import App, Clock

APP = """
name: wfengine
settings:
  workflow_api: true
option_sets:
  Color: [Red, Green, Blue]
types:
  User:
    fields: {name: text}
    privacy:
      - name: Self
        when: This User is Current User
        allow: [find, view all fields]
  Item:
    fields:
      name: text
      price: number
      color: Color
      owner: User
      parent: Item
    privacy:
      - name: Owner
        when: This Item's owner is Current User
        allow: [find, view all fields]
      - name: Public
        when: This Item's color is Green
        allow: [find, {view: [name]}]
  Secret:
    fields: {text: text}
workflows:
  three-steps:
    expose: true
    parameters: {fail: yes/no}
    actions:
      - create: Item
        fields: {name: one}
      - create: Item
        fields: {name: two}
      - change: "[Search for Items (name = \\"nope\\"):first item]"
        only_when: fail
        fields: {name: three}
      - return: {ok: true}
  bad-reference:
    expose: true
    actions:
      - create: Item
        fields: {name: one}
      - create: Secret
        fields: {text: two}
      - delete: "[Result of step 1]"
      - create: Item
        fields: {name: three, parent: "[Result of step 1]"}
  many:
    expose: true
    actions:
      - create: Item
        fields: {name: a}
      - create: Item
        fields: {name: b}
      - create: Item
        fields: {name: c}
      - create: Item
        fields: {name: d}
      - create: Item
        fields: {name: e}
  sees-itself:
    expose: true
    ignore_privacy: true
    actions:
      - create: Item
        fields: {name: fresh, price: 3}
      - change_list: "[Search for Items (name = \\"fresh\\")]"
        fields: {price: "[This Item's price + 1]"}
      - delete: "[Search for Items (name = \\"old\\"):first item]"
      - return:
          fresh: "[Search for Items (name = \\"fresh\\"):count]"
          price: "[Search for Items (name = \\"fresh\\"):first item's price]"
          old: "[Search for Items (name = \\"old\\"):count]"
  what-i-see:
    expose: true
    auth: none
    actions:
      - return: &seen
          count: "[Search for Items:count]"
          names: "[Search for Items:sorted by name's name]"
          green price: "[Search for Items (color = Green):first item's price]"
          secrets: "[Search for Secrets:count]"
          my email: "[Current User's email]"
  what-all-see:
    expose: true
    auth: none
    ignore_privacy: true
    actions:
      - return: *seen
  mark-all:
    expose: true
    actions:
      - change_list: "[Search for Items]"
        fields: {price: 99}
      - return: {changed: "[Result of step 1:count]"}
  uses-event:
    expose: true
    ignore_privacy: true
    parameters: {n: number}
    actions:
      - trigger: double
        parameters: {n: "[n]", label: "n=[n]"}
      - trigger: double
        parameters: {n: "[Result of step 1's twice]"}
      - return:
          twice: "[Result of step 1's twice]"
          four times: "[Result of step 2's twice]"
          item name: "[Result of step 1's item's name]"
          nothing: "[Result of step 2's unset]"
          items: "[Search for Items:count]"
  loops:
    expose: true
    actions:
      - trigger: forever
  event-fails:
    expose: true
    actions:
      - create: Item
        fields: {name: kept?}
      - trigger: fails
custom_events:
  double:
    parameters:
      n: number
      label: {type: text, optional: true}
    return: {twice: number, item: Item, unset: text}
    actions:
      - create: Item
        fields: {name: "[label:defaulting to \\"no label\\"]", price: "[n]"}
      - return: {twice: "[n * 2]", item: "[Result of step 1]"}
      - create: Item
        fields: {name: never}
  forever:
    actions:
      - trigger: forever
  fails:
    actions:
      - change: "[Search for Items (name = \\"nope\\"):first item]"
        fields: {name: x}
"""


@pytest.fixture
def app(databases: Databases) -> App:
    return App(databases, APP)


# --- one transaction per run --------------------------------------------------------------


def test_a_failing_step_undoes_the_earlier_ones(app: App) -> None:
    r = app.post("three-steps", json={"fail": True})
    body = assert_shape_a(r, 400, "ERROR")
    assert body["body"]["message"] == (
        "Workflow three-steps, step 3 (Make changes to a thing): the thing to change is empty"
    )
    assert app.things("Item") == []
    assert app.run("three-steps", json={"fail": False}) == {"ok": True}
    assert sorted(i["name"] for i in app.things("Item")) == ["one", "two"]


def test_a_failing_write_undoes_the_run(app: App) -> None:
    # Step 4 refers to the thing step 3 deleted: the reference check fails, all is undone.
    body = assert_shape_a(app.post("bad-reference"), 400, "INVALID_DATA")
    message = body["body"]["message"]
    assert message.startswith(
        "Workflow bad-reference, step 4 (Create a new thing): Invalid data for field parent: "
        "there is no Item with id "
    )
    assert app.things("Item") == [] and app.things("Secret") == []


def test_a_failing_custom_event_undoes_the_caller_too(app: App) -> None:
    r = app.post("event-fails")
    body = assert_shape_a(r, 400, "ERROR")
    assert body["body"]["message"] == (
        "Workflow event-fails, step 2 (Trigger a custom event): Custom event fails, step 1 "
        "(Make changes to a thing): the thing to change is empty"
    )
    assert app.things("Item") == []


def test_the_time_limit_stops_the_run_and_undoes_it(app: App) -> None:
    engine = app.env.workflows
    assert engine.time_limit == 300
    engine.monotonic = Clock(step=100)  # every reading moves 100 s on
    r = app.post("many")
    body = assert_shape_a(r, 504, "ERROR")
    assert body["body"]["message"] == (
        "Workflow many took longer than its time limit of 300 seconds: it was stopped and "
        "none of its changes were kept"
    )
    assert app.things("Item") == []
    engine.monotonic = Clock(step=10)
    assert app.run("many") == {}
    assert len(app.things("Item")) == 5


def test_the_time_limit_is_a_setting(databases: Databases) -> None:
    text = APP.replace(
        "workflow_api: true", "workflow_api: true\n  workflow_time_limit_seconds: 2.5"
    )
    app = App(databases, text)
    engine = app.env.workflows
    assert engine.time_limit == 2.5
    engine.monotonic = Clock(step=1)  # one second per reading: step 3's check is past 2.5 s
    body = assert_shape_a(app.post("many"), 504, "ERROR")
    assert "time limit of 2.5 seconds" in body["body"]["message"]


def test_the_time_limit_is_checked_inside_list_actions(app: App) -> None:
    for i in range(5):
        app.thing("Item", name=str(i))
    app.env.workflows.monotonic = Clock(step=100)
    assert_shape_a(app.post("mark-all"), 504, "ERROR")
    assert all("price" not in i for i in app.things("Item"))


def test_a_run_sees_its_own_changes(app: App) -> None:
    app.thing("Item", name="old")
    assert app.run("sees-itself") == {"fresh": 1, "price": 4, "old": 0}


# --- privacy inside runs ------------------------------------------------------------------


@pytest.fixture
def world(app: App) -> App:
    alice = app.user("alice", name="Alice")
    bob = app.user("bob", name="Bob")
    app.user("carol", name="Carol")
    app.thing("Item", name="A", price=1, color="Red", owner=alice)
    app.thing("Item", name="B", price=2, color="Green", owner=bob)
    app.thing("Item", name="C", price=3, color="Blue")
    app.thing("Secret", text="s")
    return app


def test_searches_in_a_run_see_what_the_callers_rules_grant(world: App) -> None:
    assert world.run("what-i-see", "alice") == {
        "count": 2,
        "names": ["A", "B"],
        "green price": None,  # B's price is not among the fields Public shows
        "secrets": 0,
        "my email": "alice@example.com",
    }
    assert world.run("what-i-see", "bob") == {
        "count": 1,
        "names": ["B"],
        "green price": 2,
        "secrets": 0,
        "my email": "bob@example.com",
    }
    assert world.run("what-i-see", "anonymous") == {
        "count": 1,
        "names": ["B"],
        "green price": None,
        "secrets": 0,
        "my email": None,
    }


def test_ignore_privacy_and_admin_tokens_see_everything(world: App) -> None:
    everything = {
        "count": 3,
        "names": ["A", "B", "C"],
        "green price": 2,
        "secrets": 1,
    }
    assert world.run("what-all-see", "carol") == {**everything, "my email": "carol@example.com"}
    assert world.run("what-i-see", "admin") == {**everything, "my email": None}


def test_actions_change_what_the_caller_finds_whatever_via_api_says(world: App) -> None:
    # No rule lets carol modify items ("modify via API" is for the Data API only): the change
    # happens, on the things her search finds (B only).
    assert world.run("mark-all", "carol") == {"changed": 1}
    prices = {i["name"]: i.get("price") for i in world.things("Item")}
    assert prices == {"A": 1, "B": 99, "C": 3}


# --- custom events ------------------------------------------------------------------------


def test_custom_event_returned_values(app: App) -> None:
    assert app.run("uses-event", json={"n": 21}) == {
        "twice": 42,
        "four times": 84,
        "item name": "n=21",
        "nothing": None,
        "items": 2,  # the event's return ended it: "never" was not created
    }
    assert sorted(i["name"] for i in app.things("Item")) == ["n=21", "no label"]


def test_custom_events_cannot_recurse_forever(app: App) -> None:
    body = assert_shape_a(app.post("loops"), 400, "ERROR")
    assert body["body"]["message"].endswith(
        "custom events triggered each other more than 20 levels deep"
    )


# --- server logs --------------------------------------------------------------------------


def test_every_run_writes_its_server_log(app: App) -> None:
    from burble.logs.search import search

    app.run("three-steps", json={"fail": False})
    backend = app.env.backend
    entries = search(backend, workflow="three-steps")
    assert [(e.kind.value, e.step, e.message) for e in entries] == [
        ("start", None, "Started running workflow three-steps"),
        ("condition", None, "Event condition passed"),
        ("action", 1, "Running action Create a new thing (step 1)"),
        ("action", 2, "Running action Create a new thing (step 2)"),
        ("condition", 3, "Action condition failed (step 3)"),
        ("action", 4, "Running action Return data (step 4)"),
        ("end", None, "Finished running workflow three-steps"),
    ]
    assert entries[0].data == {"fail": False} and entries[-1].data == {"ok": True}
    # Each action's evaluated inputs, by option.
    assert [e.data for e in entries[2:6]] == [
        {"fields.name": "one"},
        {"fields.name": "two"},
        {"condition": "fail"},  # the skipped action has no inputs
        {"values.ok": True},
    ]
    assert len({e.run_id for e in entries}) == 1


def test_a_run_and_its_log_are_one_transaction(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from burble.logs.search import search

    backend = app.env.backend
    writes: list[int] = []
    real = type(backend).write

    def counted(self: Any) -> Any:
        writes.append(1)
        return real(self)

    monkeypatch.setattr(type(backend), "write", counted)
    app.run("three-steps", json={"fail": False})
    assert len(writes) == 1
    assert search(backend, workflow="three-steps")[-1].kind.value == "end"


def test_a_failed_run_keeps_its_log(app: App) -> None:
    from burble.logs.search import search

    app.post("event-fails")
    entries = search(app.env.backend, workflow="event-fails")
    assert [(e.kind.value, e.step) for e in entries] == [
        ("start", None),
        ("condition", None),
        ("action", 1),
        ("action", 2),
        ("action", 1),  # inside the custom event
        ("error", 2),
    ]
    assert entries[4].message == (
        "Running action Make changes to a thing in custom event fails (step 1)"
    )
    assert entries[-1].message.startswith("Workflow error: Workflow event-fails, step 2")
    app.post("three-steps", json={})  # a missing parameter: logged too
    errors = search(app.env.backend, workflow="three-steps", errors_only=True)
    assert [e.message for e in errors] == [
        "Workflow error: Missing parameter for workflow three-steps: parameter fail"
    ]
