"""SQLite: the embedded default. WAL, one writer (serialised by a lock), many readers."""

from __future__ import annotations

import math
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, NamedTuple

import orjson

from burble.appdef.model import FieldKind
from burble.errors import Conflict, StorageError
from burble.store.backend import Row, Tx

try:
    import fcntl
except ImportError:  # not on a Unix: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

EARTH_RADIUS_KM = 6371.0088
BUSY_TIMEOUT_MS = 10_000  # how long a connection waits for another program's lock
WRITER_CACHE_KIB = 64 * 1024  # the writer connection's page cache
CHECKPOINT_SECONDS = 0.05  # the checkpointer's pause after a commit, for more to pile up
# How much nicer than its process the checkpointer thread runs (Linux): on a busy machine the
# one writer, which every write waits for, gets the CPU first (ADR 0018).
CHECKPOINT_NICENESS = 10
# A log this long (256 MiB of 4 KiB pages) is checkpointed by the writer in its commit, and
# only such a checkpoint lets the log start again from its beginning while writes never
# pause: each costs the writer two fsyncs and the pages the checkpointer has not copied yet,
# so they are kept rare (ADR 0016).
BACKSTOP_PAGES = 65536
# The log file is cut back to this after a checkpoint: the backstop plus the transaction
# that crosses it, so the file under steady writes is reused instead of cut and regrown.
WAL_SIZE_LIMIT = 320 * 1024 * 1024

_TYPES = {
    FieldKind.NUMBER: "REAL",
    FieldKind.DATE: "INTEGER",
    FieldKind.YES_NO: "INTEGER",
    FieldKind.NUMBER_RANGE: "TEXT",
    FieldKind.DATE_RANGE: "TEXT",
}


class SQLiteDialect:
    name = "sqlite"

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def table(self, name: str) -> str:
        return self.quote(name)

    def column_type(self, kind: FieldKind | None, is_list: bool) -> str:
        if is_list or kind is None:
            return "TEXT"
        return _TYPES.get(kind, "TEXT")

    def real_type(self) -> str:
        return "REAL"

    def bigint_type(self) -> str:
        return "INTEGER"

    def json_param(self, value: object) -> object:
        return None if value is None else orjson.dumps(value).decode()

    def json_result(self, value: object) -> object:
        return None if value is None else orjson.loads(value)  # type: ignore[arg-type]

    def bool_result(self, value: object) -> bool:
        return bool(value)

    def text_sort(self, column_sql: str) -> str:
        return column_sql  # BINARY collation: byte order

    def json_is_empty(self, column_sql: str) -> str:
        return f"({column_sql} IS NULL OR json_array_length({column_sql}) = 0)"

    def add_column_sql(self, table: str, column: str, sql_type: str) -> str:
        return f"ALTER TABLE {self.table(table)} ADD COLUMN {self.quote(column)} {sql_type}"

    def table_exists(self, tx: Tx, name: str) -> bool:
        row = tx.fetchone("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name])
        return row is not None

    def columns(self, tx: Tx, table: str) -> set[str]:
        return {r[1] for r in tx.fetchall(f"PRAGMA table_info({self.quote(table)})")}

    def row_key_columns(self) -> list[str]:
        # An INTEGER PRIMARY KEY keeps rowids stable through VACUUM: the full-text index
        # refers to rows by it.
        return ["_seq INTEGER PRIMARY KEY", "_id TEXT NOT NULL UNIQUE"]

    def index_names(self, tx: Tx, table: str) -> set[str]:
        rows = tx.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table]
        )
        return {r[0] for r in rows}

    def drop_index_sql(self, name: str) -> str:
        return f"DROP INDEX IF EXISTS {self.quote(name)}"

    def index_sql(self, table: str, name: str, columns: list[str], how: str) -> str | None:
        if how == "list":
            return None  # SQLite cannot index inside JSON arrays
        cols = ", ".join(self.quote(c) for c in columns)
        return f"CREATE INDEX IF NOT EXISTS {self.quote(name)} ON {self.table(table)} ({cols})"

    def sync_text_search(self, tx: Tx, table: str, columns: list[str]) -> None:
        fts = table + "__fts"
        if self.table_exists(tx, fts):
            have = [r[1] for r in tx.fetchall(f"PRAGMA table_info({self.quote(fts)})")]
            if have == columns:
                return
            for suffix in ("ai", "ad", "au"):
                tx.execute(f"DROP TRIGGER IF EXISTS {self.quote(fts + '_' + suffix)}")
            tx.execute(f"DROP TABLE {self.quote(fts)}")
        if not columns:
            return
        q = self.quote
        cols = ", ".join(q(c) for c in columns)
        new = ", ".join("new." + q(c) for c in columns)
        old = ", ".join("old." + q(c) for c in columns)
        tx.execute(
            f"CREATE VIRTUAL TABLE {q(fts)} USING fts5({cols}, content={q(table)}, "
            "content_rowid='_seq', tokenize='porter unicode61 remove_diacritics 2')"
        )
        insert = f"INSERT INTO {q(fts)} (rowid, {cols}) VALUES (new._seq, {new});"
        delete = (
            f"INSERT INTO {q(fts)} ({q(fts)}, rowid, {cols}) VALUES ('delete', old._seq, {old});"
        )
        tx.execute(f"CREATE TRIGGER {q(fts + '_ai')} AFTER INSERT ON {q(table)} BEGIN {insert} END")
        tx.execute(f"CREATE TRIGGER {q(fts + '_ad')} AFTER DELETE ON {q(table)} BEGIN {delete} END")
        tx.execute(
            f"CREATE TRIGGER {q(fts + '_au')} AFTER UPDATE ON {q(table)} BEGIN {delete} {insert} END"
        )
        tx.execute(f"INSERT INTO {q(fts)} ({q(fts)}) VALUES ('rebuild')")

    def text_search_sql(self, table: str, columns: list[str], all_columns: list[str]) -> str:
        fts = self.quote(table + "__fts")
        return f"_seq IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?)"

    def text_search_param(self, columns: list[str], words: list[str]) -> object:
        terms = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
        cols = " ".join(self.quote(c) for c in columns)
        return f"{{{cols}}} : ({terms})"

    def list_contains_sql(self, column_sql: str, address: bool) -> str:
        item = "json_extract(value, '$.address')" if address else "value"
        return f"EXISTS (SELECT 1 FROM json_each({column_sql}) WHERE {item} = ?)"

    def list_contains_param(self, item: object, address: bool) -> object:
        return item

    def distance_km_sql(self, lat_sql: str, lng_sql: str) -> str:
        return f"burble_distance_km(?, ?, {lat_sql}, {lng_sql})"

    def distance_km_params(self, lat: float, lng: float) -> list[object]:
        return [lat, lng]

    def setup_statements(self) -> list[str]:
        return []


def _distance_km(lat1: float, lng1: float, lat2: float | None, lng2: float | None) -> float | None:
    if lat2 is None or lng2 is None:
        return None
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _translate(exc: sqlite3.Error | OverflowError) -> Exception:
    if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc):
        return Conflict(str(exc))
    return StorageError(f"SQLite: {exc}")


class Outcome(NamedTuple):
    """What one body of a group commit came to: its value, or the exception it failed with."""

    ok: bool
    value: Any


class _SQLiteTx:
    __slots__ = ("_conn", "notes")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.notes: dict[str, Any] = {}

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    def fetchall(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except (sqlite3.Error, OverflowError) as exc:
            raise _translate(exc) from exc

    def fetchone(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        try:
            row: Row | None = self._conn.execute(sql, params).fetchone()
            return row
        except sqlite3.Error as exc:
            raise _translate(exc) from exc


class SQLiteBackend:
    """One SQLite file. Writes run inside `BEGIN IMMEDIATE` on the single writer connection.

    Writers queue: the threads of a process on a lock, the processes (`burble serve
    --workers N`, the CLI) on an exclusive `flock` of `<file>-writer`, retried every 50 µs
    to 1 ms, where SQLite's busy handler would sleep 1 ms, then 2, 5, 10 ... 100 ms between
    tries: a busy writer no longer leaves the file idle while the others sleep.
    `busy_timeout` still covers any other program."""

    dialect = SQLiteDialect()

    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()  # the one writer
        self._registry = threading.Lock()  # guards _all
        self._writer = self._connect()
        self._writer.execute("PRAGMA journal_mode=WAL")
        # The writer's page cache holds the indexes an insert walks (SQLite's default, 2 MiB,
        # is outgrown at about 100,000 things of a type), and it leaves checkpoints to the
        # checkpointer thread, off the commit path, unless the log outgrows BACKSTOP_PAGES.
        self._writer.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        self._writer.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
        self._writer.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        self._writer_lock = _FileLock(self._path + "-writer")
        self._checkpointer = _Checkpointer(self._path)

    def describe(self) -> str:
        return f"SQLite {self._path}"

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Statement journals (an insert firing the full-text trigger on a table with unique
        # indexes has one) in memory rather than a temporary file: inserts 40 % cheaper.
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.create_function("burble_distance_km", 4, _distance_km, deterministic=True)
        with self._registry:
            self._all.append(conn)
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def read(self) -> Iterator[Tx]:
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            yield _SQLiteTx(conn)
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self._lock, self._writer_lock:
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc) from exc
            try:
                yield _SQLiteTx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            failed = self._commit(conn)
            if failed is not None:
                raise failed

    def write_statement(self, sql: str, params: Sequence[object]) -> int:
        """One statement as a transaction of its own: run in autocommit mode (no BEGIN), so
        SQLite keeps no statement journal. Inside BEGIN, a statement that may fail halfway
        (a unique index, a trigger into the full-text index) first copies every page it
        changes, to undo itself alone: for a bulk of 1,000 things, a quarter of the writer's
        time (ADR 0017). Alone, the transaction's own rollback does that."""
        with self._lock, self._writer_lock:
            try:
                changed = self._writer.execute(sql, params).rowcount
            except (sqlite3.Error, OverflowError) as exc:
                raise _translate(exc) from exc
        self._checkpointer.committed()
        return changed

    def try_hold_writer(self) -> Literal["held", "busy here", "busy elsewhere"]:
        """Take the writer (this process's lock, then the processes' `flock`) if it is free
        now, for `write_group`: "held"; else whether a thread of this process or another
        process has it. Never waits.

        (A thread of this process that writes while the `flock` is held for a group, say one
        handed over but not yet used, takes it at once: it is one lock per process. SQLite's
        own lock still keeps the two transactions apart; `write_group` then finds it busy.)"""
        if not self._lock.acquire(blocking=False):
            return "busy here"
        if not self._writer_lock.try_acquire():
            self._lock.release()
            return "busy elsewhere"
        return "held"

    def wait_for_writer(self) -> None:
        """Wait for the processes' `flock` and take it (blocked in the kernel, woken the
        moment it is released), from a thread that does nothing else; then hand it over to
        `hold_handed_writer`, in any thread."""
        self._writer_lock.wait()

    def hold_handed_writer(self) -> bool:
        """With the `flock` taken by `wait_for_writer`: take this process's lock too if it is
        free now (True: the writer is held, for `write_group`); else give the `flock` back."""
        if self._lock.acquire(blocking=False):
            return True
        self._writer_lock.release()
        return False

    def release_writer(self) -> None:
        self._writer_lock.release()
        self._lock.release()

    def release_handed_writer(self) -> None:
        """Give back a `flock` taken by `wait_for_writer` and not used."""
        self._writer_lock.release()

    def write_group(self, bodies: Sequence[Callable[[Tx], Any]]) -> list[Outcome] | None:
        """Group commit, with the writer held (`try_hold_writer`, `hold_writer`), which it
        releases: each body runs in a savepoint of one write transaction, then one commit.
        `None`, having run nothing, if another program holds SQLite's write lock.

        A body that raises is rolled back to its savepoint alone: the others still commit.
        If the commit fails, every body fails with its error. Each body gets a `Tx` of its
        own (its own `notes`), and sees what the bodies before it wrote."""
        try:
            return self._group(bodies)
        finally:
            self.release_writer()

    def _group(self, bodies: Sequence[Callable[[Tx], Any]]) -> list[Outcome] | None:
        conn = self._writer
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                return None
            raise _translate(exc) from exc
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        outcomes: list[Outcome] = []
        try:
            for body in bodies:
                conn.execute("SAVEPOINT burble_member")
                try:
                    outcomes.append(Outcome(True, body(_SQLiteTx(conn))))
                except Exception as exc:  # this body's alone: rolled back, reported to it
                    conn.execute("ROLLBACK TO burble_member")
                    outcomes.append(Outcome(False, exc))
                conn.execute("RELEASE burble_member")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        failed = self._commit(conn)
        if failed is not None:
            return [o if not o.ok else Outcome(False, failed) for o in outcomes]
        return outcomes

    def _commit(self, conn: sqlite3.Connection) -> Exception | None:
        """COMMIT, and tell the checkpointer; or roll back and return the error."""
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            failed = _translate(exc)
            failed.__cause__ = exc
            return failed
        self._checkpointer.committed()
        return None

    def close(self) -> None:
        self._checkpointer.stop()
        with self._registry:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
        self._writer_lock.close()


class _Checkpointer:
    """Copies the write-ahead log into the database (`wal_checkpoint(PASSIVE)`: it waits for
    nobody and nobody waits for it) from a thread of its own, at most every
    CHECKPOINT_SECONDS after this backend's commits, instead of the transaction that fills
    the log doing it in its COMMIT. Bulk inserts of 1,000 things into a 100,000-thing table
    write about 20 MiB of log: checkpointing it in the commit made them a third slower
    (ADR 0014). Each process checkpoints after its own commits; they take turns."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._wanted = threading.Event()  # a commit since the last checkpoint
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="burble-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        self._wanted.set()

    def _run(self) -> None:
        _be_nicer(CHECKPOINT_NICENESS)
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 0")
            while True:
                self._wanted.wait()
                if self._stopped:
                    return
                time.sleep(CHECKPOINT_SECONDS)  # let more commits pile up
                if self._stopped:
                    return
                self._wanted.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # busy (another checkpoint), or the file went away
                    continue
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopped = True
        if self._thread is threading.current_thread():
            return
        while self._thread.is_alive():  # set again: the thread may have just cleared it
            self._wanted.set()
            self._thread.join(0.1)


def _be_nicer(step: int) -> None:
    """Lower the calling thread's CPU priority by `step` nice levels (at most to 19), where
    the system schedules threads by their own nice value (Linux); elsewhere, nothing."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere the call would name a process, not this thread
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + step))
    except OSError:  # not allowed here (a sandbox): the thread keeps its priority
        return


class _FileLock:
    """An exclusive `flock` on a file, shared by the processes that open it (no-op where
    there is no `fcntl`). Held by one thread at a time (callers hold a thread lock).

    Waits at most `timeout` seconds, then goes on without it (SQLite's own locking still
    applies): a lock that is never released — say two connections of one process writing
    into each other — ends in SQLite's "database is locked", as without this lock."""

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        self._fd: int | None = None
        self._held = False
        self._timeout = timeout
        if fcntl is not None:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)

    def __enter__(self) -> None:
        fd = self._fd
        if fd is None or fcntl is None:
            return
        deadline = time.monotonic() + self._timeout
        pause = 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._held = True
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def try_acquire(self) -> bool:
        """Take the lock if it is free now; False if another process holds it."""
        fd = self._fd
        if fd is None or fcntl is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._held = True
        return True

    def wait(self) -> None:
        """Take the lock, waiting (blocked in the kernel) for as long as another holds it."""
        if self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._held = True

    def release(self) -> None:
        self.__exit__()

    def __exit__(self, *exc: object) -> None:
        if self._held and self._fd is not None and fcntl is not None:
            self._held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
