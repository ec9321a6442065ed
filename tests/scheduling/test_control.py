"""Controlling the scheduler (bubble-semantics.md §2.10): the admin HTTP endpoints and
`burble scheduler ...`, and `burble worker` running due work. List by time, pause and resume
all, cancel one, cancel all (or past-due)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from burble.jobs import JobQueue, NewJob, Status
from burble.runtime import Databases
from burble.settings import Settings
from burble.values import now_ms
from tests.conftest import cli
from tests.scheduling.support import drain, jobs
from tests.workflows.support import App

DAY = 86_400_000

APP = """
name: control
settings: {workflow_api: true}
types:
  User: {fields: {}}
  Item: {fields: {name: text}}
workflows:
  make:
    parameters: {name: text}
    actions:
      - create: Item
        fields: {name: "[name]"}
"""

BASE = "/version-test/api/1.1/scheduler"


@pytest.fixture
def app(databases: Databases) -> App:
    return App(databases, APP)


def _schedule(app: App, name: str, at: int) -> str:
    with app.env.backend.write() as tx:
        return JobQueue(app.env.backend).schedule(
            tx, NewJob("make", {"parameters": {"name": name}, "actor": "admin"}, run_at=at)
        )


def test_list_pause_resume_and_cancel_over_http(app: App) -> None:
    soon, later = now_ms() - 1000, now_ms() + DAY
    a, b = _schedule(app, "a", soon), _schedule(app, "b", later)
    c = _schedule(app, "c", later + 1)
    r = app.client.get(f"{BASE}/jobs", headers=app.api.auth)
    assert r.status_code == 200, r.text
    body = r.json()["response"]
    assert body["paused"] is False and body["count"] == 3 and body["remaining"] == 0
    first = body["results"][0]
    assert first["id"] == a and first["workflow"] == "make" and first["status"] == "scheduled"
    assert first["parameters"] == {"name": "a"}
    assert [j["id"] for j in body["results"]] == [a, b, c]  # by time

    assert app.client.post(f"{BASE}/pause", headers=app.api.auth).json()["response"] == {
        "paused": True
    }
    assert drain(app) == 0  # paused: nothing runs, the due job waits
    app.client.post(f"{BASE}/resume", headers=app.api.auth)
    assert drain(app) == 1
    assert [i["name"] for i in app.things("Item")] == ["a"]

    r = app.client.post(f"{BASE}/cancel", json={"ids": [b, "nope"]}, headers=app.api.auth)
    assert r.json()["response"] == {"cancelled": 1}
    r = app.client.get(f"{BASE}/jobs/{b}", headers=app.api.auth)
    assert r.json()["response"]["status"] == "cancelled"
    r = app.client.post(f"{BASE}/cancel-all", json={"past_due": True}, headers=app.api.auth)
    assert r.json()["response"] == {"cancelled": 0}  # c is not due yet
    r = app.client.post(f"{BASE}/cancel-all", headers=app.api.auth)
    assert r.json()["response"] == {"cancelled": 1}
    assert {j.id: j.status for j in jobs(app)}[c] is Status.CANCELLED


def test_only_admins_reach_the_scheduler(app: App) -> None:
    app.user("ann")
    for who in ("anonymous", "ann"):
        r = app.client.get(f"{BASE}/jobs", headers=app.headers[who])
        assert r.status_code == 401, r.text
    r = app.client.get(f"{BASE}/nothing", headers=app.api.auth)
    assert r.status_code == 404
    r = app.client.post(f"{BASE}/cancel", json={"ids": "x"}, headers=app.api.auth)
    assert r.status_code == 400


def test_the_cli_lists_pauses_and_cancels(cli_runner: CliRunner, cli_app: Path) -> None:
    databases = Databases(Settings.from_env(cli_app, {}))
    queue = JobQueue(databases.test)
    with databases.test.write() as tx:
        first = queue.schedule(tx, NewJob("make", {"parameters": {"name": "x"}}, run_at=now_ms()))
        second = queue.schedule(tx, NewJob("make", {}, run_at=now_ms() + DAY))
    databases.close()
    app = ["--app", str(cli_app)]
    out, _ = cli(cli_runner, "scheduler", "list", *app)
    lines = out.splitlines()
    assert len(lines) == 2 and first in lines[0] and '{"name":"x"}' in lines[0]
    assert second in lines[1]
    cli(cli_runner, "scheduler", "pause", *app)
    _, err = cli(cli_runner, "scheduler", "list", *app)
    assert "paused" in err
    cli(cli_runner, "scheduler", "resume", *app)
    out, _ = cli(cli_runner, "scheduler", "cancel", first, *app)
    assert out.strip() == "Cancelled 1 of 1."
    cli(cli_runner, "scheduler", "cancel", first, *app, code=1)  # not scheduled any more
    out, _ = cli(cli_runner, "scheduler", "cancel-all", "--past-due", *app)
    assert out.strip() == "Cancelled 0 jobs."
    out, _ = cli(cli_runner, "scheduler", "cancel-all", *app)
    assert out.strip() == "Cancelled 1 job."
    out, _ = cli(cli_runner, "scheduler", "list", "--all", *app)
    assert out.count("cancelled") == 2


def test_burble_worker_runs_due_work(cli_app: Path, tmp_path: Path) -> None:
    """A real `burble worker` process: a scheduled run commits; SIGTERM stops it cleanly."""
    (cli_app / "app.yaml").write_text(APP)
    settings = Settings.from_env(cli_app, {})
    databases = Databases(settings)
    App(databases, APP)  # creates the tables of this definition in Development
    with databases.test.write() as tx:
        JobQueue(databases.test).schedule(
            tx, NewJob("make", {"parameters": {"name": "from the worker"}, "actor": "admin"})
        )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "burble.cli.main", "worker", str(cli_app), "--poll-ms", "50"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            queue = JobQueue(databases.test)
            while time.monotonic() < deadline and not queue.list(status=Status.DONE):
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(10)
    assert queue.list(status=Status.DONE), log.read_text()
    assert proc.returncode == 0, log.read_text()
    items = App(databases, APP).things("Item")
    assert [i["name"] for i in items] == ["from the worker"]
    databases.close()
