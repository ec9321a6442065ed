"""Group commit on SQLite (`burble.store.group_commit`, ADR 0013): the writes of one event
loop that wait together commit in one transaction, a savepoint each."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from burble.errors import Conflict, StorageError
from burble.store.backend import Tx
from burble.store.group_commit import GroupWriter, group_writer
from burble.store.sqlite import SQLiteBackend


@pytest.fixture
def backend(tmp_path: Path) -> Any:
    b = SQLiteBackend(tmp_path / "g.sqlite")
    with b.write() as tx:
        tx.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)")
        tx.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        tx.execute(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER "
            "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
        )
    yield b
    b.close()


def _put(key: str, fail: bool = False) -> Any:
    def body(tx: Tx) -> str:
        tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", [key, "v"])
        if fail:
            raise ValueError(f"no {key}")
        return key

    return body


def _keys(b: SQLiteBackend) -> list[str]:
    with b.read() as tx:
        return [r[0] for r in tx.fetchall("SELECT k FROM kv ORDER BY k")]


def test_writes_waiting_together_commit_in_one_transaction(backend: SQLiteBackend) -> None:
    async def main() -> tuple[list[str], GroupWriter]:
        writer = group_writer(backend)
        got = await asyncio.gather(*(writer.write(_put(f"k{i:02}")) for i in range(20)))
        return list(got), writer

    got, writer = asyncio.run(main())
    assert got == [f"k{i:02}" for i in range(20)]
    assert writer.groups == 1
    assert _keys(backend) == got


def test_a_failing_write_is_rolled_back_alone(backend: SQLiteBackend) -> None:
    async def main() -> list[object]:
        writer = group_writer(backend)
        bodies = [_put("a"), _put("b", fail=True), _put("a"), _put("c")]
        return await asyncio.gather(*(writer.write(b) for b in bodies), return_exceptions=True)

    got = asyncio.run(main())
    assert got[0] == "a" and got[3] == "c"
    assert isinstance(got[1], ValueError) and str(got[1]) == "no b"
    assert isinstance(got[2], Conflict)  # the second "a": unique, translated as always
    assert _keys(backend) == ["a", "c"]


def test_a_failed_commit_fails_every_write_and_keeps_nothing(backend: SQLiteBackend) -> None:
    def orphan(tx: Tx) -> str:  # a deferred foreign key: only the COMMIT finds it
        tx.execute("INSERT INTO child (id, parent) VALUES (1, 42)")
        return "orphan"

    async def main() -> list[object]:
        writer = group_writer(backend)
        bodies = [_put("a"), orphan, _put("b")]
        return await asyncio.gather(*(writer.write(b) for b in bodies), return_exceptions=True)

    got = asyncio.run(main())
    assert all(isinstance(g, StorageError) for g in got), got
    assert "FOREIGN KEY" in str(got[0])
    assert _keys(backend) == []
    with backend.read() as tx:
        assert tx.fetchall("SELECT * FROM child") == []


def test_each_write_has_its_own_notes_and_sees_the_earlier_ones(backend: SQLiteBackend) -> None:
    seen: list[tuple[int, dict[str, Any]]] = []

    def body(key: str) -> Any:
        def run(tx: Tx) -> None:
            seen.append((len(tx.fetchall("SELECT k FROM kv")), dict(tx.notes)))
            tx.notes["mine"] = key
            tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", [key, "v"])

        return run

    async def main() -> None:
        writer = group_writer(backend)
        await asyncio.gather(*(writer.write(body(k)) for k in "xyz"))

    asyncio.run(main())
    assert seen == [(0, {}), (1, {}), (2, {})]


@pytest.mark.parametrize("holder", ["thread", "process", "program"])
def test_writes_wait_for_a_busy_writer_without_blocking_the_loop(
    backend: SQLiteBackend, tmp_path: Path, holder: str
) -> None:
    """The writer held by another thread of this backend, by another process (a second
    backend on the file: its own `flock`), or by another program (SQLite's own lock)."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        if holder == "program":
            conn = sqlite3.connect(tmp_path / "g.sqlite", isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            held.set()
            release.wait(10)
            conn.execute("COMMIT")
            conn.close()
            return
        other = backend if holder == "thread" else SQLiteBackend(tmp_path / "g.sqlite")
        with other.write() as tx:
            tx.execute("INSERT INTO kv (k, v) VALUES ('held', 'v')")
            held.set()
            release.wait(10)
        if other is not backend:
            other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)

    async def main() -> tuple[int, list[str]]:
        writer = group_writer(backend)
        task = asyncio.gather(*(writer.write(_put(f"w{i}")) for i in range(3)))
        ticks = 0
        started = time.monotonic()
        while time.monotonic() - started < 0.2:  # the loop keeps turning meanwhile
            await asyncio.sleep(0.005)
            ticks += 1
        assert not task.done()
        release.set()
        got = await asyncio.wait_for(task, 10)
        return ticks, list(got)

    ticks, got = asyncio.run(main())
    thread.join()
    assert ticks >= 10
    assert got == ["w0", "w1", "w2"]
    assert set(_keys(backend)) >= {"w0", "w1", "w2"}


def test_one_writer_per_loop_and_backend(backend: SQLiteBackend, tmp_path: Path) -> None:
    other = SQLiteBackend(tmp_path / "other.sqlite")

    async def main() -> list[GroupWriter]:
        return [group_writer(backend), group_writer(backend), group_writer(other)]

    first = asyncio.run(main())
    assert first[0] is first[1] and first[0] is not first[2]
    assert asyncio.run(main())[0] is not first[0]  # another loop, another writer
    other.close()
