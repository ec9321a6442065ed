"""Fixtures: every API and contract test runs on SQLite and, when reachable, PostgreSQL.

PostgreSQL: `BURBLE_TEST_POSTGRES` (default postgresql://postgres@127.0.0.1:5432/test). Each
test gets its own pair of schemas, dropped afterwards. With `CI=true` an unreachable
PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from burble.api.app import create_app
from burble.appdef.load import parse_app
from burble.runtime import Databases, Runtime, deploy
from burble.settings import Settings
from burble.store.postgres import PostgresBackend, PostgresPool

POSTGRES_URL = os.environ.get("BURBLE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRED = os.environ.get("CI", "").lower() == "true"
EXAMPLE = Path(__file__).parent.parent / "examples" / "rentals" / "app.yaml"


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc)


@pytest.fixture(scope="session")
def pg_pool() -> Iterator[PostgresPool]:
    problem = _postgres_reachable()
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {problem}"
        if REQUIRED:
            pytest.fail(message + " (CI=true requires it)")
        pytest.skip(message)
    pool = PostgresPool(POSTGRES_URL)
    yield pool
    pool.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh pair of databases on each backend."""
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    if request.param == "sqlite":
        yield Settings(app_dir=app_dir, data_dir=tmp_path / "data")
        return
    pool: PostgresPool = request.getfixturevalue("pg_pool")
    prefix = "t" + uuid.uuid4().hex[:12]
    yield Settings(
        app_dir=app_dir, data_dir=tmp_path / "data", database_url=POSTGRES_URL, schema_prefix=prefix
    )
    for suffix in ("live", "test"):
        PostgresBackend(pool, f"{prefix}_{suffix}").drop()


@pytest.fixture
def databases(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Databases]:
    pool = request.getfixturevalue("pg_pool") if settings.database_url else None
    dbs = Databases(settings, pool=pool)
    yield dbs
    dbs.close()


class Api:
    """A test client on a running app, with an admin token."""

    def __init__(self, runtime: Runtime, client: TestClient, token: str) -> None:
        self.runtime = runtime
        self.client = client
        self.token = token
        self.auth = {"Authorization": f"Bearer {token}"}


def make_api(databases: Databases, text: str, deploy_live: bool = False) -> Api:
    working = parse_app(text)
    if deploy_live:
        deploy(databases, working)
    runtime = Runtime(databases, working)
    _, token = runtime.tokens.create("test")
    client = TestClient(create_app(runtime), raise_server_exceptions=True)
    return Api(runtime, client, token)


@pytest.fixture
def example_text() -> str:
    return EXAMPLE.read_text()


@pytest.fixture
def api(databases: Databases, example_text: str) -> Api:
    return make_api(databases, example_text)


# --- the command line, in-process (click's runner), on SQLite --------------------------------


@pytest.fixture
def cli_runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose environment names no database or app directory of the machine's."""
    for name in (
        "BURBLE_DATABASE_URL",
        "BURBLE_DATA_DIR",
        "BURBLE_APP_DIR",
        "BURBLE_SMTP_URL",
        "BURBLE_MAIL_FROM",
        "BURBLE_WORKERS",
    ):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture
def cli_app(cli_runner: CliRunner, tmp_path: Path) -> Path:
    """An app directory made by `burble init` (the example app)."""
    from burble.cli.main import main

    app = tmp_path / "cli-app"
    assert cli_runner.invoke(main, ["init", str(app)]).exit_code == 0
    return app


def cli(runner: CliRunner, *args: str, code: int = 0) -> tuple[str, str]:
    """Run `burble ARGS...`; its stdout and stderr, after checking its exit code."""
    from burble.cli.main import main

    result = runner.invoke(main, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result.stdout, result.stderr
