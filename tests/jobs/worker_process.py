"""A worker process for the multi-process tests: `python -m tests.jobs.worker_process CONFIG`.

CONFIG (JSON): `spec` (the database, see support.open_backend), `effects` (the table the
handler writes), `log` (a file for one line per execution), `name`, `lease_ms`, `batch`,
optionally `ready` and `go` (files: announce start-up, then wait for the signal) and
`blocked` (a file written when the handler reaches a job with `"block": true` in its
parameters on its first attempt — the handler then hangs inside its transaction, after its
effect is written, until the process is killed).

The process works until no job is scheduled or running, then exits 0.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from burble.jobs import ClaimLost, JobContext, JobQueue, Status, Worker
from tests.jobs.support import open_backend


def main(config: dict[str, object]) -> int:
    backend, pool = open_backend(config["spec"])  # type: ignore[arg-type]
    queue = JobQueue(backend)
    effects = str(config["effects"])
    name = str(config["name"])
    executions: list[dict[str, object]] = []

    def handle(ctx: JobContext) -> None:
        started = time.monotonic_ns()  # one clock for every process of the machine
        outcome = "error"
        try:
            with ctx.transaction() as tx:
                tx.execute(
                    f"INSERT INTO {effects} (job_id, worker, attempt) VALUES (?, ?, ?)",
                    [ctx.job.id, name, ctx.job.attempts],
                )
                if ctx.job.params.get("block") and ctx.job.attempts == 1:
                    Path(str(config["blocked"])).write_text(ctx.job.id)
                    time.sleep(600)  # killed here, inside the transaction
            outcome = "committed"
        except ClaimLost:
            outcome = "lost"
            raise
        finally:
            executions.append(
                {
                    "job": ctx.job.id,
                    "worker": name,
                    "attempt": ctx.job.attempts,
                    "start": started,
                    "end": time.monotonic_ns(),
                    "outcome": outcome,
                }
            )

    worker = Worker(
        queue,
        handle,
        worker_id=name,
        lease_ms=int(config["lease_ms"]),  # type: ignore[call-overload]
        batch=int(config["batch"]),  # type: ignore[call-overload]
    )
    if "ready" in config:
        Path(str(config["ready"])).write_text(name)
        while not Path(str(config["go"])).exists():
            time.sleep(0.01)
    deadline = time.monotonic() + 50
    active = [Status.SCHEDULED, Status.RUNNING]
    while time.monotonic() < deadline:
        if worker.run_once():
            continue
        if queue.count(status=active) == 0:
            break
        time.sleep(0.05)
    Path(str(config["log"])).write_text("".join(json.dumps(e) + "\n" for e in executions))
    backend.close()
    if pool is not None:
        pool.close()
    return 0 if time.monotonic() < deadline else 1


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
