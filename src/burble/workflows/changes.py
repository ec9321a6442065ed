"""`fields:` of the actions that write things: a value per field, and for list fields Bubble's
list changes — set (a list), `{add: x}`, `{remove: x}`, `{add list: [...]}`,
`{remove list: [...]}`, `{clear: true}`."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from burble import values
from burble.appdef.model import AppDefinition, Field, FieldKind
from burble.errors import ListTooLong
from burble.expr import Thing
from burble.workflows.dynamic import Value


class ListChange(enum.Enum):
    SET = "set"
    ADD = "add"
    REMOVE = "remove"
    ADD_LIST = "add list"
    REMOVE_LIST = "remove list"
    CLEAR = "clear"


# The keys a list change is written with (`{add: x}`); SET is a plain value.
LIST_KEYS = {c.value: c for c in ListChange if c is not ListChange.SET}


@dataclass(frozen=True, eq=False)
class FieldChange:
    field: Field
    change: ListChange
    value: Value | None  # None for CLEAR


Evaluate = Callable[[Value], object]


def new_values(
    definition: AppDefinition,
    changes: tuple[FieldChange, ...],
    evaluate: Evaluate,
    current: Thing | None,
) -> dict[Field, object]:
    """The stored value of each changed field; list changes start from `current` (the thing
    as stored, unfiltered by privacy rules; None for a new thing)."""
    out: dict[Field, object] = {}
    limit = definition.settings.max_list_length
    for fc in changes:
        field = fc.field
        if fc.change is ListChange.CLEAR:
            out[field] = None
            continue
        assert fc.value is not None
        value = normalise(field, evaluate(fc.value))
        if fc.change is ListChange.SET:
            out[field] = value
            continue
        before = out[field] if field in out else (current or {}).get(field.name)
        items = list(before) if isinstance(before, list) else []
        given = value if isinstance(value, list) else ([] if value is None else [value])
        if fc.change in (ListChange.ADD, ListChange.ADD_LIST):
            for item in given:
                if item not in items:
                    items.append(item)
        else:
            items = [i for i in items if i not in given]
        out[field] = items or None
    for field, value in out.items():
        if isinstance(value, list) and len(value) > limit:
            raise ListTooLong(field.name, limit)
    return out


def normalise(field: Field, value: object) -> object:
    """An evaluated value in the field's stored form (numbers as floats, lists without empty
    items; a single item for a list field is a list of one)."""
    if value is None:
        return None
    ftype = field.type
    if ftype.is_list:
        items = value if isinstance(value, list) else [value]
        out = [_item(ftype.kind, v) for v in items if v is not None]
        return out or None
    return _item(ftype.kind, value)


def _item(kind: FieldKind, value: object) -> object:
    if kind is FieldKind.NUMBER and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind in (FieldKind.NUMBER_RANGE, FieldKind.DATE_RANGE) and isinstance(value, tuple):
        return list(value)
    if kind is FieldKind.ADDRESS and isinstance(value, Mapping):
        return values.parse_address(dict(value))
    return value


def list_keys() -> str:
    return ", ".join(LIST_KEYS)
