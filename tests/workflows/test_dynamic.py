"""Values in action options: splitting texts with [expressions], and how values read as text
and as JSON."""

from __future__ import annotations

import pytest

from burble import values
from burble.expr import types as t
from burble.workflows.dynamic import TemplateError, as_text, split_template, to_json


def test_split_template() -> None:
    assert split_template("plain") == ["plain"]
    assert split_template("[a]") == [(1, "a")]
    assert split_template("Hi [name]!") == ["Hi ", (4, "name"), "!"]
    assert split_template('[x:join with "]"] and [y]') == [
        (1, 'x:join with "]"'),
        " and ",
        (23, "y"),
    ]
    assert split_template('a ["["] b') == ["a ", (3, '"["'), " b"]
    assert split_template("[[a]]") == [(1, "[a]")]
    assert split_template("a ] b") == ["a ] b"]
    with pytest.raises(TemplateError) as exc:
        split_template("ok [unclosed")
    assert exc.value.column == 4


def test_as_text() -> None:
    assert as_text(None, t.TEXT) == ""
    assert as_text(3.0, t.NUMBER) == "3"
    assert as_text(0.1, t.NUMBER) == "0.1"
    assert as_text(True, t.YES_NO) == "yes"
    assert as_text(1709563107880, t.DATE) == "2024-03-04T14:38:27.880Z"
    assert as_text(["a", "b"], t.TEXTS) == "a, b"
    assert as_text([1.0, 2.5], t.NUMBER.as_list()) == "1, 2.5"
    assert as_text(values.Address("Paris", 48.8, 2.3), t.ValueType(t.Kind.ADDRESS)) == "Paris"
    assert as_text([1.0, 5.0], t.ValueType(t.Kind.NUMBER_RANGE)) == "1 - 5"


def test_to_json() -> None:
    assert to_json(None, t.TEXT) is None
    assert to_json(None, t.TEXTS) == []
    assert to_json(5.0, t.NUMBER) == 5
    assert to_json(1709563107880, t.DATE) == "2024-03-04T14:38:27.880Z"
    assert to_json([1.0, 5.0], t.ValueType(t.Kind.NUMBER_RANGE)) == {"start": 1, "end": 5}
    assert to_json(values.Address(None, 1.0, 2.0), t.ValueType(t.Kind.ADDRESS)) == {
        "lat": 1.0,
        "lng": 2.0,
    }
    assert to_json(["1x1", None], t.thing("Item", is_list=True)) == ["1x1"]
