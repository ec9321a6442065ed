"""PostgreSQL: psycopg 3 with a connection pool. Each environment lives in its own schema."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from burble.appdef.model import FieldKind
from burble.errors import Conflict, StorageError
from burble.store.backend import Row, Tx

_TYPES = {
    FieldKind.NUMBER: "DOUBLE PRECISION",
    FieldKind.DATE: "BIGINT",
    FieldKind.YES_NO: "BOOLEAN",
    FieldKind.NUMBER_RANGE: "JSONB",
    FieldKind.DATE_RANGE: "JSONB",
}


@functools.lru_cache(maxsize=4096)
def _placeholders(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresDialect:
    name = "postgresql"

    def __init__(self, schema: str) -> None:
        self.schema = schema

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def table(self, name: str) -> str:
        return self.quote(self.schema) + "." + self.quote(name)

    def column_type(self, kind: FieldKind | None, is_list: bool) -> str:
        if is_list:
            return "JSONB"
        if kind is None:
            return "TEXT"
        return _TYPES.get(kind, "TEXT")

    def real_type(self) -> str:
        return "DOUBLE PRECISION"

    def bigint_type(self) -> str:
        return "BIGINT"

    def json_param(self, value: object) -> object:
        return None if value is None else Jsonb(value)

    def json_result(self, value: object) -> object:
        return value  # psycopg decodes JSONB

    def bool_result(self, value: object) -> bool:
        return bool(value)

    def text_sort(self, column_sql: str) -> str:
        return f'{column_sql} COLLATE "C"'

    def json_is_empty(self, column_sql: str) -> str:
        return f"({column_sql} IS NULL OR jsonb_array_length({column_sql}) = 0)"

    def add_column_sql(self, table: str, column: str, sql_type: str) -> str:
        return (
            f"ALTER TABLE {self.table(table)} ADD COLUMN IF NOT EXISTS {self.quote(column)} "
            f"{sql_type}"
        )

    def table_exists(self, tx: Tx, name: str) -> bool:
        row = tx.fetchone(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [self.schema, name],
        )
        return row is not None

    def columns(self, tx: Tx, table: str) -> set[str]:
        rows = tx.fetchall(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [self.schema, table],
        )
        return {r[0] for r in rows}


def _translate(exc: psycopg.Error) -> Exception:
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return Conflict(str(exc))
    return StorageError(f"PostgreSQL: {type(exc).__name__}: {exc}")


class _PostgresTx:
    __slots__ = ("_conn",)

    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        try:
            return self._conn.execute(_placeholders(sql), params).rowcount
        except psycopg.Error as exc:
            raise _translate(exc) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        try:
            with self._conn.cursor() as cur:
                cur.executemany(_placeholders(sql), rows)
        except psycopg.Error as exc:
            raise _translate(exc) from exc

    def fetchall(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        try:
            return self._conn.execute(_placeholders(sql), params).fetchall()
        except psycopg.Error as exc:
            raise _translate(exc) from exc

    def fetchone(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        try:
            return self._conn.execute(_placeholders(sql), params).fetchone()
        except psycopg.Error as exc:
            raise _translate(exc) from exc


class PostgresPool:
    """One pool per database URL, shared by the environments (schemas) that live there."""

    def __init__(self, url: str, max_size: int = 10) -> None:
        self.url = url
        try:
            self.pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
                url, min_size=1, max_size=max_size, open=True, timeout=10.0
            )
            self.pool.wait(timeout=10.0)
        except (psycopg.Error, Exception) as exc:
            raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc

    def close(self) -> None:
        self.pool.close()


class PostgresBackend:
    def __init__(self, pool: PostgresPool, schema: str, owns_pool: bool = False) -> None:
        self._pool = pool
        self._owns_pool = owns_pool
        self.dialect = PostgresDialect(schema)
        with self.write() as tx:
            tx.execute(f"CREATE SCHEMA IF NOT EXISTS {self.dialect.quote(schema)}")

    def describe(self) -> str:
        info = psycopg.conninfo.conninfo_to_dict(self._pool.url)
        info.pop("password", None)
        where = " ".join(f"{k}={v}" for k, v in info.items())
        return f"PostgreSQL {where} schema={self.dialect.schema}"

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self._connection() as conn:
            yield _PostgresTx(conn)

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self._connection() as conn:
            yield _PostgresTx(conn)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Row]]:
        try:
            with self._pool.pool.connection() as conn, conn.transaction():
                yield conn
        except psycopg.Error as exc:
            raise _translate(exc) from exc
        except PoolTimeout as exc:
            raise StorageError(f"PostgreSQL pool: {exc}") from exc

    def drop(self) -> None:
        """Remove the whole schema (tests)."""
        with self.write() as tx:
            tx.execute(f"DROP SCHEMA IF EXISTS {self.dialect.quote(self.dialect.schema)} CASCADE")

    def close(self) -> None:
        if self._owns_pool:
            self._pool.close()
