"""Property: on generated things and constraint lists, the SQL search returns exactly what a
small Python reference filter returns, on every backend."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from burble.appdef.load import parse_app
from burble.appdef.model import DataType, Field
from burble.runtime import Databases
from burble.store import schema
from burble.store.query import Constraint, Op, Search, Sort
from burble.store.things import NewThing, ThingStore
from burble.values import new_unique_id

APP = """
name: prop
option_sets:
  Size: [S, M, L]
types:
  Thing:
    fields:
      t: text
      n: number
      b: yes/no
      o: Size
      tags: list of texts
"""
WORDS = ["kvx", "zq", "plo", "bw"]  # no stemmer changes these
texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
numbers = st.integers(-3, 3).map(float)
values_by_field: dict[str, st.SearchStrategy[Any]] = {
    "t": texts,
    "n": numbers,
    "b": st.booleans(),
    "o": st.sampled_from(["S", "M", "L"]),
}
things = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "t": texts,
            "n": numbers,
            "b": st.booleans(),
            "o": st.sampled_from(["S", "M", "L"]),
            "tags": st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
        },
    ),
    max_size=12,
)


@st.composite
def constraints(draw: st.DrawFn) -> tuple[str, Op, Any]:
    name = draw(st.sampled_from(["t", "n", "b", "o", "tags"]))
    if name == "tags":
        op = draw(st.sampled_from([Op.CONTAINS, Op.NOT_CONTAINS, Op.EMPTY, Op.NOT_EMPTY]))
        return name, op, draw(st.sampled_from(WORDS))
    ops = [Op.EQUALS, Op.NOT_EQUAL, Op.IS_EMPTY, Op.IS_NOT_EMPTY, Op.IN, Op.NOT_IN]
    if name in ("t", "n"):
        ops += [Op.GREATER_THAN, Op.LESS_THAN]
    if name == "t":
        ops += [Op.TEXT_CONTAINS, Op.NOT_TEXT_CONTAINS]
    op = draw(st.sampled_from(ops))
    if op in (Op.IN, Op.NOT_IN):
        return name, op, draw(st.lists(values_by_field[name], max_size=3))
    if op in (Op.TEXT_CONTAINS, Op.NOT_TEXT_CONTAINS):
        return name, op, draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=2))
    return name, op, draw(values_by_field[name])


def matches(thing: dict[str, Any], name: str, op: Op, value: Any) -> bool:
    v = thing.get(name)
    if op in (Op.IS_EMPTY, Op.EMPTY):
        return v is None or v == []
    if op in (Op.IS_NOT_EMPTY, Op.NOT_EMPTY):
        return not matches(thing, name, Op.IS_EMPTY, value)
    if op is Op.EQUALS:
        return v is not None and v == value
    if op is Op.NOT_EQUAL:
        return v is None or v != value
    if op is Op.GREATER_THAN:
        return v is not None and v > value
    if op is Op.LESS_THAN:
        return v is not None and v < value
    if op is Op.IN:
        return v is not None and v in value
    if op is Op.NOT_IN:
        return v is None or v not in value
    if op is Op.CONTAINS:
        return value in (v or [])
    if op is Op.NOT_CONTAINS:
        return value not in (v or [])
    if op is Op.TEXT_CONTAINS:
        return v is not None and set(value) <= set(v.split())
    if op is Op.NOT_TEXT_CONTAINS:
        return v is None or not set(value) <= set(v.split())
    raise AssertionError(op)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(things=things, wanted=st.lists(constraints(), min_size=1, max_size=3))
def test_sql_search_equals_python_filter(
    databases: Databases, things: list[dict[str, Any]], wanted: list[tuple[str, Op, Any]]
) -> None:
    definition = parse_app(APP)
    backend = databases.test
    schema.sync(backend, definition)
    dtype: DataType = definition.types["Thing"]
    fields: dict[str, Field] = {f.name: f for f in dtype.fields}
    store = ThingStore(backend, definition)
    ids = [new_unique_id(1000 + i) for i in range(len(things))]
    with backend.write() as tx:
        tx.execute(f"DELETE FROM {backend.dialect.table(dtype.table)}")
        store.insert_many(
            tx,
            dtype,
            [
                NewThing(ids[i], 1000 + i, None, {fields[k]: v for k, v in thing.items()})
                for i, thing in enumerate(things)
            ],
        )
    search = Search(
        dtype,
        tuple(Constraint((fields[name],), op, value) for name, op, value in wanted),
        (Sort(fields["n"]),),
        limit=100,
    )
    with backend.read() as tx:
        page = store.search(tx, search)
    got = {row[0] for row in page.rows}  # the select list starts with _id
    expected = {
        ids[i]
        for i, thing in enumerate(things)
        if all(matches(thing, name, op, value) for name, op, value in wanted)
    }
    assert got == expected
    assert page.total == len(expected)
