"""Every job-queue test runs on SQLite and on PostgreSQL (a fresh schema per test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from burble.jobs import JobQueue
from burble.store.backend import Backend
from burble.store.migrations import migrate
from burble.store.postgres import PostgresBackend, PostgresPool
from burble.store.sqlite import SQLiteBackend
from tests.conftest import POSTGRES_URL
from tests.jobs.support import Clock, Spec


@dataclass(frozen=True)
class Target:
    """A migrated database, and how another process opens the same one."""

    backend: Backend
    spec: Spec


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        path = tmp_path / "jobs.sqlite"
        sqlite = SQLiteBackend(path)
        migrate(sqlite)
        yield Target(sqlite, {"sqlite": str(path)})
        sqlite.close()
        return
    pool: PostgresPool = request.getfixturevalue("pg_pool")
    schema = "jobs_" + uuid.uuid4().hex[:12]
    postgres = PostgresBackend(pool, schema)
    migrate(postgres)
    yield Target(postgres, {"postgres": POSTGRES_URL, "schema": schema})
    postgres.drop()


@pytest.fixture
def backend(target: Target) -> Backend:
    return target.backend


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(backend: Backend, clock: Clock) -> JobQueue:
    return JobQueue(backend, clock=clock)
