"""Database trigger events (bubble-semantics.md §2.8), on SQLite and PostgreSQL: fired by
changes from the Data API and from workflows, once per transaction and thing with the first
*before* and the last *now*; the condition sees only those two; the run is admin with
`Current User` the user who caused the change; a trigger's own changes fire nothing; and a
rolled-back change fires nothing."""

from __future__ import annotations

import pytest

from burble.errors import AppDefError
from burble.jobs import Status
from burble.runtime import Databases
from tests.conftest import make_api
from tests.scheduling.support import drain, jobs
from tests.workflows.support import App

APP = """
name: triggers
settings:
  workflow_api: true
  data_api: {expose: [Order]}
types:
  User:
    fields: {name: text}
  Order:
    fields: {status: text, total: number, owner: User}
    privacy:
      - name: Owner
        when: This Order's owner is Current User
        allow: [find, view all fields, create via API, modify via API, delete via API]
  Event:
    fields: {what: text, order: text, before: text, now: text, who: User}
triggers:
  order-paid:
    type: Order
    on: [modify]
    only_when: Order before change's status is not "paid" and Order now's status is "paid"
    actions:
      - create: Event
        fields:
          what: paid
          order: "[Order now's unique id]"
          before: "[Order before change's status]"
          now: "[Order now's status]"
          who: "[Current User]"
      - change: "[Order now]"
        fields: {status: "paid (seen)"}
  order-any:
    type: Order
    actions:
      - create: Event
        fields:
          what: any
          order: "[Order before change's unique id] [Order now's unique id]"
          before: "[Order before change's status]"
          now: "[Order now's status]"
workflows:
  pay-twice:
    expose: true
    auth: admin
    parameters: {order: Order, fail: {type: yes/no, optional: true}}
    actions:
      - change: "[order]"
        fields: {status: "pending"}
      - change: "[order]"
        fields: {status: "paid", total: 10}
      - only_when: fail
        create_account: {email: not an email}
"""


@pytest.fixture
def app(databases: Databases) -> App:
    return App(databases, APP)


def _events(app: App) -> list[tuple[str, str, str]]:
    """(what, before, now) of every Event, an empty status as ""."""
    found = [(e["what"], e.get("before", ""), e.get("now", "")) for e in app.things("Event")]
    return sorted(found)


def test_data_api_changes_fire_with_before_and_now(app: App) -> None:
    ann = app.user("ann", name="Ann")
    url = "/version-test/api/1.1/obj/order"
    r = app.client.post(url, json={"status": "new", "owner": ann}, headers=app.headers["ann"])
    assert r.status_code == 201, r.text
    order = r.json()["id"]
    r = app.client.patch(f"{url}/{order}", json={"status": "paid"}, headers=app.headers["ann"])
    assert r.status_code == 204, r.text
    assert drain(app) == 3
    assert _events(app) == [
        ("any", "", "new"),  # created: before change is empty
        ("any", "new", "paid"),
        ("paid", "new", "paid"),
    ]  # and order-paid's own change to "paid (seen)" fired nothing


def test_one_run_fires_once_with_the_first_before_and_the_last_now(app: App) -> None:
    order = app.thing("Order", status="new", total=1)
    assert drain(app) == 1  # order-any for the create
    app.run("pay-twice", json={"order": order})
    pending = [j for j in jobs(app) if j.status is Status.SCHEDULED]
    assert sorted(j.workflow for j in pending) == ["order-any", "order-paid"]
    drain(app)
    assert _events(app) == [
        ("any", "", "new"),
        ("any", "new", "paid"),
        ("paid", "new", "paid"),
    ]
    # The trigger's own change (status "paid (seen)") fired no trigger.
    (stored,) = app.things("Order")
    assert stored["status"] == "paid (seen)"
    assert all(j.status is not Status.SCHEDULED for j in jobs(app))


def test_the_condition_decides_and_current_user_is_the_causer(app: App) -> None:
    ann = app.user("ann", name="Ann")
    url = "/version-test/api/1.1/obj/order"
    r = app.client.post(url, json={"status": "paid", "owner": ann}, headers=app.headers["ann"])
    order = r.json()["id"]
    # Created already paid: order-paid watches modifications only.
    r = app.client.patch(f"{url}/{order}", json={"total": 5}, headers=app.headers["ann"])
    assert r.status_code == 204
    drain(app)
    assert [e for e in _events(app) if e[0] == "paid"] == []  # paid → paid: condition false
    r = app.client.patch(f"{url}/{order}", json={"status": "open"}, headers=app.headers["ann"])
    r = app.client.patch(f"{url}/{order}", json={"status": "paid"}, headers=app.headers["ann"])
    drain(app)
    paid = [e for e in app.things("Event") if e["what"] == "paid"]
    assert len(paid) == 1 and paid[0]["who"] == ann  # run as admin, Current User is Ann


def test_a_rolled_back_run_fires_nothing(app: App) -> None:
    order = app.thing("Order", status="new")
    drain(app)
    r = app.post("pay-twice", json={"order": order, "fail": True})
    assert r.status_code == 400
    assert [j for j in jobs(app) if j.status is Status.SCHEDULED] == []


def test_deletes_fire_with_an_empty_now(app: App) -> None:
    order = app.thing("Order", status="gone soon")
    drain(app)
    r = app.client.delete(f"/version-test/api/1.1/obj/order/{order}", headers=app.api.auth)
    assert r.status_code == 204
    drain(app)
    assert ("any", "gone soon", "") in _events(app)


def test_a_trigger_condition_may_use_only_before_and_now(databases: Databases) -> None:
    text = APP.replace(
        'only_when: Order before change\'s status is not "paid" and',
        "only_when: Current User is logged in and",
    )
    with pytest.raises(AppDefError) as info:
        make_api(databases, text)
    assert (
        "a trigger's condition may use only Order before change and Order now, "
        "not Current User" in str(info.value)
    )
