"""The storage contract, run on every backend: transactions, rollback, error translation,
JSON columns, and the thing store's CRUD and search."""

from __future__ import annotations

import threading

import pytest

from burble.appdef.load import parse_app
from burble.errors import Conflict, StorageError
from burble.runtime import Databases
from burble.store import schema
from burble.store.codec import CREATED_DATE
from burble.store.query import Constraint, Op, Search, Sort
from burble.store.things import NewThing, ThingStore
from burble.values import new_unique_id

APP = """
name: contract
types:
  Item:
    fields:
      name: text
      n: number
      tags: list of texts
"""


def test_write_commits_and_error_rolls_back(databases: Databases) -> None:
    b = databases.test
    t = b.dialect.table("kv")
    with b.write() as tx:
        tx.execute(f"CREATE TABLE {t} (k TEXT PRIMARY KEY, v TEXT)")
        tx.execute(f"INSERT INTO {t} (k, v) VALUES (?, ?)", ["a", "1"])
    with pytest.raises(RuntimeError), b.write() as tx:
        tx.execute(f"INSERT INTO {t} (k, v) VALUES (?, ?)", ["b", "2"])
        raise RuntimeError("boom")
    with b.read() as tx:
        assert tx.fetchall(f"SELECT k, v FROM {t} ORDER BY k") == [("a", "1")]


def test_driver_errors_are_translated(databases: Databases) -> None:
    b = databases.test
    t = b.dialect.table("uniq")
    with b.write() as tx:
        tx.execute(f"CREATE TABLE {t} (k TEXT UNIQUE)")
        tx.execute(f"INSERT INTO {t} (k) VALUES (?)", ["x"])
    with pytest.raises(Conflict), b.write() as tx:
        tx.execute(f"INSERT INTO {t} (k) VALUES (?)", ["x"])
    with pytest.raises(StorageError), b.read() as tx:
        tx.fetchall(f"SELECT missing FROM {t}")
    with b.read() as tx:  # the backend is still usable afterwards
        assert tx.fetchone(f"SELECT COUNT(*) FROM {t}") == (1,)


def test_percent_and_question_marks_in_values_are_data(databases: Databases) -> None:
    b = databases.test
    t = b.dialect.table("odd")
    with b.write() as tx:
        tx.execute(f"CREATE TABLE {t} (v TEXT)")
        tx.execute(f"INSERT INTO {t} (v) VALUES (?)", ["100% sure? yes"])
    with b.read() as tx:
        assert tx.fetchone(f"SELECT v FROM {t} WHERE v = ?", ["100% sure? yes"]) == (
            "100% sure? yes",
        )


def _store(databases: Databases) -> tuple[ThingStore, object]:
    definition = parse_app(APP)
    schema.sync(databases.test, definition)
    return ThingStore(databases.test, definition), definition


def test_thing_store_crud_and_search(databases: Databases) -> None:
    store, definition = _store(databases)
    item = definition.types["Item"]  # type: ignore[attr-defined]
    name, n, tags = item.fields
    things = [
        NewThing(new_unique_id(1000 + i), 1000 + i, None, {name: f"i{i}", n: float(i), tags: ["a"]})
        for i in range(5)
    ]
    with databases.test.write() as tx:
        store.insert_many(tx, item, things)
    with databases.test.read() as tx:
        page = store.search(
            tx,
            Search(item, (Constraint((n,), Op.GREATER_THAN, 1.0),), (Sort(n, True),), limit=2),
        )
        assert page.total == 3
        assert [store.to_json(item, r, definition.settings.keys)["n"] for r in page.rows] == [4, 3]  # type: ignore[attr-defined]
        row = store.get(tx, item, things[0].id)
        assert row is not None
        assert store.to_json(item, row, definition.settings.keys)["tags"] == ["a"]  # type: ignore[attr-defined]
    with databases.test.write() as tx:
        assert store.update(tx, item, things[0].id, {name: "renamed"}, 5000)
        assert store.delete(tx, item, things[1].id)
        assert not store.delete(tx, item, things[1].id)
    with databases.test.read() as tx:
        page = store.search(tx, Search(item, sorts=(Sort(CREATED_DATE),)))
        assert page.total == 4
        first = store.to_json(item, page.rows[0], definition.settings.keys)  # type: ignore[attr-defined]
        assert first["name"] == "renamed"
        assert first["Modified Date"] == "1970-01-01T00:00:05.000Z"


def test_concurrent_writers_do_not_lose_rows(databases: Databases) -> None:
    store, definition = _store(databases)
    item = definition.types["Item"]  # type: ignore[attr-defined]

    def writer() -> None:
        for _ in range(20):
            with databases.test.write() as tx:
                store.insert_many(tx, item, [NewThing(new_unique_id(), 1, None, {})])

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with databases.test.read() as tx:
        assert store.search(tx, Search(item, limit=1)).total == 80
