"""The evaluator, table-driven: every data source and operator on a small world, then the
semantics that must be exact (left to right, empty vs no, the not-logged-in user)."""

from __future__ import annotations

from typing import Any

import pytest

from burble.appdef.model import FieldKind, FieldType
from burble.expr import evaluate, parse
from burble.values import parse_date

from .support import (
    B1,
    DAY,
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
    World,
    sample_world,
    scope,
)

WORLD = sample_world()
PARAMS = {
    "count": FieldType(FieldKind.NUMBER),
    "start day": FieldType(FieldKind.DATE),
}
ANON = None  # not logged in

# (expression, This Rental Unit, Current User, expected stored-form result)
CASES: list[tuple[str, str, str | None, Any]] = [
    # data sources
    ("This Rental Unit", R1, U1, R1),
    ("Current User", R1, U1, U1),
    ("Current User", R1, ANON, None),
    ("Current date/time", R1, U1, NOW),
    ("Search for Rental Units:count", R1, U1, 4.0),
    ("Search for Bookings (guest = Current User):count", R1, U2, 2.0),
    ("Search for Bookings (guest = Current User):count", R1, ANON, 0.0),
    ("Search for Bookings (guest ≠ Current User):count", R1, ANON, 3.0),
    ("Search for Bookings (guest ≠ Current User):count", R1, U2, 1.0),
    ("Search for Bookings (guest = This Rental Unit's owner):count", R2, U1, 2.0),
    ("Search for Rental Units (owner = empty):count", R1, U1, 1.0),
    ("Search for Rental Units (parent = This Rental Unit's parent):count", R1, U1, 2.0),
    ("Search for Rental Units (parent ≠ This Rental Unit's parent):count", R1, U1, 2.0),
    ("Search for Rental Units (price > 50):count", R1, U1, 2.0),
    ("Search for Rental Units (price < This Rental Unit's price):count", R4, U1, 0.0),
    ('Search for Rental Units (tags contains "loft"):count', R1, U1, 1.0),
    ('Search for Rental Units (tags doesn\'t contain "loft"):count', R1, U1, 3.0),
    ("Search for Rental Units (status is in All Roles):count", R1, U1, 1.0),
    ("Search for Rental Units (status is not in All Roles):count", R1, U1, 3.0),
    ("Search for Rental Units (active is yes, price > 100):count", R1, U1, 1.0),
    ("Search for Rental Units (tags is empty)", R1, U1, [R3, R4]),
    ('"text"', R1, U1, "text"),
    ('""', R1, U1, None),
    ("3.5", R1, U1, 3.5),
    ("-2", R1, U1, -2.0),
    ("yes", R1, U1, True),
    ("no", R1, U1, False),
    ("empty", R1, U1, None),
    ("Role's Admin", R1, U1, "Admin"),
    ("All Roles", R1, U1, ["Admin", "Member", "Guest"]),
    ("count + 1", R1, U1, 3.0),
    # fields, chains, built-ins
    ("This Rental Unit's owner", R1, U1, U1),
    ("This Rental Unit's owner's name", R1, U1, "Ann"),
    ("This Rental Unit's parent's owner's name", R2, U1, "Ann"),
    ("This Rental Unit's parent's parent's name", R3, U1, "Sunny Loft"),
    ("This Rental Unit's parent's owner's name", R1, U1, None),
    ("This Rental Unit's managers's name", R2, U1, ["Ann", "Cy"]),
    ("This Rental Unit's managers:each item's friends", R2, U1, [U2]),
    ("This Rental Unit's price range's start", R1, U1, 100.0),
    ("This Rental Unit's price range:end", R1, U1, 150.0),
    ("This Rental Unit's stay:end", R1, U1, NOW + 3 * DAY),
    ("This Rental Unit's address's formatted address", R1, U1, "1 Main St"),
    ("This Rental Unit's address's latitude", R1, U1, 48.0),
    ("This Rental Unit's address's lng", R1, U1, 2.0),
    ("This Rental Unit's status's Display", R1, U1, "Member"),
    ("This Rental Unit's Created By's email", R1, U1, "ann@example.com"),
    ("This Rental Unit's Creator", R2, U1, U2),
    ("This Rental Unit's Created By", R3, U1, None),
    ("This Rental Unit's Created Date", R1, U1, NOW - DAY),
    ("This Rental Unit's Modified Date", R1, U1, NOW - DAY),
    ("This Rental Unit's Slug", R1, U1, None),
    ("This Rental Unit's unique id", R1, U1, R1),
    ("Current User's email", R1, U2, "bob@example.com"),
    ("Current User's email", R1, ANON, None),
    ("Current User's friends", R1, ANON, None),
    # list operators
    ("This Rental Unit's tags:count", R1, U1, 2.0),
    ("This Rental Unit's tags:count", R4, U1, 0.0),
    ("This Rental Unit's tags:first item", R1, U1, "loft"),
    ("This Rental Unit's tags:last item", R1, U1, "sea"),
    ("This Rental Unit's tags:first item", R4, U1, None),
    ("This Rental Unit's managers:item #2", R2, U1, U3),
    ("This Rental Unit's tags:item # 3", R1, U1, None),
    ("This Rental Unit's tags:item #0", R1, U1, None),
    ("This Rental Unit's ratings:sum", R1, U1, 9.0),
    ("This Rental Unit's ratings:sum", R4, U1, None),
    ("This Rental Unit's ratings:average", R1, U1, 4.5),
    ("This Rental Unit's ratings:min", R1, U1, 4.0),
    ("This Rental Unit's ratings:max", R1, U1, 5.0),
    ("Search for Bookings's guest:unique elements", R1, U1, [U2, U3]),
    ("Search for Bookings's guest", R1, U1, [U2, U3, U2]),
    ('This Rental Unit\'s tags:plus item "sea"', R1, U1, ["loft", "sea"]),
    ('This Rental Unit\'s tags:plus item "x"', R1, U1, ["loft", "sea", "x"]),
    ('This Rental Unit\'s tags:plus item "x":count', R1, U1, 3.0),
    ('This Rental Unit\'s tags:plus item "x"', R4, U1, ["x"]),
    ("This Rental Unit's managers:plus item Current User", R1, ANON, [U2]),
    ('This Rental Unit\'s tags:minus item "loft"', R1, U1, ["sea"]),
    ("This Rental Unit's managers:minus item Current User", R2, U1, [U3]),
    ("This Rental Unit's tags:merged with This Rental Unit's tags", R1, U1, ["loft", "sea"]),
    ("This Rental Unit's tags:minus list This Rental Unit's tags", R1, U1, None),
    ('This Rental Unit\'s tags:join with ", "', R1, U1, "loft, sea"),
    ('This Rental Unit\'s ratings:join with "/"', R1, U1, "4/5"),
    (
        "Search for Rental Units:sorted by price:each item's name",
        R1,
        U1,
        ["dark cellar", "Loft", "Sunny Loft"],
    ),
    (
        "Search for Rental Units:sorted by price descending:each item's name",
        R1,
        U1,
        ["Sunny Loft", "Loft", "dark cellar"],
    ),
    ("Search for Rental Units:sorted by price descending:last item", R1, U1, R4),
    ("This Rental Unit's ratings:sorted descending", R1, U1, [5.0, 4.0]),
    ("All Roles:sorted descending", R1, U1, ["Guest", "Member", "Admin"]),
    ("Search for Users:sorted by role:each item's name", R1, U1, ["Ann", "Bob", "Cy"]),
    ("Search for Rental Units:filtered (This item's price > 50):count", R1, U1, 2.0),
    (
        "Search for Rental Units:filtered (This Rental Unit's owner is Current User):count",
        R4,
        U1,
        2.0,
    ),
    ("This Rental Unit's ratings:filtered (This item > 4)", R1, U1, [5.0]),
    # text operators
    ("This Rental Unit's name:lowercase", R1, U1, "sunny loft"),
    ("This Rental Unit's name:uppercase", R1, U1, "SUNNY LOFT"),
    ("This Rental Unit's name:capitalized words", R2, U1, "Dark Cellar"),
    ("This Rental Unit's name:lowercase", R4, U1, None),
    ('"  a b  ":trimmed', R1, U1, "a b"),
    ('"   ":trimmed', R1, U1, None),
    ("This Rental Unit's name:number of characters", R1, U1, 10.0),
    ("This Rental Unit's name:number of characters", R4, U1, 0.0),
    ('This Rental Unit\'s name:split by " "', R1, U1, ["Sunny", "Loft"]),
    ('"a,,b":split by ","', R1, U1, ["a", "b"]),
    ('This Rental Unit\'s name:append "!"', R1, U1, "Sunny Loft!"),
    ('This Rental Unit\'s name:append "!"', R4, U1, "!"),
    ('This Rental Unit\'s name:find & replace "Loft" with "Flat"', R1, U1, "Sunny Flat"),
    ('"aXbX":find & replace "X" with ""', R1, U1, "ab"),
    ("This Rental Unit's name:truncated to 5", R1, U1, "Sunny"),
    ('"1,234.5":converted to number', R1, U1, 1234.5),
    ('"abc":converted to number', R1, U1, None),
    ('Current date/time:formatted as "yyyy-mm-dd HH:ii:ss"', R1, U1, "2023-11-14 22:13:20"),
    (
        'Current date/time:formatted as "dddd, mmmm d, yyyy h:ii a"',
        R1,
        U1,
        "Tuesday, November 14, 2023 10:13 pm",
    ),
    (
        "Current date/time:formatted as \"ddd mmm dd 'at' hh A yy\"",
        R1,
        U1,
        "Tue Nov 14 at 10 PM 23",
    ),
    ('Current date/time:formatted as "ISO"', R1, U1, "2023-11-14T22:13:20.000Z"),
    (r'"say \"hi\"":formatted as JSON-safe', R1, U1, r'"say \"hi\""'),
    ("This Rental Unit's tags:formatted as JSON-safe", R1, U1, '"loft", "sea"'),
    ("yes:formatted as JSON-safe", R1, U1, "true"),
    ("2.5:formatted as JSON-safe", R1, U1, "2.5"),
    ("Current date/time:formatted as JSON-safe", R1, U1, '"2023-11-14T22:13:20.000Z"'),
    ("This Rental Unit's price:defaulting to 7", R4, U1, 7.0),
    ("This Rental Unit's price:defaulting to 7", R1, U1, 120.0),
    ('Current User\'s name:defaulting to "guest"', R1, ANON, "guest"),
    ("2.345:rounded to 2", R1, U1, 2.35),
    ("2.5:rounded to 0", R1, U1, 3.0),
    ("2.5:floor", R1, U1, 2.0),
    ("2.1:ceiling", R1, U1, 3.0),
    # arithmetic, left to right, 15 significant figures
    ("1 + 2 * 3", R1, U1, 9.0),
    ("10 / 4", R1, U1, 2.5),
    ("1 / 0", R1, U1, None),
    ("0.1 + 0.2", R1, U1, 0.3),
    ("This Rental Unit's price - 20", R1, U1, 100.0),
    ("This Rental Unit's price + 1", R4, U1, None),
    ("Search for Bookings:count * 2", R1, U1, 6.0),
    # dates
    ("Current date/time +(days): 3", R1, U1, NOW + 3 * DAY),
    ("Current date/time + (days): -1", R1, U1, NOW - DAY),
    ("Current date/time -(days): 1", R1, U1, NOW - DAY),
    ("Current date/time +(days): 1.5", R1, U1, NOW + 2 * DAY),
    ("Current date/time +(weeks): 1", R1, U1, NOW + 7 * DAY),
    ("Current date/time +(hours): 1.5", R1, U1, NOW + 5_400_000),
    ("Current date/time +(minutes): 2", R1, U1, NOW + 120_000),
    ("Current date/time +(seconds): 0.0004", R1, U1, NOW),
    ("Current date/time +(seconds): 1 +(seconds): 1", R1, U1, NOW + 2000),
    ('Current date/time +(days): 3:formatted as "yyyy-mm-dd"', R1, U1, "2023-11-17"),
    ("This Rental Unit's price - (3)", R1, U1, 117.0),
    ("Current date/time +(days): This Rental Unit's price", R4, U1, None),
    ("This Rental Unit's available from +(days): 1", R4, U1, None),
    ("start day +(months): 1", R1, U1, parse_date("2024-02-29T10:00:00Z")),
    ("start day +(months): 13", R1, U1, parse_date("2025-02-28T10:00:00Z")),
    ("start day +(months): -2", R1, U1, parse_date("2023-11-30T10:00:00Z")),
    ("start day +(years): 1", R1, U1, parse_date("2025-01-31T10:00:00Z")),
    ("start day +(years): 0.5", R1, U1, parse_date("2024-07-31T10:00:00Z")),
    ("Current date/time - This Rental Unit's available from", R1, U1, -2 * DAY),
    ("(Current date/time - This Rental Unit's available from):format as days", R1, U1, -2.0),
    ("(Current date/time - This Rental Unit's Created Date):format as hours", R1, U1, 24.0),
    ("(Current date/time - This Rental Unit's Created Date):format as minutes", R1, U1, 1440.0),
    ("(Current date/time - This Rental Unit's Created Date):format as seconds", R1, U1, 86400.0),
    (
        "This Rental Unit's Created Date + (Current date/time - This Rental Unit's Created Date)",
        R1,
        U1,
        NOW,
    ),
    # comparisons
    ("This Rental Unit's price > 100", R1, U1, True),
    ("This Rental Unit's price > 100", R4, U1, False),
    ("This Rental Unit's price < 100", R4, U1, False),
    ("This Rental Unit's price ≥ 120", R1, U1, True),
    ("This Rental Unit's price >= 121", R1, U1, False),
    ("This Rental Unit's price ≤ 119", R1, U1, False),
    ("This Rental Unit's price <= 120", R1, U1, True),
    ("This Rental Unit's price is 120", R1, U1, True),
    ("This Rental Unit's price = 120", R1, U1, True),
    ("This Rental Unit's price is not 100", R4, U1, True),
    ("This Rental Unit's price ≠ 120", R1, U1, False),
    ("This Rental Unit's available from < Current date/time", R2, U1, True),
    ('This Rental Unit\'s available from > "2023-11-15"', R1, U1, True),
    ("This Rental Unit's status is Member", R1, U1, True),
    ("This Rental Unit's status is not Member", R3, U1, True),
    ('"b" is "b"', R1, U1, True),
    ('This Rental Unit\'s name contains "loft"', R1, U1, False),
    ('This Rental Unit\'s name contains "Loft"', R1, U1, True),
    ("This Rental Unit's name doesn't contain \"loft\"", R1, U1, True),
    ('This Rental Unit\'s name contains "x"', R4, U1, False),
    ("This Rental Unit's name doesn't contain \"x\"", R4, U1, True),
    ('This Rental Unit\'s name contains ""', R1, U1, False),
    ('This Rental Unit\'s name:lowercase contains "loft"', R1, U1, True),
    ("This Rental Unit's amenities contains Wifi", R1, U1, True),
    ("This Rental Unit's amenities contains Parking", R2, U1, False),
    ("This Rental Unit's amenities does not contain Parking", R2, U1, True),
    ("This Rental Unit's tags contains This Rental Unit's name", R4, U1, False),
    ("This Rental Unit's tags doesn't contain This Rental Unit's name", R4, U1, True),
    ("Wifi is in This Rental Unit's amenities", R1, U1, True),
    ("Parking is not in This Rental Unit's amenities", R2, U1, True),
    ("This Rental Unit's status is in All Roles", R1, U1, True),
    ("This Rental Unit's status is in All Roles", R4, U1, False),
    ("This Rental Unit's status is not in All Roles", R4, U1, True),
    ("Search for Bookings:count > Search for Users:count", R1, U1, False),
    ("Search for Bookings:count is Search for Users:count", R1, U1, True),
    # empty is not no
    ("This Rental Unit's active", R3, U1, None),
    ("This Rental Unit's active is no", R3, U1, False),
    ("This Rental Unit's active is yes", R3, U1, False),
    ("This Rental Unit's active is not no", R3, U1, True),
    ("This Rental Unit's active is empty", R3, U1, True),
    ("This Rental Unit's active is no", R2, U1, True),
    ("This Rental Unit's active is not empty", R2, U1, True),
    ("This Rental Unit's owner is empty", R4, U1, True),
    ("This Rental Unit's tags is empty", R4, U1, True),
    ("This Rental Unit's tags is not empty", R1, U1, True),
    ("This Rental Unit's parent is This Rental Unit's parent", R4, U1, False),
    ("This Rental Unit's parent is not This Rental Unit's parent", R4, U1, True),
    ("This Rental Unit's price is empty or This Rental Unit's price > 1000", R4, U1, True),
    ("This Rental Unit's address is not empty", R1, U1, True),
    ("This Rental Unit's address is empty", R2, U1, True),
    # the current user
    ("Current User is logged in", R1, U1, True),
    ("Current User is logged in", R1, ANON, False),
    ("Current User is not logged in", R1, ANON, True),
    ("This Rental Unit's owner is Current User", R1, U1, True),
    ("This Rental Unit's owner is Current User", R1, U2, False),
    ("This Rental Unit's owner is Current User", R1, ANON, False),
    ("This Rental Unit's owner is Current User", R4, ANON, False),
    ("Current User is This Rental Unit's owner", R4, ANON, False),
    ("This Rental Unit's owner is not Current User", R4, ANON, True),
    ("This Rental Unit's owner is not Current User", R1, U1, False),
    ("This Rental Unit's Created By is Current User", R4, U1, True),
    ("Current User is empty", R1, ANON, False),
    ("Current User is not empty", R1, ANON, True),
    ("Current User's name is empty", R1, ANON, True),
    ("Current User's role is Admin", R1, U1, True),
    ('Current User\'s email is "ann@example.com"', R1, U1, True),
    ("This Rental Unit's managers contains Current User", R1, U2, True),
    ("This Rental Unit's managers contains Current User", R1, ANON, False),
    ("This Rental Unit's managers doesn't contain Current User", R1, ANON, True),
    ("Current User is in This Rental Unit's managers", R1, U2, True),
    ("Current User is not in This Rental Unit's managers", R1, U2, False),
    ("Current User's friends contains This Rental Unit's owner", R1, U2, True),
    ("Current User's friends contains This Rental Unit's owner", R1, ANON, False),
    ("This Rental Unit's owner's friends contains Current User", R2, U3, True),
    # and / or, left to right
    ("yes or no and no", R1, U1, False),
    ("no and no or yes", R1, U1, True),
    ("yes or (no and no)", R1, U1, True),
    ("This Rental Unit's active or This Rental Unit's price > 50", R3, U1, True),
    ("This Rental Unit's active and yes", R3, U1, False),
    (
        "Current User's role is Admin and This Rental Unit's status is not Admin",
        R1,
        U1,
        True,
    ),
    ("(This Rental Unit's price > 1) is yes", R1, U1, True),
]


@pytest.mark.parametrize(("text", "this", "user", "expected"), CASES)
def test_evaluate(text: str, this: str, user: str | None, expected: Any) -> None:
    expr = parse(text, scope(UNIT, **PARAMS))
    ctx = WORLD.context(
        WORLD.get(UNIT, this), user, count=2.0, **{"start day": parse_date("2024-01-31T10:00Z")}
    )
    assert evaluate(expr, ctx) == expected


class CountingWorld(World):
    def __init__(self, base: World) -> None:
        super().__init__(base.things)
        self.fetches = 0
        self.searches = 0

    def get(self, dtype: Any, thing_id: str) -> Any:
        self.fetches += 1
        return super().get(dtype, thing_id)

    def search(self, dtype: Any, constraints: Any) -> Any:
        self.searches += 1
        return super().search(dtype, constraints)


@pytest.mark.parametrize(
    ("text", "reads"),
    [
        ("no and This Rental Unit's parent's name is empty", 0),
        ("yes or This Rental Unit's parent's name is empty", 0),
        ("yes and This Rental Unit's parent's name is empty", 1),
        ("no or Search for Users:count > 1", 1),
        ("This Rental Unit's price > 1000 and Search for Users:count > 1", 0),
    ],
)
def test_and_or_short_circuit(text: str, reads: int) -> None:
    world = CountingWorld(WORLD)
    evaluate(parse(text, scope()), world.context(world.things["Rental Unit"][R2], U1))
    assert world.fetches - 1 + world.searches == reads  # -1: the current user's own fetch


def test_chains_fetch_by_id_and_a_missing_thing_is_empty() -> None:
    world = World({k: dict(v) for k, v in WORLD.things.items()})
    del world.things["User"][U1]
    expr = parse("This Rental Unit's owner's name is empty", scope())
    assert evaluate(expr, world.context(world.get(UNIT, R1), U2)) is True


def test_results_are_in_stored_form() -> None:
    ctx = WORLD.context(WORLD.get(UNIT, R1), U1)
    assert evaluate(parse("Search for Users", scope()), ctx) == [U1, U2, U3]
    assert evaluate(parse("This Rental Unit's managers", scope()), ctx) == [U2]
    assert evaluate(parse('Search for Users (name = "nobody")', scope()), ctx) is None
    user = WORLD.get(USER, U1)
    assert user is not None and evaluate(parse("Current User's score", scope()), ctx) == 5.0
    assert evaluate(parse("This Rental Unit", scope()), WORLD.context(None, U1)) is None


def test_booking_scope() -> None:
    from .support import BOOKING

    ctx = WORLD.context(WORLD.get(BOOKING, B1), U2)
    expr = parse("This Booking's unit's owner's friends contains Current User", scope(BOOKING))
    assert evaluate(expr, ctx) is True
