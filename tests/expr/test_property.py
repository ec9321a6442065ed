"""Property: for generated conditions (a grammar over the test app) and generated things,
`SELECT _id FROM <Rental Unit table> t WHERE <to_sql>` returns exactly the things for which
`evaluate` says yes, for a logged-in and a not-logged-in current user, on every backend."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from burble.expr import compilable, parse_condition
from burble.runtime import Databases

from .support import BOOKING, DAY, NOW, UNIT, USER, World, evaluated_ids, scope, sql_ids, uid

WORDS = ["loft", "Loft", "sea", "o"]
ROLES = ["Admin", "Member", "Guest"]
USERS = [uid(1), uid(2), uid(3)]
UNITS = [uid(10 + i) for i in range(6)]
BOOKINGS = [uid(30 + i) for i in range(4)]

maybe = st.none().__or__
texts = st.sampled_from(WORDS)
numbers = st.integers(-2, 3).map(float)
days = st.integers(-3, 3)


def _opt_list(items: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | st.lists(items, min_size=1, max_size=3, unique=True)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    w = World()
    for i, u in enumerate(USERS):
        w.add(
            USER,
            u,
            email=f"u{i}@example.com",
            name=draw(maybe(texts)),
            role=draw(maybe(st.sampled_from(ROLES))),
            admin=draw(maybe(st.booleans())),
            friends=draw(_opt_list(st.sampled_from(USERS))),
        )
    count = draw(st.integers(1, len(UNITS)))
    for r in UNITS[:count]:
        w.add(
            UNIT,
            r,
            created=NOW + draw(days) * DAY,
            created_by=draw(maybe(st.sampled_from(USERS))),
            name=draw(maybe(texts)),
            price=draw(maybe(numbers)),
            active=draw(maybe(st.booleans())),
            owner=draw(maybe(st.sampled_from(USERS))),
            status=draw(maybe(st.sampled_from(ROLES))),
            tags=draw(_opt_list(texts)),
            managers=draw(_opt_list(st.sampled_from(USERS))),
            parent=draw(maybe(st.sampled_from(UNITS[:count]))),
            available_from=draw(maybe(days.map(lambda d: NOW + d * DAY // 2))),
            ratings=draw(_opt_list(numbers)),
        )
    for b in BOOKINGS[: draw(st.integers(0, len(BOOKINGS)))]:
        w.add(
            BOOKING,
            b,
            unit=draw(maybe(st.sampled_from(UNITS[:count]))),
            guest=draw(maybe(st.sampled_from(USERS))),
            paid=draw(maybe(st.booleans())),
        )
    return w


# --- the grammar --------------------------------------------------------------------------

units = st.sampled_from(
    ["This Rental Unit"] * 3 + ["This Rental Unit's parent", "This Rental Unit's parent's parent"]
)


@st.composite
def users(draw: st.DrawFn) -> str:
    return draw(
        st.sampled_from(["Current User", "{u}'s owner", "{u}'s Created By", "{u}'s parent's owner"])
    ).format(u=draw(units))


def _of(path: st.SearchStrategy[str], field: str) -> st.SearchStrategy[str]:
    return path.map(lambda p: f"{p}'s {field}")


def _quoted(word: str) -> str:
    return f'"{word}"'


VALUES: dict[str, st.SearchStrategy[str]] = {
    "number": st.one_of(
        _of(units, "price"),
        numbers.map(lambda n: str(int(n))),
        _of(units, "tags:count"),
        _of(users(), "friends:count"),
        units.map(lambda u: f"Search for Bookings (unit = {u}):count"),
        users().map(lambda u: f"Search for Rental Units (owner = {u}, price > 0):count"),
        _of(units, "price:defaulting to 1"),
    ),
    "text": st.one_of(_of(units, "name"), texts.map(_quoted), _of(users(), "name")),
    "yes/no": st.one_of(
        _of(units, "active"), _of(users(), "admin"), st.sampled_from(["yes", "no"])
    ),
    "role": st.one_of(_of(units, "status"), _of(users(), "role"), st.sampled_from(ROLES)),
    "date": st.one_of(
        _of(units, "available from"),
        _of(units, "Created Date"),
        days.map(lambda d: f"Current date/time +(days): {d}"),
        st.tuples(units, days).map(lambda p: f"{p[0]}'s available from +(hours): {p[1] * 12}"),
    ),
    "user": users(),
    "unit": units,
}
LISTS: dict[str, tuple[st.SearchStrategy[str], str]] = {
    "tags": (_of(units, "tags"), "text"),
    "users": (
        st.one_of(
            _of(units, "managers"), _of(users(), "friends"), _of(units, "managers's friends")
        ),
        "user",
    ),
    "ratings": (_of(units, "ratings"), "number"),
    "searched units": (
        users().map(lambda u: f"Search for Rental Units (owner = {u})"),
        "unit",
    ),
}


@st.composite
def atoms(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["is", "order", "empty", "contains", "in", "text", "logged", "bare"])
    )
    if kind == "is":
        t = draw(st.sampled_from(sorted(VALUES)))
        op = draw(st.sampled_from(["is", "is not"]))
        return f"{draw(VALUES[t])} {op} {draw(VALUES[t])}"
    if kind == "order":
        t = draw(st.sampled_from(["number", "date"]))
        op = draw(st.sampled_from([">", "<", "≥", "≤"]))
        return f"{draw(VALUES[t])} {op} {draw(VALUES[t])}"
    if kind == "empty":
        source = draw(
            st.one_of(*VALUES.values(), *(s for s, _ in LISTS.values()))
            .filter(lambda s: not s[:1].isdigit() and s[:1] != '"' and s not in ("yes", "no"))
            .filter(lambda s: s not in ROLES)
        )
        op = draw(st.sampled_from(["is empty", "is not empty"]))
        return f"{source} {op}"
    if kind in ("contains", "in"):
        lst, item_type = LISTS[draw(st.sampled_from(sorted(LISTS)))]
        whole, item = draw(lst), draw(VALUES[item_type])
        if kind == "contains":
            op = draw(st.sampled_from(["contains", "doesn't contain"]))
            return f"{whole} {op} {item}"
        op = draw(st.sampled_from(["is in", "is not in"]))
        return f"{item} {op} {whole}"
    if kind == "text":
        op = draw(st.sampled_from(["contains", "doesn't contain"]))
        return f"{draw(VALUES['text'])} {op} {draw(VALUES['text'])}"
    if kind == "logged":
        return draw(st.sampled_from(["Current User is logged in", "Current User is not logged in"]))
    return draw(_of(units, "active") | _of(users(), "admin"))


conditions = st.recursive(
    atoms(),
    lambda inner: st.tuples(inner, st.sampled_from(["and", "or"]), inner, st.booleans()).map(
        lambda p: f"({p[0]} {p[1]} {p[2]})" if p[3] else f"{p[0]} {p[1]} {p[2]}"
    ),
    max_leaves=4,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    world=worlds(), texts=st.lists(conditions, min_size=1, max_size=3), user=st.sampled_from(USERS)
)
def test_sql_equals_the_evaluator(
    databases: Databases, world: World, texts: list[str], user: str
) -> None:
    backend = databases.test
    world.insert(backend)
    for text in texts:
        expr = parse_condition(text, scope(UNIT))
        assert compilable(expr), text
        for current in (user, None):
            got = sql_ids(backend, UNIT, expr, current)
            want = evaluated_ids(world, UNIT, expr, current)
            assert got == want, f"{text} [user {current}]"
