"""Searches as SQL: constraints → WHERE, sorts → ORDER BY, one page plus one count.

Every value is a bound parameter. Empty values sort last in both directions; `_id` is the
final sort key so that paging with `cursor` never repeats or skips a thing.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from burble.appdef.model import DataType, Field, FieldKind
from burble.geo.distance import bounding_box
from burble.store.backend import Dialect
from burble.store.codec import CREATED_DATE, column_names, db_values


class Op(enum.Enum):
    """Bubble's constraint types (seed 004), by their wire spelling."""

    EQUALS = "equals"
    NOT_EQUAL = "not equal"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"
    TEXT_CONTAINS = "text contains"
    NOT_TEXT_CONTAINS = "not text contains"
    GREATER_THAN = "greater than"
    LESS_THAN = "less than"
    IN = "in"
    NOT_IN = "not in"
    CONTAINS = "contains"
    NOT_CONTAINS = "not contains"
    EMPTY = "empty"
    NOT_EMPTY = "not empty"
    GEOGRAPHIC_SEARCH = "geographic_search"


@dataclass(frozen=True, slots=True)
class GeoCircle:
    lat: float
    lng: float
    range_km: float


@dataclass(frozen=True, slots=True)
class Constraint:
    """`fields`: one field, or every text field for the `_all` key of `text contains`.

    `value` is in stored form: one item; a list of items for in / not in; the words for the
    text operators; a `GeoCircle` for geographic_search."""

    fields: tuple[Field, ...]
    op: Op
    value: object = None

    @property
    def field(self) -> Field:
        return self.fields[0]


@dataclass(frozen=True, slots=True)
class Sort:
    field: Field
    descending: bool = False
    origin: tuple[float, float] | None = None  # addresses sort by distance from here


@dataclass(frozen=True, slots=True)
class Search:
    dtype: DataType
    constraints: tuple[Constraint, ...] = ()
    sorts: tuple[Sort, ...] = ()
    random: bool = False
    cursor: int = 0
    limit: int = 100


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
    text = field.type.kind in _TEXT_STORED and not field.type.is_list
    return dialect.text_sort(col) if text else col


class _Where:
    def __init__(self, dialect: Dialect, dtype: DataType, all_text: list[str]) -> None:
        self.d = dialect
        self.dtype = dtype
        self.all_text = all_text
        self.parts: list[str] = []
        self.params: list[object] = []

    def add(self, c: Constraint) -> None:
        d, op, field = self.d, c.op, c.field
        cols = column_names(field)
        col = d.quote(cols[0])
        is_list = field.type.is_list
        address_items = field.type.kind is FieldKind.ADDRESS
        if op in (Op.IS_EMPTY, Op.EMPTY):
            self.parts.append(d.json_is_empty(col) if is_list else f"{col} IS NULL")
        elif op in (Op.IS_NOT_EMPTY, Op.NOT_EMPTY):
            self.parts.append(f"NOT {d.json_is_empty(col)}" if is_list else f"{col} IS NOT NULL")
        elif op in (Op.TEXT_CONTAINS, Op.NOT_TEXT_CONTAINS):
            columns = [f.column for f in c.fields]
            assert isinstance(c.value, list)
            match = d.text_search_sql(self.dtype.table, columns, self.all_text)
            self.params.append(d.text_search_param(columns, c.value))
            self.parts.append(match if op is Op.TEXT_CONTAINS else f"NOT ({match})")
        elif op in (Op.CONTAINS, Op.NOT_CONTAINS):
            item = c.value.address if address_items else c.value  # type: ignore[attr-defined]
            test = d.list_contains_sql(col, address_items)
            self.params.append(d.list_contains_param(item, address_items))
            self.parts.append(test if op is Op.CONTAINS else f"({col} IS NULL OR NOT {test})")
        elif op in (Op.IN, Op.NOT_IN):
            assert isinstance(c.value, list)
            items = [db_values(d, field, v)[0] for v in c.value]
            if not items:
                self.parts.append("1 = 0" if op is Op.IN else "1 = 1")
                return
            marks = ", ".join("?" for _ in items)
            self.params += items
            self.parts.append(
                f"{col} IN ({marks})"
                if op is Op.IN
                else f"({col} IS NULL OR {col} NOT IN ({marks}))"
            )
        elif op is Op.GEOGRAPHIC_SEARCH:
            self._geo(cols, c.value)
        else:
            value = db_values(d, field, c.value)[0]
            target = _comparable(d, field, col)
            sql = {
                Op.EQUALS: f"{target} = ?",
                Op.NOT_EQUAL: f"({col} IS NULL OR {target} <> ?)",
                Op.GREATER_THAN: f"{target} > ?",
                Op.LESS_THAN: f"{target} < ?",
            }[op]
            self.parts.append(sql)
            self.params.append(value)

    def _geo(self, cols: list[str], value: object) -> None:
        """Bounding-box prefilter on the indexed (lat, lng), then the exact distance."""
        assert isinstance(value, GeoCircle)
        lat, lng = self.d.quote(cols[1]), self.d.quote(cols[2])
        boxes = []
        for min_lat, max_lat, min_lng, max_lng in bounding_box(
            value.lat, value.lng, value.range_km
        ).parts():
            boxes.append(f"({lat} BETWEEN ? AND ? AND {lng} BETWEEN ? AND ?)")
            self.params += [min_lat, max_lat, min_lng, max_lng]
        self.params += [*self.d.distance_km_params(value.lat, value.lng), value.range_km]
        self.parts.append(f"({' OR '.join(boxes)}) AND {self.d.distance_km_sql(lat, lng)} <= ?")


def where_clause(
    dialect: Dialect, dtype: DataType, constraints: tuple[Constraint, ...], all_text: list[str]
) -> tuple[str, list[object]]:
    where = _Where(dialect, dtype, all_text)
    for c in constraints:
        where.add(c)
    return (" WHERE " + " AND ".join(where.parts)) if where.parts else "", where.params


def order_clause(dialect: Dialect, search: Search) -> tuple[str, list[object]]:
    if search.random:
        return " ORDER BY random()", []
    sorts = search.sorts or (Sort(CREATED_DATE),)
    terms: list[str] = []
    params: list[object] = []
    for s in sorts:
        direction = " DESC" if s.descending else ""
        if s.origin is not None:
            cols = column_names(s.field)
            lat, lng = dialect.quote(cols[1]), dialect.quote(cols[2])
            terms.append(f"({lat} IS NULL)")  # PostgreSQL's least() would hide a NULL distance
            terms.append(dialect.distance_km_sql(lat, lng) + direction)
            params += dialect.distance_km_params(*s.origin)
            continue
        col = dialect.quote(column_names(s.field)[0])
        # Empty values last in both directions; written so an index can serve the order.
        terms.append(_comparable(dialect, s.field, col) + direction + " NULLS LAST")
    terms.append(dialect.quote("_id"))
    return " ORDER BY " + ", ".join(terms), params


# SQL with its `?` parameters, added by callers above the store (privacy rules).
Extra = tuple[str, tuple[object, ...]]
ALIAS = "t0"  # the searched table's alias: extra conditions refer to its row through it


def search_sql(
    dialect: Dialect,
    select_list: str,
    search: Search,
    all_text: list[str],
    where_extra: Extra | None = None,
    select_extra: Sequence[Extra] = (),
) -> tuple[str, list[object], str, list[object]]:
    """(page SQL, its params before LIMIT/OFFSET, count SQL, its params).

    `where_extra` is ANDed to the constraints; `select_extra` columns follow the thing's."""
    table = dialect.table(search.dtype.table)
    where, params = where_clause(dialect, search.dtype, search.constraints, all_text)
    if where_extra is not None:
        where = (where + " AND " if where else " WHERE ") + f"({where_extra[0]})"
        params = [*params, *where_extra[1]]
    order, order_params = order_clause(dialect, search)
    columns = ", ".join([select_list, *(sql for sql, _ in select_extra)])
    select_params = [p for _, ps in select_extra for p in ps]
    page = f"SELECT {columns} FROM {table} AS {ALIAS}{where}{order} LIMIT ? OFFSET ?"
    count = f"SELECT COUNT(*) FROM {table} AS {ALIAS}{where}"
    return page, [*select_params, *params, *order_params], count, params
