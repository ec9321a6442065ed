"""Things sent by unique id must exist and be of the field's type (seed 003, "Things"):
otherwise 400 INVALID_DATA. One query per referenced type, whatever the number of ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from burble.appdef.model import AppDefinition, Field, FieldKind
from burble.errors import InvalidValue
from burble.store.backend import Backend, Tx


def _ids(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


def missing_references(
    tx: Tx,
    backend: Backend,
    definition: AppDefinition,
    bodies: Iterable[Mapping[Field, object]],
) -> dict[str, tuple[Field, str]]:
    """For every id that names no thing of its field's type: id → (field, type name)."""
    wanted: dict[str, dict[str, Field]] = {}  # type name → id → field
    for body in bodies:
        for field, value in body.items():
            if field.type.kind is FieldKind.THING and field.type.target is not None:
                for thing_id in _ids(value):
                    wanted.setdefault(field.type.target, {})[thing_id] = field
    missing: dict[str, tuple[Field, str]] = {}
    for type_name, ids in wanted.items():
        table = backend.dialect.table(definition.types[type_name].table)
        found: set[str] = set()
        id_list = list(ids)
        for start in range(0, len(id_list), 500):
            chunk = id_list[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = tx.fetchall(f"SELECT _id FROM {table} WHERE _id IN ({marks})", chunk)
            found.update(r[0] for r in rows)
        for thing_id, field in ids.items():
            if thing_id not in found:
                missing[thing_id] = (field, type_name)
    return missing


def check_references(
    tx: Tx, backend: Backend, definition: AppDefinition, body: Mapping[Field, object]
) -> None:
    """Raise INVALID_DATA naming the first field whose id names no thing of its type."""
    missing = missing_references(tx, backend, definition, [body])
    if missing:
        thing_id, (field, type_name) = next(iter(missing.items()))
        raise InvalidValue(reference_message(field, type_name, thing_id))


def reference_message(field: Field, type_name: str, thing_id: str) -> str:
    return f"Invalid data for field {field.name}: there is no {type_name} with id {thing_id}"
