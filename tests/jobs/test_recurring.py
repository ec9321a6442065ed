"""Recurring series in the queue: one active job per key, the next occurrence scheduled when
one ends (in the same transaction), Bubble's restart rule, cancelling, and a running
occurrence while the series is re-set."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from burble.errors import Conflict
from burble.jobs import Frequency, Job, JobQueue, Kind, NewJob, Series, Status
from burble.jobs.recurrence import to_ms
from tests.jobs.support import START, Clock

PARIS = ZoneInfo("Europe/Paris")
DAY = 86_400_000
LEASE = 10_000
KEY = "reminder:1x1"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def job(**kw: object) -> NewJob:
    return NewJob("reminder", {"thing": "1x1"}, kind=Kind.RECURRING, thing_id="1x1", **kw)  # type: ignore[arg-type]


def set_series(
    queue: JobQueue, start: datetime, frequency: Frequency = Frequency.DAILY, key: str = KEY
) -> str:
    with queue.backend.write() as tx:
        return queue.set_recurring(tx, key, job(user_id="u1"), frequency, start)


def active(queue: JobQueue, key: str = KEY) -> Job:
    found = queue.active_recurring(key)
    assert found is not None
    return found


def run(queue: JobQueue, clock: Clock, at: int, **finish: object) -> Job:
    """Move the clock to `at`, claim the due occurrence and finish it."""
    clock.now = at
    [claimed] = queue.claim("w1", LEASE, 10)
    with queue.backend.write() as tx:
        assert queue.finish(tx, claimed.id, "w1", **finish)  # type: ignore[arg-type]
    return claimed


# START is 2026-01-01 00:00 UTC = 01:00 in Paris.


def test_a_series_runs_on_its_calendar(queue: JobQueue, clock: Clock) -> None:
    first_id = set_series(queue, paris(2026, 1, 31, 9), Frequency.MONTHLY)
    first = active(queue)
    assert first.id == first_id
    assert (first.status, first.run_at, first.recurring_key) == (
        Status.SCHEDULED,
        to_ms(paris(2026, 1, 31, 9)),
        KEY,
    )
    assert first.series == Series(Frequency.MONTHLY, paris(2026, 1, 31, 9))
    assert (first.kind, first.thing_id, first.user_id, first.params) == (
        "recurring",
        "1x1",
        "u1",
        {"thing": "1x1"},
    )
    runs = [run(queue, clock, active(queue).run_at).run_at for _ in range(4)]
    assert runs == [
        to_ms(paris(2026, 1, 31, 9)),
        to_ms(paris(2026, 2, 28, 9)),
        to_ms(paris(2026, 3, 31, 9)),  # 07:00 UTC: summer time
        to_ms(paris(2026, 4, 30, 9)),
    ]
    assert active(queue).run_at == to_ms(paris(2026, 5, 31, 9))
    assert queue.count(status=Status.DONE) == 4
    assert queue.count(status=[Status.SCHEDULED, Status.RUNNING]) == 1


def test_the_next_occurrence_commits_with_the_finish(queue: JobQueue, clock: Clock) -> None:
    set_series(queue, paris(2026, 1, 2, 9))
    clock.now = active(queue).run_at
    [claimed] = queue.claim("w1", LEASE, 1)
    with pytest.raises(RuntimeError), queue.backend.write() as tx:
        assert queue.finish(tx, claimed.id, "w1")
        assert queue.active_recurring(KEY, tx) is not None  # the successor, in this tx
        raise RuntimeError("the run's effects failed")
    assert active(queue).id == claimed.id  # still the running occurrence, no successor
    assert queue.count() == 1


def test_a_failed_or_skipped_occurrence_does_not_stop_the_series(
    queue: JobQueue, clock: Clock
) -> None:
    set_series(queue, paris(2026, 1, 2, 9))
    clock.now = active(queue).run_at
    [claimed] = queue.claim("w1", LEASE, 1)
    assert queue.fail(claimed.id, "w1", "boom") is Status.FAILED
    assert active(queue).run_at == to_ms(paris(2026, 1, 3, 9))
    run(queue, clock, active(queue).run_at, status=Status.SKIPPED)
    assert active(queue).run_at == to_ms(paris(2026, 1, 4, 9))


def test_finishing_without_a_next_occurrence_ends_the_series(queue: JobQueue, clock: Clock) -> None:
    set_series(queue, paris(2026, 1, 2, 9))
    run(queue, clock, active(queue).run_at, next_occurrence=False)
    assert queue.active_recurring(KEY) is None


def test_missed_occurrences_are_run_once_then_skipped(queue: JobQueue, clock: Clock) -> None:
    set_series(queue, paris(2026, 1, 2, 9))
    late = to_ms(paris(2026, 1, 5, 12))  # the workers were down for three days
    ran = run(queue, clock, late)
    assert ran.run_at == to_ms(paris(2026, 1, 2, 9))
    assert active(queue).run_at == to_ms(paris(2026, 1, 6, 9))


def test_a_start_in_the_past_runs_at_once(queue: JobQueue, clock: Clock) -> None:
    set_series(queue, paris(2025, 12, 25, 9))
    assert [j.run_at for j in queue.claim("w1", LEASE, 10)] == [to_ms(paris(2025, 12, 25, 9))]


def test_re_setting_a_series_replaces_its_job(queue: JobQueue, clock: Clock) -> None:
    old = set_series(queue, paris(2026, 1, 10, 9))
    # after the next run (Jan 10): kept as given
    new = set_series(queue, paris(2026, 1, 12, 9), Frequency.WEEKLY)
    assert queue.get(old) is not None and queue.get(old).status is Status.CANCELLED  # type: ignore[union-attr]
    assert active(queue).id == new
    assert active(queue).run_at == to_ms(paris(2026, 1, 12, 9))
    assert active(queue).series == Series(Frequency.WEEKLY, paris(2026, 1, 12, 9))
    # at or before the next run (Jan 12): pushed back one period, anchored on the new start
    set_series(queue, paris(2026, 1, 5, 9), Frequency.WEEKLY)
    assert active(queue).run_at == to_ms(paris(2026, 1, 12, 9))
    set_series(queue, paris(2026, 1, 12, 9), Frequency.MONTHLY)
    assert active(queue).run_at == to_ms(paris(2026, 2, 12, 9))
    assert active(queue).series == Series(Frequency.MONTHLY, paris(2026, 1, 12, 9))
    assert queue.count(status=Status.CANCELLED) == 3
    assert queue.count(status=[Status.SCHEDULED, Status.RUNNING]) == 1


def test_other_keys_are_independent(queue: JobQueue) -> None:
    set_series(queue, paris(2026, 1, 10, 9), key="a")
    set_series(queue, paris(2026, 1, 5, 9), key="b")
    assert active(queue, "a").run_at == to_ms(paris(2026, 1, 10, 9))
    assert active(queue, "b").run_at == to_ms(paris(2026, 1, 5, 9))


def test_cancelling_a_series(queue: JobQueue, clock: Clock) -> None:
    scheduled = set_series(queue, paris(2026, 1, 10, 9))
    with queue.backend.write() as tx:
        assert queue.cancel_recurring(tx, KEY)
        assert not queue.cancel_recurring(tx, KEY)
    assert queue.get(scheduled).status is Status.CANCELLED  # type: ignore[union-attr]
    assert queue.active_recurring(KEY) is None
    # cancelling the scheduled occurrence by its id ends the series too
    set_series(queue, paris(2026, 1, 10, 9))
    with queue.backend.write() as tx:
        assert queue.cancel(tx, active(queue).id)
    clock.advance(30 * DAY)
    assert queue.claim("w1", LEASE, 10) == []
    assert queue.active_recurring(KEY) is None


def test_a_running_occurrence_completes_detached_when_the_series_changes(
    queue: JobQueue, clock: Clock
) -> None:
    set_series(queue, paris(2026, 1, 2, 9))
    clock.now = to_ms(paris(2026, 1, 2, 9))
    [running] = queue.claim("w1", LEASE, 1)
    # re-set while it runs: the next run was Jan 3, so a start on Jan 3 is pushed to Jan 4
    new = set_series(queue, paris(2026, 1, 3, 9))
    assert active(queue).id == new
    assert active(queue).run_at == to_ms(paris(2026, 1, 4, 9))
    with queue.backend.write() as tx:
        assert queue.finish(tx, running.id, "w1")  # still this worker's, and done
    detached = queue.get(running.id)
    assert detached is not None
    assert (detached.status, detached.recurring_key, detached.series) == (Status.DONE, None, None)
    assert queue.count(status=[Status.SCHEDULED, Status.RUNNING]) == 1  # nothing followed it


def test_cancelling_while_an_occurrence_runs(queue: JobQueue, clock: Clock) -> None:
    set_series(queue, paris(2026, 1, 2, 9))
    clock.now = to_ms(paris(2026, 1, 2, 9))
    [running] = queue.claim("w1", LEASE, 1)
    with queue.backend.write() as tx:
        assert queue.cancel_recurring(tx, KEY)
    assert queue.active_recurring(KEY) is None
    with queue.backend.write() as tx:
        assert queue.finish(tx, running.id, "w1")
    assert queue.count(status=[Status.SCHEDULED, Status.RUNNING]) == 0


def test_a_recurring_job_takes_its_time_from_the_series(queue: JobQueue) -> None:
    with pytest.raises(ValueError), queue.backend.write() as tx:
        queue.set_recurring(tx, KEY, job(run_at=START), Frequency.DAILY, paris(2026, 1, 2, 9))
    with pytest.raises(ValueError), queue.backend.write() as tx:
        queue.set_recurring(tx, KEY, job(), Frequency.DAILY, datetime(2026, 1, 2, 9))
    assert queue.count() == 0


def test_the_unique_index_backs_the_series_key(queue: JobQueue) -> None:
    """A second active job for the key is refused, whatever writes it."""
    set_series(queue, paris(2026, 1, 2, 9))
    t = queue.backend.dialect.table("burble_jobs")
    with pytest.raises(Conflict), queue.backend.write() as tx:
        other = queue.schedule(tx, job())
        tx.execute(f"UPDATE {t} SET recurring_key = ? WHERE id = ?", [KEY, other])
    assert queue.count() == 1
