"""The worker on every backend: a handler's effects commit with the job's end, a failing
handler is retried or failed, a lost claim rolls the effects back, the heartbeat keeps a slow
job's lease, and a stopping worker gives back what it has not started."""

from __future__ import annotations

import threading
import time

import pytest

from burble.errors import BurbleError
from burble.jobs import ClaimLost, JobContext, JobQueue, NewJob, Status, Worker
from burble.store.backend import Backend
from tests.jobs.support import Clock


@pytest.fixture
def effects(backend: Backend) -> str:
    table = backend.dialect.table("job_effects")
    with backend.write() as tx:
        tx.execute(f"CREATE TABLE {table} (job_id TEXT PRIMARY KEY, worker TEXT, attempt INTEGER)")
    return table


def schedule(queue: JobQueue, *jobs: NewJob) -> list[str]:
    with queue.backend.write() as tx:
        return queue.schedule_many(tx, list(jobs))


def effect_rows(backend: Backend, table: str) -> list[tuple[object, ...]]:
    with backend.read() as tx:
        return tx.fetchall(f"SELECT job_id, worker, attempt FROM {table} ORDER BY job_id")


def recorder(table: str) -> tuple[list[str], object]:
    seen: list[str] = []

    def handle(ctx: JobContext) -> None:
        seen.append(str(ctx.job.params["n"]))
        with ctx.transaction() as tx:
            tx.execute(
                f"INSERT INTO {table} (job_id, worker, attempt) VALUES (?, ?, ?)",
                [ctx.job.id, ctx.worker_id, ctx.job.attempts],
            )

    return seen, handle


def test_effects_commit_with_the_job(
    queue: JobQueue, backend: Backend, effects: str, clock: Clock
) -> None:
    ids = schedule(queue, *(NewJob("w", {"n": i}, run_at=clock.now - 10 + i) for i in range(5)))
    seen, handle = recorder(effects)
    worker = Worker(queue, handle, worker_id="w1", batch=2)  # type: ignore[arg-type]
    assert worker.run_once() == 2
    assert worker.run_once() == 2
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    assert seen == ["0", "1", "2", "3", "4"]
    assert effect_rows(backend, effects) == sorted((i, "w1", 1) for i in ids)
    assert queue.count(status=Status.DONE) == 5


def test_a_handler_that_does_not_finish_is_finished_as_done(queue: JobQueue) -> None:
    [job_id] = schedule(queue, NewJob("w"))
    seen: list[int] = []
    worker = Worker(queue, lambda ctx: seen.append(ctx.job.attempts), worker_id="w1")
    assert worker.run_once() == 1
    assert seen == [1]
    job = queue.get(job_id)
    assert job is not None and job.status is Status.DONE


def test_a_handler_can_finish_with_another_status(queue: JobQueue) -> None:
    [job_id] = schedule(queue, NewJob("w"))

    def handle(ctx: JobContext) -> None:
        with queue.backend.write() as tx:
            assert ctx.finish(tx, Status.SKIPPED, "the thing is gone")

    assert Worker(queue, handle).run_once() == 1
    job = queue.get(job_id)
    assert job is not None and (job.status, job.error) == (Status.SKIPPED, "the thing is gone")


def test_a_failing_handler_is_retried_then_failed(
    queue: JobQueue, backend: Backend, effects: str, clock: Clock
) -> None:
    [job_id] = schedule(queue, NewJob("w", max_attempts=2, retry_delay_ms=1_000))

    def handle(ctx: JobContext) -> None:
        with ctx.transaction() as tx:
            tx.execute(f"INSERT INTO {effects} (job_id) VALUES (?)", [ctx.job.id])
            raise (ValueError("bad input") if ctx.job.attempts == 1 else BurbleError("no luck"))

    worker = Worker(queue, handle, worker_id="w1")
    assert worker.run_once() == 1
    job = queue.get(job_id)
    assert job is not None and (job.status, job.error) == (
        Status.SCHEDULED,
        "ValueError: bad input",
    )
    assert worker.run_once() == 0  # not before the delay
    clock.advance(1_000)
    assert worker.run_once() == 1
    job = queue.get(job_id)
    assert job is not None and (job.status, job.error, job.attempts) == (
        Status.FAILED,
        "no luck",
        2,
    )
    assert effect_rows(backend, effects) == []  # both runs rolled back


def test_a_lost_claim_rolls_the_effects_back(
    queue: JobQueue, backend: Backend, effects: str, clock: Clock
) -> None:
    [job_id] = schedule(queue, NewJob("w", {"n": 0}))
    other = JobQueue(backend, clock=clock)
    outcome: list[str] = []

    def slow(ctx: JobContext) -> None:
        # While this worker is stuck, its lease runs out and another worker takes the job.
        clock.advance(2_000)
        [taken] = other.claim("w2", 1_000, 1)
        assert (taken.id, taken.attempts) == (job_id, 2)
        try:
            with ctx.transaction() as tx:
                tx.execute(f"INSERT INTO {effects} (job_id, worker) VALUES (?, 'w1')", [job_id])
        except ClaimLost:
            outcome.append("lost")
            raise

    assert Worker(queue, slow, worker_id="w1", lease_ms=1_000).run_once() == 1
    assert outcome == ["lost"]
    assert effect_rows(backend, effects) == []
    job = queue.get(job_id)
    assert job is not None and (job.status, job.claimed_by) == (Status.RUNNING, "w2")
    with backend.write() as tx:  # w2 finishes it
        assert other.finish(tx, job_id, "w2")


def test_the_heartbeat_keeps_a_slow_job(backend: Backend, effects: str) -> None:
    queue = JobQueue(backend)  # the wall clock: the heartbeat runs in real time
    first, second = schedule(queue, NewJob("w", {"n": 0}), NewJob("w", {"n": 1}))
    stolen: list[object] = []

    def slow(ctx: JobContext) -> None:
        if ctx.job.id == first:
            for _ in range(3):
                time.sleep(0.4)  # 1.2 s in all, twice the lease
                stolen.extend(queue.claim("thief", 600, 10))
        with ctx.transaction() as tx:
            tx.execute(f"INSERT INTO {effects} (job_id) VALUES (?)", [ctx.job.id])

    worker = Worker(queue, slow, worker_id="w1", lease_ms=600, batch=2)
    assert worker.run_once() == 2
    assert stolen == []  # neither the running job nor the one waiting its turn
    assert len(effect_rows(backend, effects)) == 2
    for job_id in (first, second):
        job = queue.get(job_id)
        assert job is not None and (job.status, job.attempts) == (Status.DONE, 1)


def test_a_stopping_worker_gives_back_what_it_has_not_started(queue: JobQueue) -> None:
    ids = schedule(queue, *(NewJob("w", {"n": i}) for i in range(3)))
    stop = threading.Event()

    def handle(ctx: JobContext) -> None:
        stop.set()

    assert Worker(queue, handle, worker_id="w1", batch=3).run_once(stop) == 1
    jobs = [queue.get(i) for i in ids]
    assert [(j.status, j.attempts) for j in jobs if j] == [
        (Status.DONE, 1),
        (Status.SCHEDULED, 0),
        (Status.SCHEDULED, 0),
    ]


def test_run_forever_until_stopped(backend: Backend, effects: str) -> None:
    queue = JobQueue(backend)
    stop = threading.Event()
    _, handle = recorder(effects)
    worker = Worker(queue, handle, poll_ms=20, batch=3)  # type: ignore[arg-type]
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    try:
        schedule(queue, *(NewJob("w", {"n": i}) for i in range(7)))
        deadline = time.monotonic() + 10
        while queue.count(status=Status.DONE) < 7 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(effect_rows(backend, effects)) == 7


def test_run_forever_survives_a_broken_database_and_uses_the_given_sleep(
    queue: JobQueue, backend: Backend
) -> None:
    stop = threading.Event()
    pauses: list[float] = []
    with backend.write() as tx:  # every claim now fails with a StorageError
        tx.execute(f"ALTER TABLE {backend.dialect.table('burble_jobs')} RENAME TO broken")

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            stop.set()

    Worker(queue, lambda ctx: None, poll_ms=250, sleep=sleep).run_forever(stop)
    assert pauses == [0.25, 0.25, 0.25]


def test_worker_settings_are_checked(queue: JobQueue) -> None:
    with pytest.raises(ValueError):
        Worker(queue, lambda ctx: None, lease_ms=0)
    with pytest.raises(ValueError):
        Worker(queue, lambda ctx: None, batch=0)
    assert Worker(queue, lambda ctx: None).worker_id != Worker(queue, lambda ctx: None).worker_id
