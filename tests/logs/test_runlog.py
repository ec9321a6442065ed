"""Server logs on every backend: a run's entries survive its rollback, secrets are masked,
and the search filters (burble.logs)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

import pytest

from burble.errors import StorageError
from burble.logs.redact import MASK, MAX_TEXT, redact
from burble.logs.runlog import LogKind, RunLog
from burble.logs.search import BadTime, parse_since, prune, search
from burble.runtime import Databases
from burble.store.backend import Backend, Dialect, Tx
from burble.values import Address, format_date
from tests.auth.support import START, Clock


class Rollback(Exception):
    pass


class Timer:
    """perf_counter stand-in: seconds, moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def backend(databases: Databases) -> Backend:
    return databases.test


def count(backend: Backend, table: str) -> int:
    with backend.read() as tx:
        row = tx.fetchone(f"SELECT COUNT(*) FROM {backend.dialect.table(table)}")
    assert row is not None
    return int(row[0])


def test_the_log_of_a_rolled_back_run_survives(backend: Backend) -> None:
    clock, timer = Clock(), Timer()
    log = RunLog(backend, "sign-up", "1x1", clock=clock, timer=timer)
    tokens = backend.dialect.table("burble_user_tokens")
    with log:
        try:
            with backend.write() as tx:
                log.start({"email": "ann@example.com", "password": "hunter22"})
                log.condition(True, expression="Current User is logged out")
                timer.now += 0.004
                clock.advance(4)
                log.action(1, "Create a new thing", {"name": "Loft"})
                tx.execute(
                    f"INSERT INTO {tokens} (id, user_id, token_hash, created_at, expires_at, "
                    "last_used_at) VALUES ('t', 'u', 'h', 0, 0, 0)"
                )
                timer.now += 0.0125
                clock.advance(12)
                log.condition(False, step=2)
                log.action(3, "Charge the card", {"card": {"number": "4242", "api_key": "sk_x"}})
                timer.now += 0.25
                clock.advance(250)
                raise Rollback("the card was declined")
        except Rollback as exc:
            log.error(str(exc), step=3)
    assert count(backend, "burble_user_tokens") == 0  # the run's write rolled back
    assert log.pending == []
    entries = search(backend)
    assert [(e.kind, e.step, e.seq) for e in entries] == [
        (LogKind.START, None, 0),
        (LogKind.CONDITION, None, 1),
        (LogKind.ACTION, 1, 2),
        (LogKind.CONDITION, 2, 3),
        (LogKind.ACTION, 3, 4),
        (LogKind.ERROR, 3, 5),
    ]
    assert [e.message for e in entries] == [
        "Started running workflow sign-up",
        "Event condition passed",
        "Running action Create a new thing (step 1)",
        "Action condition failed (step 2)",
        "Running action Charge the card (step 3)",
        "Workflow error: the card was declined",
    ]
    assert {e.run_id for e in entries} == {log.run_id}
    assert {(e.workflow, e.user_id) for e in entries} == {("sign-up", "1x1")}
    assert [e.at - START for e in entries] == [0, 0, 4, 16, 16, 266]
    assert entries[0].data == {"email": "ann@example.com", "password": MASK}
    assert entries[1].data == {"condition": "Current User is logged out"}
    assert entries[4].data == {"card": {"number": "4242", "api_key": MASK}}
    durations = [e.duration_ms for e in entries]
    assert durations[0] is None and durations[1] is None and durations[3] is None
    assert durations[2] == pytest.approx(12.5)  # until the next entry
    assert durations[4] == pytest.approx(250)
    assert durations[5] == pytest.approx(266.5)  # the whole run


def test_a_successful_run(backend: Backend) -> None:
    timer = Timer()
    with RunLog(backend, "ping", timer=timer) as log:
        log.start()
        log.condition(True)
        log.action(1, "Return data from API", {"pong": True})
        timer.now += 0.002
        log.end({"pong": True})
    entries = search(backend, run_id=log.run_id)
    assert [e.kind for e in entries] == [
        LogKind.START,
        LogKind.CONDITION,
        LogKind.ACTION,
        LogKind.END,
    ]
    assert entries[3].message == "Finished running workflow ping"
    assert entries[3].duration_ms == pytest.approx(2) and entries[2].duration_ms == pytest.approx(2)
    assert entries[0].user_id is None  # anonymous
    assert log.flush() == 0  # nothing left


class FailingWrites:
    """A real backend whose writes fail (a database that went away)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.broken = True

    @property
    def dialect(self) -> Dialect:
        return self.inner.dialect

    def read(self) -> AbstractContextManager[Tx]:
        return self.inner.read()

    def write(self) -> AbstractContextManager[Tx]:
        if self.broken:
            raise StorageError("database unreachable")
        return self.inner.write()

    def write_statement(self, sql: str, params: Sequence[object]) -> int:
        if self.broken:
            raise StorageError("database unreachable")
        return self.inner.write_statement(sql, params)

    def close(self) -> None:
        self.inner.close()

    def describe(self) -> str:
        return self.inner.describe()


def test_entries_not_written_stay_pending(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    failing = FailingWrites(backend)
    log = RunLog(failing, "w")
    log.start()
    log.action(1, "A")
    assert log.flush() == 0
    assert "not written: database unreachable" in caplog.text
    assert len(log.pending) == 2
    failing.broken = False
    log.end()
    assert log.flush() == 3
    assert [e.seq for e in search(backend)] == [0, 1, 2]


def test_redaction() -> None:
    secret_keys = [
        "password",
        "new_password",
        "Password Confirmation",
        "token",
        "access_token",
        "client-secret",
        "api_key",
        "API Key",
        "apikey",
        "X-Api-Key",
        "Authorization",
        "cookie",
        "private_key",
    ]
    data = {k: "value" for k in secret_keys}
    assert redact(data) == dict.fromkeys(secret_keys, MASK)
    kept = {"email": "a@b.co", "name": "Ann", "keyword": "x", "count": 3, "ok": True, "none": None}
    assert redact(kept) == kept
    nested = {"list": [{"password": "p", "x": 1}, ("a", 2.5)], "headers": {"Authorization": "B"}}
    assert redact(nested) == {
        "list": [{"password": MASK, "x": 1}, ["a", 2.5]],
        "headers": {"Authorization": MASK},
    }
    assert redact({"where": Address("1 Main St", 1.5, 2.5)}) == {
        "where": {"address": "1 Main St", "lat": 1.5, "lng": 2.5}
    }
    assert redact({1: Rollback("boom")}) == {"1": "boom"}  # other objects: their text
    long = redact("x" * (MAX_TEXT + 5))
    assert long.startswith("x" * MAX_TEXT) and long.endswith(f"({MAX_TEXT + 5} characters)")


def entries_at(
    backend: Backend, workflow: str, user: str | None, at: int, error: bool = False
) -> str:
    clock = Clock(at)
    with RunLog(backend, workflow, user, clock=clock) as log:
        log.start({"note": f"{workflow} for {user}"})
        if error:
            log.error("100% broken_thing")
        else:
            log.end()
    return log.run_id


def test_search_filters(backend: Backend) -> None:
    hour = 3_600_000
    a = entries_at(backend, "sign-up", "u1", START)
    b = entries_at(backend, "sign-up", "u2", START + hour, error=True)
    c = entries_at(backend, "charge", "u1", START + 2 * hour)
    d = entries_at(backend, "charge", None, START + 3 * hour, error=True)

    def runs(**kw: object) -> list[str]:
        found = search(backend, **kw)  # type: ignore[arg-type]
        return list(dict.fromkeys(e.run_id for e in found))

    assert runs() == [a, b, c, d]
    assert runs(workflow="charge") == [c, d]
    assert runs(user="u1") == [a, c]
    assert runs(since=START + hour) == [b, c, d]
    assert runs(until=START + hour) == [a]
    assert runs(since=START + hour, until=START + 3 * hour) == [b, c]
    assert runs(errors_only=True) == [b, d]
    assert [e.kind for e in search(backend, errors_only=True)] == [LogKind.ERROR] * 2
    assert runs(run_id=c) == [c]
    assert runs(text="CHARGE FOR U1") == [c]  # in the data, any case
    assert runs(text="100% broken_") == [b, d]  # in the message; % and _ are literal
    assert runs(text="100%% broken") == []
    assert runs(text="0_b") == []
    assert runs(workflow="charge", errors_only=True, user="u1") == []
    latest = search(backend, limit=3)  # the latest entries, oldest first
    assert [(e.run_id, e.kind) for e in latest] == [
        (c, LogKind.END),
        (d, LogKind.START),
        (d, LogKind.ERROR),
    ]
    assert prune(backend, START + 2 * hour) == 4
    assert runs() == [c, d]


def test_parse_since() -> None:
    now = START
    assert parse_since("30m", now) == now - 30 * 60_000
    assert parse_since(" 1h", now) == now - 3_600_000
    assert parse_since("2d", now) == now - 2 * 86_400_000
    assert parse_since("90s", now) == now - 90_000
    assert parse_since("1W", now) == now - 7 * 86_400_000
    assert format_date(parse_since("2026-01-31T09:00:00Z", now)) == "2026-01-31T09:00:00.000Z"
    assert format_date(parse_since("2026-01-31", now)).startswith("2026-01-31T")
    for bad in ("yesterday", "1y", "", "-1h"):
        with pytest.raises(BadTime, match="Not a time"):
            parse_since(bad, now)


def test_a_run_that_commits_writes_its_log_in_its_own_transaction(backend: Backend) -> None:
    """`write_into` + `committed()`: one transaction for the run and its log."""
    log = RunLog(backend, "ping")
    with log:
        with backend.write() as tx:
            log.start()
            log.end({"pong": True})
            log.write_into(tx)
            assert log.pending == []
        log.committed()
        # Committed with the run, before any flush:
        assert [e.kind for e in search(backend)] == [LogKind.START, LogKind.END]
    assert [e.kind for e in search(backend)] == [LogKind.START, LogKind.END]  # written once


def test_entries_written_in_a_run_that_rolls_back_are_written_again(backend: Backend) -> None:
    log = RunLog(backend, "ping")
    with log:
        try:
            with backend.write() as tx:
                log.start()
                log.end({"pong": True})
                log.write_into(tx)
                raise Rollback("the commit failed")
        except Rollback as exc:
            log.error(str(exc))
    assert [e.kind for e in search(backend)] == [LogKind.START, LogKind.END, LogKind.ERROR]
    assert [e.seq for e in search(backend)] == [0, 1, 2]
