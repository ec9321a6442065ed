"""A small app, an in-memory world of things for the evaluator, and the same things in a real
database for the SQL compiler."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from burble.appdef.load import parse_app
from burble.appdef.model import AppDefinition, DataType, Field
from burble.expr import EvalContext, Expr, Scope, SqlContext, Thing, evaluate, to_sql
from burble.store import schema
from burble.store.backend import Backend
from burble.store.things import NewThing, ThingStore
from burble.values import Address

APP = """
name: exprtest
option_sets:
  Role: [Admin, Member, Guest]
  Amenity: [Wifi, Parking, Air conditioning]
types:
  User:
    fields:
      name: text
      role: Role
      admin: yes/no
      friends: list of Users
      score: number
  Rental Unit:
    fields:
      name: text
      price: number
      active: yes/no
      owner: User
      status: Role
      tags: list of texts
      amenities: list of Amenity
      available from: date
      price range: numeric range
      stay: date range
      address: geographic address
      managers: list of Users
      parent: Rental Unit
      ratings: list of numbers
  Booking:
    fields:
      unit: Rental Unit
      guest: User
      paid: yes/no
      nights: number
      notes: list of texts
"""

DEFINITION: AppDefinition = parse_app(APP)
USER: DataType = DEFINITION.types["User"]
UNIT: DataType = DEFINITION.types["Rental Unit"]
BOOKING: DataType = DEFINITION.types["Booking"]
NOW = 1_700_000_000_000  # 2023-11-14T22:13:20Z
DAY = 86_400_000


def scope(dtype: DataType | None = UNIT, **parameters: Any) -> Scope:
    return Scope(DEFINITION, dtype, parameters)


@dataclass
class World:
    """Things by type name → id → field values (by field name, stored forms)."""

    things: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def add(
        self,
        dtype: DataType,
        thing_id: str,
        created: int = NOW - DAY,
        created_by: str | None = None,
        email: str | None = None,
        **values: Any,
    ) -> dict[str, Any]:
        thing: dict[str, Any] = {f.name: values.get(_key(f.name)) for f in dtype.fields}
        unknown = set(values) - {_key(f.name) for f in dtype.fields}
        assert not unknown, unknown
        thing.update(
            {
                "_id": thing_id,
                "Created Date": created,
                "Modified Date": created,
                "Created By": created_by,
                "Slug": None,
            }
        )
        if dtype.is_user:
            thing["email"] = email
        self.things.setdefault(dtype.name, {})[thing_id] = thing
        return thing

    def get(self, dtype: DataType, thing_id: str) -> Thing | None:
        return self.things.get(dtype.name, {}).get(thing_id)

    def all(self, dtype: DataType) -> list[dict[str, Any]]:
        return list(self.things.get(dtype.name, {}).values())

    def search(self, dtype: DataType, constraints: list[tuple[Field, str, object]]) -> list[Thing]:
        return [t for t in self.all(dtype) if all(matches(t, f, op, v) for f, op, v in constraints)]

    def context(self, this: Thing | None, user_id: str | None, **parameters: Any) -> EvalContext:
        user = None if user_id is None else self.get(USER, user_id)
        return EvalContext(this, user, NOW, self.get, self.search, parameters)

    def insert(self, backend: Backend) -> None:
        schema.sync(backend, DEFINITION)
        store = ThingStore(backend, DEFINITION)
        with backend.write() as tx:
            for dtype in DEFINITION.types.values():
                tx.execute(f"DELETE FROM {backend.dialect.table(dtype.table)}")
                rows = [
                    NewThing(
                        t["_id"],
                        t["Created Date"],
                        t["Created By"],
                        {f: t[f.name] for f in dtype.fields},
                        email=t.get("email"),
                    )
                    for t in self.all(dtype)
                ]
                store.insert_many(tx, dtype, rows)


def _key(name: str) -> str:
    return name.replace(" ", "_")


def matches(thing: Mapping[str, Any], f: Field, op: str, value: object) -> bool:
    """`burble.store.query` semantics, in Python."""
    v = thing.get(f.name)
    empty = v is None or v == []
    if op == "is_empty":
        return empty
    if op == "is_not_empty":
        return not empty
    if op == "equals":
        return not empty and v == value
    if op == "not equal":
        return empty or v != value
    if op == "greater than":
        return not empty and v > value  # type: ignore[operator]
    if op == "less than":
        return not empty and v < value  # type: ignore[operator]
    if op == "in":
        return not empty and v in value  # type: ignore[operator]
    if op == "not in":
        return empty or v not in value  # type: ignore[operator]
    if op == "contains":
        return value in (v or [])  # type: ignore[operator]
    if op == "not contains":
        return value not in (v or [])  # type: ignore[operator]
    raise AssertionError(op)


def sql_ids(
    backend: Backend, dtype: DataType, expr: Expr, user_id: str | None, now: int = NOW
) -> set[str]:
    ctx = SqlContext(backend.dialect, "t", user_id, now)
    where, params = to_sql(expr, ctx)
    table = backend.dialect.table(dtype.table)
    with backend.read() as tx:
        rows = tx.fetchall(f"SELECT t._id FROM {table} t WHERE {where}", params)
        # The condition is never NULL: its negation selects exactly the other rows.
        others = tx.fetchall(f"SELECT t._id FROM {table} t WHERE NOT ({where})", params)
    got = {r[0] for r in rows}
    assert got.isdisjoint(r[0] for r in others)
    assert len(got) + len(others) == len(backend_count(backend, dtype))
    return got


def backend_count(backend: Backend, dtype: DataType) -> list[str]:
    with backend.read() as tx:
        return [r[0] for r in tx.fetchall(f"SELECT _id FROM {backend.dialect.table(dtype.table)}")]


def evaluated_ids(world: World, dtype: DataType, expr: Expr, user_id: str | None) -> set[str]:
    return {t["_id"] for t in world.all(dtype) if evaluate(expr, world.context(t, user_id)) is True}


def uid(n: int) -> str:
    return f"{1_600_000_000_000 + n:013d}x{n:018d}"


U1, U2, U3 = uid(1), uid(2), uid(3)
R1, R2, R3, R4 = uid(11), uid(12), uid(13), uid(14)
B1, B2, B3 = uid(21), uid(22), uid(23)


def sample_world() -> World:
    """Three users, four units, three bookings, with empties in many places."""
    w = World()
    w.add(
        USER,
        U1,
        email="ann@example.com",
        name="Ann",
        role="Admin",
        admin=True,
        friends=[U2],
        score=5.0,
    )
    w.add(
        USER,
        U2,
        email="bob@example.com",
        name="Bob",
        role="Member",
        admin=False,
        friends=[U1, U3],
        score=2.5,
    )
    w.add(USER, U3, email="cy@example.com", name="Cy")
    w.add(
        UNIT,
        R1,
        created_by=U1,
        name="Sunny Loft",
        price=120.0,
        active=True,
        owner=U1,
        status="Member",
        tags=["loft", "sea"],
        amenities=["Wifi", "Parking"],
        available_from=NOW + 2 * DAY,
        price_range=[100.0, 150.0],
        stay=[NOW, NOW + 3 * DAY],
        address=Address("1 Main St", 48.0, 2.0),
        managers=[U2],
        ratings=[4.0, 5.0],
    )
    w.add(
        UNIT,
        R2,
        created_by=U2,
        name="dark cellar",
        price=40.0,
        active=False,
        owner=U2,
        tags=["cellar"],
        amenities=["Air conditioning"],
        available_from=NOW - DAY,
        managers=[U1, U3],
        parent=R1,
        ratings=[2.0],
    )
    w.add(UNIT, R3, name="Loft", price=100.0, owner=U1, parent=R2)
    w.add(UNIT, R4, created_by=U1)
    w.add(BOOKING, B1, created_by=U2, unit=R1, guest=U2, paid=True, nights=3.0, notes=["late"])
    w.add(BOOKING, B2, created_by=U3, unit=R2, guest=U3, paid=False, nights=1.0)
    w.add(BOOKING, B3, unit=R4, guest=U2)
    return w
