"""SQLite: the embedded default. WAL, one writer (serialised by a lock), many readers."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import orjson

from burble.appdef.model import FieldKind
from burble.errors import Conflict, StorageError
from burble.store.backend import Row, Tx

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


def _translate(exc: sqlite3.Error) -> Exception:
    if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc):
        return Conflict(str(exc))
    return StorageError(f"SQLite: {exc}")


class _SQLiteTx:
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

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
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    def fetchone(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        try:
            row: Row | None = self._conn.execute(sql, params).fetchone()
            return row
        except sqlite3.Error as exc:
            raise _translate(exc) from exc


class SQLiteBackend:
    """One SQLite file. Writes run inside `BEGIN IMMEDIATE` on the single writer connection."""

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

    def describe(self) -> str:
        return f"SQLite {self._path}"

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
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
        with self._lock:
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
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise _translate(exc) from exc

    def close(self) -> None:
        with self._registry:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
