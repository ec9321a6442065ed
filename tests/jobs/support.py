"""Helpers for the job-queue tests: a settable clock, and a backend opened from a spec that a
worker process can receive on its command line."""

from __future__ import annotations

from burble.store.backend import Backend
from burble.store.postgres import PostgresBackend, PostgresPool
from burble.store.sqlite import SQLiteBackend

START = 1_767_225_600_000  # 2026-01-01T00:00:00Z

Spec = dict[str, str]  # {"sqlite": path} or {"postgres": url, "schema": name}


class Clock:
    """Milliseconds since the epoch, moved by hand: lease and retry tests never sleep."""

    def __init__(self, now: int = START) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


def open_backend(spec: Spec) -> tuple[Backend, PostgresPool | None]:
    """The backend a spec names (and the pool to close after it, on PostgreSQL)."""
    if "sqlite" in spec:
        return SQLiteBackend(spec["sqlite"]), None
    pool = PostgresPool(spec["postgres"], max_size=4)
    return PostgresBackend(pool, spec["schema"]), pool
