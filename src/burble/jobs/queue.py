"""The durable job queue: rows in the environment's own database (ADR 0011).

Scheduling writes a row in the caller's transaction (`schedule`, `schedule_many`), so a run
that rolls back schedules nothing and a committed one is never lost. Workers `claim` due jobs
atomically — PostgreSQL with `FOR UPDATE SKIP LOCKED`, SQLite under its single writer — and
hold each claim for a lease they keep extending (`extend_lease`). A worker that dies stops
extending it; once the lease has passed, the job is claimed again (`attempts` grows).

Delivery is therefore at least once. For database effects it is exactly once *in effect*: the
handler calls `finish(tx, ...)` in the same transaction as its effects, and `finish` only
succeeds while this worker still holds the claim — when it returns False, the caller rolls
back. `Job.id` and `Job.attempts` name one execution, for effects outside the database.

Recurring series (`set_recurring`) keep one active job per key (a unique index); when an
occurrence ends (done, failed, skipped), the queue schedules the next one in the same
transaction, from the series' calendar (`burble.jobs.recurrence`).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime

import orjson

from burble.jobs.model import Job, NewJob, Series, Status
from burble.jobs.recurrence import Frequency, from_ms, next_after, restart, to_ms, zone_name
from burble.store.backend import Backend, Row, Tx
from burble.values import new_unique_id, now_ms

LOST_RETRIES = 3
"""A job whose worker was lost (its lease expired) is run again, whatever `max_attempts`
says, until it has been claimed `max_attempts + LOST_RETRIES` times; then it fails (a job that
kills its worker must not take every worker down forever)."""

_CHUNK = 500  # ids per IN (...) list

_COLUMNS = (
    "id, kind, workflow, params, run_at, status, depth, user_id, ignore_privacy, "
    "definition_version, attempts, max_attempts, retry_delay_ms, claimed_by, lease_until, "
    "created_at, started_at, finished_at, error, parent_run_id, thing_id, recurring_key, "
    "frequency, series_start, series_timezone"
)
_INSERT_COLUMNS = (
    "id, kind, workflow, params, run_at, status, depth, user_id, ignore_privacy, "
    "definition_version, attempts, max_attempts, retry_delay_ms, created_at, parent_run_id, "
    "thing_id, recurring_key, frequency, series_start, series_timezone"
)
_INSERT_VALUES = ", ".join("?" for _ in _INSERT_COLUMNS.split(","))

_ACTIVE = (Status.SCHEDULED.value, Status.RUNNING.value)

# Due jobs, and running jobs whose worker is gone (params: scheduled, now, running, now,
# LOST_RETRIES); lost jobs claimed too often (params: running, now, LOST_RETRIES).
_CLAIMABLE = (
    "(status = ? AND run_at <= ?) OR "
    "(status = ? AND lease_until <= ? AND attempts < max_attempts + ?)"
)
_LOST = "status = ? AND lease_until <= ? AND attempts >= max_attempts + ?"


def _job(row: Row) -> Job:
    series = None
    if row[22] is not None and row[23] is not None:
        zone = row[24] or "UTC"
        series = Series(Frequency(row[22]), from_ms(int(row[23]), zone))
    return Job(
        id=row[0],
        kind=row[1],
        workflow=row[2],
        params=orjson.loads(row[3]),
        run_at=int(row[4]),
        status=Status(row[5]),
        depth=int(row[6]),
        user_id=row[7],
        ignore_privacy=bool(row[8]),
        definition_version=None if row[9] is None else int(row[9]),
        attempts=int(row[10]),
        max_attempts=int(row[11]),
        retry_delay_ms=int(row[12]),
        claimed_by=row[13],
        lease_until=None if row[14] is None else int(row[14]),
        created_at=int(row[15]),
        started_at=None if row[16] is None else int(row[16]),
        finished_at=None if row[17] is None else int(row[17]),
        error=row[18],
        parent_run_id=row[19],
        thing_id=row[20],
        recurring_key=row[21],
        series=series,
    )


def _in(ids: Sequence[str]) -> str:
    return "(" + ", ".join("?" for _ in ids) + ")"


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


class JobQueue:
    """The jobs of one environment's database (Live and Development each have their own).

    `clock` returns the current time in ms since the epoch (injectable for tests). Methods
    that take a `tx` work inside the caller's write transaction; the others open their own.
    Never call those from inside a write transaction on SQLite (one writer: it would wait for
    itself).
    """

    def __init__(self, backend: Backend, clock: Callable[[], int] = now_ms) -> None:
        self.backend = backend
        self.clock = clock
        d = backend.dialect
        self._t = d.table("burble_jobs")
        self._scheduler = d.table("burble_scheduler")
        self._postgres = d.name == "postgresql"

    # --- scheduling --------------------------------------------------------------------------

    def _row(self, job: NewJob, job_id: str, now: int) -> list[object]:
        return [
            job_id,
            str(job.kind),
            job.workflow,
            orjson.dumps(dict(job.params)).decode(),
            now if job.run_at is None else job.run_at,
            Status.SCHEDULED.value,
            job.depth,
            job.user_id,
            1 if job.ignore_privacy else 0,
            job.definition_version,
            0,
            job.max_attempts,
            job.retry_delay_ms,
            now,
            job.parent_run_id,
            job.thing_id,
            None,
            None,
            None,
            None,
        ]

    def schedule(self, tx: Tx, job: NewJob) -> str:
        """Add `job` in the caller's transaction; returns its id (a Bubble unique id). A
        `run_at` in the past makes it due at once."""
        return self.schedule_many(tx, [job])[0]

    def schedule_many(self, tx: Tx, jobs: Sequence[NewJob]) -> list[str]:
        """Add many jobs in one statement (executemany), in the caller's transaction; returns
        their ids in order. Meant for 100,000 jobs (Schedule API workflow on a list). Ids
        ascend in list order, so jobs due at the same time are claimed in that order."""
        now = self.clock()
        ids = sorted(new_unique_id(now) for _ in jobs)
        rows = [self._row(job, job_id, now) for job, job_id in zip(jobs, ids, strict=True)]
        if rows:
            tx.executemany(
                f"INSERT INTO {self._t} ({_INSERT_COLUMNS}) VALUES ({_INSERT_VALUES})", rows
            )
        return ids

    def set_params(self, tx: Tx, job_id: str, params: Mapping[str, object]) -> bool:
        """Replace the parameters of a job that has not started, in the caller's transaction
        (a database trigger fired again in the same run: the last state wins). False when it
        is running, finished or unknown."""
        return (
            tx.execute(
                f"UPDATE {self._t} SET params = ? WHERE id = ? AND status = ?",
                [orjson.dumps(dict(params)).decode(), job_id, Status.SCHEDULED.value],
            )
            == 1
        )

    # --- cancelling --------------------------------------------------------------------------

    def cancel(self, tx: Tx, job_id: str) -> bool:
        """Cancel a job that has not started (Bubble: "only works before the run starts");
        False when it is running, finished or unknown. Cancelling an occurrence of a
        recurring series ends the series."""
        return self.cancel_many(tx, [job_id]) == 1

    def cancel_many(self, tx: Tx, ids: Sequence[str]) -> int:
        """Cancel every job of `ids` that has not started; returns how many were."""
        now = self.clock()
        count = 0
        for chunk in _chunks(list(dict.fromkeys(ids))):
            count += tx.execute(
                f"UPDATE {self._t} SET status = ?, finished_at = ? "
                f"WHERE status = ? AND id IN {_in(chunk)}",
                [Status.CANCELLED.value, now, Status.SCHEDULED.value, *chunk],
            )
        return count

    def cancel_all(self, before_ms: int | None = None) -> int:
        """Cancel every job not started yet (the scheduler's "Cancel all"), or only those due
        before `before_ms` ("past-due unrun"); returns how many. Its own transaction."""
        where = "status = ?"
        params: list[object] = [Status.SCHEDULED.value]
        if before_ms is not None:
            where += " AND run_at < ?"
            params.append(before_ms)
        with self.backend.write() as tx:
            return tx.execute(
                f"UPDATE {self._t} SET status = ?, finished_at = ? WHERE {where}",
                [Status.CANCELLED.value, self.clock(), *params],
            )

    # --- pausing -----------------------------------------------------------------------------

    def pause(self) -> None:
        """Stop handing out jobs (Bubble's "Pause tasks"); running jobs go on."""
        self._set_flag("paused", "1")

    def resume(self) -> None:
        """Hand out jobs again; jobs that fell due meanwhile run at once."""
        self._set_flag("paused", "0")

    def is_paused(self, tx: Tx | None = None) -> bool:
        if tx is None:
            with self.backend.read() as own:
                return self.is_paused(own)
        row = tx.fetchone(f"SELECT value FROM {self._scheduler} WHERE key = ?", ["paused"])
        return row is not None and row[0] == "1"

    def _set_flag(self, key: str, value: str) -> None:
        with self.backend.write() as tx:
            tx.execute(
                f"INSERT INTO {self._scheduler} (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )

    # --- reading -----------------------------------------------------------------------------

    def get(self, job_id: str, tx: Tx | None = None) -> Job | None:
        if tx is None:
            with self.backend.read() as own:
                return self.get(job_id, own)
        row = tx.fetchone(f"SELECT {_COLUMNS} FROM {self._t} WHERE id = ?", [job_id])
        return None if row is None else _job(row)

    def _filter(
        self,
        status: Status | Collection[Status] | None,
        since: int | None,
        until: int | None,
        workflow: str | None,
    ) -> tuple[str, builtins.list[object]]:
        clauses: builtins.list[str] = []
        params: builtins.list[object] = []
        if status is not None:
            statuses = [status] if isinstance(status, Status) else builtins.list(status)
            clauses.append(
                f"status IN ({', '.join('?' for _ in statuses)})" if statuses else "1 = 0"
            )
            params += [s.value for s in statuses]
        if since is not None:
            clauses.append("run_at >= ?")
            params.append(since)
        if until is not None:
            clauses.append("run_at < ?")
            params.append(until)
        if workflow is not None:
            clauses.append("workflow = ?")
            params.append(workflow)
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params

    def list(
        self,
        status: Status | Collection[Status] | None = None,
        since: int | None = None,
        until: int | None = None,
        workflow: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Job]:
        """Jobs by scheduled time (then id), like Bubble's scheduler list: of these statuses,
        with `since <= run_at < until`, of this workflow, one page."""
        where, params = self._filter(status, since, until, workflow)
        with self.backend.read() as tx:
            rows = tx.fetchall(
                f"SELECT {_COLUMNS} FROM {self._t} {where} ORDER BY run_at, id LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        return [_job(r) for r in rows]

    def count(
        self,
        status: Status | Collection[Status] | None = None,
        since: int | None = None,
        until: int | None = None,
        workflow: str | None = None,
    ) -> int:
        """How many jobs `list` would find without its page limits."""
        where, params = self._filter(status, since, until, workflow)
        with self.backend.read() as tx:
            row = tx.fetchone(f"SELECT COUNT(*) FROM {self._t} {where}", params)
        return int(row[0]) if row else 0

    # --- claiming ----------------------------------------------------------------------------

    def _pick(self, where: str) -> str:
        """A sub-select of the ids to update, locked on PostgreSQL (skipping rows another
        transaction holds: two workers never wait for, nor take, the same job)."""
        lock = " FOR UPDATE SKIP LOCKED" if self._postgres else ""
        return f"SELECT id FROM {self._t} WHERE {where} ORDER BY run_at, id LIMIT ?{lock}"

    def claim(self, worker_id: str, lease_ms: int, limit: int = 1) -> builtins.list[Job]:
        """Take up to `limit` jobs for `worker_id`, oldest first, in one transaction: jobs due
        (scheduled, `run_at <= now`) and jobs whose running claim's lease has expired (their
        worker died). Each gets `status = running`, `attempts + 1` and a lease until
        `now + lease_ms`. Nothing while the queue is paused. A lost job claimed too often
        (see `LOST_RETRIES`) fails instead."""
        now = self.clock()
        with self.backend.read() as tx:
            if self.is_paused(tx) or not self._anything_due(tx, now):
                return []  # an idle poll takes no write lock
        with self.backend.write() as tx:
            now = self.clock()  # the writer may have waited for the lock
            if self.is_paused(tx):
                return []
            self._fail_lost(tx, now)
            rows = tx.fetchall(
                f"UPDATE {self._t} SET status = ?, attempts = attempts + 1, claimed_by = ?, "
                f"lease_until = ?, started_at = ?, finished_at = NULL "
                f"WHERE id IN ({self._pick(_CLAIMABLE)}) RETURNING {_COLUMNS}",
                [
                    Status.RUNNING.value,
                    worker_id,
                    now + lease_ms,
                    now,
                    Status.SCHEDULED.value,
                    now,
                    Status.RUNNING.value,
                    now,
                    LOST_RETRIES,
                    limit,
                ],
            )
        return sorted((_job(r) for r in rows), key=lambda j: (j.run_at, j.id))

    def _anything_due(self, tx: Tx, now: int) -> bool:
        row = tx.fetchone(
            f"SELECT 1 FROM {self._t} WHERE (status = ? AND run_at <= ?) "
            "OR (status = ? AND lease_until <= ?) LIMIT 1",
            [Status.SCHEDULED.value, now, Status.RUNNING.value, now],
        )
        return row is not None

    def _fail_lost(self, tx: Tx, now: int) -> None:
        rows = tx.fetchall(
            f"UPDATE {self._t} SET status = ?, finished_at = ?, lease_until = NULL, error = ? "
            f"WHERE id IN ({self._pick(_LOST)}) RETURNING {_COLUMNS}",
            [
                Status.FAILED.value,
                now,
                "the worker running this job stopped responding too many times",
                Status.RUNNING.value,
                now,
                LOST_RETRIES,
                100,
            ],
        )
        for row in rows:
            self._continue_series(tx, _job(row), now)

    def extend_lease(self, job_id: str, worker_id: str, lease_ms: int) -> bool:
        """Keep the claim until `now + lease_ms`; False when this worker no longer holds it."""
        return job_id in self.extend_leases([job_id], worker_id, lease_ms)

    def extend_leases(self, ids: Sequence[str], worker_id: str, lease_ms: int) -> builtins.set[str]:
        """`extend_lease` for several jobs in one transaction; returns the ids extended.

        On PostgreSQL a job whose row another transaction holds is skipped, not waited for:
        typically the handler's own transaction, which has finished it (the row lock keeps
        other workers off it until that commits)."""
        if not ids:
            return set()
        lock = " FOR UPDATE SKIP LOCKED" if self._postgres else ""
        held: set[str] = set()
        with self.backend.write() as tx:
            until = self.clock() + lease_ms
            for chunk in _chunks(ids):
                rows = tx.fetchall(
                    f"UPDATE {self._t} SET lease_until = ? WHERE id IN (SELECT id FROM {self._t} "
                    f"WHERE status = ? AND claimed_by = ? AND id IN {_in(chunk)}{lock}) "
                    "RETURNING id",
                    [until, Status.RUNNING.value, worker_id, *chunk],
                )
                held.update(r[0] for r in rows)
        return held

    def release(self, job_id: str, worker_id: str) -> bool:
        """Give back a claimed job that has not started running (a worker stopping): it is
        scheduled again as if never claimed. False when this worker does not hold it."""
        with self.backend.write() as tx:
            return (
                tx.execute(
                    f"UPDATE {self._t} SET status = ?, attempts = attempts - 1, "
                    "claimed_by = NULL, lease_until = NULL, started_at = NULL "
                    "WHERE id = ? AND claimed_by = ? AND status = ?",
                    [Status.SCHEDULED.value, job_id, worker_id, Status.RUNNING.value],
                )
                == 1
            )

    # --- ending ------------------------------------------------------------------------------

    def finish(
        self,
        tx: Tx,
        job_id: str,
        worker_id: str,
        status: Status = Status.DONE,
        error: str | None = None,
        *,
        next_occurrence: bool = True,
    ) -> bool:
        """Mark the job finished in the caller's transaction — the one holding the job's
        effects. True only if `worker_id` still holds the claim (the job is running and nobody
        re-claimed it after a lease expiry); on False the caller must roll back its effects.

        `status` is a final status (done, failed, skipped). For an occurrence of a recurring
        series, the next occurrence is scheduled in the same transaction, unless
        `next_occurrence` is False (which ends the series).
        """
        if not status.is_final:
            raise ValueError(f"finish needs a final status, not {status.value}")
        now = self.clock()
        row = tx.fetchone(
            f"UPDATE {self._t} SET status = ?, error = ?, finished_at = ?, lease_until = NULL "
            f"WHERE id = ? AND claimed_by = ? AND status = ? RETURNING {_COLUMNS}",
            [status.value, error, now, job_id, worker_id, Status.RUNNING.value],
        )
        if row is None:
            return False
        if next_occurrence:
            self._continue_series(tx, _job(row), now)
        return True

    def fail(self, job_id: str, worker_id: str, error: str) -> Status | None:
        """Record a failed run, in its own transaction: scheduled again `retry_delay_ms` from
        now while `attempts < max_attempts`, else failed with `error` kept (and a recurring
        series goes on). Returns the job's new status, or None when this worker no longer
        holds the claim (nothing changed)."""
        retry = "attempts < max_attempts"
        with self.backend.write() as tx:
            now = self.clock()
            row = tx.fetchone(
                f"UPDATE {self._t} SET "
                f"status = CASE WHEN {retry} THEN ? ELSE ? END, "
                f"run_at = CASE WHEN {retry} THEN ? + retry_delay_ms ELSE run_at END, "
                f"finished_at = CASE WHEN {retry} THEN NULL ELSE ? END, "
                "claimed_by = NULL, lease_until = NULL, error = ? "
                f"WHERE id = ? AND claimed_by = ? AND status = ? RETURNING {_COLUMNS}",
                [
                    Status.SCHEDULED.value,
                    Status.FAILED.value,
                    now,
                    now,
                    error,
                    job_id,
                    worker_id,
                    Status.RUNNING.value,
                ],
            )
            if row is None:
                return None
            job = _job(row)
            if job.status is Status.FAILED:
                self._continue_series(tx, job, now)
        return job.status

    # --- recurring series --------------------------------------------------------------------

    def active_recurring(self, key: str, tx: Tx | None = None) -> Job | None:
        """The active (scheduled or running) job of the series `key`, if any."""
        if tx is None:
            with self.backend.read() as own:
                return self.active_recurring(key, own)
        row = tx.fetchone(
            f"SELECT {_COLUMNS} FROM {self._t} WHERE recurring_key = ? AND status IN (?, ?)",
            [key, *_ACTIVE],
        )
        return None if row is None else _job(row)

    def set_recurring(
        self, tx: Tx, key: str, job: NewJob, frequency: Frequency, start: datetime
    ) -> str:
        """Start (or re-set) the series `key`: occurrences of `job` every `frequency` from
        `start` (aware; its zone keeps the wall-clock time). `job.run_at` must be None: the
        calendar decides. Returns the id of the first occurrence's job.

        If the series is already active, its scheduled job is cancelled and replaced, and
        Bubble's restart rule applies (`recurrence.restart`): a `start` at or before the
        series' next run is pushed back one period. An occurrence that is running at that
        moment completes, detached from the series (nothing follows it). The unique index on
        active keys makes this atomic; two transactions re-setting the same key at once may
        make the later one raise `Conflict`.
        """
        if job.run_at is not None:
            raise ValueError("a recurring job's run_at comes from its series: leave it None")
        zone = zone_name(start.tzinfo)
        now = self.clock()
        first = start
        active = self._lock_active(tx, key)
        if active is not None:
            self._detach(tx, active)
            upcoming = active.run_at
            if active.status is Status.RUNNING and active.series is not None:
                ran = from_ms(max(active.run_at, now), zone)
                upcoming = to_ms(next_after(active.series.start, active.series.frequency, ran))
            first = restart(from_ms(upcoming, zone), start, frequency)
        row = self._row(job, new_unique_id(now), now)
        row[4] = to_ms(first)
        row[16:20] = [key, frequency.value, to_ms(start), zone]
        tx.execute(f"INSERT INTO {self._t} ({_INSERT_COLUMNS}) VALUES ({_INSERT_VALUES})", row)
        return str(row[0])

    def cancel_recurring(self, tx: Tx, key: str) -> bool:
        """End the series `key` (Bubble's frequency *None*): its scheduled job is cancelled; an
        occurrence running now completes, and nothing follows it. False when not active."""
        active = self._lock_active(tx, key)
        if active is None:
            return False
        self._detach(tx, active)
        return True

    def _lock_active(self, tx: Tx, key: str) -> Job | None:
        lock = " FOR UPDATE" if self._postgres else ""
        row = tx.fetchone(
            f"SELECT {_COLUMNS} FROM {self._t} WHERE recurring_key = ? AND status IN (?, ?)" + lock,
            [key, *_ACTIVE],
        )
        return None if row is None else _job(row)

    def _detach(self, tx: Tx, active: Job) -> None:
        if active.status is Status.SCHEDULED:
            tx.execute(
                f"UPDATE {self._t} SET status = ?, finished_at = ? WHERE id = ?",
                [Status.CANCELLED.value, self.clock(), active.id],
            )
        else:  # running: it completes, but no longer holds the key nor continues the series
            tx.execute(
                f"UPDATE {self._t} SET recurring_key = NULL, frequency = NULL WHERE id = ?",
                [active.id],
            )

    def _continue_series(self, tx: Tx, ended: Job, now: int) -> None:
        """Schedule the occurrence after `ended`, when it belongs to a series."""
        series = ended.series
        if ended.recurring_key is None or series is None:
            return
        zone = zone_name(series.start.tzinfo)
        after = from_ms(max(now, ended.run_at), zone)
        following = next_after(series.start, series.frequency, after)
        tx.execute(
            f"INSERT INTO {self._t} ({_INSERT_COLUMNS}) VALUES ({_INSERT_VALUES})",
            [
                new_unique_id(now),
                ended.kind,
                ended.workflow,
                orjson.dumps(ended.params).decode(),
                to_ms(following),
                Status.SCHEDULED.value,
                ended.depth,
                ended.user_id,
                1 if ended.ignore_privacy else 0,
                ended.definition_version,
                0,
                ended.max_attempts,
                ended.retry_delay_ms,
                now,
                ended.parent_run_id,
                ended.thing_id,
                ended.recurring_key,
                series.frequency.value,
                to_ms(series.start),
                zone,
            ],
        )
