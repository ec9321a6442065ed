"""Reading and writing things: precompiled statements per data type, one backend."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from burble.appdef.model import AppDefinition, DataType, Field, KeyStyle
from burble.store.backend import Backend, Row, Tx
from burble.store.codec import TypeCodec, column_names, db_values, stored_as_is
from burble.store.query import ALIAS, Extra, Search, search_sql
from burble.store.schema import text_columns

# A multi-row INSERT's size: SQLite's default limit on a statement's parameters (32,766
# since 3.32; PostgreSQL allows 65,535), and rows enough for a Data API bulk request.
MAX_PARAMS = 32_766
MAX_ROWS_PER_INSERT = 1_000


InsertBatch = list[tuple[str, list[object]]]  # (statement, parameters), run in order


@dataclass(frozen=True, slots=True)
class NewThing:
    """A thing to insert: its field values in stored form plus the built-ins."""

    id: str
    created_date: int
    created_by: str | None
    values: Mapping[Field, object]
    email: str | None = None
    password_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    total: int


class _TypeStatements:
    def __init__(self, backend: Backend, dtype: DataType) -> None:
        d = backend.dialect
        self.codec = TypeCodec(d, dtype)
        table = d.table(dtype.table)
        self.get = f"SELECT {self.codec.select_list} FROM {table} WHERE _id = ?"
        self.exists = f"SELECT 1 FROM {table} WHERE _id = ?"
        self.delete = f"DELETE FROM {table} WHERE _id = ?"
        self.table = table
        self.all_field_columns = [c for f in dtype.fields for c in column_names(f)]
        self.text_columns = text_columns(dtype)
        columns = ["_id", "_created_date", "_modified_date", "_created_by"]
        if dtype.is_user:
            columns += ["_email", "_password_hash"]
        columns += self.all_field_columns
        self._insert_head = (
            f"INSERT INTO {table} ({', '.join(d.quote(c) for c in columns)}) VALUES "
        )
        self._marks = f"({', '.join('?' for _ in columns)})"
        self.insert = self._insert_head + self._marks
        # Bulk inserts: as many rows per statement as the parameter limit allows (at most
        # MAX_ROWS_PER_INSERT); the statement for a full chunk is built once.
        self.rows_per_insert = max(1, min(MAX_ROWS_PER_INSERT, MAX_PARAMS // len(columns)))
        self._inserts: dict[int, str] = {}
        self.as_is = [(f, stored_as_is(f)) for f in dtype.fields]  # db_values not needed

    def insert_rows(self, count: int) -> str:
        """An INSERT of `count` rows in one statement."""
        sql = self._inserts.get(count)
        if sql is None:
            sql = self._insert_head + ", ".join([self._marks] * count)
            if count == self.rows_per_insert:
                self._inserts[count] = sql  # other counts are one-offs: not kept
        return sql


class ChangeWatcher(Protocol):
    """Told of every change to a thing of the types it watches, inside the changing
    transaction (database trigger events record themselves here)."""

    def watches(self, dtype: DataType) -> bool: ...

    def changed(
        self, tx: Tx, dtype: DataType, thing_id: str, before: Row | None, after: Row | None
    ) -> None:
        """`before` None: created; `after` None: deleted (rows as `ThingStore.get` reads)."""


class ThingStore:
    """Things of one environment (Live or Development): one backend, one definition.

    Every write of a thing goes through here (or through `watching`), so a `watcher` sees
    them all, whatever their origin: the Data API, a workflow, an account action."""

    def __init__(self, backend: Backend, definition: AppDefinition) -> None:
        self.backend = backend
        self.definition = definition
        self.watcher: ChangeWatcher | None = None
        self._types = {name: _TypeStatements(backend, t) for name, t in definition.types.items()}

    def codec(self, dtype: DataType) -> TypeCodec:
        return self._types[dtype.name].codec

    def to_json(self, dtype: DataType, row: Row, keys: KeyStyle) -> dict[str, Any]:
        return self._types[dtype.name].codec.to_json(row, keys)

    def get(self, tx: Tx, dtype: DataType, thing_id: str) -> Row | None:
        return tx.fetchone(self._types[dtype.name].get, [thing_id])

    def get_where(
        self,
        tx: Tx,
        dtype: DataType,
        thing_id: str,
        condition: Extra,
        select_extra: Sequence[Extra] = (),
    ) -> Row | None:
        """A thing by id if `condition` (on alias t0) holds for it: its columns, then
        `select_extra`'s. One query."""
        st = self._types[dtype.name]
        columns = ", ".join([st.codec.select_list, *(sql for sql, _ in select_extra)])
        sql = (
            f"SELECT {columns} FROM {st.table} AS {ALIAS} "
            f"WHERE {ALIAS}._id = ? AND ({condition[0]})"
        )
        params = [p for _, ps in select_extra for p in ps]
        return tx.fetchone(sql, [*params, thing_id, *condition[1]])

    def exists(self, tx: Tx, dtype: DataType, thing_id: str) -> bool:
        return tx.fetchone(self._types[dtype.name].exists, [thing_id]) is not None

    def holds(self, tx: Tx, dtype: DataType, thing_id: str, condition: Extra) -> bool:
        """Whether the thing exists and `condition` (on alias t0) holds for it."""
        table = self._types[dtype.name].table
        sql = f"SELECT 1 FROM {table} AS {ALIAS} WHERE {ALIAS}._id = ? AND ({condition[0]})"
        return tx.fetchone(sql, [thing_id, *condition[1]]) is not None

    def failing(
        self, tx: Tx, dtype: DataType, thing_ids: Sequence[str], condition: Extra
    ) -> set[str]:
        """Which of these things `condition` does not hold for."""
        table = self._types[dtype.name].table
        out: set[str] = set()
        for start in range(0, len(thing_ids), 500):
            chunk = list(thing_ids[start : start + 500])
            marks = ", ".join("?" for _ in chunk)
            rows = tx.fetchall(
                f"SELECT {ALIAS}._id FROM {table} AS {ALIAS} WHERE {ALIAS}._id IN ({marks}) "
                f"AND NOT ({condition[0]})",
                [*chunk, *condition[1]],
            )
            out.update(r[0] for r in rows)
        return out

    def search(
        self,
        tx: Tx,
        search: Search,
        where_extra: Extra | None = None,
        select_extra: Sequence[Extra] = (),
    ) -> Page:
        """A page of things (rows: the thing's columns, then `select_extra`'s) and the total."""
        st = self._types[search.dtype.name]
        page_sql, page_params, count_sql, params = search_sql(
            self.backend.dialect,
            st.codec.select_list,
            search,
            st.text_columns,
            where_extra,
            select_extra,
        )
        rows = tx.fetchall(page_sql, [*page_params, search.limit, search.cursor])
        if search.cursor == 0 and len(rows) < search.limit:
            total = len(rows)  # the whole result is on this page: no count needed
        else:
            row = tx.fetchone(count_sql, params)
            total = int(row[0]) if row else 0
        return Page(rows, total)

    def insert_many(
        self,
        tx: Tx,
        dtype: DataType,
        things: Sequence[NewThing],
        batch: InsertBatch | None = None,
    ) -> None:
        """Insert things, with the statements of `insert_batch` (made before the
        transaction, so the writer is held only for running them)."""
        for sql, params in batch if batch is not None else self.insert_batch(dtype, things):
            tx.execute(sql, params)
        watcher = self._watcher_of(dtype)
        if watcher is not None:
            for t in things:
                watcher.changed(tx, dtype, t.id, None, self.get(tx, dtype, t.id))

    def insert_alone(self, dtype: DataType, batch: InsertBatch) -> bool:
        """Run `batch` as a write transaction of its own (`Backend.write_statement`) when it
        is one statement and no watcher has to see the new things inside the transaction;
        False, having done nothing, otherwise (use `insert_many` in a write transaction)."""
        if len(batch) != 1 or self._watcher_of(dtype) is not None:
            return False
        self.backend.write_statement(*batch[0])
        return True

    def insert_batch(self, dtype: DataType, things: Sequence[NewThing]) -> InsertBatch:
        """The statements inserting `things`: every row names the same columns."""
        if not things:
            return []
        d = self.backend.dialect
        st = self._types[dtype.name]
        rows = []
        as_is = st.as_is
        for t in things:
            row: list[object] = [t.id, t.created_date, t.created_date, t.created_by]
            if dtype.is_user:
                row += [t.email, t.password_hash]
            vals = t.values
            for field, plain in as_is:
                if plain:
                    row.append(vals.get(field))
                else:
                    row += db_values(d, field, vals.get(field))
            rows.append(row)
        if len(rows) == 1:
            return [(st.insert, rows[0])]
        # One statement per chunk of rows, not one per row: SQLite finishes each statement
        # (and flushes the full-text index) once, and hands the GIL back once.
        size = st.rows_per_insert
        chunks = (rows[start : start + size] for start in range(0, len(rows), size))
        return [(st.insert_rows(len(c)), [v for row in c for v in row]) for c in chunks]

    def update(
        self,
        tx: Tx,
        dtype: DataType,
        thing_id: str,
        changes: Mapping[Field, object],
        modified_date: int,
        *,
        replace: bool = False,
        email: str | None = None,
        password_hash: str | None = None,
    ) -> bool:
        """Change the listed fields (`replace`: and clear every other field). False if missing."""
        d = self.backend.dialect
        st = self._types[dtype.name]
        sets = ["_modified_date = ?"]
        params: list[object] = [modified_date]
        fields = dtype.fields if replace else tuple(changes)
        for field in fields:
            for column, value in zip(
                column_names(field), db_values(d, field, changes.get(field)), strict=True
            ):
                sets.append(f"{d.quote(column)} = ?")
                params.append(value)
        if email is not None:
            sets.append("_email = ?")
            params.append(email)
        if password_hash is not None:
            sets.append("_password_hash = ?")
            params.append(password_hash)
        params.append(thing_id)
        with self.watching(tx, dtype, thing_id):
            return tx.execute(f"UPDATE {st.table} SET {', '.join(sets)} WHERE _id = ?", params) > 0

    def delete(self, tx: Tx, dtype: DataType, thing_id: str) -> bool:
        with self.watching(tx, dtype, thing_id):
            return tx.execute(self._types[dtype.name].delete, [thing_id]) > 0

    def _watcher_of(self, dtype: DataType) -> ChangeWatcher | None:
        """The watcher, if it watches changes to things of `dtype`."""
        watcher = self.watcher
        return watcher if watcher is not None and watcher.watches(dtype) else None

    @contextmanager
    def watching(self, tx: Tx, dtype: DataType, thing_id: str) -> Iterator[None]:
        """Around a change of one thing made in `tx`: tells the watcher its state before and
        after (nothing when the thing did not exist before and does not after)."""
        watcher = self._watcher_of(dtype)
        if watcher is None:
            yield
            return
        before = self.get(tx, dtype, thing_id)
        yield
        after = self.get(tx, dtype, thing_id)
        if before is not None or after is not None:
            watcher.changed(tx, dtype, thing_id, before, after)
