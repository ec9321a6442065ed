"""`coercer(field)` (decided once per field, used by creates) against `coerce_value` (the
reference): the same stored value or the same error, for every field type and a spread of
values a client may send."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from burble.appdef.coerce import coerce_value, coercer
from burble.appdef.load import parse_app
from burble.appdef.model import Field
from burble.errors import BurbleError

APP = parse_app(
    """
name: coerce
option_sets:
  Color: [Red, Green]
types:
  Other:
    fields:
      n: number
  Thing:
    fields:
      text: text
      number: number
      numeric range: numeric range
      date: date
      date range: date range
      yes no: yes/no
      address: geographic address
      file: file
      image: image
      other: Other
      color: Color
      texts: list of texts
      numbers: list of numbers
      colors: list of Color
"""
)
FIELDS = APP.types["Thing"].fields

SAMPLES: list[Any] = [
    None,
    "",
    [],
    "text",
    " padded ",
    "a\x00b",
    "12",
    "1e3",
    12,
    -0.5,
    True,
    False,
    "true",
    "no",
    "2024-01-31",
    "2024-01-31T10:00:00Z",
    "01/31/2024",
    1706695200000,
    [1, 5],
    ["2024-01-01", "2024-02-01"],
    [1, 2, 3],
    {"address": "Paris", "lat": 48.85, "lng": 2.35},
    {"a": 1},
    "1700000000000x123456789012345678",
    "Red",
    "Blue",
    ["Red", "Green"],
    ["x", "", None],
    "https://example.com/f.png",
    "//s3.amazonaws.com/f.png",
]


def outcome(convert: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", convert(value)
    except BurbleError as exc:
        return type(exc).__name__, exc.message


def reference(field: Field, value: Any) -> tuple[str, Any]:
    return outcome(lambda v: coerce_value(field, v, APP), value)


@pytest.mark.parametrize("field", FIELDS, ids=[f.name for f in FIELDS])
def test_coercer_agrees_with_coerce_value(field: Field) -> None:
    fast = coercer(field, APP)
    for value in SAMPLES:
        assert outcome(fast, value) == reference(field, value), (field.name, value)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@given(value=JSON)
def test_coercer_agrees_on_any_json(value: Any) -> None:
    for field in FIELDS:
        assert outcome(coercer(field, APP), value) == reference(field, value), field.name
