"""The Data API's search parameters (seed 004; bubble-wire.md §4.2) as a `Search`.

`constraints` (JSON array), `cursor`, `limit` (default and maximum 100, larger silently
capped), `sort_field` (or `_random_sorting`), `descending` (any case),
`additional_sort_fields` (JSON array). Unknown parameters are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import orjson

from burble import values
from burble.appdef.coerce import coerce_item
from burble.appdef.model import AppDefinition, DataType, FieldKind
from burble.errors import BadRequest, InvalidData
from burble.store.query import Constraint, Op, Search, Sort
from burble.things.keys import read_field

MAX_LIMIT = 100
MAX_OFFSET = 2**53  # larger cursors are clamped: they are past the end of any result
RANDOM_SORT = "_random_sorting"

_OPS = {
    "equals": Op.EQUALS,
    "not equal": Op.NOT_EQUAL,
    "is_empty": Op.IS_EMPTY,
    "is empty": Op.IS_EMPTY,
    "is_not_empty": Op.IS_NOT_EMPTY,
    "is not empty": Op.IS_NOT_EMPTY,
    "greater than": Op.GREATER_THAN,
    "less than": Op.LESS_THAN,
}
# Bubble constraint types that arrive with the full search issue.
_LATER = {
    "text contains",
    "not text contains",
    "in",
    "not in",
    "contains",
    "not contains",
    "empty",
    "not empty",
    "geographic_search",
}
_ORDERABLE = {FieldKind.TEXT, FieldKind.NUMBER, FieldKind.DATE}


def _int(raw: str | None, default: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        number = float(raw)
    except ValueError:
        raise BadRequest(f"Invalid number: {raw}") from None
    if math.isnan(number):
        raise BadRequest(f"Invalid number: {raw}")
    return int(max(-MAX_OFFSET, min(number, MAX_OFFSET)))


def _json(name: str, raw: str) -> object:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest(f"Invalid {name}: not valid JSON") from None


def _truthy(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    return isinstance(raw, str) and raw.strip().lower() == "true"


def parse_search(params: Mapping[str, str], dtype: DataType, definition: AppDefinition) -> Search:
    limit = max(0, min(_int(params.get("limit"), MAX_LIMIT), MAX_LIMIT))
    cursor = max(0, _int(params.get("cursor"), 0))
    constraints = _constraints(params.get("constraints"), dtype, definition)
    sorts: list[Sort] = []
    random = False
    sort_field = (params.get("sort_field") or "").strip()
    if sort_field == RANDOM_SORT:
        random = True
    elif sort_field:
        sorts.append(_sort(dtype, sort_field, _truthy(params.get("descending"))))
    extra = params.get("additional_sort_fields")
    if extra and extra.strip() and not random:
        items = _json("additional_sort_fields", extra)
        if not isinstance(items, list):
            raise BadRequest("Invalid additional_sort_fields: expected a JSON array")
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("sort_field"), str):
                raise BadRequest("Invalid additional_sort_fields: each entry needs a sort_field")
            name = item["sort_field"].strip()
            if name and name != RANDOM_SORT:
                sorts.append(_sort(dtype, name, _truthy(item.get("descending", False))))
    return Search(dtype, tuple(constraints), tuple(sorts), random, cursor, limit)


def _sort(dtype: DataType, key: str, descending: bool) -> Sort:
    field = read_field(dtype, key)
    if field.type.is_list:
        raise BadRequest(f"Cannot sort on list field {field.name}")
    return Sort(field, descending)


def _constraints(raw: str | None, dtype: DataType, definition: AppDefinition) -> list[Constraint]:
    if raw is None or not raw.strip():
        return []
    items = _json("constraints", raw)
    if not isinstance(items, list):
        raise BadRequest("Invalid constraints: expected a JSON array")
    out: list[Constraint] = []
    for item in items:
        if not isinstance(item, dict):
            raise BadRequest("Invalid constraints: each constraint must be a JSON object")
        key, kind = item.get("key"), item.get("constraint_type")
        if not isinstance(key, str) or not isinstance(kind, str):
            raise BadRequest(
                "Invalid constraints: each constraint needs a key and a constraint_type"
            )
        normalized = " ".join(kind.strip().lower().split())
        op = _OPS.get(normalized)
        if op is None:
            if normalized in _LATER:
                raise BadRequest(f"Constraint type '{kind}' is not supported yet")
            raise BadRequest(f"Unknown constraint type: {kind}")
        field = read_field(dtype, key)
        if op in (Op.IS_EMPTY, Op.IS_NOT_EMPTY):
            out.append(Constraint(field, op))
            continue
        value = item.get("value")
        if value is None:
            continue  # "Constraints with an undefined value are ignored" (seed 004)
        if field.type.is_list:
            raise BadRequest(f"Constraint type '{kind}' cannot be used on list field {field.name}")
        if op in (Op.GREATER_THAN, Op.LESS_THAN) and field.type.kind not in _ORDERABLE:
            raise BadRequest(
                f"Constraint type '{kind}' needs a text, number or date field; "
                f"{field.name} is a {field.type.describe()}"
            )
        try:
            stored = coerce_item(field.type, value, definition)
        except values.NotParseable as exc:
            raise InvalidData(field.name, exc.expected) from None
        out.append(Constraint(field, op, stored))
    return out
