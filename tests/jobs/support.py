"""Helpers for the job-queue tests: a settable clock, and a backend opened from a spec that a
worker process can receive on its command line."""

from __future__ import annotations

from burble.store.backend import Backend
from burble.store.postgres import PostgresBackend, PostgresPool
from burble.store.sqlite import SQLiteBackend
from tests.auth.support import START, Clock  # noqa: F401  (the same clock)

Spec = dict[str, str]  # {"sqlite": path} or {"postgres": url, "schema": name}


def open_backend(spec: Spec) -> tuple[Backend, PostgresPool | None]:
    """The backend a spec names (and the pool to close after it, on PostgreSQL)."""
    if "sqlite" in spec:
        return SQLiteBackend(spec["sqlite"]), None
    pool = PostgresPool(spec["postgres"], max_size=4)
    return PostgresBackend(pool, spec["schema"]), pool
