"""Schedule API workflow, on a list, cancel, recursion protection and snapshots, through the
Workflow API and a worker with a clock moved by the test, on SQLite and PostgreSQL
(bubble-semantics.md §2.3–§2.6)."""

from __future__ import annotations

import pytest

from burble.auth.actor import ADMIN
from burble.jobs import Status
from burble.runtime import Databases
from burble.values import now_ms
from tests.scheduling.support import drain, jobs
from tests.workflows.support import App

DAY = 86_400_000

APP = """
name: scheduling
settings:
  workflow_api: true
  recursion_limit: 3
  schedule_list_limit: 5
types:
  User:
    fields: {name: text}
    privacy:
      - name: Self
        when: This User is Current User
        allow: [find, view all fields]
  Item:
    fields: {name: text, n: number, by: User}
workflows:
  later:
    parameters: {name: text, n: {type: number, optional: true}}
    actions:
      - create: Item
        fields: {name: "[name]", n: "[n]", by: "[Current User]"}
  plan:
    expose: true
    auth: user
    parameters: {name: text, days: number, fail: {type: yes/no, optional: true}}
    actions:
      - schedule: later
        at: "[Current date/time +(days): days]"
        parameters: {name: "[name]", n: "[days]"}
      - only_when: fail
        create_account: {email: not an email}
      - return: {id: "[Result of step 1]"}
  plan-list:
    expose: true
    auth: admin
    parameters: {interval: {type: number, optional: true}}
    actions:
      - schedule_on_list: later
        list: "[Search for Items]"
        interval: "[interval]"
        parameters: {name: "[This Item's name] again", n: "[This Item's n]"}
      - return: {ids: "[Result of step 1]"}
  cancel:
    expose: true
    auth: admin
    parameters: {id: text}
    actions:
      - cancel_scheduled: "[id]"
  cancel-all:
    expose: true
    auth: admin
    parameters: {ids: list of texts}
    actions:
      - cancel_scheduled_list: "[ids]"
  flaky:
    retry: {attempts: 2, delay_seconds: 0}
    actions:
      - create: Item
        fields: {name: "never kept"}
      - create_account: {email: not an email}
  plan-flaky:
    expose: true
    auth: admin
    actions:
      - schedule: flaky
  countdown:
    expose: true
    auth: admin
    parameters: {n: number}
    actions:
      - create: Item
        fields: {name: "countdown", n: "[n]"}
      - schedule: countdown
        parameters: {n: "[n - 1]"}
        only_when: n > 0
"""


@pytest.fixture
def app(databases: Databases) -> App:
    return App(databases, APP)


def _items(app: App) -> list[tuple[str, object]]:
    return [(i["name"], i.get("n")) for i in app.things("Item")]


def test_a_scheduled_run_runs_when_due_as_the_scheduling_user(app: App) -> None:
    ann = app.user("ann", name="Ann")
    scheduled = app.run("plan", "ann", json={"name": "tomorrow", "days": 1})["id"]
    (job,) = jobs(app)
    assert job.id == scheduled and job.status is Status.SCHEDULED
    assert job.user_id == ann and job.depth == 1 and job.workflow == "later"
    assert abs(job.run_at - (now_ms() + DAY)) < 60_000
    assert drain(app) == 0  # not due yet
    assert drain(app, at=now_ms() + DAY + 60_000) == 1
    assert [(i["name"], i["n"], i["by"]) for i in app.things("Item")] == [("tomorrow", 1, ann)]
    assert jobs(app)[0].status is Status.DONE


def test_a_past_date_runs_at_once(app: App) -> None:
    app.user("ann")
    app.run("plan", "ann", json={"name": "yesterday", "days": -1})
    assert drain(app) == 1
    assert _items(app) == [("yesterday", -1)]


def test_a_rolled_back_run_schedules_nothing(app: App) -> None:
    app.user("ann")
    r = app.post("plan", "ann", json={"name": "x", "days": 0, "fail": True})
    assert r.status_code == 400
    assert jobs(app) == []


def test_schedule_on_a_list_with_an_interval(app: App) -> None:
    for n in (1, 2, 3):
        app.thing("Item", name=f"item {n}", n=n)
    ids = app.run("plan-list", json={"interval": 10})["ids"]
    scheduled = jobs(app)
    assert [j.id for j in scheduled] == ids
    start = scheduled[0].run_at
    assert [j.run_at - start for j in scheduled] == [0, 10_000, 20_000]
    assert {j.depth for j in scheduled} == {1}  # siblings share a depth
    assert drain(app, at=start + 10_000) == 2
    assert drain(app, at=start + 20_000) == 1
    assert sorted(_items(app)) == [
        ("item 1", 1),
        ("item 1 again", 1),
        ("item 2", 2),
        ("item 2 again", 2),
        ("item 3", 3),
        ("item 3 again", 3),
    ]


def test_a_list_over_the_limit_fails_loudly(app: App) -> None:
    for n in range(6):
        app.thing("Item", name=f"item {n}", n=n)
    r = app.post("plan-list", json={})
    assert r.status_code == 400
    assert "at most 5 workflows can be scheduled on a list" in r.json()["body"]["message"]
    assert jobs(app) == []


def test_cancel_one_and_a_list(app: App) -> None:
    app.user("ann")
    first = app.run("plan", "ann", json={"name": "a", "days": 1})["id"]
    second = app.run("plan", "ann", json={"name": "b", "days": 1})["id"]
    third = app.run("plan", "ann", json={"name": "c", "days": 1})["id"]
    app.run("cancel", json={"id": first})
    app.run("cancel-all", json={"ids": [second, "1700000000000x1"]})
    assert {j.id: j.status for j in jobs(app)} == {
        first: Status.CANCELLED,
        second: Status.CANCELLED,
        third: Status.SCHEDULED,
    }
    assert drain(app, at=now_ms() + 2 * DAY) == 1
    assert _items(app) == [("c", 1)]


def test_recursion_stops_at_the_limit_and_is_logged(app: App) -> None:
    from burble.logs.search import search

    app.run("countdown", json={"n": 10})  # the API call is depth 0; its schedule depth 1
    drain(app)
    # Depths 1, 2 and 3 ran; the run scheduled at depth 4 was not.
    assert sorted((n for _, n in _items(app)), reverse=True) == [10, 9, 8, 7]
    # By depth: two jobs created in one millisecond list in either order.
    statuses = sorted(((j.depth, j.status) for j in jobs(app)), key=lambda d: d[0])
    assert statuses == [
        (1, Status.DONE),
        (2, Status.DONE),
        (3, Status.DONE),
        (4, Status.SKIPPED),
    ]
    skipped = max(jobs(app), key=lambda j: j.depth)
    assert skipped.error is not None and "recursion limit of 3" in skipped.error
    errors = search(app.env.backend, errors_only=True)
    assert len(errors) == 1 and "beyond the recursion limit of 3" in errors[0].message


def test_a_run_uses_the_definition_it_was_scheduled_under(databases: Databases) -> None:
    app = App(databases, APP)
    app.user("ann")
    app.run("plan", "ann", json={"name": "old", "days": 0})
    # The definition changes before the job runs: `later` now names its things differently.
    changed = APP.replace('fields: {name: "[name]", n: "[n]", by: "[Current User]"}',
                          'fields: {name: "new [name]", n: "[n]"}')  # fmt: skip
    newer = App(databases, changed)
    newer.api.runtime.user_tokens = app.api.runtime.user_tokens
    newer.headers["ann"] = app.headers["ann"]
    newer.run("plan", "ann", json={"name": "new", "days": 0})
    assert drain(newer) == 2
    names = sorted(
        i["name"]
        for i in newer.env.things.search(ADMIN, newer.env.definition.types["Item"], {}).results
    )
    assert names == ["new new", "old"]


def test_a_failing_run_is_retried_then_kept_with_its_error(app: App) -> None:
    app.run("plan-flaky")
    assert drain(app) == 2  # the run, then its one retry
    (job,) = jobs(app)
    assert job.status is Status.FAILED and job.attempts == 2
    assert job.error is not None and "Please enter a valid email address" in job.error
    assert app.things("Item") == []  # each attempt rolled back
