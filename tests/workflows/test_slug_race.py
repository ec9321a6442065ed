"""Slugs are unique per type even between concurrent runs: the database's unique index
decides, and the run that loses picks the next slug (on SQLite the single writer already
orders them; on PostgreSQL the second UPDATE waits for the first commit, fails, and retries).
"""

from __future__ import annotations

import threading

import pytest

from burble.auth.actor import ADMIN
from burble.errors import Conflict
from burble.runtime import Databases
from tests.workflows.support import App

APP = """
name: slugs
types:
  User: {fields: {}}
  Item: {fields: {name: text}}
"""


@pytest.fixture
def app(databases: Databases) -> App:
    return App(databases, APP)


def test_two_concurrent_runs_never_share_a_slug(app: App) -> None:
    env = app.env
    item = env.definition.types["Item"]
    a, b = app.thing("Item", name="a"), app.thing("Item", name="b")
    results: dict[str, str | None] = {}
    started = threading.Event()

    def second() -> None:
        started.set()
        with env.backend.write() as tx:
            results["b"] = env.things.set_slug_in(tx, item, b, "bike")

    with env.backend.write() as tx:
        results["a"] = env.things.set_slug_in(tx, item, a, "bike")
        thread = threading.Thread(target=second)
        thread.start()
        started.wait()
        thread.join(0.5)  # the second run waits for this one's commit
        assert thread.is_alive()
    thread.join(10)
    assert results == {"a": "bike", "b": "bike-1"}
    slugs = sorted(t["Slug"] for t in env.things.search(ADMIN, item, {}).results)
    assert slugs == ["bike", "bike-1"]


def test_the_database_refuses_a_duplicate_slug(app: App) -> None:
    env = app.env
    item = env.definition.types["Item"]
    a, b = app.thing("Item", name="a"), app.thing("Item", name="b")
    table = env.backend.dialect.table(item.table)
    with env.backend.write() as tx:
        tx.execute(f"UPDATE {table} SET _slug = ? WHERE _id = ?", ["same", a])
    with pytest.raises(Conflict), env.backend.write() as tx:
        tx.execute(f"UPDATE {table} SET _slug = ? WHERE _id = ?", ["same", b])
