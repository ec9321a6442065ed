"""Workflow parameters: checking and reading the values a caller sent (like the Data API reads
field values: `burble.appdef.coerce`, references checked), and guessing types from a sample
for `/initialize`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burble import values
from burble.appdef.coerce import coerce_value
from burble.appdef.model import AppDefinition, Field, FieldKind, FieldType, ParameterSpec
from burble.errors import BurbleError, InvalidParameter, MissingData
from burble.expr import ValueType
from burble.store.backend import Tx
from burble.things.references import missing_references
from burble.things.service import ThingService


def type_name(ftype: FieldType) -> str:
    """How an error message names a parameter's type: Bubble writes `user`, `text`, ..."""
    return ValueType.of(ftype).describe().lower()


def coerce_parameters(
    owner: str,
    specs: tuple[ParameterSpec, ...],
    sent: Mapping[str, object],
    definition: AppDefinition,
    things: ThingService,
) -> dict[str, object]:
    """Every declared parameter's value in stored form (None: empty), in declaration order
    (addresses geocoded here, before the run's transaction, which must not wait on a service).

    Raises MISSING_DATA for the first required parameter that is absent or empty, and INVALID
    for the first value that does not fit its type."""
    out: dict[str, object] = {}
    for spec in specs:
        raw = sent.get(spec.name)
        if raw is None or raw == "" or raw == []:
            if not spec.optional:
                raise MissingData(f"Missing parameter for workflow {owner}: parameter {spec.name}")
            out[spec.name] = None
            continue
        probe = Field(spec.name, spec.name, spec.type, "")
        try:
            if spec.type.kind in (FieldKind.FILE, FieldKind.IMAGE):
                raw = things.upload_value(probe, raw)  # {filename, contents}: stored first
            value = coerce_value(probe, raw, definition)
        except BurbleError:
            raise InvalidParameter(spec.name, type_name(spec.type)) from None
        if spec.type.kind is FieldKind.ADDRESS:
            value = things.geocoded(value)
        out[spec.name] = value
    return out


def check_thing_parameters(
    specs: tuple[ParameterSpec, ...],
    parameters: Mapping[str, object],
    definition: AppDefinition,
    things: ThingService,
    tx: Tx,
) -> None:
    """INVALID for the first thing parameter whose id names no thing of its type (read in
    `tx`: one query per type)."""
    probes: dict[Field, object] = {}
    for spec in specs:
        value = parameters.get(spec.name)
        if spec.type.kind is FieldKind.THING and value is not None:
            probes[Field(spec.name, spec.name, spec.type, "")] = value
    if not probes:
        return
    missing = missing_references(tx, things.backend, definition, [probes])
    for spec in specs:
        value = parameters.get(spec.name)
        ids = value if isinstance(value, list) else [value]
        if any(isinstance(i, str) and i in missing for i in ids):
            raise InvalidParameter(spec.name, type_name(spec.type))


def detect_types(sample: Mapping[str, Any]) -> dict[str, str]:
    """Each key of a sample body and the type it looks like, spelled as in `app.yaml`."""
    return {key: _detect(value) for key, value in sample.items()}


def _detect(value: Any) -> str:
    if isinstance(value, list):
        items = [_detect(v) for v in value if v is not None]
        item = items[0] if items and all(i == items[0] for i in items) else "text"
        if item.startswith("list of") or item == "object":
            return "list of texts"
        return f"list of {_plural(item)}"
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        if "contents" in value:
            return "file"
        try:
            values.parse_address(value)
            return "geographic address"
        except values.NotParseable:
            return "object"
    if isinstance(value, str):
        if values.is_unique_id(value):
            return "text"  # a thing's id: declare the parameter with the thing's type
        if _looks_like_date(value):
            return "date"
        return "text"
    return "text"


def _looks_like_date(text: str) -> bool:
    if len(text) < 8 or not text[:4].isdigit() or text[4] != "-":
        return False
    try:
        values.parse_date(text)
    except values.NotParseable:
        return False
    return True


def _plural(name: str) -> str:
    if name in ("yes/no", "geographic address"):
        return {"yes/no": "yes/no", "geographic address": "geographic addresses"}[name]
    return name + "s"
