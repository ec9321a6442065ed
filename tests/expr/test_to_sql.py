"""The SQL compiler, on real SQLite and PostgreSQL: for every condition and every current
user (three users and nobody), `SELECT ... WHERE <to_sql>` returns exactly the things for
which the evaluator says yes."""

from __future__ import annotations

import pytest

from burble.expr import ExprError, SqlContext, compilable, parse, parse_condition, to_sql
from burble.runtime import Databases
from burble.store.sqlite import SQLiteDialect

from .support import (
    B1,
    B2,
    B3,
    BOOKING,
    NOW,
    R1,
    R2,
    R3,
    R4,
    U1,
    U2,
    U3,
    UNIT,
    USER,
    evaluated_ids,
    sample_world,
    scope,
    sql_ids,
)

UNIT_CONDITIONS = [
    # the privacy-rule staples
    "This Rental Unit's owner is Current User",
    "This Rental Unit's owner is not Current User",
    "Current User is This Rental Unit's owner",
    "This Rental Unit's Created By is Current User",
    "This Rental Unit's Creator is not Current User",
    "Current User is logged in",
    "Current User is not logged in",
    "Current User is empty",
    "Current User is not empty",
    "This Rental Unit is not empty",
    "Current User's role is Admin",
    "Current User's role is not Admin",
    "Current User's role is empty",
    "Current User's admin",
    "Current User's admin is no",
    'Current User\'s email is "ann@example.com"',
    "Current User's unique id is This Rental Unit's owner's unique id",
    "Current User's role is Admin and This Rental Unit's status is not Admin",
    "This Rental Unit's owner is Current User or Current User's admin is yes and "
    "This Rental Unit's active is yes",
    "This Rental Unit's owner is Current User or (Current User's admin is yes and "
    "This Rental Unit's active is yes)",
    # chains through references, any depth
    "This Rental Unit's parent's owner is Current User",
    "This Rental Unit's parent's parent's owner is Current User",
    "This Rental Unit's parent's parent's owner is not Current User",
    "This Rental Unit's parent's owner's role is Admin",
    "This Rental Unit's parent is empty",
    "This Rental Unit's parent's name is empty",
    "This Rental Unit's parent's parent's name is not empty",
    "This Rental Unit's parent's owner is This Rental Unit's owner",
    "This Rental Unit's parent's price > This Rental Unit's price",
    "This Rental Unit's owner's friends contains Current User",
    "This Rental Unit's owner's friends doesn't contain Current User",
    "Current User's friends contains This Rental Unit's owner",
    "Current User's friends contains This Rental Unit's parent's owner",
    "This Rental Unit's managers's role contains Admin",
    "This Rental Unit's managers's friends contains Current User",
    "This Rental Unit's managers:each item's name contains \"Cy\"",
    "This Rental Unit's managers's name is empty",
    # values and empties
    "This Rental Unit's active",
    "This Rental Unit's active is yes",
    "This Rental Unit's active is no",
    "This Rental Unit's active is not no",
    "This Rental Unit's active is empty",
    "This Rental Unit's price > 100",
    "This Rental Unit's price ≥ 100 or This Rental Unit's active is yes",
    "This Rental Unit's price ≤ 100",
    "This Rental Unit's price < 100",
    "This Rental Unit's price is 120",
    "This Rental Unit's price is not 120",
    "This Rental Unit's price is empty",
    "This Rental Unit's price:defaulting to 0 < 50",
    "This Rental Unit's status is Member",
    "This Rental Unit's status is in All Roles",
    "This Rental Unit's status is not in All Roles",
    "This Rental Unit's status's Display is \"Member\"",
    'This Rental Unit\'s name is "Loft"',
    'This Rental Unit\'s name contains "Loft"',
    "This Rental Unit's name doesn't contain \"Loft\"",
    "This Rental Unit's name contains Current User's name",
    "This Rental Unit's name:number of characters > 4",
    "This Rental Unit's name is in This Rental Unit's tags",
    "This Rental Unit's address is empty",
    "This Rental Unit's address's latitude > 40",
    "This Rental Unit's address's formatted address is \"1 Main St\"",
    "This Rental Unit's unique id is This Rental Unit's parent's unique id",
    # lists
    "This Rental Unit's tags is not empty",
    "This Rental Unit's tags is empty",
    'This Rental Unit\'s tags contains "loft"',
    "This Rental Unit's tags doesn't contain \"loft\"",
    "This Rental Unit's tags contains This Rental Unit's name",
    "This Rental Unit's amenities contains Wifi",
    "This Rental Unit's amenities doesn't contain Wifi",
    "Wifi is in This Rental Unit's amenities",
    "This Rental Unit's ratings contains 5",
    "This Rental Unit's ratings contains This Rental Unit's price",
    "This Rental Unit's tags:count is 0",
    "This Rental Unit's tags:count > 1",
    "This Rental Unit's parent's tags:count is 0",
    "This Rental Unit's managers contains Current User",
    "This Rental Unit's managers doesn't contain Current User",
    "Current User is in This Rental Unit's managers",
    "Current User is not in This Rental Unit's managers",
    "This Rental Unit's managers contains This Rental Unit's owner",
    "All Roles contains This Rental Unit's status",
    "This Rental Unit's managers's friends:count > 1",
    # dates
    "This Rental Unit's available from < Current date/time",
    "This Rental Unit's available from > Current date/time +(days): 1",
    "This Rental Unit's available from +(days): 1 > Current date/time +(days): 2",
    "This Rental Unit's available from +(hours): -48 < Current date/time",
    "This Rental Unit's available from > Current date/time -(months): 1",
    'This Rental Unit\'s available from > "2023-11-15"',
    "This Rental Unit's stay's start < Current date/time +(days): 1",
    "This Rental Unit's stay:end > Current date/time",
    "This Rental Unit's price range's start is 100",
    "This Rental Unit's Created Date < Current date/time",
    "This Rental Unit's Modified Date > Current date/time",
    "Current date/time - This Rental Unit's available from > Current date/time - Current date/time",
    # searches
    "Search for Bookings:count > 2",
    "Search for Bookings (unit = This Rental Unit):count > 0",
    "Search for Bookings (unit = This Rental Unit) is not empty",
    "Search for Bookings (unit = This Rental Unit, guest = Current User) is not empty",
    "Search for Bookings (unit = This Rental Unit, paid is yes):count is 1",
    "Search for Bookings (unit ≠ This Rental Unit):count is 2",
    "Search for Rental Units (owner = This Rental Unit's owner):count is 2",
    "Search for Rental Units (parent = This Rental Unit's parent):count > 1",
    "Search for Rental Units (parent ≠ This Rental Unit's parent):count > 1",
    "Search for Rental Units (owner = Current User):count > 1",
    "Search for Rental Units (owner ≠ Current User):count > 1",
    'Search for Rental Units (price > 50, tags contains "loft"):count is 1',
    "Search for Rental Units (tags contains This Rental Unit's name):count > 0",
    "Search for Rental Units (tags doesn't contain This Rental Unit's name):count > 3",
    "Search for Rental Units (status is in All Roles):count is 1",
    "Search for Rental Units (price < This Rental Unit's price) is empty",
    "Search for Rental Units (owner is empty):count is 1",
    "Search for Users (role = Admin) contains This Rental Unit's owner",
    "Search for Users's role contains Admin",
    "This Rental Unit is in Search for Rental Units (price > 50)",
    "This Rental Unit's owner is in Search for Users (admin is yes)",
    "Search for Users (friends contains Current User):count is 1",
]

BOOKING_CONDITIONS = [
    "This Booking's guest is Current User",
    "This Booking's unit's owner is Current User",
    "This Booking's unit's owner is Current User or This Booking's guest is Current User",
    "This Booking's unit's parent's owner is Current User",
    "This Booking's unit's managers contains Current User",
    "This Booking's unit's tags:count is 0",
    "This Booking's paid is not yes",
    "This Booking's notes is empty",
    "This Booking's nights > This Booking's unit's tags:count",
    "Search for Bookings (guest = This Booking's guest):count > 1",
    "Search for Rental Units (owner = This Booking's guest) is not empty",
]

USERS = [U1, U2, U3, None]


def _check(databases: Databases, dtype: object, conditions: list[str]) -> None:
    world = sample_world()
    backend = databases.test
    world.insert(backend)
    wrong = []
    for text in conditions:
        expr = parse_condition(text, scope(dtype))  # type: ignore[arg-type]
        assert compilable(expr), text
        for user in USERS:
            got = sql_ids(backend, dtype, expr, user)  # type: ignore[arg-type]
            want = evaluated_ids(world, dtype, expr, user)  # type: ignore[arg-type]
            if got != want:
                wrong.append(f"{text} [user {user}]: SQL {sorted(got)} != Python {sorted(want)}")
    assert not wrong, "\n".join(wrong)


def test_unit_conditions_match_the_evaluator(databases: Databases) -> None:
    _check(databases, UNIT, UNIT_CONDITIONS)


def test_booking_conditions_match_the_evaluator(databases: Databases) -> None:
    _check(databases, BOOKING, BOOKING_CONDITIONS)


def test_privacy_semantics_of_the_current_user(databases: Databases) -> None:
    world = sample_world()
    backend = databases.test
    world.insert(backend)

    def ids(text: str, user: str | None) -> set[str]:
        return sql_ids(backend, UNIT, parse_condition(text, scope()), user)

    owner = "This Rental Unit's owner is Current User"
    assert ids(owner, U1) == {R1, R3}
    assert ids(owner, None) == set()  # not even R4, whose owner is empty
    assert ids("This Rental Unit's owner is not Current User", None) == {R1, R2, R3, R4}
    assert ids("This Rental Unit's owner is not Current User", U1) == {R2, R4}
    assert ids("This Rental Unit's Created By is Current User", None) == set()
    assert ids("Current User's role is empty", None) == {R1, R2, R3, R4}
    assert ids("This Rental Unit's active is no", U1) == {R2}  # R3, R4: empty, not no
    assert ids("This Rental Unit's active is not no", U1) == {R1, R3, R4}
    bookings = sql_ids(
        backend,
        BOOKING,
        parse_condition("This Booking's unit's owner is Current User", scope(BOOKING)),
        U1,
    )
    assert bookings == {B1}
    assert B2 not in bookings and B3 not in bookings


def test_users_can_be_this(databases: Databases) -> None:
    world = sample_world()
    backend = databases.test
    world.insert(backend)
    expr = parse_condition(
        "This User is Current User or This User's friends contains Current User", scope(USER)
    )
    assert sql_ids(backend, USER, expr, U1) == {U1, U2} == evaluated_ids(world, USER, expr, U1)
    assert sql_ids(backend, USER, expr, None) == set()


def test_sql_is_parameterised_and_quotes_identifiers() -> None:
    expr = parse_condition("This Rental Unit's name is \"x'; DROP TABLE t; --\"", scope())
    sql, params = to_sql(expr, SqlContext(SQLiteDialect(), "t", U1, NOW))
    assert "DROP" not in sql and params == ["x'; DROP TABLE t; --"]
    assert '"f_name_text"' in sql


def test_and_or_keep_bubbles_grouping_in_sql() -> None:
    expr = parse_condition("yes or This Rental Unit's active and no", scope())
    sql, _ = to_sql(expr, SqlContext(SQLiteDialect(), "t", U1, NOW))
    assert sql == "1 = 0"  # (yes or active) and no
    expr = parse_condition(
        "This Rental Unit's active or This Rental Unit's price > 1 and This Rental Unit's price < 5",
        scope(),
    )
    sql, _ = to_sql(expr, SqlContext(SQLiteDialect(), "t", U1, NOW))
    assert sql.startswith("((") and ") AND " in sql and sql.count(" OR ") == 1


NOT_COMPILABLE = [
    'This Rental Unit\'s name:lowercase contains "loft"',
    "This Rental Unit's price + 1 > 100",
    "This Rental Unit's available from +(months): 1 > Current date/time",
    "Current date/time +(days): This Rental Unit's price > This Rental Unit's available from",
    'This Rental Unit\'s tags:first item is "loft"',
    "Search for Rental Units:filtered (This item's price > 1):count > 0",
    "Search for Rental Units:sorted by price:first item is This Rental Unit",
    "This Rental Unit's price range is This Rental Unit's price range",
    "count > 1",
    "Search for Rental Units (owner is in This Rental Unit's managers) is empty",
]


@pytest.mark.parametrize("text", NOT_COMPILABLE)
def test_what_does_not_compile_says_so(text: str) -> None:
    from burble.appdef.model import FieldKind, FieldType

    expr = parse_condition(text, scope(UNIT, count=FieldType(FieldKind.NUMBER)))
    assert not compilable(expr)
    with pytest.raises(ExprError, match="cannot run this in SQL"):
        to_sql(expr, SqlContext(SQLiteDialect(), "t", U1, NOW))


def test_only_conditions_compile() -> None:
    expr = parse("This Rental Unit's price", scope())
    assert not compilable(expr)
    with pytest.raises(ExprError, match="only a yes/no condition"):
        to_sql(expr, SqlContext(SQLiteDialect(), "t", U1, NOW))


def test_this_needs_an_alias() -> None:
    expr = parse_condition("This Rental Unit's price > 1", scope())
    with pytest.raises(ExprError, match="this_alias"):
        to_sql(expr, SqlContext(SQLiteDialect(), None, U1, NOW))
    # without This, no alias is needed
    expr = parse_condition("Current User's role is Admin", scope(None))
    sql, params = to_sql(expr, SqlContext(SQLiteDialect(), None, U1, NOW))
    assert params == [U1, "Admin"] and "t." not in sql
