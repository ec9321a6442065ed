"""The Data API's operations on things, free of HTTP: read, search, create, bulk create,
modify, replace, delete — with key resolution, value coercion, defaults and permissions.

Permissions, until privacy rules exist: an admin token may do everything; any other caller
sees nothing (searches are empty, a get is a 404 like a missing thing) and may write nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import orjson

from burble import values
from burble.appdef.coerce import coerce_value, coercer
from burble.appdef.model import AppDefinition, DataType, Field, FieldKind, Permission
from burble.auth.actor import Actor
from burble.auth.passwords import hash_password
from burble.errors import (
    BadRequest,
    BurbleError,
    Conflict,
    InvalidValue,
    MissingData,
    PermissionDenied,
    ThingNotFound,
)
from burble.files.store import FileStore
from burble.files.uploads import DEFAULT_MAX_UPLOAD_BYTES, Upload, UploadInvalid, parse_upload
from burble.geo.geocoder import Geocoder
from burble.privacy.enforce import FALSE, TRUE, Access, AccessCache
from burble.privacy.rules import TypeRules, rules_or_raise
from burble.store.backend import Backend, Tx
from burble.store.query import Search
from burble.store.things import InsertBatch, NewThing, ThingStore
from burble.things.keys import write_field
from burble.things.references import check_references, missing_references, reference_message
from burble.things.search_params import parse_search

MAX_BULK_LINES = 1000
SLUG_ATTEMPTS = 5  # a slug taken by a concurrent run: look again this many times
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UPLOAD_KINDS = frozenset([FieldKind.FILE, FieldKind.IMAGE])


@dataclass(frozen=True, slots=True)
class _Body:
    values: dict[Field, object]
    email: str | None = None
    password_hash: str | None = None


@dataclass(frozen=True, slots=True)
class SearchResult:
    cursor: int
    results: list[dict[str, Any]]
    count: int
    remaining: int


NOTE_USER = "user_id"  # tx.notes: the user who causes the transaction's changes
NOTE_ACTOR = "actor"  # and their kind (`ActorKind.value`)


def note_caller(tx: Tx, actor: Actor) -> None:
    """Who makes the changes of `tx` (what database triggers see as `Current User`)."""
    tx.notes[NOTE_USER] = actor.user_id
    tx.notes[NOTE_ACTOR] = actor.kind.value


@dataclass(frozen=True, slots=True)
class Creation:
    """The second half of a create (`ThingService.prepare_create`): called with a write
    transaction, it inserts the thing and returns its id."""

    service: ThingService
    actor: Actor
    access: Access | None
    dtype: DataType
    thing: NewThing

    def __call__(self, tx: Tx) -> str:
        service, dtype, thing, access = self.service, self.dtype, self.thing, self.access
        note_caller(tx, self.actor)
        check_references(tx, service.backend, service.definition, thing.values)
        service._insert(tx, dtype, [thing])
        if access is not None:  # the rule must hold for the new thing (seed 004)
            cond = access.condition(Permission.CREATE)
            if not service.store.holds(tx, dtype, thing.id, (cond.sql, cond.params)):
                raise PermissionDenied("You are not allowed to create this thing")
        return thing.id


class ThingService:
    """One environment's things, as the Data API offers them."""

    def __init__(
        self,
        backend: Backend,
        definition: AppDefinition,
        admin_creator: str,
        clock: Callable[[], int] = values.now_ms,
        files: FileStore | None = None,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        geocoder: Geocoder | None = None,
        rules: Mapping[str, TypeRules] | None = None,
    ) -> None:
        self.definition = definition
        # Compiled privacy rules by type name (every type: none = admin-only).
        self._rules = rules if rules is not None else rules_or_raise(definition)
        self._geocoder = geocoder  # None: address texts are stored without coordinates
        self.files = files  # None: upload objects are refused (values are URLs only)
        self._max_upload_bytes = max_upload_bytes
        self.store = ThingStore(backend, definition)
        self.backend = backend
        self._admin_creator = admin_creator
        self._clock = clock
        self._keys = definition.settings.keys
        self._bulk_lock = threading.Lock()  # see _one_bulk
        # Each caller's privacy SQL, compiled once (this service lives as long as its definition).
        self._access_cache = AccessCache(self._rules, backend.dialect, self._keys)
        self._coercers: dict[Field, Callable[[object], object]] = {}  # `coercer`, per field
        self._defaults: dict[str, tuple[tuple[Field, object], ...]] = {}

    # --- reads ----------------------------------------------------------------------------

    def get(self, actor: Actor, dtype: DataType, thing_id: str) -> dict[str, Any]:
        access = self._access(actor, dtype)
        if access is None:
            with self.backend.read() as tx:
                row = self.store.get(tx, dtype, thing_id)
            if row is not None:
                return self.store.to_json(dtype, row, self._keys)
            raise ThingNotFound(dtype.api_name, thing_id)
        find = access.condition(Permission.FIND)
        row = None
        if find is not FALSE:
            flags = access.view_flags()
            with self.backend.read() as tx:
                row = self.store.get_where(
                    tx, dtype, thing_id, (find.sql, find.params), [(f.sql, f.params) for f in flags]
                )
        if row is None:
            raise ThingNotFound(dtype.api_name, thing_id)  # hidden things look missing
        codec = self.store.codec(dtype)
        hidden = access.policy.hidden_keys(row[len(codec.columns) :])
        return codec.to_json(row, self._keys, hidden)

    def search(self, actor: Actor, dtype: DataType, params: Mapping[str, str]) -> SearchResult:
        search = parse_search(params, dtype, self.definition, self._geocode_text)
        access = self._access(actor, dtype)
        if access is None:
            with self.backend.read() as tx:
                page = self.store.search(tx, search)
            write = self.store.codec(dtype).writer(self._keys)
            results = [write(row) for row in page.rows]
            remaining = max(0, page.total - search.cursor - len(results))
            return SearchResult(search.cursor, results, len(results), remaining)
        used = [f for c in search.constraints for f in c.fields] + [s.field for s in search.sorts]
        for field in used:
            if not access.searchable(field):
                raise BadRequest(
                    f"Cannot search or sort on field {field.name}: privacy rules hide it "
                    "from some of the things you can find"
                )
        return self._search_as(access, search)

    def _search_as(self, access: Access, search: Search) -> SearchResult:
        """A search filtered by the caller's `find` permission, hidden fields masked."""
        find = access.condition(Permission.FIND)
        if find is FALSE:
            return SearchResult(search.cursor, [], 0, 0)
        flags = access.view_flags()
        with self.backend.read() as tx:
            page = self.store.search(
                tx, search, (find.sql, find.params), [(f.sql, f.params) for f in flags]
            )
        writer, keys, hidden = (
            self.store.codec(search.dtype).writer,
            self._keys,
            access.policy.hidden_keys,
        )
        width = len(self.store.codec(search.dtype).columns)
        # The fields the caller may not view are left out (`Access.mask`, row by row).
        results = [writer(keys, hidden(row[width:]))(row) for row in page.rows]
        remaining = max(0, page.total - search.cursor - len(results))
        return SearchResult(search.cursor, results, len(results), remaining)

    def can_view_files(self, actor: Actor, thing_id: str) -> bool:
        """May the caller download the private files attached to this thing ("view attached
        files")? The thing may be of any type; admins may."""
        if actor.is_admin:
            return True
        with self.backend.read() as tx:
            for dtype in self.definition.types.values():
                if not self.store.exists(tx, dtype, thing_id):
                    continue
                access = self._access(actor, dtype)
                assert access is not None
                cond = access.condition(Permission.VIEW_FILES)
                return cond is not FALSE and self.store.holds(
                    tx, dtype, thing_id, (cond.sql, cond.params)
                )
        return False

    def _access(self, actor: Actor, dtype: DataType) -> Access | None:
        """None for an admin (privacy rules do not apply), else what the caller may do."""
        if actor.is_admin:
            return None
        return self._access_cache.access(dtype.name, actor.user_id, self._clock())

    def _check(
        self,
        tx: Tx,
        access: Access | None,
        dtype: DataType,
        thing_id: str,
        permission: Permission,
        what: str,
    ) -> None:
        """Raise unless the caller holds `permission` on the thing (as it is in `tx` now)."""
        if access is None:
            return
        cond = access.condition(permission)
        if cond is not TRUE and not self.store.holds(tx, dtype, thing_id, (cond.sql, cond.params)):
            find = access.condition(Permission.FIND)
            if not self.store.holds(tx, dtype, thing_id, (find.sql, find.params)):
                raise ThingNotFound(dtype.api_name, thing_id)
            raise PermissionDenied(f"You are not allowed to {what} this thing")

    # --- writes ---------------------------------------------------------------------------

    def create(self, actor: Actor, dtype: DataType, body: object) -> str:
        creation = self.prepare_create(actor, dtype, body)
        with self.backend.write() as tx:
            return creation(tx)

    def prepare_create(self, actor: Actor, dtype: DataType, body: object) -> Creation:
        """A create in two halves: everything short of the database now (permission to
        create at all, the body parsed and checked, uploads stored, addresses geocoded),
        the returned `Creation` then inside a write transaction (group commit runs many)."""
        access = self._access(actor, dtype)
        self._require_any(access, Permission.CREATE, "create")
        return Creation(self, actor, access, dtype, self._new_thing(actor, dtype, body))

    def creates_quickly(self, dtype: DataType, body: object) -> bool:
        """Whether `prepare_create(…, dtype, body)` waits for nothing: no password to hash,
        no upload object (a JSON object in a file or image field) to store, no address to
        geocode (when a geocoder is on)."""
        if dtype.is_user:
            return False
        if not isinstance(body, dict):
            return True  # refused by prepare_create
        for key, raw in body.items():
            try:
                field = write_field(dtype, key, self._keys)
            except BurbleError:
                return True  # refused by prepare_create
            kind = field.type.kind
            if kind is FieldKind.ADDRESS and self._geocoder is not None and raw:
                return False
            if kind in _UPLOAD_KINDS and self._holds_upload(field, raw):
                return False
        return True

    def bulk_create(
        self, actor: Actor, dtype: DataType, text: str
    ) -> tuple[list[dict[str, str]], bool]:
        """One result line per input line; the valid lines are created together."""
        access = self._access(actor, dtype)
        self._require_any(access, Permission.CREATE, "create")
        lines = text.rstrip("\r\n").split("\n") if text.strip() else []
        if len(lines) > MAX_BULK_LINES:
            raise BadRequest(
                f"Too many lines: a bulk request may create at most {MAX_BULK_LINES} things"
            )
        with self._one_bulk(dtype):
            results, things = self._bulk_things(actor, dtype, lines)
            batch = self.store.insert_batch(dtype, things)
        if things and not self._inserted_alone(access, dtype, batch):
            with self.backend.write() as tx:
                note_caller(tx, actor)
                self._insert(tx, dtype, things, batch)
                if access is not None:
                    self._drop_uncreatable(tx, access, dtype, things, results)
        return results, all(r["status"] == "success" for r in results)

    def _inserted_alone(self, access: Access | None, dtype: DataType, batch: InsertBatch) -> bool:
        """A bulk whose things need no check after the insert (an admin, or a create rule
        that always holds) and no watcher, inserted by one statement that is its own
        transaction (`ThingStore.insert_alone`); False if it needs a write transaction."""
        if access is not None and access.condition(Permission.CREATE) is not TRUE:
            return False
        with self._conflict_is_a_taken_email():
            return self.store.insert_alone(dtype, batch)

    def _bulk_things(
        self, actor: Actor, dtype: DataType, lines: list[str]
    ) -> tuple[list[dict[str, str]], list[NewThing]]:
        """A bulk's result lines so far and the things to insert (the lines that parse, whose
        references exist and, for users, whose emails are free)."""
        results: list[dict[str, str]] = []
        things: list[NewThing] = []
        for line in lines:
            line = line.rstrip("\r")
            try:
                body = orjson.loads(line)
            except orjson.JSONDecodeError:
                results.append({"status": "error", "message": f"Could not parse as JSON: {line}"})
                continue
            try:
                thing = self._new_thing(actor, dtype, body)
            except BurbleError as exc:
                results.append({"status": "error", "message": exc.message})
                continue
            things.append(thing)
            results.append({"status": "success", "id": thing.id})
        if things:
            rejected = self._taken_emails(dtype, things)
            rejected.update(self._missing_references(things))
            if rejected:
                for i, result in enumerate(results):
                    if result.get("id") in rejected:
                        results[i] = {"status": "error", "message": rejected[result["id"]]}
                things = [t for t in things if t.id not in rejected]
        return results, things

    def modify(
        self, actor: Actor, dtype: DataType, thing_id: str, body: object, *, replace: bool
    ) -> None:
        access = self._access(actor, dtype)
        self._require_any(access, Permission.MODIFY, "modify")
        parsed = self._parse_body(dtype, body)
        with self.backend.write() as tx:
            note_caller(tx, actor)
            if not self.store.exists(tx, dtype, thing_id):
                raise ThingNotFound(dtype.api_name, thing_id)
            self._check(tx, access, dtype, thing_id, Permission.MODIFY, "modify")
            check_references(tx, self.backend, self.definition, parsed.values)
            try:
                changed = self.store.update(
                    tx,
                    dtype,
                    thing_id,
                    parsed.values,
                    self._clock(),
                    replace=replace,
                    email=parsed.email,
                    password_hash=parsed.password_hash,
                )
            except Conflict:
                raise self._email_taken() from None
            if not changed:
                raise ThingNotFound(dtype.api_name, thing_id)
            # "We do not permit a user to modify a thing in a way that would take away that
            # user's ability to perform further modifications" (seed 004): checked after too.
            if access is not None:
                cond = access.condition(Permission.MODIFY)
                if not self.store.holds(tx, dtype, thing_id, (cond.sql, cond.params)):
                    raise PermissionDenied(
                        "You are not allowed to make this change: afterwards you could no "
                        "longer modify this thing"
                    )

    def delete(self, actor: Actor, dtype: DataType, thing_id: str) -> None:
        access = self._access(actor, dtype)
        self._require_any(access, Permission.DELETE, "delete")
        with self.backend.write() as tx:
            note_caller(tx, actor)
            if not self.store.exists(tx, dtype, thing_id):
                raise ThingNotFound(dtype.api_name, thing_id)
            self._check(tx, access, dtype, thing_id, Permission.DELETE, "delete")
            if not self.store.delete(tx, dtype, thing_id):
                raise ThingNotFound(dtype.api_name, thing_id)

    # --- for workflow actions: inside the caller's transaction ----------------------------
    # Actions change data whatever the "via API" permissions say (those govern the Data API
    # only, seed 004); privacy rules limit what a run finds and reads, through `access`.

    def access(self, actor: Actor, dtype: DataType) -> Access | None:
        """What the caller may find and view of `dtype`'s things (None: everything)."""
        return self._access(actor, dtype)

    def geocoded(self, value: object) -> object:
        """An address (or list of addresses) with coordinates from the geocoder if it finds
        them; anything else unchanged."""
        if isinstance(value, values.Address) or (
            isinstance(value, list) and all(isinstance(v, values.Address) for v in value)
        ):
            return self._geocoded(value)
        return value

    def create_in(
        self, tx: Tx, actor: Actor, dtype: DataType, field_values: Mapping[Field, object]
    ) -> str:
        """Create a thing from stored values in `tx` (defaults apply); its id."""
        vals = {f: v for f, v in field_values.items() if v is not None}
        for field in dtype.fields:
            if field not in vals and field.default is not None:
                vals[field] = field.default
        now = self._clock()
        thing = NewThing(
            id=values.new_unique_id(now),
            created_date=now,
            created_by=self._creator(actor),
            values=vals,
        )
        check_references(tx, self.backend, self.definition, thing.values)
        self._insert(tx, dtype, [thing])
        return thing.id

    def update_in(
        self, tx: Tx, dtype: DataType, thing_id: str, changes: Mapping[Field, object]
    ) -> bool:
        """Change the listed fields of a thing in `tx`; False when it does not exist."""
        check_references(tx, self.backend, self.definition, changes)
        return self.store.update(tx, dtype, thing_id, changes, self._clock())

    def delete_in(self, tx: Tx, dtype: DataType, thing_id: str) -> bool:
        """Delete a thing in `tx`; False when it did not exist."""
        return self.store.delete(tx, dtype, thing_id)

    def set_slug_in(self, tx: Tx, dtype: DataType, thing_id: str, slug: str) -> str | None:
        """Give a thing `slug` (already normalised), or `slug-1`, `slug-2`, ... when another
        thing of its type has it (Bubble's rule); the slug set, None if the thing is missing."""
        table = self.backend.dialect.table(dtype.table)
        for _ in range(SLUG_ATTEMPTS):
            taken = {
                row[0]
                for row in tx.fetchall(
                    f"SELECT _slug FROM {table} WHERE (_slug = ? OR _slug LIKE ?) AND _id <> ?",
                    [slug, slug + "-%", thing_id],
                )
            }
            chosen, n = slug, 0
            while chosen in taken:
                n += 1
                chosen = f"{slug}-{n}"
            # The unique index decides between concurrent runs: the loser (on PostgreSQL, once
            # the winner has committed) rolls back to the savepoint and picks the next slug.
            tx.execute("SAVEPOINT burble_slug")
            try:
                with self.store.watching(tx, dtype, thing_id):
                    changed = tx.execute(
                        f"UPDATE {table} SET _slug = ?, _modified_date = ? WHERE _id = ?",
                        [chosen, self._clock(), thing_id],
                    )
            except Conflict:
                tx.execute("ROLLBACK TO SAVEPOINT burble_slug")
                continue
            tx.execute("RELEASE SAVEPOINT burble_slug")
            return chosen if changed else None
        raise Conflict(f"no free slug like '{slug}' after {SLUG_ATTEMPTS} attempts")

    # --- helpers --------------------------------------------------------------------------

    def _one_bulk(self, dtype: DataType) -> AbstractContextManager[object]:
        """Around the parsing of a bulk request (Python, under the GIL): one at a time per
        process, since two at once only share the GIL. The next bulk parses while this one
        is written (one statement per 1,000 rows, the GIL released while SQLite runs it),
        so the one writer always has a bulk ready. Not for types with addresses, whose
        parsing may wait for an online geocoder."""
        if any(f.type.kind is FieldKind.ADDRESS for f in dtype.fields):
            return nullcontext()
        return self._bulk_lock

    @staticmethod
    def _require_any(access: Access | None, permission: Permission, what: str) -> None:
        """Refuse early when no rule of the type could grant `permission` at all."""
        if access is not None and access.condition(permission) is FALSE:
            raise PermissionDenied(
                f"You are not allowed to {what} this thing (no privacy rule grants it)"
            )

    def _drop_uncreatable(
        self,
        tx: Tx,
        access: Access,
        dtype: DataType,
        things: list[NewThing],
        results: list[dict[str, str]],
    ) -> None:
        """Bulk: remove (in the same transaction) the new things no create rule holds for."""
        cond = access.condition(Permission.CREATE)
        if cond is TRUE:
            return
        failing = self.store.failing(tx, dtype, [t.id for t in things], (cond.sql, cond.params))
        for thing_id in failing:
            self.store.delete(tx, dtype, thing_id)
        for i, result in enumerate(results):
            if result.get("id") in failing:
                results[i] = {
                    "status": "error",
                    "message": "You are not allowed to create this thing",
                }

    def _creator(self, actor: Actor) -> str | None:
        return self._admin_creator if actor.is_admin else actor.user_id

    def _new_thing(self, actor: Actor, dtype: DataType, body: object) -> NewThing:
        parsed = self._parse_body(dtype, body)
        vals = parsed.values  # the body's own dict
        defaults = self._defaults.get(dtype.name)
        if defaults is None:
            defaults = tuple((f, f.default) for f in dtype.fields if f.default is not None)
            self._defaults[dtype.name] = defaults
        for field, default in defaults:
            if field not in vals:
                vals[field] = default
        if dtype.is_user and parsed.email is None:
            raise MissingData("Missing data for field email: a new user needs an email")
        now = self._clock()
        return NewThing(
            id=values.new_unique_id(now),
            created_date=now,
            created_by=self._creator(actor),
            values=vals,
            email=parsed.email,
            password_hash=parsed.password_hash,
        )

    def _parse_body(self, dtype: DataType, body: object) -> _Body:
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object")
        out: dict[Field, object] = {}
        email: str | None = None
        password_hash: str | None = None
        uploads: list[tuple[Field, object]] = []  # stored once the whole body is valid
        for key, raw in body.items():
            if dtype.is_user and key == "email":
                email = self._email(raw)
                continue
            if dtype.is_user and key == "password":
                if not isinstance(raw, str) or not raw:
                    raise InvalidValue("Invalid data for field password: expected a non-empty text")
                password_hash = hash_password(raw)
                continue
            field = write_field(dtype, key, self._keys)
            if self._holds_upload(field, raw):
                uploads.append((field, self._read_uploads(field, raw)))
                continue
            coerce = self._coercers.get(field)
            if coerce is None:
                coerce = self._coercers[field] = coercer(field, self.definition)
            out[field] = coerce(raw)
        for field, read in uploads:
            out[field] = coerce_value(field, self._store_uploads(read), self.definition)
        for field, value in out.items():
            if field.type.kind is FieldKind.ADDRESS and value is not None:
                out[field] = self._geocoded(value)
        return _Body(out, email, password_hash)

    # --- addresses and references ---------------------------------------------------------

    def _geocode_text(self, text: str) -> values.Address | None:
        return self._geocoder.geocode(text) if self._geocoder is not None and text else None

    def _geocoded(self, value: object) -> object:
        """Address texts get coordinates from the geocoder (seed 003: "Bubble will use the
        Google Map API to encode it"); one it cannot find is kept without coordinates."""
        if isinstance(value, list):
            return [self._geocoded(v) for v in value]
        assert isinstance(value, values.Address)
        if value.lat is not None or value.address is None:
            return value
        found = self._geocode_text(value.address)
        if found is None or found.lat is None:
            return value
        return values.Address(value.address, found.lat, found.lng)

    def _missing_references(self, things: list[NewThing]) -> dict[str, str]:
        """Bulk: new thing id → message, for things referring to a thing that does not exist."""
        with self.backend.read() as tx:
            missing = missing_references(
                tx, self.backend, self.definition, [t.values for t in things]
            )
        if not missing:
            return {}
        out: dict[str, str] = {}
        for thing in things:
            for value in thing.values.values():
                ids = value if isinstance(value, list) else [value]
                bad = next((i for i in ids if isinstance(i, str) and i in missing), None)
                if bad is not None:
                    field, type_name = missing[bad]
                    out[thing.id] = reference_message(field, type_name, bad)
                    break
        return out

    # --- file uploads (burble.files) ------------------------------------------------------
    # A file or image value (or list item) may be an upload object: it is read and checked
    # with the rest of the body, stored only once the whole body is valid, and replaced by its
    # URL. A request that fails after that (a new user without an email, a taken email, a
    # missing thing, a bulk line refused) leaves the file stored and referenced by nothing:
    # an orphan, reachable only by its URL, which no one was given.

    def upload_value(self, field: Field, raw: object) -> object:
        """`raw` with its upload objects checked, stored and replaced by their URLs (a
        workflow's file or image parameter); `raw` itself when it holds none."""
        if not self._holds_upload(field, raw):
            return raw
        return self._store_uploads(self._read_uploads(field, raw))

    def _holds_upload(self, field: Field, raw: object) -> bool:
        if self.files is None or field.type.kind not in (FieldKind.FILE, FieldKind.IMAGE):
            return False
        return any(isinstance(item, dict) for item in (raw if isinstance(raw, list) else [raw]))

    def _read_uploads(self, field: Field, raw: object) -> object:
        """`raw` with each upload object read into an `Upload`; raises like `coerce_value`
        (checked first, with a URL standing in for each upload), or `UploadInvalid`."""
        items = raw if isinstance(raw, list) else [raw]
        stand_ins = ["//upload" if isinstance(v, dict) else v for v in items]
        coerce_value(field, stand_ins if isinstance(raw, list) else stand_ins[0], self.definition)
        try:
            read = [
                parse_upload(v, self._max_upload_bytes) if isinstance(v, dict) else v for v in items
            ]
        except UploadInvalid as exc:
            raise UploadInvalid(f"Invalid data for field {field.name}: {exc.message}") from None
        return read if isinstance(raw, list) else read[0]

    def _store_uploads(self, read: object) -> object:
        """`read` with each `Upload` stored and replaced by its URL."""
        assert self.files is not None
        files = self.files
        if isinstance(read, list):
            return [files.url(files.put(v)) if isinstance(v, Upload) else v for v in read]
        assert isinstance(read, Upload)
        return files.url(files.put(read))

    # --- end file uploads -----------------------------------------------------------------

    @staticmethod
    def _email(raw: object) -> str:
        if not isinstance(raw, str) or not _EMAIL.match(raw.strip()):
            raise InvalidValue("Invalid data for field email: not a valid email address")
        return raw.strip().lower()

    @staticmethod
    def _email_taken() -> InvalidValue:
        return InvalidValue("Invalid data for field email: another user has this email")

    def _insert(
        self, tx: Any, dtype: DataType, things: list[NewThing], batch: InsertBatch | None = None
    ) -> None:
        with self._conflict_is_a_taken_email():
            self.store.insert_many(tx, dtype, things, batch)

    @contextmanager
    def _conflict_is_a_taken_email(self) -> Iterator[None]:
        """A unique conflict while inserting new things is a taken email (their ids are
        random and their slugs unset): the taken-email error."""
        try:
            yield
        except Conflict:
            raise self._email_taken() from None

    def _taken_emails(self, dtype: DataType, things: list[NewThing]) -> dict[str, str]:
        """Ids of new users whose email is taken (in the database or earlier in the request),
        so one duplicate turns into one error line instead of failing the whole request."""
        if not dtype.is_user:
            return {}
        table = self.backend.dialect.table(dtype.table)
        seen: set[str | None] = set()
        rejected: dict[str, str] = {}
        with self.backend.read() as tx:
            for thing in things:
                if thing.email in seen or tx.fetchone(
                    f"SELECT 1 FROM {table} WHERE _email = ?", [thing.email]
                ):
                    rejected[thing.id] = self._email_taken().message
                seen.add(thing.email)
        return rejected
