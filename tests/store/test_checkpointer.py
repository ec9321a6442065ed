"""SQLite's write-ahead log is copied into the database by a thread of its own
(`burble.store.sqlite._Checkpointer`), off the commit path."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from burble.store.sqlite import SQLiteBackend


def test_the_log_is_checkpointed_by_a_thread_not_by_the_commits(tmp_path: Path) -> None:
    """The writer leaves checkpoints to the checkpointer thread (`_Checkpointer`): the
    database file takes the log's pages without any transaction copying them."""
    before = sum(t.name == "burble-checkpoint" for t in threading.enumerate())
    b = SQLiteBackend(tmp_path / "c.sqlite")
    path = tmp_path / "c.sqlite"
    with b.write() as tx:
        tx.execute("CREATE TABLE blob (v TEXT)")
    start = path.stat().st_size
    with b.write() as tx:  # about 2 MiB: far below the writer's own backstop (64 MiB)
        tx.executemany("INSERT INTO blob (v) VALUES (?)", [["x" * 2000] for _ in range(1000)])
    deadline = time.monotonic() + 5
    while path.stat().st_size < start + 1_900_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.stat().st_size >= start + 1_900_000
    assert sum(t.name == "burble-checkpoint" for t in threading.enumerate()) >= 1
    b.close()  # and the thread ends with its backend
    assert sum(t.name == "burble-checkpoint" for t in threading.enumerate()) <= before
