"""The records of the job queue: what a caller asks for (`NewJob`), what the queue keeps (`Job`),
a job's lifecycle (`Status`) and a recurring job's calendar (`Series`).

A job is opaque to the queue: a workflow name and JSON parameters plus the context the caller
needs to run it later (user, depth, definition version, ...). Nothing here knows what a
workflow is.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from burble.jobs.recurrence import Frequency


class Status(enum.Enum):
    """Where a job is in its life. `SCHEDULED` and `RUNNING` are *active*; the rest are final.

    scheduled → running → done | failed | skipped (or back to scheduled for a retry);
    scheduled → cancelled."""

    SCHEDULED = "scheduled"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    @property
    def is_final(self) -> bool:
        return self not in (Status.SCHEDULED, Status.RUNNING)


class Kind(enum.StrEnum):
    """The kinds Burble writes. `NewJob.kind` is free text: any other string is kept as is."""

    WORKFLOW = "workflow"  # Schedule API workflow (and ... on a list)
    RECURRING = "recurring"  # an occurrence of a recurring event
    TRIGGER = "trigger"  # a database trigger event


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to schedule.

    `run_at` is in ms since the epoch; `None` (or any time in the past) means due now.
    `params` must be JSON-serialisable. A run that raises is retried `retry_delay_ms` later
    while the job has been claimed fewer than `max_attempts` times (1: no retry); a run lost
    with its worker is re-run regardless (see `queue.LOST_RETRIES`). The other fields are
    kept for the caller (the handler reads them back from `Job`).
    """

    workflow: str
    params: Mapping[str, object] = field(default_factory=dict)
    run_at: int | None = None
    kind: str = Kind.WORKFLOW
    depth: int = 0
    user_id: str | None = None
    ignore_privacy: bool = False
    definition_version: int | None = None
    max_attempts: int = 1
    retry_delay_ms: int = 0
    parent_run_id: str | None = None
    thing_id: str | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.retry_delay_ms < 0:
            raise ValueError("retry_delay_ms must not be negative")
        if self.depth < 0:
            raise ValueError("depth must not be negative")


@dataclass(frozen=True, slots=True)
class Series:
    """A recurring job's calendar: occurrences of `frequency` counted from `start`, an aware
    datetime whose zone (a `zoneinfo.ZoneInfo` or UTC) keeps the wall-clock time across DST."""

    frequency: Frequency
    start: datetime


@dataclass(frozen=True, slots=True)
class Job:
    """One row of the queue, as read back. Times are ms since the epoch.

    `attempts` counts claims: 1 during the first run, 2 during the first retry or re-run after
    a lost worker. `id` and `attempts` together name one execution (delivery is at least
    once: use them to make side effects outside the database idempotent).
    `claimed_by`/`lease_until` name the worker running it and until when its claim holds.
    `recurring_key`/`series` are set on the active occurrence of a recurring series.
    """

    id: str
    kind: str
    workflow: str
    params: dict[str, object]
    run_at: int
    status: Status
    depth: int
    user_id: str | None
    ignore_privacy: bool
    definition_version: int | None
    attempts: int
    max_attempts: int
    retry_delay_ms: int
    claimed_by: str | None
    lease_until: int | None
    created_at: int
    started_at: int | None
    finished_at: int | None
    error: str | None
    parent_run_id: str | None
    thing_id: str | None
    recurring_key: str | None
    series: Series | None
