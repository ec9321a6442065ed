"""Database trigger events (bubble-semantics.md §2.8): recording them as the data changes.

`TriggerRecorder` watches the types that have triggers (`ThingStore.watcher`). At the first
change of a thing in a transaction it adds one job per trigger of the thing's type, in that
same transaction — so a committed change never loses its trigger, and a rolled-back one never
fires — holding the thing's state before the change; every later change of that thing in the
transaction only updates the job's state *now*. A trigger thus fires once per transaction and
thing, with the first *before* and the last *now*. The worker runs the job as admin with
`Current User` the user who caused the change (`burble.scheduler`), and changes made by a
trigger's run record no trigger (`tx.notes["in_trigger"]`).

Snapshots are the thing's columns by name (its password hash left out), read back in the
definition version the job was recorded under.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burble.appdef.model import AppDefinition, BackendEventSpec, Change, DataType
from burble.jobs import JobQueue, Kind, NewJob
from burble.store.backend import Row, Tx
from burble.store.codec import TypeCodec
from burble.things.service import NOTE_ACTOR, NOTE_USER

# tx.notes keys, set by whoever opens the transaction (and NOTE_USER, NOTE_ACTOR: who
# causes the changes, `burble.things.service.note_caller`)
DEPTH = "depth"  # the scheduling depth of the run making the changes
IN_TRIGGER = "in_trigger"  # a trigger's own run: its changes fire nothing
_PENDING = "triggers"  # (trigger, thing id) → (job id, before snapshot), None: not watched

_SECRET_COLUMNS = frozenset({"_password_hash"})
# What a transaction's changes of one thing can add up to, by whether it existed before.
_POSSIBLE = {True: frozenset({Change.CREATE}), False: frozenset({Change.MODIFY, Change.DELETE})}


def snapshot(codec: TypeCodec, row: Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {c: v for c, v in zip(codec.columns, row, strict=True) if c not in _SECRET_COLUMNS}


def row_of(codec: TypeCodec, snap: Mapping[str, Any] | None) -> Row | None:
    """A snapshot back as a row in `codec`'s column order (columns it lacks are empty)."""
    return None if snap is None else tuple(snap.get(c) for c in codec.columns)


def change_of(before: object, now: object) -> Change:
    if before is None:
        return Change.CREATE
    return Change.DELETE if now is None else Change.MODIFY


class TriggerRecorder:
    """One environment's triggers, as the `ThingStore.watcher`."""

    def __init__(
        self,
        definition: AppDefinition,
        queue: JobQueue,
        codecs: Mapping[str, TypeCodec],
        definition_version: int | None,
    ) -> None:
        self.queue = queue
        self.codecs = codecs
        self.definition_version = definition_version
        self._by_type: dict[str, list[BackendEventSpec]] = {}
        for spec in definition.triggers.values():
            if spec.type_name in definition.types:
                self._by_type.setdefault(spec.type_name, []).append(spec)

    def watches(self, dtype: DataType) -> bool:
        return dtype.name in self._by_type

    def changed(
        self, tx: Tx, dtype: DataType, thing_id: str, before: Row | None, after: Row | None
    ) -> None:
        notes = tx.notes
        if notes.get(IN_TRIGGER):
            return
        codec = self.codecs[dtype.name]
        now = snapshot(codec, after)
        pending: dict[tuple[str, str], tuple[str, dict[str, Any] | None] | None]
        pending = notes.setdefault(_PENDING, {})
        fresh: list[tuple[tuple[str, str], NewJob, dict[str, Any] | None]] = []
        for spec in self._by_type[dtype.name]:
            key = (spec.name, thing_id)
            if key in pending:  # changed again in this transaction: the last state wins
                found = pending[key]
                if found is not None:
                    job_id, first = found
                    self.queue.set_params(tx, job_id, self._params(notes, first, now))
                continue
            first = snapshot(codec, before)
            if not (_POSSIBLE[first is None] & spec.on):
                pending[key] = None  # whatever follows in this transaction, not watched
                continue
            job = NewJob(
                workflow=spec.name,
                params=self._params(notes, first, now),
                kind=Kind.TRIGGER,
                depth=int(notes.get(DEPTH, 0)) + 1,
                user_id=notes.get(NOTE_USER),
                ignore_privacy=True,
                definition_version=self.definition_version,
                thing_id=thing_id,
            )
            fresh.append((key, job, first))
        if fresh:
            ids = self.queue.schedule_many(tx, [job for _, job, _ in fresh])
            for (key, _, first), job_id in zip(fresh, ids, strict=True):
                pending[key] = (job_id, first)

    @staticmethod
    def _params(
        notes: Mapping[str, Any], before: dict[str, Any] | None, now: dict[str, Any] | None
    ) -> dict[str, object]:
        return {"before": before, "now": now, "actor": notes.get(NOTE_ACTOR, "admin")}
