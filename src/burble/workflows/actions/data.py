"""Database actions (bubble-semantics.md §13): create a thing, make changes to a thing or a
list of things, delete a thing or a list, copy a list (at most 100 things), set a slug."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from burble.appdef.model import DataType
from burble.errors import ActionFailed
from burble.expr import Expr, ValueType, evaluate
from burble.expr import types as t
from burble.workflows.changes import FieldChange, new_values
from burble.workflows.compile import Builder
from burble.workflows.dynamic import Value
from burble.workflows.engine import Frame
from burble.workflows.model import Action
from burble.workflows.registry import ActionKind

MAX_COPY = 100  # Bubble's limit for Copy a list of things


def _ids(value: object) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


def _fields(
    frame: Frame, dtype: DataType, changes: tuple[FieldChange, ...], current: Any, this: Any = None
) -> dict[Any, object]:
    return new_values(frame.run.definition, changes, lambda v: frame.evaluate(v, this), current)


# --- Create a new thing -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CreateThing(Action):
    dtype: DataType
    fields: tuple[FieldChange, ...]

    def result_type(self) -> ValueType:
        return t.thing(self.dtype.name)


def parse_create(options: Mapping[str, Any], b: Builder) -> CreateThing | None:
    dtype = b.data_type(options["create"], "create")
    if dtype is None:
        return None
    if dtype.is_user:
        b.problem(
            'a User is created by signing up or with "Create an account for someone else" '
            "(account actions), not with create",
            "create",
        )
        return None
    changes = b.changes(dtype, options.get("fields"), "fields")
    return None if changes is None else CreateThing(dtype, changes)


def run_create(action: CreateThing, frame: Frame) -> object:
    values = _fields(frame, action.dtype, action.fields, None)
    return frame.run.create(action.dtype, values)


# --- Make changes to a thing --------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ChangeThing(Action):
    thing: Expr
    dtype: DataType
    fields: tuple[FieldChange, ...]

    def result_type(self) -> ValueType:
        return t.thing(self.dtype.name)


def parse_change(options: Mapping[str, Any], b: Builder) -> ChangeThing | None:
    found = b.thing(options["change"], "change")
    if found is None:
        return None
    changes = b.changes(found[1], options.get("fields"), "fields")
    return None if changes is None else ChangeThing(found[0], found[1], changes)


def run_change(action: ChangeThing, frame: Frame) -> object:
    thing_id = evaluate(action.thing, frame.context())
    if not isinstance(thing_id, str):
        raise ActionFailed("the thing to change is empty")
    _change_one(frame, action.dtype, thing_id, action.fields, None)
    return thing_id


def _change_one(
    frame: Frame, dtype: DataType, thing_id: str, fields: tuple[FieldChange, ...], this: Any
) -> None:
    current = frame.run.reader.fetch_raw(dtype, thing_id)
    if current is None:
        raise ActionFailed(f"there is no {dtype.name} with id {thing_id} to change")
    frame.run.update(dtype, thing_id, _fields(frame, dtype, fields, current, this))


# --- Make changes to a list of things ----------------------------------------------------


@dataclass(frozen=True, eq=False)
class ChangeList(Action):
    things: Expr
    dtype: DataType
    fields: tuple[FieldChange, ...]  # `This <Type>` is each thing in turn

    def result_type(self) -> ValueType:
        return t.thing(self.dtype.name, is_list=True)


def parse_change_list(options: Mapping[str, Any], b: Builder) -> ChangeList | None:
    found = b.thing(options["change_list"], "change_list", many=True)
    if found is None:
        return None
    expr, dtype = found
    changes = b.changes(dtype, options.get("fields"), "fields", this_type=dtype)
    return None if changes is None else ChangeList(expr, dtype, changes)


def run_change_list(action: ChangeList, frame: Frame) -> object:
    ids = _ids(evaluate(action.things, frame.context()))
    for thing_id in ids:
        frame.run.check_time()
        this = frame.this(action.dtype, thing_id)
        _change_one(frame, action.dtype, thing_id, action.fields, this)
    return ids or None


# --- Delete thing / Delete a list of things ----------------------------------------------


@dataclass(frozen=True, eq=False)
class DeleteThing(Action):
    thing: Expr
    dtype: DataType


def parse_delete(options: Mapping[str, Any], b: Builder) -> DeleteThing | None:
    found = b.thing(options["delete"], "delete")
    return None if found is None else DeleteThing(*found)


def run_delete(action: DeleteThing, frame: Frame) -> object:
    thing_id = evaluate(action.thing, frame.context())
    if isinstance(thing_id, str):  # deleting nothing does nothing, as in Bubble
        frame.run.delete(action.dtype, thing_id)
    return None


@dataclass(frozen=True, eq=False)
class DeleteList(Action):
    things: Expr
    dtype: DataType


def parse_delete_list(options: Mapping[str, Any], b: Builder) -> DeleteList | None:
    found = b.thing(options["delete_list"], "delete_list", many=True)
    return None if found is None else DeleteList(*found)


def run_delete_list(action: DeleteList, frame: Frame) -> object:
    for thing_id in _ids(evaluate(action.things, frame.context())):
        frame.run.check_time()
        frame.run.delete(action.dtype, thing_id)
    return None


# --- Copy a list of things ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CopyList(Action):
    things: Expr
    dtype: DataType
    fields: tuple[FieldChange, ...]  # changes on each copy; `This <Type>` is the original

    def result_type(self) -> ValueType:
        return t.thing(self.dtype.name, is_list=True)


def parse_copy_list(options: Mapping[str, Any], b: Builder) -> CopyList | None:
    found = b.thing(options["copy_list"], "copy_list", many=True)
    if found is None:
        return None
    expr, dtype = found
    if dtype.is_user:
        b.problem("users cannot be copied", "copy_list")
        return None
    changes = b.changes(dtype, options.get("fields"), "fields", this_type=dtype)
    return None if changes is None else CopyList(expr, dtype, changes)


def run_copy_list(action: CopyList, frame: Frame) -> object:
    ids = _ids(evaluate(action.things, frame.context()))
    if len(ids) > MAX_COPY:
        raise ActionFailed(
            f"the list has {len(ids)} things; at most {MAX_COPY} can be copied at once"
        )
    copies: list[str] = []
    for thing_id in ids:
        frame.run.check_time()
        original = frame.run.reader.fetch_raw(action.dtype, thing_id)
        if original is None:
            continue
        values = {f: original.get(f.name) for f in action.dtype.fields}
        this = frame.this(action.dtype, thing_id)
        values.update(_fields(frame, action.dtype, action.fields, original, this))
        copies.append(frame.run.create(action.dtype, values))
    return copies or None


# --- Set a thing's slug -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SetSlug(Action):
    thing: Expr
    dtype: DataType
    slug: Value

    def result_type(self) -> ValueType:
        return t.TEXT


def parse_set_slug(options: Mapping[str, Any], b: Builder) -> SetSlug | None:
    found = b.thing(options["set_slug"], "set_slug")
    if "slug" not in options:
        b.problem("set_slug needs `slug:` (a text)")
        return None
    slug = b.value(options["slug"], t.TEXT, "slug")
    if found is None or slug is None:
        return None
    return SetSlug(found[0], found[1], slug)


def slugify(text: str) -> str:
    """Bubble's slug rules: lower-case letters, digits and hyphens (blanks become hyphens)."""
    lowered = re.sub(r"\s+", "-", text.strip().lower())
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "", lowered)).strip("-")


def run_set_slug(action: SetSlug, frame: Frame) -> object:
    thing_id = evaluate(action.thing, frame.context())
    if not isinstance(thing_id, str):
        raise ActionFailed("the thing to give a slug is empty")
    text = frame.evaluate(action.slug)
    slug = slugify(text if isinstance(text, str) else "")
    if not slug:
        raise ActionFailed(
            f"the slug {text!r} has no letters or digits (a slug is lower-case letters, "
            "digits and hyphens)"
        )
    chosen = frame.run.set_slug(action.dtype, thing_id, slug)
    if chosen is None:
        raise ActionFailed(f"there is no {action.dtype.name} with id {thing_id}")
    return chosen


KINDS: list[ActionKind[Any]] = [
    ActionKind("create", "Create a new thing", CreateThing, parse_create, run_create, ("fields",)),
    ActionKind(
        "change", "Make changes to a thing", ChangeThing, parse_change, run_change, ("fields",)
    ),
    ActionKind(
        "change_list",
        "Make changes to a list of things",
        ChangeList,
        parse_change_list,
        run_change_list,
        ("fields",),
    ),
    ActionKind("delete", "Delete thing", DeleteThing, parse_delete, run_delete),
    ActionKind(
        "delete_list", "Delete a list of things", DeleteList, parse_delete_list, run_delete_list
    ),
    ActionKind(
        "copy_list", "Copy a list of things", CopyList, parse_copy_list, run_copy_list, ("fields",)
    ),
    ActionKind("set_slug", "Set a thing's slug", SetSlug, parse_set_slug, run_set_slug, ("slug",)),
]
