"""SQLite's write-ahead log is copied into the database by a thread of its own
(`burble.store.sqlite._Checkpointer`), off the commit path."""

from __future__ import annotations

import os
import sys
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
    with b.write() as tx:  # about 2 MiB: far below the writer's own backstop (256 MiB)
        tx.executemany("INSERT INTO blob (v) VALUES (?)", [["x" * 2000] for _ in range(1000)])
    deadline = time.monotonic() + 5
    while path.stat().st_size < start + 1_900_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.stat().st_size >= start + 1_900_000
    assert sum(t.name == "burble-checkpoint" for t in threading.enumerate()) >= 1
    b.close()  # and the thread ends with its backend
    assert sum(t.name == "burble-checkpoint" for t in threading.enumerate()) <= before


def test_the_writer_checkpoints_only_a_log_of_256_mib_and_cuts_the_file_to_320(
    tmp_path: Path,
) -> None:
    """The writer's own checkpoint (in the commit that takes the log past 65,536 pages) is
    the backstop, and the log file is cut back to 320 MiB after a checkpoint (ADR 0016)."""
    b = SQLiteBackend(tmp_path / "c.sqlite")
    with b.write() as tx:
        row = tx.fetchone("PRAGMA wal_autocheckpoint")
        assert row is not None and row[0] == 65536
        row = tx.fetchone("PRAGMA journal_size_limit")
        assert row is not None and row[0] == 320 * 1024 * 1024
        row = tx.fetchone("PRAGMA page_size")
        assert row is not None and row[0] == 4096  # 65,536 pages are 256 MiB
    b.close()


def test_the_checkpointer_thread_runs_ten_nice_levels_below_its_process(tmp_path: Path) -> None:
    """On a busy machine the writer, which every write waits for, gets the CPU before the
    checkpointer's copying (ADR 0018). Threads have nice values of their own on Linux."""
    assert sys.platform.startswith("linux")  # the platform this suite and CI run on
    process = os.getpriority(os.PRIO_PROCESS, 0)
    b = SQLiteBackend(tmp_path / "c.sqlite")
    thread = b._checkpointer._thread
    assert thread.native_id is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if os.getpriority(os.PRIO_PROCESS, thread.native_id) == min(19, process + 10):
            break
        time.sleep(0.01)
    assert os.getpriority(os.PRIO_PROCESS, thread.native_id) == min(19, process + 10)
    assert os.getpriority(os.PRIO_PROCESS, 0) == process  # the process's other threads keep theirs
    b.close()
