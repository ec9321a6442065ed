"""The Data API's operations on things, free of HTTP: read, search, create, bulk create,
modify, replace, delete — with key resolution, value coercion, defaults and permissions.

Permissions, until privacy rules exist: an admin token may do everything; any other caller
sees nothing (searches are empty, a get is a 404 like a missing thing) and may write nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from burble import values
from burble.appdef.coerce import coerce_value
from burble.appdef.model import AppDefinition, DataType, Field
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
from burble.store.backend import Backend
from burble.store.things import NewThing, ThingStore
from burble.things.keys import write_field
from burble.things.search_params import parse_search

MAX_BULK_LINES = 1000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


class ThingService:
    """One environment's things, as the Data API offers them."""

    def __init__(
        self,
        backend: Backend,
        definition: AppDefinition,
        admin_creator: str,
        clock: Callable[[], int] = values.now_ms,
    ) -> None:
        self.definition = definition
        self.store = ThingStore(backend, definition)
        self.backend = backend
        self._admin_creator = admin_creator
        self._clock = clock
        self._keys = definition.settings.keys

    # --- reads ----------------------------------------------------------------------------

    def get(self, actor: Actor, dtype: DataType, thing_id: str) -> dict[str, Any]:
        if actor.is_admin:
            with self.backend.read() as tx:
                row = self.store.get(tx, dtype, thing_id)
            if row is not None:
                return self.store.to_json(dtype, row, self._keys)
        raise ThingNotFound(dtype.api_name, thing_id)

    def search(self, actor: Actor, dtype: DataType, params: Mapping[str, str]) -> SearchResult:
        search = parse_search(params, dtype, self.definition)
        if not actor.is_admin:
            return SearchResult(search.cursor, [], 0, 0)
        with self.backend.read() as tx:
            page = self.store.search(tx, search)
        codec = self.store.codec(dtype)
        results = [codec.to_json(row, self._keys) for row in page.rows]
        remaining = max(0, page.total - search.cursor - len(results))
        return SearchResult(search.cursor, results, len(results), remaining)

    # --- writes ---------------------------------------------------------------------------

    def create(self, actor: Actor, dtype: DataType, body: object) -> str:
        self._require_write(actor, "create")
        thing = self._new_thing(actor, dtype, body)
        with self.backend.write() as tx:
            self._insert(tx, dtype, [thing])
        return thing.id

    def bulk_create(
        self, actor: Actor, dtype: DataType, text: str
    ) -> tuple[list[dict[str, str]], bool]:
        """One result line per input line; the valid lines are created together."""
        self._require_write(actor, "create")
        lines = text.rstrip("\r\n").split("\n") if text.strip() else []
        if len(lines) > MAX_BULK_LINES:
            raise BadRequest(
                f"Too many lines: a bulk request may create at most {MAX_BULK_LINES} things"
            )
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
            if rejected:
                message = self._email_taken().message
                for i, result in enumerate(results):
                    if result.get("id") in rejected:
                        results[i] = {"status": "error", "message": message}
                things = [t for t in things if t.id not in rejected]
            with self.backend.write() as tx:
                self._insert(tx, dtype, things)
        return results, all(r["status"] == "success" for r in results)

    def modify(
        self, actor: Actor, dtype: DataType, thing_id: str, body: object, *, replace: bool
    ) -> None:
        self._require_write(actor, "modify")
        parsed = self._parse_body(dtype, body)
        with self.backend.write() as tx:
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

    def delete(self, actor: Actor, dtype: DataType, thing_id: str) -> None:
        self._require_write(actor, "delete")
        with self.backend.write() as tx:
            if not self.store.delete(tx, dtype, thing_id):
                raise ThingNotFound(dtype.api_name, thing_id)

    # --- helpers --------------------------------------------------------------------------

    def _require_write(self, actor: Actor, what: str) -> None:
        if not actor.is_admin:
            raise PermissionDenied(
                f"You are not allowed to {what} this thing (no privacy rule grants it)"
            )

    def _creator(self, actor: Actor) -> str | None:
        return self._admin_creator if actor.is_admin else actor.user_id

    def _new_thing(self, actor: Actor, dtype: DataType, body: object) -> NewThing:
        parsed = self._parse_body(dtype, body)
        vals = dict(parsed.values)
        for field in dtype.fields:
            if field not in vals and field.default is not None:
                vals[field] = field.default
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
            out[field] = coerce_value(field, raw, self.definition)
        return _Body(out, email, password_hash)

    @staticmethod
    def _email(raw: object) -> str:
        if not isinstance(raw, str) or not _EMAIL.match(raw.strip()):
            raise InvalidValue("Invalid data for field email: not a valid email address")
        return raw.strip().lower()

    @staticmethod
    def _email_taken() -> InvalidValue:
        return InvalidValue("Invalid data for field email: another user has this email")

    def _insert(self, tx: Any, dtype: DataType, things: list[NewThing]) -> None:
        try:
            self.store.insert_many(tx, dtype, things)
        except Conflict:
            raise self._email_taken() from None

    def _taken_emails(self, dtype: DataType, things: list[NewThing]) -> set[str]:
        """Ids of new users whose email is taken (in the database or earlier in the request),
        so one duplicate turns into one error line instead of failing the whole request."""
        if not dtype.is_user:
            return set()
        table = self.backend.dialect.table(dtype.table)
        seen: set[str | None] = set()
        rejected: set[str] = set()
        with self.backend.read() as tx:
            for thing in things:
                if thing.email in seen or tx.fetchone(
                    f"SELECT 1 FROM {table} WHERE _email = ?", [thing.email]
                ):
                    rejected.add(thing.id)
                seen.add(thing.email)
        return rejected
