"""Reading things inside a run's transaction (so a run sees its own earlier changes), as the
caller may: searches keep only what privacy rules let the caller find, and fields the caller
may not view read as empty — unless the caller is an admin or the workflow ignores privacy
rules (bubble-semantics.md §3)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from burble import values
from burble.appdef.model import DataType, Field, FieldKind, FieldType, Permission
from burble.auth.actor import Actor
from burble.expr import Thing
from burble.privacy.enforce import FALSE, Access
from burble.store.backend import Dialect, Row, Tx
from burble.store.codec import ID_FIELD, column_names
from burble.store.query import Constraint, Op, Search
from burble.things.service import ThingService

# Bubble caps lists at 10,000 items (bubble-semantics.md §10.3): a search reads no more.
MAX_SEARCH = 10_000

_UNSET = object()


class Reader:
    def __init__(
        self,
        tx: Tx,
        things: ThingService,
        actor: Actor,
        ignore_privacy: bool,
    ) -> None:
        self.tx = tx
        self.things = things
        self.store = things.store
        self.dialect: Dialect = things.backend.dialect
        self.actor = actor
        self.privacy = not (ignore_privacy or actor.is_admin)
        self._access: dict[str, Access | None] = {}

    def access(self, dtype: DataType) -> Access | None:
        """None when privacy rules do not apply to this run."""
        if not self.privacy:
            return None
        found = self._access.get(dtype.name, _UNSET)
        if found is _UNSET:
            found = self.things.access(self.actor, dtype)
            self._access[dtype.name] = found
        assert found is None or isinstance(found, Access)
        return found

    def fetch(self, dtype: DataType, thing_id: str) -> Thing | None:
        """A thing by id, with the fields the caller may not view empty."""
        access = self.access(dtype)
        by_id = Search(dtype, (Constraint((ID_FIELD,), Op.EQUALS, thing_id),), limit=1)
        if access is None:
            page = self.store.search(self.tx, by_id)
            return self._thing(dtype, page.rows[0]) if page.rows else None
        flags = access.view_flags()
        page = self.store.search(self.tx, by_id, None, [(f.sql, f.params) for f in flags])
        if not page.rows:
            return None
        return self._masked(dtype, access, page.rows[0])

    def fetch_raw(self, dtype: DataType, thing_id: str) -> Thing | None:
        """A thing by id as stored, whatever the privacy rules (for changing it)."""
        row = self.store.get(self.tx, dtype, thing_id)
        return None if row is None else self._thing(dtype, row)

    def search(self, dtype: DataType, constraints: list[tuple[Field, str, object]]) -> list[Thing]:
        """`Search for`: the things the caller may find (oldest first, at most 10,000)."""
        built = tuple(
            Constraint((f,), Op(op), _constraint_value(f, op, v)) for f, op, v in constraints
        )
        search = Search(dtype, built, limit=MAX_SEARCH)
        access = self.access(dtype)
        if access is None:
            return [self._thing(dtype, row) for row in self.store.search(self.tx, search).rows]
        find = access.condition(Permission.FIND)
        if find is FALSE:
            return []
        flags = access.view_flags()
        page = self.store.search(
            self.tx, search, (find.sql, find.params), [(f.sql, f.params) for f in flags]
        )
        return [self._masked(dtype, access, row) for row in page.rows]

    def _masked(self, dtype: DataType, access: Access, row: Row) -> Thing:
        thing = self._thing(dtype, row)
        width = len(self.store.codec(dtype).columns)
        visible = access.visible_fields(row[width:])
        for field in dtype.fields:
            if field not in visible:
                thing[field.name] = None
        if dtype.is_user and thing["_id"] != self.actor.user_id:
            thing["email"] = None  # a user's email is theirs to read (and admins')
        return thing

    def _thing(self, dtype: DataType, row: Sequence[Any]) -> dict[str, Any]:
        return thing_of_row(self.dialect, dtype, row)


def thing_of_row(dialect: Dialect, dtype: DataType, row: Sequence[Any]) -> dict[str, Any]:
    """A row read with `ThingStore.get` as the evaluator's thing: built-ins and fields by
    name, in stored form, unmasked."""
    out: dict[str, Any] = {
        "_id": row[0],
        "Created Date": row[1],
        "Modified Date": row[2],
        "Created By": row[3],
        "Slug": row[4],
    }
    i = 5
    if dtype.is_user:
        out["email"] = row[5]
        i = 7
    for field in dtype.fields:
        width = len(column_names(field))
        out[field.name] = _stored(dialect, field.type, row[i : i + width])
        i += width
    return out


def _constraint_value(field: Field, op: str, value: object) -> object:
    """`in` / `not in` take a list; the store wants one for them."""
    if op in (Op.IN.value, Op.NOT_IN.value) and value is not None and not isinstance(value, list):
        return [value]
    return value


def _stored(dialect: Dialect, ftype: FieldType, raw: Sequence[Any]) -> object:
    kind = ftype.kind
    if kind is FieldKind.ADDRESS and not ftype.is_list:
        address, lat, lng = raw
        if address is None and lat is None and lng is None:
            return None
        return values.Address(address, lat, lng)
    value = raw[0]
    if value is None:
        return None
    if ftype.is_list:
        items = dialect.json_result(value)
        assert isinstance(items, list)
        return [_item(kind, v) for v in items] or None
    if kind in (FieldKind.NUMBER_RANGE, FieldKind.DATE_RANGE):
        return dialect.json_result(value)
    return _item(kind, value, dialect.bool_result)


def _item(kind: FieldKind, value: Any, to_bool: Callable[[object], bool] = bool) -> object:
    if kind is FieldKind.NUMBER:
        return float(value)
    if kind is FieldKind.DATE:
        return int(value)
    if kind is FieldKind.YES_NO:
        return to_bool(value)
    if kind is FieldKind.ADDRESS and isinstance(value, dict):
        return values.Address(value.get("address"), value.get("lat"), value.get("lng"))
    return value
