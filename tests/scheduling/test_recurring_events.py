"""Recurring events through workflows (bubble-semantics.md §2.7), on SQLite and PostgreSQL:
`set_recurring` starts a calendar series on a thing, each occurrence runs the event with
`This <Type>`, the next one follows on the calendar of `settings.timezone`, one series per
(event, thing), and frequency `none` stops it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from burble.jobs import Status
from burble.runtime import Databases
from tests.scheduling.support import drain, jobs
from tests.workflows.support import App

PARIS = ZoneInfo("Europe/Paris")

APP = """
name: recurring
settings:
  workflow_api: true
  timezone: Europe/Paris
types:
  User: {fields: {}}
  Account:
    fields: {name: text, invoices: number}
recurring_events:
  monthly-invoice:
    type: Account
    actions:
      - change: "[This Account]"
        fields: {invoices: "[This Account's invoices:defaulting to 0 + 1]"}
workflows:
  subscribe:
    expose: true
    auth: admin
    parameters: {account: Account, start: date, frequency: text}
    actions:
      - set_recurring: monthly-invoice
        thing: "[account]"
        frequency: "[frequency]"
        start: "[start]"
"""


def _ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=PARIS).timestamp() * 1000)  # type: ignore[misc]


@pytest.fixture
def app(databases: Databases) -> App:
    return App(databases, APP)


def _invoices(app: App) -> int:
    (account,) = app.things("Account")
    return int(account.get("invoices", 0))


def _subscribe(app: App, account: str, start: int, frequency: str = "monthly") -> None:
    iso = datetime.fromtimestamp(start / 1000, PARIS).isoformat()
    app.run("subscribe", json={"account": account, "start": iso, "frequency": frequency})


def test_a_monthly_series_on_the_calendar(app: App) -> None:
    account = app.thing("Account", name="Acme")
    _subscribe(app, account, _ms(2027, 1, 31, 9, 0))
    (first,) = [j for j in jobs(app) if j.status is Status.SCHEDULED]
    assert first.run_at == _ms(2027, 1, 31, 9, 0) and first.thing_id == account
    assert drain(app, at=_ms(2027, 1, 31, 9, 0)) == 1
    assert _invoices(app) == 1
    upcoming = [j.run_at for j in jobs(app) if j.status is Status.SCHEDULED]
    assert upcoming == [_ms(2027, 2, 28, 9, 0)]  # clamped to February's end
    assert drain(app, at=_ms(2027, 2, 28, 9, 0)) == 1
    upcoming = [j.run_at for j in jobs(app) if j.status is Status.SCHEDULED]
    assert upcoming == [_ms(2027, 3, 31, 9, 0)]  # back to the 31st, 09:00 Paris after DST
    assert _invoices(app) == 2


def test_one_series_per_thing_and_none_stops_it(app: App) -> None:
    account = app.thing("Account", name="Acme")
    _subscribe(app, account, _ms(2027, 1, 10, 9, 0))
    # Set again with a start before the next run: pushed back one period (Bubble).
    _subscribe(app, account, _ms(2027, 1, 5, 9, 0))
    active = [j for j in jobs(app) if j.status is Status.SCHEDULED]
    assert [j.run_at for j in active] == [_ms(2027, 2, 5, 9, 0)]
    _subscribe(app, account, _ms(2027, 1, 5, 9, 0), frequency="none")
    assert [j for j in jobs(app) if j.status is Status.SCHEDULED] == []
    assert drain(app, at=_ms(2027, 6, 1)) == 0
    assert _invoices(app) == 0


def test_a_bad_frequency_fails_the_run(app: App) -> None:
    account = app.thing("Account", name="Acme")
    r = app.post(
        "subscribe",
        json={"account": account, "start": "2027-01-01T00:00:00Z", "frequency": "hourly"},
    )
    assert r.status_code == 400
    assert "'hourly' is not a frequency" in r.json()["body"]["message"]
    assert jobs(app) == []
