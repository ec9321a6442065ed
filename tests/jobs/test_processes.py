"""Workers in separate processes on one database, as in production: a race over thousands of
jobs (each runs once, its effect is written once, no two runs of a job overlap), and a worker
killed with SIGKILL in the middle of a job (the job runs again elsewhere once the lease has
passed, and its effect exists exactly once)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from burble.jobs import JobQueue, NewJob, Status
from burble.store.backend import Backend
from tests.jobs.conftest import Target

ROOT = Path(__file__).resolve().parents[2]
JOBS = 2_000


def create_effects(backend: Backend) -> str:
    table = backend.dialect.table("job_effects")
    with backend.write() as tx:
        tx.execute(f"CREATE TABLE {table} (job_id TEXT PRIMARY KEY, worker TEXT, attempt INTEGER)")
    return table


def start(tmp_path: Path, config: dict[str, object]) -> subprocess.Popen[bytes]:
    with (tmp_path / f"{config['name']}.err").open("wb") as errors:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.jobs.worker_process", json.dumps(config)],
            cwd=ROOT,
            stdout=errors,
            stderr=subprocess.STDOUT,
        )


def finished(tmp_path: Path, process: subprocess.Popen[bytes], name: str) -> None:
    code = process.wait(timeout=60)
    assert code == 0, (tmp_path / f"{name}.err").read_text()


def wait_for(path: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def executions(tmp_path: Path, names: list[str]) -> list[dict[str, object]]:
    lines: list[str] = []
    for name in names:
        lines += (tmp_path / f"{name}.log").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_racing_worker_processes_run_each_job_exactly_once(target: Target, tmp_path: Path) -> None:
    backend = target.backend
    effects = create_effects(backend)
    queue = JobQueue(backend)
    with backend.write() as tx:
        ids = queue.schedule_many(tx, [NewJob("race", {"n": i}) for i in range(JOBS)])
    names = [f"w{i}" for i in range(2 if "sqlite" in target.spec else 4)]
    go = tmp_path / "go"
    processes = [
        start(
            tmp_path,
            {
                "spec": target.spec,
                "effects": effects,
                "log": str(tmp_path / f"{name}.log"),
                "name": name,
                "lease_ms": 10_000,
                "batch": 5,
                "ready": str(tmp_path / f"{name}.ready"),
                "go": str(go),
            },
        )
        for name in names
    ]
    for name in names:
        wait_for(tmp_path / f"{name}.ready")
    go.touch()  # all at once
    for name, process in zip(names, processes, strict=True):
        finished(tmp_path, process, name)

    jobs = queue.list(limit=JOBS + 1)
    assert len(jobs) == JOBS
    assert {(j.status, j.attempts) for j in jobs} == {(Status.DONE, 1)}
    with backend.read() as tx:
        rows = tx.fetchall(f"SELECT job_id, worker, attempt FROM {effects}")
    assert len(rows) == JOBS and {r[0] for r in rows} == set(ids)  # none lost, none twice
    assert {r[2] for r in rows} == {1}
    done_by = {j.id: j.claimed_by for j in jobs}
    assert all(done_by[r[0]] == r[1] for r in rows)  # the effect is the finisher's

    runs: dict[object, list[dict[str, object]]] = defaultdict(list)
    for run in executions(tmp_path, names):
        runs[run["job"]].append(run)
    assert set(runs) == set(ids)
    for job_id, job_runs in runs.items():
        job_runs.sort(key=lambda r: r["start"])  # type: ignore[arg-type, return-value]
        for earlier, later in itertools.pairwise(job_runs):
            assert earlier["end"] <= later["start"], f"two runs of {job_id} overlapped"  # type: ignore[operator]
        assert [r["outcome"] for r in job_runs] == ["committed"], job_id
    workers = {r[1] for r in rows}
    assert len(workers) >= 2, "the workers did not race"


def test_a_killed_workers_job_runs_again_once_its_lease_has_passed(
    target: Target, tmp_path: Path
) -> None:
    backend = target.backend
    effects = create_effects(backend)
    queue = JobQueue(backend)
    now = queue.clock()
    with backend.write() as tx:
        ids = queue.schedule_many(
            tx,
            [
                NewJob("durable", {"n": i, "block": i == 3}, run_at=now - 1_000 + i)
                for i in range(8)
            ],
        )
    blocked = tmp_path / "blocked"

    def config(name: str) -> dict[str, object]:
        return {
            "spec": target.spec,
            "effects": effects,
            "log": str(tmp_path / f"{name}.log"),
            "name": name,
            "lease_ms": 1_000,
            "batch": 1,
            "blocked": str(blocked),
        }

    first = start(tmp_path, config("A"))
    wait_for(blocked)
    assert blocked.read_text() == ids[3]
    running = queue.get(ids[3])
    assert running is not None
    assert (running.status, running.claimed_by, running.attempts) == (Status.RUNNING, "A", 1)
    first.kill()  # SIGKILL, inside the job's transaction
    assert first.wait(timeout=10) == -9
    with backend.read() as tx:
        assert tx.fetchall(f"SELECT job_id FROM {effects} WHERE job_id = ?", [ids[3]]) == []

    second = start(tmp_path, config("B"))
    finished(tmp_path, second, "B")

    jobs = {j.id: j for j in queue.list(limit=100)}
    assert {j.status for j in jobs.values()} == {Status.DONE}
    assert (jobs[ids[3]].attempts, jobs[ids[3]].claimed_by) == (2, "B")
    assert all(jobs[i].attempts == 1 for i in ids if i != ids[3])
    with backend.read() as tx:
        rows = tx.fetchall(f"SELECT job_id, worker, attempt FROM {effects}")
    assert sorted(r[0] for r in rows) == sorted(ids)  # each effect exactly once
    assert (ids[3], "B", 2) in [tuple(r) for r in rows]
    assert {r[1] for r in rows if r[0] in ids[:3]} == {"A"}
    replay = [r for r in executions(tmp_path, ["B"]) if r["job"] == ids[3]]
    assert [(r["attempt"], r["outcome"]) for r in replay] == [(2, "committed")]
