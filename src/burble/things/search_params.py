"""The Data API's search parameters (seed 004; bubble-wire.md §4.2) as a `Search`.

`constraints` (JSON array), `cursor`, `limit` (default and maximum 100, larger silently
capped), `sort_field` (or `_random_sorting`), `descending` (any case),
`additional_sort_fields` (JSON array). Unknown parameters are ignored.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Protocol

import orjson

from burble import values
from burble.appdef.coerce import coerce_item
from burble.appdef.model import AppDefinition, DataType, FieldKind, FieldType
from burble.errors import BadRequest, InvalidData, InvalidValue
from burble.store.query import Constraint, GeoCircle, Op, Search, Sort
from burble.things.keys import read_field

MAX_LIMIT = 100
MAX_OFFSET = 2**53  # larger cursors are clamped: they are past the end of any result
RANDOM_SORT = "_random_sorting"

_OPS = {op.value: op for op in Op} | {"is empty": Op.IS_EMPTY, "is not empty": Op.IS_NOT_EMPTY}
_ORDERABLE = {FieldKind.TEXT, FieldKind.NUMBER, FieldKind.DATE}
_WORDS = re.compile(r"\w+")
ALL_TEXT = "_all"
MILES_KM = 1.609344


class Geocode(Protocol):
    def __call__(self, text: str) -> values.Address | None: ...


def fold_accents(text: str) -> str:
    """ "café" → "cafe", as the full-text indexes store words."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _applies(op: Op, ftype: FieldType) -> str | None:
    """None when `op` may be used on a field of this type, else what it needs (seed 004)."""
    if op in (Op.CONTAINS, Op.NOT_CONTAINS, Op.EMPTY, Op.NOT_EMPTY):
        return None if ftype.is_list else "a list field"
    if op in (Op.EQUALS, Op.NOT_EQUAL, Op.IS_EMPTY, Op.IS_NOT_EMPTY):
        return None
    if ftype.is_list:
        return "a field that is not a list"
    if op in (Op.TEXT_CONTAINS, Op.NOT_TEXT_CONTAINS):
        return None if ftype.kind is FieldKind.TEXT else "a text field"
    if op in (Op.GREATER_THAN, Op.LESS_THAN):
        return None if ftype.kind in _ORDERABLE else "a text, number or date field"
    if op is Op.GEOGRAPHIC_SEARCH:
        return None if ftype.kind is FieldKind.ADDRESS else "a geographic address field"
    return None  # in / not in: any field that is not a list


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


def parse_search(
    params: Mapping[str, str],
    dtype: DataType,
    definition: AppDefinition,
    geocode: Geocode | None = None,
) -> Search:
    limit = max(0, min(_int(params.get("limit"), MAX_LIMIT), MAX_LIMIT))
    cursor = max(0, _int(params.get("cursor"), 0))
    # Bubble's offset cap: past it, no things (but `remaining` still counts them).
    limit = min(limit, max(0, definition.settings.max_search_offset - cursor))
    constraints = _constraints(params.get("constraints"), dtype, definition, geocode)
    reference = (params.get("geo_reference") or "").strip()
    sorts: list[Sort] = []
    random = False
    sort_field = (params.get("sort_field") or "").strip()
    if sort_field == RANDOM_SORT:
        random = True
    elif sort_field:
        sorts.append(
            _sort(dtype, sort_field, _truthy(params.get("descending")), reference, geocode)
        )
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
                descending = _truthy(item.get("descending", False))
                sorts.append(_sort(dtype, name, descending, reference, geocode))
    return Search(dtype, tuple(constraints), tuple(sorts), random, cursor, limit)


def _sort(
    dtype: DataType, key: str, descending: bool, reference: str, geocode: Geocode | None
) -> Sort:
    field = read_field(dtype, key)
    if field.type.is_list:
        raise BadRequest(f"Cannot sort on list field {field.name}")
    if field.type.kind is FieldKind.ADDRESS and reference:
        # An address text, or a JSON object {address, lat, lng}.
        where: object = _json("geo_reference", reference) if reference[0] == "{" else reference
        origin = _locate(where, geocode, "geo_reference")
        return Sort(field, descending, origin)
    return Sort(field, descending)


def _locate(value: object, geocode: Geocode | None, what: str) -> tuple[float, float]:
    """An address (text, or {address, lat, lng}) as coordinates."""
    try:
        address = values.parse_address(value)
    except values.NotParseable:
        raise InvalidValue(f"Invalid data for {what}: expected an address") from None
    if address.lat is None or address.lng is None:
        found = geocode(address.address or "") if geocode is not None else None
        if found is None or found.lat is None or found.lng is None:
            raise InvalidValue(f"Invalid data for {what}: could not find the address {value!r}")
        return found.lat, found.lng
    return address.lat, address.lng


def _constraints(
    raw: str | None, dtype: DataType, definition: AppDefinition, geocode: Geocode | None
) -> list[Constraint]:
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
        op = _OPS.get(" ".join(kind.strip().lower().split()))
        if op is None:
            raise BadRequest(f"Unknown constraint type: {kind}")
        constraint = _constraint(dtype, key, kind, op, item, definition, geocode)
        if constraint is not None:
            out.append(constraint)
    return out


def _constraint(
    dtype: DataType,
    key: str,
    kind: str,
    op: Op,
    item: dict[str, object],
    definition: AppDefinition,
    geocode: Geocode | None,
) -> Constraint | None:
    if key == ALL_TEXT:
        if op not in (Op.TEXT_CONTAINS, Op.NOT_TEXT_CONTAINS):
            raise BadRequest(f"The key _all can only be used with text contains, not '{kind}'")
        fields = tuple(
            f for f in dtype.fields if f.type.kind is FieldKind.TEXT and not f.type.is_list
        )
        if not fields:
            raise BadRequest(f"{dtype.name} has no text field to search")
    else:
        fields = (read_field(dtype, key),)
    field = fields[0]
    needs = _applies(op, field.type)
    if needs is not None:
        raise BadRequest(
            f"Constraint type '{kind}' needs {needs}; {field.name} is a {field.type.describe()}"
        )
    if op in (Op.IS_EMPTY, Op.IS_NOT_EMPTY, Op.EMPTY, Op.NOT_EMPTY):
        return Constraint(fields, op)
    value = item.get("value")
    if value is None:
        return None  # "Constraints with an undefined value are ignored" (seed 004)
    if op in (Op.TEXT_CONTAINS, Op.NOT_TEXT_CONTAINS):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidData(field.name, "text")
        words = _WORDS.findall(fold_accents(str(value).lower()))
        return Constraint(fields, op, words) if words else None
    if op is Op.GEOGRAPHIC_SEARCH:
        return Constraint(fields, op, _circle(field.name, value, geocode))
    try:
        if op in (Op.IN, Op.NOT_IN):
            items = value if isinstance(value, list) else [value]
            stored: object = [coerce_item(field.type, v, definition) for v in items]
        elif op in (Op.CONTAINS, Op.NOT_CONTAINS):
            stored = coerce_item(field.type.item(), value, definition)
        elif field.type.is_list:
            items = value if isinstance(value, list) else [value]
            stored = [coerce_item(field.type.item(), v, definition) for v in items] or None
            if stored is None:
                return None
        else:
            stored = coerce_item(field.type, value, definition)
    except values.NotParseable as exc:
        raise InvalidData(field.name, exc.expected) from None
    return Constraint(fields, op, stored)


def _circle(name: str, value: object, geocode: Geocode | None) -> GeoCircle:
    """geographic_search's value: {origin_address, range, unit: miles (default) | km}."""
    if not isinstance(value, dict) or "origin_address" not in value or "range" not in value:
        raise InvalidValue(
            f"Invalid data for field {name}: geographic_search needs a value "
            '{"origin_address": ..., "range": ..., "unit": "miles" | "km"}'
        )
    try:
        distance = values.parse_number(value["range"])
    except values.NotParseable:
        raise InvalidValue(f"Invalid data for field {name}: range must be a number") from None
    if distance < 0:
        raise InvalidValue(f"Invalid data for field {name}: range must not be negative")
    unit = str(value.get("unit") or "miles").strip().lower()
    if unit not in ("miles", "mi", "km"):
        raise InvalidValue(f"Invalid data for field {name}: unit must be miles or km")
    lat, lng = _locate(value["origin_address"], geocode, f"field {name}")
    return GeoCircle(lat, lng, distance if unit == "km" else distance * MILES_KM)
