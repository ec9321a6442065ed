"""Parsing and type checking: every data source and operator gets its static type; every kind
of mistake is an ExprError at the right column."""

from __future__ import annotations

import pytest

from burble.appdef.model import FieldKind, FieldType
from burble.expr import ExprError, parse, parse_condition
from burble.expr.ast import (
    Compare,
    CompareOp,
    GetField,
    Literal,
    Logic,
    LogicOp,
    SearchFor,
    ThisThing,
)

from .support import BOOKING, DEFINITION, UNIT, scope

PARAMS = {
    "count": FieldType(FieldKind.NUMBER),
    "start day": FieldType(FieldKind.DATE),
    "who": FieldType(FieldKind.THING, False, "User"),
}

TYPES = [
    # data sources
    ("This Rental Unit", "Rental Unit"),
    ("Current User", "User"),
    ("Current date/time", "date"),
    ("Search for Rental Units", "list of Rental Unit"),
    ("Do a search for Bookings", "list of Booking"),
    ("Search for Users (role = Admin, admin is yes)", "list of User"),
    ('"a text"', "text"),
    ("3.5", "number"),
    ("-2", "number"),
    ("yes", "yes/no"),
    ("empty", "empty"),
    ("Role's Admin", "Role"),
    ("All Roles", "list of Role"),
    ("All Amenities", "list of Amenity"),
    ("count", "number"),
    ("start day", "date"),
    ("who's name", "text"),
    # fields and built-ins
    ("This Rental Unit's owner", "User"),
    ("This Rental Unit's owner's friends", "list of User"),
    ("This Rental Unit's managers's name", "list of texts"),
    ("This Rental Unit's managers:each item's friends", "list of User"),
    ("This Rental Unit's price range", "numeric range"),
    ("This Rental Unit's price range's start", "number"),
    ("This Rental Unit's stay:end", "date"),
    ("This Rental Unit's address's formatted address", "text"),
    ("This Rental Unit's address's latitude", "number"),
    ("This Rental Unit's status's Display", "text"),
    ("This Rental Unit's Created By", "User"),
    ("This Rental Unit's Creator's email", "text"),
    ("This Rental Unit's Created Date", "date"),
    ("This Rental Unit's Modified Date", "date"),
    ("This Rental Unit's Slug", "text"),
    ("This Rental Unit's unique id", "text"),
    # list operators
    ("This Rental Unit's tags:count", "number"),
    ("This Rental Unit's tags:first item", "text"),
    ("This Rental Unit's tags:last item", "text"),
    ("This Rental Unit's managers:item #2", "User"),
    ("This Rental Unit's ratings:sum", "number"),
    ("This Rental Unit's ratings:average", "number"),
    ("This Rental Unit's ratings:min", "number"),
    ("This Rental Unit's ratings:max", "number"),
    ("This Rental Unit's tags:unique elements", "list of texts"),
    ('This Rental Unit\'s tags:plus item "x"', "list of texts"),
    ("This Rental Unit's managers:minus item Current User", "list of User"),
    ("This Rental Unit's amenities:plus item Wifi", "list of Amenity"),
    ("This Rental Unit's tags:merged with This Rental Unit's tags", "list of texts"),
    ("This Rental Unit's tags:minus list This Rental Unit's tags", "list of texts"),
    ('This Rental Unit\'s tags:join with ", "', "text"),
    ("Search for Rental Units:sorted by price descending", "list of Rental Unit"),
    ("This Rental Unit's ratings:sorted", "list of numbers"),
    ("Search for Rental Units:filtered (This item's price > 3)", "list of Rental Unit"),
    ("Search for Rental Units:filtered (This Rental Unit's active)", "list of Rental Unit"),
    ("This Rental Unit's ratings:filtered (This item > 3)", "list of numbers"),
    # text operators
    ("This Rental Unit's name:lowercase", "text"),
    ("This Rental Unit's name:uppercase", "text"),
    ("This Rental Unit's name:capitalized words", "text"),
    ("This Rental Unit's name:trimmed", "text"),
    ("This Rental Unit's name:number of characters", "number"),
    ('This Rental Unit\'s name:split by " "', "list of texts"),
    ('This Rental Unit\'s name:append "!"', "text"),
    ('This Rental Unit\'s name:find & replace "a" with "b"', "text"),
    ("This Rental Unit's name:truncated to 3", "text"),
    ('"12":converted to number', "number"),
    ('Current date/time:formatted as "yyyy-mm-dd"', "text"),
    ("This Rental Unit's tags:formatted as JSON-safe", "text"),
    ("This Rental Unit's price:defaulting to 0", "number"),
    ("This Rental Unit's price:rounded to 1", "number"),
    ("This Rental Unit's price:floor", "number"),
    ("This Rental Unit's price:ceiling", "number"),
    # arithmetic and dates
    ("This Rental Unit's price + 1 * 2", "number"),
    ("Current date/time +(days): 3", "date"),
    ("Current date/time + (hours): This Rental Unit's price", "date"),
    ("Current date/time -(months): 1", "date"),
    ("Current date/time - This Rental Unit's available from", "date interval"),
    ("(Current date/time - This Rental Unit's available from):format as days", "number"),
    ("This Rental Unit's available from + (Current date/time - Current date/time)", "date"),
    # conditions
    ("This Rental Unit's owner is Current User", "yes/no"),
    ("Current User is logged in", "yes/no"),
    ("Current User isn't logged in", "yes/no"),
    ("This Rental Unit's price ≥ 1 or This Rental Unit's active", "yes/no"),
    ("(This Rental Unit's price > 1) is yes", "yes/no"),
]


@pytest.mark.parametrize(("text", "described"), TYPES)
def test_static_types(text: str, described: str) -> None:
    assert parse(text, scope(UNIT, **PARAMS)).type.describe() == described


def test_and_or_group_left_to_right() -> None:
    e = parse("yes or no and no", scope())
    assert isinstance(e, Logic) and e.op is LogicOp.AND
    assert isinstance(e.left, Logic) and e.left.op is LogicOp.OR


def test_arithmetic_binds_before_comparison_and_the_right_side_is_a_chain() -> None:
    e = parse("Search for Bookings:count > Search for Users:count", scope())
    assert isinstance(e, Compare) and e.op is CompareOp.GREATER
    assert e.left.type.describe() == e.right.type.describe() == "number"


def test_names_with_spaces_resolve_to_the_longest_match() -> None:
    base = parse("This Rental Unit's price range", scope())
    assert isinstance(base, GetField) and base.field.name == "price range"
    assert isinstance(base.base, ThisThing) and base.base.dtype is UNIT


def test_options_are_bare_or_qualified_or_quoted() -> None:
    for text in (
        "This Rental Unit's status is Admin",
        "This Rental Unit's status is Role's Admin",
        'This Rental Unit\'s status is "Admin"',
    ):
        e = parse(text, scope())
        assert isinstance(e, Compare) and isinstance(e.right, Literal)
        assert e.right.value == "Admin"
    e = parse("This Rental Unit's amenities contains Air conditioning", scope())
    assert isinstance(e, Compare) and isinstance(e.right, Literal)
    assert e.right.value == "Air conditioning"


def test_text_literals_become_dates_where_a_date_is_expected() -> None:
    e = parse('This Rental Unit\'s available from > "2024-01-31"', scope())
    assert isinstance(e, Compare) and isinstance(e.right, Literal)
    assert e.right.value == 1706659200000


def test_search_constraints() -> None:
    e = parse(
        "Search for Bookings (guest = Current User, paid is yes, nights > 2, notes contains "
        '"x", unit is not empty)',
        scope(),
    )
    assert isinstance(e, SearchFor) and e.dtype is BOOKING
    assert [(c.field.name, c.op.value) for c in e.constraints] == [
        ("guest", "equals"),
        ("paid", "equals"),
        ("nights", "greater than"),
        ("notes", "contains"),
        ("unit", "is_not_empty"),
    ]


def test_text_escapes_and_curly_quotes() -> None:
    e = parse(r'"say \"hi\" \\ bye"', scope())
    assert isinstance(e, Literal) and e.value == 'say "hi" \\ bye'
    assert parse("This Rental Unit’s name", scope()).type.describe() == "text"


def test_parse_condition_requires_yes_no() -> None:
    assert parse_condition("This Rental Unit's active", scope()).type.describe() == "yes/no"
    with pytest.raises(ExprError, match="must be yes/no") as err:
        parse_condition("This Rental Unit's price", scope())
    assert err.value.column == 1


# --- errors -------------------------------------------------------------------------------

ERRORS = [
    # (text, scope type, message fragment, column)
    (
        "This Rental Unit's ownr is Current User",
        UNIT,
        "unknown field 'ownr' of Rental Unit (did you mean 'owner'?)",
        20,
    ),
    (
        "This Rental Unit's owner's nmae",
        UNIT,
        "unknown field 'nmae' of User (did you mean 'name'?)",
        28,
    ),
    ("This Rental Unit's name is 3", UNIT, "cannot compare a text with a number", 28),
    (
        'This Rental Unit\'s price > "abc"',
        UNIT,
        "'>' compares numbers, dates or date intervals; this is a text",
        28,
    ),
    (
        "This Rental Unit's price contains 3",
        UNIT,
        "'contains' needs a list or a text on its left; this is a number",
        26,
    ),
    ("This Rental Unit's tags contains 3", UNIT, "a list of texts cannot contain a number", 34),
    (
        "This Rentl Unit's price",
        UNIT,
        "unknown data type 'Rentl Unit' (did you mean 'Rental Unit'?)",
        6,
    ),
    (
        "This Rental Unit's price > 3",
        None,
        "'This Rental Unit' is not available here: there is no thing",
        1,
    ),
    ("This Rental Unit's price > 3", BOOKING, "this expression is about Booking", 1),
    (
        "This Rental Unit's status is Admn",
        UNIT,
        "unknown option 'Admn' of Role (did you mean 'Admin'?)",
        30,
    ),
    ('This Rental Unit\'s status is "Admn"', UNIT, "unknown option 'Admn' of Role", 30),
    ("Role's Boss", UNIT, "unknown option 'Boss' of Role", 1),
    ("This Rental Unit's price:lowercase", UNIT, "':lowercase' needs a text; this is a number", 26),
    (
        "This Rental Unit's name:cuont",
        UNIT,
        "unknown operator ':cuont' (did you mean 'count'?)",
        25,
    ),
    ("This Rental Unit's price and yes", UNIT, "'and' joins yes/no values; this is a number", 26),
    ("yes or This Rental Unit's price", UNIT, "'or' joins yes/no values; this is a number", 8),
    ("This Rental Unit's owner is logged in", UNIT, "applies to Current User only", 26),
    ("This Rental Unit's price +(days): 1", UNIT, "'+(days)' needs a date on its left", 26),
    ('This Rental Unit\'s name + "x"', UNIT, "cannot use '+' on a text and a text", 25),
    ("This Rental Unit's price's name", UNIT, "'s reads a field of a thing; this is a number", 25),
    ('"unterminated', UNIT, "this text has no closing quote", 1),
    ("This Rental Unit's price >", UNIT, "expected a value, found the end of the expression", 27),
    ("This Rental Unit's price 3", UNIT, "unexpected '3'", 26),
    ("", UNIT, "the expression is empty", 1),
    ("wibble", UNIT, "unknown name 'wibble'", 1),
    ("Search for Bokings", UNIT, "unknown data type 'Bokings' (did you mean 'Bookings'?)", 12),
    (
        "Search for Bookings (gust = Current User)",
        UNIT,
        "unknown field 'gust' of Booking (did you mean 'guest'?)",
        22,
    ),
    (
        'Search for Bookings (notes = "x")',
        UNIT,
        "'notes' is a list: constrain it with contains",
        28,
    ),
    ('Search for Bookings (nights = "x")', UNIT, "cannot compare a number with a text", 31),
    ("Search for Bookings (nights ≥ 1)", UNIT, "expected a constraint", 29),
    ("This item", UNIT, "'This item' is only available inside ':filtered'", 1),
    ("Search for Rental Units:sorted", UNIT, "things are sorted by a field", 25),
    ("This Rental Unit's tags:filtered This item", UNIT, "expected '(' and a condition", 34),
    ("This Rental Unit's tags is 3", UNIT, "cannot compare a list of texts with a number", 28),
    (
        "This Rental Unit's price is in This Rental Unit's tags",
        UNIT,
        "a number cannot be in a list of texts",
        1,
    ),
    ("All Colors", UNIT, "unknown option set 'Colors'", 1),
    ("This Rental Unit's name (", UNIT, "unexpected '('", 25),
]


@pytest.mark.parametrize(("text", "this", "message", "column"), ERRORS)
def test_errors_have_a_message_and_a_column(
    text: str, this: object, message: str, column: int
) -> None:
    with pytest.raises(ExprError) as err:
        parse(text, scope(this))  # type: ignore[arg-type]
    assert message in err.value.message
    assert err.value.column == column
    assert err.value.text == text


def test_error_text_shows_a_caret_under_the_column() -> None:
    with pytest.raises(ExprError) as err:
        parse("This Rental Unit's ownr is Current User", scope())
    assert str(err.value).splitlines() == [
        "unknown field 'ownr' of Rental Unit (did you mean 'owner'?) (column 20)",
        "  This Rental Unit's ownr is Current User",
        "                     ^",
    ]


def test_the_definition_is_the_only_source_of_names() -> None:
    assert "Rental Unit" in DEFINITION.types
    with pytest.raises(ExprError, match="unknown field 'email' of Rental Unit"):
        parse("This Rental Unit's email", scope())


def test_a_bare_option_on_the_left_must_name_one_set() -> None:
    from burble.appdef.load import parse_app
    from burble.expr import Scope

    app = parse_app(
        "name: x\noption_sets:\n  A: [Red, Blue]\n  B: [Red, Green]\n"
        "types:\n  T:\n    fields: {a: A, b: B}\n"
    )
    s = Scope(app, app.types["T"])
    assert parse("Green is This T's b", s).type.describe() == "yes/no"
    assert parse("This T's a is Red", s).type.describe() == "yes/no"
    with pytest.raises(ExprError, match="'Red' is an option of A and B: write A's Red") as err:
        parse("Red is This T's a", s)
    assert err.value.column == 1
    assert parse("A's Red is This T's a", s).type.describe() == "yes/no"


def test_scope_defaults() -> None:
    from burble.expr import Scope

    s = Scope(DEFINITION)
    assert s.this_type is None and dict(s.parameters) == {}
    assert parse("Current User's name", s).type.describe() == "text"
