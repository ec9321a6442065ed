"""The storage seam: one interface, a SQLite and a PostgreSQL implementation.

SQL is written once with `?` placeholders; each dialect rewrites what differs (placeholders,
column types, JSON handling, identifier qualification). Values are always bound parameters;
identifiers come only from the schema and go through `Dialect.quote`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from burble.appdef.model import FieldKind

Row = tuple[Any, ...]


class Tx(Protocol):
    """A transaction: every statement of one read or one write."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run a statement; returns the number of rows it changed."""

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None: ...

    def fetchall(self, sql: str, params: Sequence[object] = ()) -> list[Row]: ...

    def fetchone(self, sql: str, params: Sequence[object] = ()) -> Row | None: ...


class Dialect(Protocol):
    name: str

    def quote(self, identifier: str) -> str:
        """A quoted column name."""

    def table(self, name: str) -> str:
        """A quoted, qualified table name."""

    def column_type(self, kind: FieldKind | None, is_list: bool) -> str:
        """The SQL type of a field's main column (`None`: a plain text column)."""

    def real_type(self) -> str: ...

    def bigint_type(self) -> str: ...

    def json_param(self, value: object) -> object:
        """A JSON value as a bound parameter for a JSON column."""

    def json_result(self, value: object) -> object:
        """A JSON column's value as read back, decoded."""

    def bool_result(self, value: object) -> bool: ...

    def text_sort(self, column_sql: str) -> str:
        """A text expression sorted byte-wise, the same on every backend."""

    def json_is_empty(self, column_sql: str) -> str:
        """SQL true when a JSON-array column holds an empty list (or is NULL)."""

    def add_column_sql(self, table: str, column: str, sql_type: str) -> str: ...

    def table_exists(self, tx: Tx, name: str) -> bool: ...

    def columns(self, tx: Tx, table: str) -> set[str]: ...


class Backend(Protocol):
    """A database. `read()` and `write()` each give one transaction."""

    @property
    def dialect(self) -> Dialect: ...

    def read(self) -> AbstractContextManager[Tx]: ...

    def write(self) -> AbstractContextManager[Tx]: ...

    def close(self) -> None: ...

    def describe(self) -> str:
        """Where the data lives, for logs and the CLI (never a password)."""


def iter_chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
