"""The storage seam: one interface, a SQLite and a PostgreSQL implementation.

SQL is written once with `?` placeholders; each dialect rewrites what differs (placeholders,
column types, JSON handling, identifier qualification). Values are always bound parameters;
identifiers come only from the schema and go through `Dialect.quote`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from burble.appdef.model import FieldKind

Row = tuple[Any, ...]


class Tx(Protocol):
    """A transaction: every statement of one read or one write.

    `notes` is scratch space that lives as long as the transaction, for the layers above
    (what a run's database triggers have recorded so far, who caused the changes)."""

    notes: dict[str, Any]

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

    def row_key_columns(self) -> list[str]:
        """The key columns every thing table starts with (`_id` is always unique)."""

    def index_names(self, tx: Tx, table: str) -> set[str]:
        """The names of the indexes on a table."""

    def drop_index_sql(self, name: str) -> str: ...

    def index_sql(self, table: str, name: str, columns: list[str], how: str) -> str | None:
        """CREATE INDEX IF NOT EXISTS for columns, or None when this backend cannot index it.

        `how`: "plain", "text" (one free-text column), "list" (one JSON-list column)."""

    def sync_text_search(self, tx: Tx, table: str, columns: list[str]) -> None:
        """Make the full-text index of `table` cover exactly `columns` (text fields)."""

    def text_search_sql(self, table: str, columns: list[str], all_columns: list[str]) -> str:
        """A condition (one `?`) true when every word is in `columns` (stemmed)."""

    def text_search_param(self, columns: list[str], words: list[str]) -> object: ...

    def list_contains_sql(self, column_sql: str, address: bool) -> str:
        """A condition (one `?`) true when a JSON-list column holds the item."""

    def list_contains_param(self, item: object, address: bool) -> object: ...

    def distance_km_sql(self, lat_sql: str, lng_sql: str) -> str:
        """Great-circle distance in km from an origin to the columns (see distance_km_params)."""

    def distance_km_params(self, lat: float, lng: float) -> list[object]:
        """The bound parameters `distance_km_sql` needs for this origin, in order."""

    def setup_statements(self) -> list[str]:
        """Statements run once per database before the migrations (idempotent)."""


class Backend(Protocol):
    """A database. `read()` and `write()` each give one transaction."""

    @property
    def dialect(self) -> Dialect: ...

    def read(self) -> AbstractContextManager[Tx]: ...

    def write(self) -> AbstractContextManager[Tx]: ...

    def write_statement(self, sql: str, params: Sequence[object]) -> int:
        """One statement as a write transaction of its own; the number of rows it changed.

        The same as `write()` around one `execute`, but SQLite then needs no statement
        journal: the copy of every page the statement changes, kept to undo that statement
        alone, which a statement that is the whole transaction never needs (ADR 0017)."""

    def close(self) -> None: ...

    def describe(self) -> str:
        """Where the data lives, for logs and the CLI (never a password)."""
