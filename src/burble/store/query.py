"""Searches as SQL: constraints → WHERE, sorts → ORDER BY, one page plus one count.

Every value is a bound parameter. Empty values sort last in both directions; `_id` is the
final sort key so that paging with `cursor` never repeats or skips a thing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from burble.appdef.model import DataType, Field, FieldKind
from burble.store.backend import Dialect
from burble.store.codec import CREATED_DATE, column_names, db_values


class Op(enum.Enum):
    EQUALS = "equals"
    NOT_EQUAL = "not equal"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"
    GREATER_THAN = "greater than"
    LESS_THAN = "less than"


@dataclass(frozen=True, slots=True)
class Constraint:
    field: Field
    op: Op
    value: object = None  # the stored form (already coerced)


@dataclass(frozen=True, slots=True)
class Sort:
    field: Field
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Search:
    dtype: DataType
    constraints: tuple[Constraint, ...] = ()
    sorts: tuple[Sort, ...] = ()
    random: bool = False
    cursor: int = 0
    limit: int = 100


def _main_column(dialect: Dialect, field: Field) -> str:
    return dialect.quote(column_names(field)[0])


def where_clause(dialect: Dialect, constraints: tuple[Constraint, ...]) -> tuple[str, list[object]]:
    parts: list[str] = []
    params: list[object] = []
    for c in constraints:
        col = _main_column(dialect, c.field)
        is_list = c.field.type.is_list
        if c.op is Op.IS_EMPTY:
            parts.append(dialect.json_is_empty(col) if is_list else f"{col} IS NULL")
            continue
        if c.op is Op.IS_NOT_EMPTY:
            parts.append(f"NOT {dialect.json_is_empty(col)}" if is_list else f"{col} IS NOT NULL")
            continue
        value = db_values(dialect, c.field, c.value)[0]
        if c.op is Op.EQUALS:
            parts.append(f"{col} = ?")
        elif c.op is Op.NOT_EQUAL:
            parts.append(f"({col} IS NULL OR {col} <> ?)")
        elif c.op is Op.GREATER_THAN:
            parts.append(f"{_comparable(dialect, c.field, col)} > ?")
        else:
            parts.append(f"{_comparable(dialect, c.field, col)} < ?")
        params.append(value)
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


# Kinds stored as text: compared and sorted byte-wise on every backend.
_TEXT_STORED = {
    FieldKind.TEXT,
    FieldKind.OPTION,
    FieldKind.ADDRESS,
    FieldKind.FILE,
    FieldKind.IMAGE,
    FieldKind.THING,
}


def _comparable(dialect: Dialect, field: Field, col: str) -> str:
    return dialect.text_sort(col) if field.type.kind in _TEXT_STORED else col


def order_clause(dialect: Dialect, search: Search) -> str:
    if search.random:
        return " ORDER BY random()"
    sorts = search.sorts or (Sort(CREATED_DATE),)
    terms = []
    for s in sorts:
        col = _main_column(dialect, s.field)
        direction = " DESC" if s.descending else ""
        terms.append(f"({col} IS NULL)")
        terms.append(_comparable(dialect, s.field, col) + direction)
    terms.append(dialect.quote("_id"))
    return " ORDER BY " + ", ".join(terms)


def search_sql(dialect: Dialect, select_list: str, search: Search) -> tuple[str, str, list[object]]:
    """(page SQL, count SQL, params of the WHERE); the page SQL adds LIMIT ? OFFSET ?."""
    table = dialect.table(search.dtype.table)
    where, params = where_clause(dialect, search.constraints)
    page = (
        f"SELECT {select_list} FROM {table}{where}{order_clause(dialect, search)} LIMIT ? OFFSET ?"
    )
    count = f"SELECT COUNT(*) FROM {table}{where}"
    return page, count, params
