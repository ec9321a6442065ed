"""Reading app definitions: every field type spelling, and located problems (docs/app-definition.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from burble.appdef.load import check_app, parse_app
from burble.appdef.model import FieldKind, FieldType, KeyStyle
from burble.errors import AppDefError, Problem

EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "rentals" / "app.yaml"


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing `needle`."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


# --- parsing ------------------------------------------------------------------------------

SPELLINGS = """\
name: spellings
option_sets:
  Unit Status: [Available, Rented]
types:
  Rental Unit:
    fields:
      t: text
      n: number
      nr: numeric range
      d: date
      dr: date range
      yn: yes/no
      ga: geographic address
      f: file
      i: image
      u: User
      ref: Rental Unit
      opt: Unit Status
      images: list of images
      units: list of Rental Units
      texts: list of texts
      numbers: list of numbers
      users: list of Users
      statuses: list of Unit Status
      addresses: list of geographic addresses
      upper: Text
      yes no upper: YES/NO
      spaced: numeric    range
      list upper: List Of Numbers
      long: {type: date, description: A date in long form.}
"""

EXPECTED_TYPES = {
    "t": FieldType(FieldKind.TEXT),
    "n": FieldType(FieldKind.NUMBER),
    "nr": FieldType(FieldKind.NUMBER_RANGE),
    "d": FieldType(FieldKind.DATE),
    "dr": FieldType(FieldKind.DATE_RANGE),
    "yn": FieldType(FieldKind.YES_NO),
    "ga": FieldType(FieldKind.ADDRESS),
    "f": FieldType(FieldKind.FILE),
    "i": FieldType(FieldKind.IMAGE),
    "u": FieldType(FieldKind.THING, False, "User"),
    "ref": FieldType(FieldKind.THING, False, "Rental Unit"),
    "opt": FieldType(FieldKind.OPTION, False, "Unit Status"),
    "images": FieldType(FieldKind.IMAGE, True),
    "units": FieldType(FieldKind.THING, True, "Rental Unit"),
    "texts": FieldType(FieldKind.TEXT, True),
    "numbers": FieldType(FieldKind.NUMBER, True),
    "users": FieldType(FieldKind.THING, True, "User"),
    "statuses": FieldType(FieldKind.OPTION, True, "Unit Status"),
    "addresses": FieldType(FieldKind.ADDRESS, True),
    "upper": FieldType(FieldKind.TEXT),
    "yes no upper": FieldType(FieldKind.YES_NO),
    "spaced": FieldType(FieldKind.NUMBER_RANGE),
    "list upper": FieldType(FieldKind.NUMBER, True),
    "long": FieldType(FieldKind.DATE),
}


def test_every_field_type_spelling_parses() -> None:
    assert check_app(SPELLINGS) == []
    definition = parse_app(SPELLINGS)
    dtype = definition.types["Rental Unit"]
    assert [f.name for f in dtype.fields] == list(EXPECTED_TYPES)  # definition order kept
    for name, expected in EXPECTED_TYPES.items():
        assert dtype.by_name[name].type == expected, name


def test_id_keys_follow_bubble_suffixes() -> None:
    dtype = parse_app(SPELLINGS).types["Rental Unit"]
    keys = {f.name: f.id_key for f in dtype.fields}
    assert keys["nr"] == "nr_number_range"
    assert keys["yn"] == "yn_boolean"
    assert keys["ga"] == "ga_geographic_address"
    assert keys["u"] == "u_user"
    assert keys["ref"] == "ref_custom_rental_unit"
    assert keys["opt"] == "opt_option_unit_status"
    assert keys["units"] == "units_list_custom_rental_unit"
    assert keys["images"] == "images_list_image"
    assert keys["yes no upper"] == "yes_no_upper_boolean"


def test_example_app_is_clean() -> None:
    text = EXAMPLE.read_text()
    assert check_app(text, str(EXAMPLE)) == []
    definition = parse_app(text)
    assert definition.name == "rentals"
    assert definition.settings.data_api is True
    assert definition.settings.exposed_types == {"Rental Unit", "Booking", "User"}
    assert definition.settings.keys is KeyStyle.DISPLAY
    assert definition.types["User"].is_user
    unit = definition.types["Rental Unit"]
    assert unit.by_name["bedrooms"].default == 1
    assert unit.by_name["status"].default == "Available"
    assert unit.by_name["active"].default is True
    assert definition.type_for_path("RentalUnit") is unit
    assert definition.source == text


def test_user_always_exists() -> None:
    definition = parse_app("name: tiny\n")
    assert definition.types["User"].is_user
    assert definition.types["User"].fields == ()
    assert definition.settings.data_api is False


def test_defaults_are_coerced() -> None:
    text = """\
name: defaults
option_sets:
  Amenity: [Wifi, Parking]
types:
  Thing:
    fields:
      when: {type: date, default: "2024-01-31"}
      count: {type: number, default: "3"}
      tags: {type: list of texts, default: [a, b]}
      perks: {type: list of Amenity, default: [Wifi]}
      flag: {type: yes/no, default: false}
"""
    thing = parse_app(text).types["Thing"]
    assert thing.by_name["when"].default == 1706659200000
    assert thing.by_name["count"].default == 3.0
    assert thing.by_name["tags"].default == ["a", "b"]
    assert thing.by_name["perks"].default == ["Wifi"]
    assert thing.by_name["flag"].default is False


# --- problems -----------------------------------------------------------------------------


def test_unknown_field_type() -> None:
    text = """\
name: a
types:
  Rental Unit:
    fields:
      name: text
      price: numbr
"""
    p = only(check_app(text, "my/app.yaml"))
    assert p.file == "my/app.yaml"
    assert p.line == 6 == line_of(text, "price: numbr")
    assert p.path == "types.Rental Unit.fields.price"
    assert "unknown field type 'numbr'" in p.message
    assert str(p).startswith("my/app.yaml:6: unknown field type 'numbr'")
    assert str(p).endswith("(at types.Rental Unit.fields.price)")


@pytest.mark.parametrize("spelling", ["texts", "list of", "list of list of texts", "Rental Units"])
def test_other_unknown_field_types(spelling: str) -> None:
    text = f"name: a\ntypes:\n  Rental Unit:\n    fields:\n      x: {spelling}\n"
    p = only(check_app(text))
    assert p.line == 5
    assert p.path == "types.Rental Unit.fields.x"
    assert "unknown field type" in p.message


def test_unknown_key_typo() -> None:
    text = """\
name: a
types:
  Rental Unit:
    feilds:
      name: text
"""
    p = only(check_app(text))
    assert p.line == 4 == line_of(text, "feilds")
    assert p.path == "types.Rental Unit.feilds"
    assert p.message == "unknown key 'feilds'"
    assert p.file == "app.yaml"


def test_unknown_key_at_top_level_and_in_settings() -> None:
    text = """\
name: a
setings:
  keys: id
option_set:
  X: [a]
"""
    problems = check_app(text)
    assert {(p.path, p.line, p.message) for p in problems} == {
        ("setings", 2, "unknown key 'setings'"),
        ("option_set", 4, "unknown key 'option_set'"),
    }


def test_unknown_exposed_type() -> None:
    text = """\
name: a
settings:
  data_api:
    expose:
      - Rental Unit
      - Flat
types:
  Rental Unit:
    fields:
      name: text
"""
    p = only(check_app(text))
    assert p.line == 6 == line_of(text, "- Flat")
    assert p.path == "settings.data_api.expose[1]"
    assert p.message == "unknown data type 'Flat'"


def test_unknown_exposed_type_flow_style() -> None:
    text = "name: a\nsettings:\n  data_api:\n    expose: [User, Flat]\n"
    p = only(check_app(text))
    assert p.line == 4
    assert p.path == "settings.data_api.expose[1]"


def test_invalid_default_value() -> None:
    text = """\
name: a
types:
  Rental Unit:
    fields:
      price:
        type: number
        default: abc
"""
    p = only(check_app(text))
    assert p.line == 7 == line_of(text, "default: abc")
    assert p.path == "types.Rental Unit.fields.price.default"
    assert "could not parse this as a number" in p.message


def test_option_default_not_in_set() -> None:
    text = """\
name: a
option_sets:
  Unit Status: [Available, Rented]
types:
  Rental Unit:
    fields:
      status: {type: Unit Status, default: Sold}
"""
    p = only(check_app(text))
    assert p.line == 7
    assert p.path == "types.Rental Unit.fields.status.default"
    assert "Unit Status" in p.message


@pytest.mark.parametrize("name", ["Created Date", "_id", "Modified Date", "Created By", "Slug"])
def test_builtin_field_name(name: str) -> None:
    text = f"name: a\ntypes:\n  Rental Unit:\n    fields:\n      ok: text\n      {name}: date\n"
    p = only(check_app(text))
    assert p.line == 6
    assert p.path == f"types.Rental Unit.fields.{name}"
    assert name in p.message


@pytest.mark.parametrize("name", ["email", "password", "authentication", "user_signed_up"])
def test_user_reserved_field_names(name: str) -> None:
    text = f"name: a\ntypes:\n  User:\n    fields:\n      {name}: text\n"
    p = only(check_app(text))
    assert p.line == 5
    assert p.path == f"types.User.fields.{name}"
    # ... but other types may use these names.
    assert check_app(f"name: a\ntypes:\n  Thing:\n    fields:\n      {name}: text\n") == []


@pytest.mark.parametrize("other", ["rentalunit", "RentalUnit", "rental unit"])
def test_duplicate_api_names(other: str) -> None:
    text = f"""\
name: a
types:
  Rental Unit:
    fields:
      name: text
  {other}:
    fields:
      name: text
"""
    # One mistake, one problem (a shared table follows from the shared name).
    p = only(check_app(text))
    assert p.line == 6 == line_of(text, f"  {other}:")
    assert p.path == f"types.{other}"
    assert "Rental Unit" in p.message and other in p.message
    assert "rentalunit" in p.message


def test_duplicate_id_keys() -> None:
    text = "name: a\ntypes:\n  T:\n    fields:\n      a b: text\n      a-b: text\n"
    # One mistake, one problem (the shared column follows from the shared id key).
    p = only(check_app(text))
    assert p.line == 6
    assert p.path == "types.T.fields.a-b"
    assert "a_b_text" in p.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("name: a\ntypes:\n  X:\n\tfields: {}\n", 4),
        ("name: a\ntypes:\n  X:\n    fields:\n      a: text\n      a: number\n", 6),
        ("name: a\nsettings: {keys: id\nx: 1\n", 3),
    ],
    ids=["tab", "duplicate-key", "unclosed-flow"],
)
def test_invalid_yaml(text: str, line: int) -> None:
    p = only(check_app(text, "bad.yaml"))
    assert p.file == "bad.yaml"
    assert p.line == line
    assert p.message.startswith("not valid YAML")
    with pytest.raises(AppDefError) as info:
        parse_app(text, "bad.yaml")
    assert info.value.problems == [p]


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "", "42\n"])
def test_non_mapping_document(text: str) -> None:
    p = only(check_app(text))
    assert p.message == "the definition must be a YAML mapping"
    assert p.line == 1
    with pytest.raises(AppDefError):
        parse_app(text)


def test_all_problems_are_reported() -> None:
    text = """\
name: a
settings:
  data_api:
    expose: [Rental Unit, Bookings]
types:
  Rental Unit:
    fields:
      name: text
      bedrooms:
        type: number
        default: many
      tags: texts
"""
    problems = check_app(text, "app.yaml")
    assert len(problems) == 3, problems
    located = {(p.path, p.line) for p in problems}
    assert located == {
        ("types.Rental Unit.fields.bedrooms.default", line_of(text, "default: many")),
        ("types.Rental Unit.fields.tags", line_of(text, "tags: texts")),
        ("settings.data_api.expose[1]", line_of(text, "expose:")),
    }
    with pytest.raises(AppDefError) as info:
        parse_app(text)
    assert len(info.value.problems) == 3
    assert len(info.value.message.splitlines()) == 3


def test_all_shape_problems_are_reported() -> None:
    text = """\
name: a
settings:
  keys: ids
  max_list_length: 0
types:
  T:
    feilds: {}
"""
    problems = check_app(text)
    assert {(p.path, p.line) for p in problems} == {
        ("settings.keys", 3),
        ("settings.max_list_length", 4),
        ("types.T.feilds", 7),
    }


def test_option_set_problems() -> None:
    text = """\
name: a
option_sets:
  Empty: []
  Twice: [A, B, A]
  text: [x]
types:
  Twice:
    fields: {}
"""
    problems = check_app(text)
    paths = {p.path for p in problems}
    assert "option_sets.Empty" in paths
    assert "option_sets.Twice[2]" in paths
    assert "option_sets.text" in paths
    assert "types.Twice" in paths
    assert all(p.line is not None for p in problems)
