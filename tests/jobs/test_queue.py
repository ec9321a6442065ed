"""The job queue on every backend, with an injected clock: scheduling in the caller's
transaction, claiming, leases, finishing in the effects' transaction, retries, cancelling,
pausing and listing."""

from __future__ import annotations

import pytest

from burble.errors import Conflict
from burble.jobs import Job, JobQueue, NewJob, Status
from burble.jobs.queue import LOST_RETRIES
from burble.store.backend import Backend
from burble.values import is_unique_id
from tests.jobs.support import START, Clock

LEASE = 10_000


class Rollback(Exception):
    pass


def schedule(queue: JobQueue, *jobs: NewJob) -> list[str]:
    with queue.backend.write() as tx:
        return queue.schedule_many(tx, list(jobs))


def claim_one(queue: JobQueue, worker: str = "w1", lease: int = LEASE) -> Job:
    jobs = queue.claim(worker, lease, 1)
    assert len(jobs) == 1
    return jobs[0]


def finish(queue: JobQueue, job_id: str, worker: str = "w1", **kw: object) -> bool:
    with queue.backend.write() as tx:
        return queue.finish(tx, job_id, worker, **kw)  # type: ignore[arg-type]


def get(queue: JobQueue, job_id: str) -> Job:
    job = queue.get(job_id)
    assert job is not None
    return job


def test_schedule_keeps_every_field(queue: JobQueue, clock: Clock) -> None:
    new = NewJob(
        "send-reminder",
        {"rental": "123x456", "n": 3, "tags": ["a", "b"], "nested": {"x": None}},
        run_at=START + 60_000,
        kind="trigger",
        depth=2,
        user_id="1x2",
        ignore_privacy=True,
        definition_version=7,
        max_attempts=3,
        retry_delay_ms=5_000,
        parent_run_id="run-1",
        thing_id="9x9",
    )
    [job_id] = schedule(queue, new)
    assert is_unique_id(job_id) and job_id.startswith(str(START))
    job = get(queue, job_id)
    assert job == Job(
        id=job_id,
        kind="trigger",
        workflow="send-reminder",
        params={"rental": "123x456", "n": 3, "tags": ["a", "b"], "nested": {"x": None}},
        run_at=START + 60_000,
        status=Status.SCHEDULED,
        depth=2,
        user_id="1x2",
        ignore_privacy=True,
        definition_version=7,
        attempts=0,
        max_attempts=3,
        retry_delay_ms=5_000,
        claimed_by=None,
        lease_until=None,
        created_at=START,
        started_at=None,
        finished_at=None,
        error=None,
        parent_run_id="run-1",
        thing_id="9x9",
        recurring_key=None,
        series=None,
    )
    assert queue.get("nope") is None


def test_a_rolled_back_transaction_schedules_nothing(queue: JobQueue) -> None:
    with pytest.raises(Rollback), queue.backend.write() as tx:
        queue.schedule(tx, NewJob("w"))
        raise Rollback
    assert queue.count() == 0
    assert queue.claim("w1", LEASE, 10) == []


def test_a_past_or_missing_run_at_is_due_at_once(queue: JobQueue, clock: Clock) -> None:
    past, now, future = schedule(
        queue, NewJob("p", run_at=START - 86_400_000), NewJob("n"), NewJob("f", run_at=START + 1)
    )
    assert get(queue, now).run_at == START
    claimed = queue.claim("w1", LEASE, 10)
    assert [j.id for j in claimed] == [past, now]
    assert queue.claim("w1", LEASE, 10) == []
    clock.advance(1)
    assert [j.id for j in queue.claim("w1", LEASE, 10)] == [future]


def test_claim_takes_the_oldest_first_up_to_the_limit(queue: JobQueue) -> None:
    ids = schedule(queue, *(NewJob("w", run_at=START - i) for i in range(5)))
    first = queue.claim("w1", LEASE, 2)
    assert [j.id for j in first] == [ids[4], ids[3]]
    second = queue.claim("w2", LEASE, 10)
    assert [j.id for j in second] == [ids[2], ids[1], ids[0]]


def test_jobs_due_together_are_claimed_in_the_order_scheduled(queue: JobQueue) -> None:
    ids = schedule(queue, *(NewJob("w", {"n": i}, run_at=START) for i in range(50)))
    assert ids == sorted(ids)
    assert [j.params["n"] for j in queue.claim("w1", LEASE, 50)] == list(range(50))


def test_claim_marks_the_job_running_under_a_lease(queue: JobQueue, clock: Clock) -> None:
    [job_id] = schedule(queue, NewJob("w"))
    clock.advance(5)
    job = claim_one(queue, "worker-a", 3_000)
    assert (job.id, job.status, job.attempts, job.claimed_by) == (
        job_id,
        Status.RUNNING,
        1,
        "worker-a",
    )
    assert (job.lease_until, job.started_at) == (START + 5 + 3_000, START + 5)
    assert get(queue, job_id) == job


def test_finish_in_the_effects_transaction(queue: JobQueue, clock: Clock) -> None:
    [job_id] = schedule(queue, NewJob("w"))
    claim_one(queue)
    clock.advance(100)
    assert not finish(queue, job_id, "someone-else")
    assert finish(queue, job_id)
    job = get(queue, job_id)
    assert (job.status, job.finished_at, job.lease_until, job.error) == (
        Status.DONE,
        START + 100,
        None,
        None,
    )
    assert not finish(queue, job_id)  # once only
    assert not finish(queue, "nope")


def test_finish_rolls_back_with_the_effects(queue: JobQueue, clock: Clock) -> None:
    [job_id] = schedule(queue, NewJob("w"))
    claim_one(queue)
    with pytest.raises(Rollback), queue.backend.write() as tx:
        assert queue.finish(tx, job_id, "w1")
        raise Rollback
    assert get(queue, job_id).status is Status.RUNNING
    assert finish(queue, job_id)


def test_finish_with_another_status_keeps_the_error(queue: JobQueue) -> None:
    a, b = schedule(queue, NewJob("w"), NewJob("w"))
    queue.claim("w1", LEASE, 2)
    assert finish(queue, a, status=Status.SKIPPED, error="depth limit")
    assert finish(queue, b, status=Status.FAILED, error="boom")
    assert (get(queue, a).status, get(queue, a).error) == (Status.SKIPPED, "depth limit")
    assert (get(queue, b).status, get(queue, b).error) == (Status.FAILED, "boom")
    with pytest.raises(ValueError), queue.backend.write() as tx:
        queue.finish(tx, a, "w1", Status.SCHEDULED)


def test_an_expired_lease_is_claimed_again_and_the_old_worker_cannot_finish(
    queue: JobQueue, clock: Clock
) -> None:
    [job_id] = schedule(queue, NewJob("w"))
    claim_one(queue, "dead", 1_000)
    clock.advance(999)
    assert queue.claim("alive", 1_000, 1) == []  # still held
    clock.advance(1)
    job = claim_one(queue, "alive", 1_000)
    assert (job.id, job.attempts, job.claimed_by) == (job_id, 2, "alive")
    assert not finish(queue, job_id, "dead")  # its effects roll back
    assert not queue.extend_lease(job_id, "dead", 1_000)
    assert queue.fail(job_id, "dead", "late") is None
    assert finish(queue, job_id, "alive")
    assert get(queue, job_id).status is Status.DONE


def test_a_lease_can_be_extended_by_its_holder_only(queue: JobQueue, clock: Clock) -> None:
    [job_id] = schedule(queue, NewJob("w"))
    claim_one(queue, "w1", 1_000)
    clock.advance(900)
    assert queue.extend_lease(job_id, "w1", 1_000)
    assert not queue.extend_lease(job_id, "w2", 1_000)
    assert get(queue, job_id).lease_until == START + 1_900
    clock.advance(900)
    assert queue.claim("w2", 1_000, 1) == []
    assert queue.extend_leases([], "w1", 1_000) == set()


def test_a_failure_is_retried_after_the_delay_then_kept(queue: JobQueue, clock: Clock) -> None:
    [job_id] = schedule(queue, NewJob("w", max_attempts=2, retry_delay_ms=5_000))
    claim_one(queue)
    assert queue.fail(job_id, "w2", "not mine") is None
    assert queue.fail(job_id, "w1", "timeout") is Status.SCHEDULED
    job = get(queue, job_id)
    assert (job.status, job.run_at, job.error, job.claimed_by, job.attempts) == (
        Status.SCHEDULED,
        START + 5_000,
        "timeout",
        None,
        1,
    )
    clock.advance(4_999)
    assert queue.claim("w1", LEASE, 1) == []
    clock.advance(1)
    assert claim_one(queue).attempts == 2
    assert queue.fail(job_id, "w1", "timeout again") is Status.FAILED
    job = get(queue, job_id)
    assert (job.status, job.error, job.finished_at, job.attempts) == (
        Status.FAILED,
        "timeout again",
        START + 5_000,
        2,
    )
    clock.advance(60_000)
    assert queue.claim("w1", LEASE, 1) == []


def test_without_retries_a_failure_is_final(queue: JobQueue) -> None:
    [job_id] = schedule(queue, NewJob("w"))
    claim_one(queue)
    assert queue.fail(job_id, "w1", "boom") is Status.FAILED
    assert get(queue, job_id).error == "boom"


def test_a_job_that_keeps_losing_its_worker_fails_in_the_end(queue: JobQueue, clock: Clock) -> None:
    [job_id] = schedule(queue, NewJob("w"))
    for attempt in range(1, 2 + LOST_RETRIES):
        assert claim_one(queue, f"w{attempt}", 1_000).attempts == attempt
        clock.advance(1_000)
    assert queue.claim("last", 1_000, 1) == []
    job = get(queue, job_id)
    assert (job.status, job.attempts, job.finished_at) == (
        Status.FAILED,
        1 + LOST_RETRIES,
        clock.now,
    )
    assert job.error and "stopped responding" in job.error


def test_release_gives_a_job_back(queue: JobQueue) -> None:
    [job_id] = schedule(queue, NewJob("w"))
    claim_one(queue)
    assert not queue.release(job_id, "w2")
    assert queue.release(job_id, "w1")
    job = get(queue, job_id)
    assert (job.status, job.attempts, job.claimed_by) == (Status.SCHEDULED, 0, None)
    assert claim_one(queue, "w2").attempts == 1


def test_parameters_can_change_until_the_run_starts(queue: JobQueue) -> None:
    a, b = schedule(queue, NewJob("w", {"v": 1}, run_at=START - 1), NewJob("w", {"v": 1}))
    claim_one(queue)  # a is running
    with queue.backend.write() as tx:
        assert not queue.set_params(tx, a, {"v": 2})
        assert queue.set_params(tx, b, {"v": 3, "more": [None]})
        assert not queue.set_params(tx, "nope", {})
    assert get(queue, a).params == {"v": 1}
    assert get(queue, b).params == {"v": 3, "more": [None]}


def test_cancel_only_before_the_run_starts(queue: JobQueue) -> None:
    a, b, c = schedule(queue, NewJob("w", run_at=START - 1), NewJob("w"), NewJob("w"))
    claim_one(queue)  # a is running
    with queue.backend.write() as tx:
        assert not queue.cancel(tx, a)
        assert queue.cancel(tx, b)
        assert not queue.cancel(tx, b)
        assert not queue.cancel(tx, "nope")
    assert get(queue, b).status is Status.CANCELLED
    assert get(queue, b).finished_at == START
    with pytest.raises(Rollback), queue.backend.write() as tx:
        assert queue.cancel(tx, c)
        raise Rollback
    assert get(queue, c).status is Status.SCHEDULED
    assert [j.id for j in queue.claim("w1", LEASE, 10)] == [c]


def test_cancel_many_and_cancel_all(queue: JobQueue) -> None:
    ids = schedule(queue, *(NewJob("w", run_at=START + i * 1_000) for i in range(1_200)))
    with queue.backend.write() as tx:
        assert queue.cancel_many(tx, [*ids[:600], ids[0], "nope"]) == 600
        assert queue.cancel_many(tx, []) == 0
    assert queue.cancel_all(before_ms=START + 1_000_000) == 400  # past-due unrun
    assert queue.count(status=Status.SCHEDULED) == 200
    assert queue.cancel_all() == 200
    assert queue.count(status=Status.CANCELLED) == 1_200


def test_a_paused_queue_hands_out_nothing(queue: JobQueue, clock: Clock) -> None:
    [job_id] = schedule(queue, NewJob("w"))
    assert not queue.is_paused()
    queue.pause()
    queue.pause()
    assert queue.is_paused()
    clock.advance(60_000)
    assert queue.claim("w1", LEASE, 10) == []
    queue.resume()
    assert not queue.is_paused()
    assert [j.id for j in queue.claim("w1", LEASE, 10)] == [job_id]


def test_list_and_count(queue: JobQueue) -> None:
    ids = schedule(
        queue,
        NewJob("a", run_at=START + 3_000, user_id="u1"),
        NewJob("b", run_at=START + 1_000),
        NewJob("a", run_at=START + 2_000),
        NewJob("a", run_at=START - 1),
    )
    claim_one(queue)  # the last one runs
    assert [j.id for j in queue.list()] == [ids[3], ids[1], ids[2], ids[0]]
    assert [j.id for j in queue.list(status=Status.SCHEDULED)] == [ids[1], ids[2], ids[0]]
    assert [j.id for j in queue.list(status=[Status.RUNNING, Status.DONE])] == [ids[3]]
    assert [j.id for j in queue.list(workflow="a", since=START)] == [ids[2], ids[0]]
    assert [j.id for j in queue.list(since=START + 1_000, until=START + 3_000)] == [
        ids[1],
        ids[2],
    ]
    assert [j.id for j in queue.list(limit=2, offset=1)] == [ids[1], ids[2]]
    assert queue.list(workflow="a")[-1].user_id == "u1"
    assert queue.count() == 4
    assert queue.count(workflow="a", status=Status.SCHEDULED) == 2
    assert queue.count(status=[]) == 0


def test_new_jobs_are_checked() -> None:
    with pytest.raises(ValueError):
        NewJob("w", max_attempts=0)
    with pytest.raises(ValueError):
        NewJob("w", retry_delay_ms=-1)
    with pytest.raises(ValueError):
        NewJob("w", depth=-1)


def test_schedule_many_handles_a_hundred_thousand_jobs(queue: JobQueue, backend: Backend) -> None:
    jobs = [NewJob("bulk", {"item": i}, run_at=START + i) for i in range(100_000)]
    ids = schedule(queue, *jobs)
    assert len(set(ids)) == 100_000
    assert queue.count(workflow="bulk") == 100_000
    assert get(queue, ids[99_999]).params == {"item": 99_999}
    claimed = queue.claim("w1", LEASE, 3)
    assert [j.params["item"] for j in claimed] == [0]


def test_the_unique_index_allows_one_active_job_per_recurring_key(backend: Backend) -> None:
    t = backend.dialect.table("burble_jobs")

    def insert(job_id: str, status: str) -> None:
        with backend.write() as tx:
            tx.execute(
                f"INSERT INTO {t} (id, kind, workflow, params, run_at, status, created_at, "
                "recurring_key) VALUES (?, 'recurring', 'w', '{}', 0, ?, 0, 'k')",
                [job_id, status],
            )

    insert("1", "done")
    insert("2", "cancelled")
    insert("3", "scheduled")
    with pytest.raises(Conflict):
        insert("4", "running")
    with pytest.raises(Conflict):
        insert("5", "scheduled")
    insert("6", "failed")
