"""`burble logs DIRECTORY`, run in-process with click's runner on SQLite."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from burble.appdef.load import load_app
from burble.auth.actor import ADMIN
from burble.cli.main import main
from burble.logs.runlog import RunLog
from burble.runtime import Databases, Environment, Version
from burble.settings import Settings
from burble.values import now_ms


@pytest.fixture
def runner(cli_runner: CliRunner) -> CliRunner:
    return cli_runner  # tests/conftest.py


@pytest.fixture
def app(cli_app: Path) -> Path:
    return cli_app


@pytest.fixture
def databases(app: Path) -> Iterator[Databases]:
    dbs = Databases(Settings.from_env(app, {}))
    yield dbs
    dbs.close()


def run(runner: CliRunner, *args: str, code: int = 0) -> tuple[str, str]:
    result = runner.invoke(main, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout, result.stderr


def test_logs_print_one_line_per_entry(runner: CliRunner, app: Path, databases: Databases) -> None:
    env = Environment.open(Version.TEST, databases.test, load_app(app))
    ann = env.things.create(ADMIN, env.definition.types["User"], {"email": "ann@example.com"})
    old = now_ms() - 2 * 3_600_000
    with RunLog(databases.test, "sign-up", ann, clock=lambda: old) as first:
        first.start({"email": "ann@example.com", "password": "hunter22"})
        first.action(1, "Sign the user up", {"email": "ann@example.com"})
        first.end()
    with RunLog(databases.test, "charge") as second:
        second.start()
        second.error("card declined", step=1)
    with RunLog(databases.live, "live-only") as live:
        live.start()

    out, _ = run(runner, "logs", str(app))
    lines = out.splitlines()
    assert len(lines) == 5
    start = re.split(r"\s{2,}", lines[0])
    assert start[1] == "start" and start[2] == "sign-up"
    assert start[3] == f"run={first.run_id}" and start[4] == f"user={ann}"
    assert start[5] == "Started running workflow sign-up"
    assert start[6] == '{"email":"ann@example.com","password":"***"}'
    assert "hunter22" not in out
    assert lines[2].endswith(" ms)") and "Finished running workflow sign-up" in lines[2]
    assert "user=anonymous" in lines[3] and "Workflow error: card declined" in lines[4]

    assert run(runner, "logs", str(app), "--errors")[0].splitlines() == [lines[4]]
    assert run(runner, "logs", str(app), "--workflow", "charge")[0].splitlines() == lines[3:]
    assert run(runner, "logs", str(app), "--user", ann)[0].splitlines() == lines[:3]
    assert run(runner, "logs", str(app), "--user", "ANN@example.com")[0].splitlines() == lines[:3]
    assert run(runner, "logs", str(app), "--since", "1h")[0].splitlines() == lines[3:]
    assert run(runner, "logs", str(app), "--until", "1h")[0].splitlines() == lines[:3]
    assert run(runner, "logs", str(app), "--run", second.run_id)[0].splitlines() == lines[3:]
    assert run(runner, "logs", str(app), "--text", "DECLINED")[0].splitlines() == [lines[4]]
    assert run(runner, "logs", str(app), "--limit", "2")[0].splitlines() == lines[3:]
    assert "live-only" in run(runner, "logs", str(app), "--version", "live")[0]

    out, err = run(runner, "logs", str(app), "--workflow", "nope")
    assert out == "" and "No log entries." in err
    _, err = run(runner, "logs", str(app), "--user", "bob@example.com", code=1)
    assert "no user with email 'bob@example.com' in Development" in err
    _, err = run(runner, "logs", str(app), "--since", "yesterday", code=2)
    assert "Not a time: 'yesterday'" in err
    run(runner, "logs", str(app), "--limit", "0", code=2)
