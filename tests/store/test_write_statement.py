"""`Backend.write_statement`: one statement as a write transaction of its own, and the bulk
creates that use it (ADR 0017)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from burble.auth.actor import ADMIN, Actor, ActorKind
from burble.errors import Conflict, StorageError
from burble.runtime import Databases
from burble.settings import Settings
from burble.store.sqlite import SQLiteBackend
from tests.api.support import bulk_body
from tests.conftest import make_api


def test_write_statement_commits_one_statement_or_nothing(databases: Databases) -> None:
    b = databases.test
    t = b.dialect.table("ws")
    with b.write() as tx:
        tx.execute(f"CREATE TABLE {t} (k TEXT UNIQUE, v INTEGER)")
    two = f"INSERT INTO {t} (k, v) VALUES (?, ?), (?, ?)"
    assert b.write_statement(two, ["a", 1, "b", 2]) == 2
    with pytest.raises(Conflict):  # the second row clashes: the first is not kept either
        b.write_statement(two, ["c", 3, "a", 4])
    with pytest.raises(StorageError):
        b.write_statement(f"INSERT INTO {t} (missing) VALUES (?)", [1])
    with b.write() as tx:  # the writer is free and usable afterwards
        tx.execute(f"INSERT INTO {t} (k, v) VALUES (?, ?)", ["d", 5])
    with b.read() as tx:
        assert tx.fetchall(f"SELECT k, v FROM {t} ORDER BY k") == [("a", 1), ("b", 2), ("d", 5)]


APP = """
name: alone
settings:
  data_api: {expose: [Unit, Watched, User]}
types:
  User:
    fields: {name: text}
  Unit:
    fields: {name: text, price: number, owner: User}
    privacy:
      - name: Own
        when: This Unit's owner is Current User
        allow: [find, view all fields, create via API]
  Watched:
    fields: {name: text}
  Event:
    fields: {what: text}
triggers:
  watched-created:
    type: Watched
    on: [create]
    actions:
      - create: Event
        fields:
          what: created
"""


@pytest.fixture
def sqlite_databases(tmp_path: Path) -> Iterator[Databases]:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    databases = Databases(Settings(app_dir=app_dir, data_dir=tmp_path / "data"))
    yield databases
    databases.close()


def _writer_trace(backend: object) -> list[str]:
    """The statements SQLite runs on the backend's writer connection from now on."""
    assert isinstance(backend, SQLiteBackend)
    seen: list[str] = []
    backend._writer.set_trace_callback(seen.append)
    return seen


def _around_inserts(statements: list[str]) -> list[str]:
    """Transaction control and INSERTs, in order, each cut to its first two words (and
    repeats in a row once: SQLite's trace names the statement again as its triggers run)."""
    words = [" ".join(s.split()[:2]) for s in statements]
    kept = [w for w in words if w.startswith(("BEGIN", "COMMIT", "ROLLBACK", "INSERT"))]
    return [w for i, w in enumerate(kept) if i == 0 or kept[i - 1] != w]


def test_an_admin_bulk_is_one_statement_without_begin(sqlite_databases: Databases) -> None:
    """No BEGIN: SQLite then keeps no statement journal (a copy of every page the INSERT
    changes); the things are there afterwards all the same."""
    api = make_api(sqlite_databases, APP)
    env = api.runtime.test
    seen = _writer_trace(sqlite_databases.test)
    items = [{"name": f"u{i}", "price": i} for i in range(5)]
    results, ok = env.things.bulk_create(ADMIN, env.definition.types["Unit"], bulk_body(items))
    assert ok
    assert _around_inserts(seen) == ["INSERT INTO"]
    r = api.client.get("/version-test/api/1.1/obj/unit", headers=api.auth)
    assert sorted(t["name"] for t in r.json()["response"]["results"]) == [i["name"] for i in items]
    assert {t["_id"] for t in r.json()["response"]["results"]} == {x["id"] for x in results}


def test_a_bulk_whose_rows_are_checked_or_watched_runs_in_a_transaction(
    sqlite_databases: Databases,
) -> None:
    api = make_api(sqlite_databases, APP)
    env = api.runtime.test
    user = env.things.create(ADMIN, env.definition.types["User"], {"email": "a@example.com"})
    other = env.things.create(ADMIN, env.definition.types["User"], {"email": "b@example.com"})
    seen = _writer_trace(sqlite_databases.test)

    # A user's bulk under a create rule that depends on the new thing: checked after the
    # insert, in the same transaction; the thing the rule refuses is removed again.
    body = bulk_body([{"name": "mine", "owner": user}, {"name": "theirs", "owner": other}])
    results, ok = env.things.bulk_create(
        Actor(ActorKind.USER, user), env.definition.types["Unit"], body
    )
    assert not ok and [r["status"] for r in results] == ["success", "error"]
    assert _around_inserts(seen)[:2] == ["BEGIN IMMEDIATE", "INSERT INTO"]
    assert _around_inserts(seen)[-1] == "COMMIT"

    # A type a database trigger watches: the trigger is recorded in the inserting transaction.
    seen.clear()
    results, ok = env.things.bulk_create(
        ADMIN, env.definition.types["Watched"], bulk_body([{"name": "w1"}, {"name": "w2"}])
    )
    assert ok
    assert _around_inserts(seen)[:2] == ["BEGIN IMMEDIATE", "INSERT INTO"]
    assert _around_inserts(seen)[-1] == "COMMIT"
    with sqlite_databases.test.read() as tx:
        jobs = tx.fetchone("SELECT COUNT(*) FROM burble_jobs")
    assert jobs == (2,)  # one trigger run per new Watched thing
