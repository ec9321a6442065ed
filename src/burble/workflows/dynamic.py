"""Values in action options (DESIGN §3): a static YAML scalar, a whole `"[expression]"` (typed),
text with expressions inside (`"Hello [Current User's name]"`), or a YAML list of values for a
list. Every expression is parsed and type-checked when the definition is compiled."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from burble import values
from burble.expr import EvalContext, Expr, ValueType, evaluate
from burble.expr.types import TEXT, Kind


@dataclass(frozen=True, eq=False)
class Static:
    """A value written as it is, already in stored form."""

    value: object
    type: ValueType


@dataclass(frozen=True, eq=False)
class Dynamic:
    """A whole `[expression]`: its value has the expression's type."""

    expr: Expr

    @property
    def type(self) -> ValueType:
        return self.expr.type


@dataclass(frozen=True, eq=False)
class Template:
    """Text with `[expressions]` inside; always a text."""

    parts: tuple[str | Expr, ...]

    @property
    def type(self) -> ValueType:
        return TEXT


@dataclass(frozen=True, eq=False)
class Items:
    """A list written as a YAML list of values."""

    items: tuple[Value, ...]
    type: ValueType


Value = Static | Dynamic | Template | Items


class TemplateError(Exception):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column  # 1-based, in the whole text


def split_template(text: str) -> list[str | tuple[int, str]]:
    """Texts and `(offset, expression text)` for each `[...]` (offset: where the expression's
    text starts). Brackets nest, and brackets inside `"..."` texts do not count."""
    out: list[str | tuple[int, str]] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "[":
            literal.append(ch)
            i += 1
            continue
        start = i
        depth = 0
        quote = False
        j = i
        while j < len(text):
            c = text[j]
            if quote:
                if c == "\\":
                    j += 2
                    continue
                if c in '"“”':
                    quote = False
            elif c in '"“”':
                quote = True
            elif c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= len(text):
            raise TemplateError("this '[' has no matching ']'", start + 1)
        if literal:
            out.append("".join(literal))
            literal = []
        out.append((start + 1, text[start + 1 : j]))
        i = j + 1
    if literal:
        out.append("".join(literal))
    return out


def evaluate_value(value: Value, ctx: EvalContext) -> object:
    """The value in stored form (None: empty)."""
    if isinstance(value, Static):
        return value.value
    if isinstance(value, Dynamic):
        return evaluate(value.expr, ctx)
    if isinstance(value, Template):
        text = "".join(
            part if isinstance(part, str) else as_text(evaluate(part, ctx), part.type)
            for part in value.parts
        )
        return text or None
    out: list[object] = []
    for item in value.items:
        v = evaluate_value(item, ctx)
        if isinstance(v, list):
            out.extend(x for x in v if x is not None)
        elif v is not None:
            out.append(v)
    return out or None


def as_text(value: object, vtype: ValueType) -> str:
    """A value as it reads inside a text: numbers as JavaScript writes them, dates in ISO
    8601 (UTC), yes/no as yes / no, things as their unique ids, lists joined with ", "."""
    if value is None:
        return ""
    if isinstance(value, list) and vtype.is_list:
        return ", ".join(as_text(v, vtype.item()) for v in value if v is not None)
    kind = vtype.kind
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind is Kind.DATE and isinstance(value, int):
        return values.format_date(value)
    if kind is Kind.DATE_RANGE and isinstance(value, list) and len(value) == 2:
        return f"{values.format_date(value[0])} - {values.format_date(value[1])}"
    if kind is Kind.NUMBER_RANGE and isinstance(value, list) and len(value) == 2:
        return f"{_number(value[0])} - {_number(value[1])}"
    if isinstance(value, values.Address):
        if value.address is not None:
            return value.address
        return f"{value.lat}, {value.lng}"
    if isinstance(value, int | float):
        return _number(value)
    return str(value)


def _number(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        f = float(value)
        if math.isfinite(f):
            return values.parse_text(f)
    return str(value)


def to_json(value: object, vtype: ValueType) -> Any:
    """A value as the Workflow API returns it (API 1.1, like the Data API: ISO dates,
    addresses as objects, things as their unique ids). Empty is null; an empty list is []."""
    if vtype.is_list:
        items = value if isinstance(value, list) else []
        item = vtype.item()
        return [to_json(v, item) for v in items if v is not None]
    if value is None:
        return None
    kind = vtype.kind
    if kind is Kind.DATE and isinstance(value, int) and not isinstance(value, bool):
        return values.format_date(value)
    if kind is Kind.NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
        return values.format_number(float(value))
    if kind is Kind.NUMBER_RANGE and isinstance(value, list) and len(value) == 2:
        return values.format_number_range((float(value[0]), float(value[1])))
    if kind is Kind.DATE_RANGE and isinstance(value, list) and len(value) == 2:
        return values.format_date_range((int(value[0]), int(value[1])))
    if isinstance(value, values.Address):
        return value.to_json()
    if isinstance(value, Mapping):
        return value.get("_id")
    return value
