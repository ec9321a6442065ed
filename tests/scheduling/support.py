"""Running scheduled jobs in tests: a worker on the Development environment's queue whose
clock the test moves (`at=`), so nothing waits for real time."""

from __future__ import annotations

from typing import Any

from burble.jobs import Job, JobQueue, Worker
from burble.runtime import Version
from burble.scheduler import JobRunner
from burble.values import now_ms
from tests.workflows.support import App


def queue(app: App, at: int | None = None) -> JobQueue:
    clock = (lambda: at) if at is not None else now_ms
    return JobQueue(app.env.backend, clock=clock)


def drain(app: App, at: int | None = None, rounds: int = 50) -> int:
    """Run every job due at `at` (ms; default: now), and those they schedule that are due
    too; returns how many ran."""
    worker = Worker(queue(app, at), JobRunner(app.api.runtime, Version.TEST), lease_ms=30_000)
    total = 0
    for _ in range(rounds):
        ran = worker.run_once()
        if ran == 0:
            break
        total += ran
    return total


def jobs(app: App, **kw: Any) -> list[Job]:
    """Every job of the Development queue, oldest first."""
    found = queue(app).list(limit=100_000, **kw)
    return sorted(found, key=lambda j: (j.created_at, j.id))
