"""PostgreSQL: psycopg 3 with a connection pool. Each environment lives in its own schema."""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from burble.appdef.load import identifier
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


def _fold_table() -> tuple[str, str]:
    """Latin letters with diacritics (U+00C0–U+024F) and their plain ASCII letters."""
    accented, plain = [], []
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            accented.append(char)
            plain.append(base)
    return "".join(accented), "".join(plain)


_ACCENTED, _PLAIN = _fold_table()


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

    @property
    def _config(self) -> str:
        return f"'{self.quote(self.schema)}.burble_english'::regconfig"

    def _document(self, columns: list[str]) -> str:
        text = " || ' ' || ".join(f"coalesce({self.quote(c)}, '')" for c in columns)
        # Accents folded like SQLite's `remove_diacritics` (no extension needed).
        return f"to_tsvector({self._config}, translate({text}, '{_ACCENTED}', '{_PLAIN}'))"

    def row_key_columns(self) -> list[str]:
        return ["_id TEXT PRIMARY KEY"]

    def index_names(self, tx: Tx, table: str) -> set[str]:
        rows = tx.fetchall(
            "SELECT indexname FROM pg_indexes WHERE schemaname = ? AND tablename = ?",
            [self.schema, table],
        )
        return {r[0] for r in rows}

    def drop_index_sql(self, name: str) -> str:
        return f"DROP INDEX IF EXISTS {self.quote(self.schema)}.{self.quote(name)}"

    def index_sql(self, table: str, name: str, columns: list[str], how: str) -> str | None:
        # Free text can exceed a B-tree entry's size limit (~2.7 kB): hash it (equality only).
        cols = ", ".join(self.quote(c) for c in columns)
        using = {"text": " USING HASH", "list": " USING GIN"}.get(how, "")
        if how == "list":
            cols += " jsonb_path_ops"
        return (
            f"CREATE INDEX IF NOT EXISTS {self.quote(name)} ON {self.table(table)}{using} ({cols})"
        )

    def sync_text_search(self, tx: Tx, table: str, columns: list[str]) -> None:
        # Index names carry a hash of their expression, so a changed expression gets a new
        # index (and the stale one is dropped) instead of silently keeping the old one.
        documents = [self._document([c]) for c in columns]
        if len(columns) > 1:
            documents.append(self._document(columns))
        wanted = {
            identifier(table + "__fts_", hashlib.sha1(doc.encode()).hexdigest()[:16]): doc
            for doc in documents
        }
        rows = tx.fetchall(
            "SELECT indexname FROM pg_indexes WHERE schemaname = ? AND tablename = ?",
            [self.schema, table],
        )
        for (name,) in rows:
            if name.startswith(table + "__fts") and name not in wanted:
                tx.execute(f"DROP INDEX {self.quote(self.schema)}.{self.quote(name)}")
        for name, document in wanted.items():
            tx.execute(
                f"CREATE INDEX IF NOT EXISTS {self.quote(name)} ON {self.table(table)} "
                f"USING GIN ({document})"
            )

    def text_search_sql(self, table: str, columns: list[str], all_columns: list[str]) -> str:
        return f"{self._document(columns)} @@ plainto_tsquery({self._config}, ?)"

    def text_search_param(self, columns: list[str], words: list[str]) -> object:
        return " ".join(words)

    def list_contains_sql(self, column_sql: str, address: bool) -> str:
        return f"{column_sql} @> ?"

    def list_contains_param(self, item: object, address: bool) -> object:
        return Jsonb([{"address": item}] if address else [item])

    def distance_km_sql(self, lat_sql: str, lng_sql: str) -> str:
        return (
            "(2 * 6371.0088 * asin(least(1.0, sqrt("
            f"power(sin(radians({lat_sql} - ?) / 2), 2) + cos(radians(?)) * cos(radians({lat_sql}))"
            f" * power(sin(radians({lng_sql} - ?) / 2), 2)))))"
        )

    def distance_km_params(self, lat: float, lng: float) -> list[object]:
        return [lat, lat, lng]

    def setup_statements(self) -> list[str]:
        s = self.quote(self.schema)
        # Stemmed English without stop words, so a search for "the" or "a" behaves like
        # SQLite's porter tokenizer (which has none).
        name = self.schema.replace("'", "''")
        return [
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_ts_dict d JOIN pg_namespace n "
            f"ON n.oid = d.dictnamespace WHERE n.nspname = '{name}' "
            "AND d.dictname = 'burble_english_stem') THEN "
            f"CREATE TEXT SEARCH DICTIONARY {s}.burble_english_stem "
            "(TEMPLATE = snowball, Language = english); END IF; END $$",
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n "
            f"ON n.oid = c.cfgnamespace WHERE n.nspname = '{name}' "
            "AND c.cfgname = 'burble_english') THEN "
            f"CREATE TEXT SEARCH CONFIGURATION {s}.burble_english (COPY = pg_catalog.english); "
            f"ALTER TEXT SEARCH CONFIGURATION {s}.burble_english ALTER MAPPING FOR "
            "asciiword, asciihword, hword_asciipart, word, hword, hword_part "
            f"WITH {s}.burble_english_stem; END IF; END $$",
        ]

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
    __slots__ = ("_conn", "notes")

    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self._conn = conn
        self.notes: dict[str, Any] = {}

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

    def write_statement(self, sql: str, params: Sequence[object]) -> int:
        with self.write() as tx:
            return tx.execute(sql, params)

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
