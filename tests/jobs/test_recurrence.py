"""Calendar math of recurring series: month ends, leap years, quarters, daylight saving in
Europe/Paris and America/New_York, the first run after a time, and Bubble's restart rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from burble.jobs.recurrence import (
    Frequency,
    from_ms,
    next_after,
    occurrence,
    restart,
    to_ms,
    zone_name,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
D, W, M, Q, Y = (
    Frequency.DAILY,
    Frequency.WEEKLY,
    Frequency.MONTHLY,
    Frequency.QUARTERLY,
    Frequency.YEARLY,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "frequency", "expected"),
    [
        # month ends clamp, counted from the start (never cumulatively)
        (utc(2025, 1, 31, 9), M, ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30"]),
        (utc(2024, 1, 31, 9), M, ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]),
        (utc(2025, 3, 30, 9), M, ["2025-03-30", "2025-04-30", "2025-05-30", "2025-06-30"]),
        (utc(2025, 12, 15, 9), M, ["2025-12-15", "2026-01-15", "2026-02-15", "2026-03-15"]),
        # quarterly: every three months, clamped the same way
        (utc(2025, 11, 30, 9), Q, ["2025-11-30", "2026-02-28", "2026-05-30", "2026-08-30"]),
        (utc(2023, 8, 31, 9), Q, ["2023-08-31", "2023-11-30", "2024-02-29", "2024-05-31"]),
        # yearly: Feb 29 falls on Feb 28 in the other years
        (utc(2024, 2, 29, 9), Y, ["2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28"]),
        (utc(2023, 6, 1, 9), Y, ["2023-06-01", "2024-06-01", "2025-06-01", "2026-06-01"]),
        # daily and weekly, across a month and a year end
        (utc(2025, 12, 30, 9), D, ["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02"]),
        (utc(2024, 2, 15, 9), W, ["2024-02-15", "2024-02-22", "2024-02-29", "2024-03-07"]),
    ],
)
def test_calendar_dates(start: datetime, frequency: Frequency, expected: list[str]) -> None:
    got = [occurrence(start, frequency, k) for k in range(len(expected))]
    assert [d.date().isoformat() for d in got] == expected
    assert all(d.timetz() == start.timetz() for d in got)


def test_the_twelfth_month_of_a_monthly_series_is_the_same_as_a_year() -> None:
    start = utc(2024, 2, 29, 8, 30)
    assert occurrence(start, M, 12) == occurrence(start, Y, 1) == utc(2025, 2, 28, 8, 30)
    assert occurrence(start, M, 48) == utc(2028, 2, 29, 8, 30)
    assert occurrence(start, Q, 4) == utc(2025, 2, 28, 8, 30)


@pytest.mark.parametrize(
    ("start", "frequency", "k", "wall", "utc_hour"),
    [
        # Paris: CET (+1) until 2025-03-30, CEST (+2) after; back to CET on 2025-10-26
        (local(PARIS, 2025, 3, 29, 9), D, 0, (2025, 3, 29, 9, 0), 8),
        (local(PARIS, 2025, 3, 29, 9), D, 1, (2025, 3, 30, 9, 0), 7),
        (local(PARIS, 2025, 3, 29, 9), D, 2, (2025, 3, 31, 9, 0), 7),
        (local(PARIS, 2025, 3, 24, 9), W, 1, (2025, 3, 31, 9, 0), 7),
        (local(PARIS, 2025, 10, 25, 9), D, 1, (2025, 10, 26, 9, 0), 8),
        (local(PARIS, 2025, 1, 31, 9), M, 2, (2025, 3, 31, 9, 0), 7),
        # New York: EST (-5) until 2025-03-09, EDT (-4) until 2025-11-02
        (local(NEW_YORK, 2025, 3, 8, 9), D, 1, (2025, 3, 9, 9, 0), 13),
        (local(NEW_YORK, 2025, 3, 8, 9), D, 0, (2025, 3, 8, 9, 0), 14),
        (local(NEW_YORK, 2025, 11, 1, 9), D, 1, (2025, 11, 2, 9, 0), 14),
        (local(NEW_YORK, 2025, 2, 9, 9), M, 1, (2025, 3, 9, 9, 0), 13),
        (local(NEW_YORK, 2024, 11, 3, 9), Y, 1, (2025, 11, 3, 9, 0), 14),
        # a time that does not exist on that day moves forward by the gap
        (local(PARIS, 2025, 3, 29, 2, 30), D, 1, (2025, 3, 30, 3, 30), 1),
        (local(NEW_YORK, 2025, 3, 8, 2, 30), D, 1, (2025, 3, 9, 3, 30), 7),
        # an ambiguous time is the first of the two (summer time)
        (local(PARIS, 2025, 10, 25, 2, 30), D, 1, (2025, 10, 26, 2, 30), 0),
        (local(NEW_YORK, 2025, 10, 31, 1, 30), D, 2, (2025, 11, 2, 1, 30), 5),
    ],
)
def test_wall_clock_time_is_kept_across_daylight_saving(
    start: datetime,
    frequency: Frequency,
    k: int,
    wall: tuple[int, int, int, int, int],
    utc_hour: int,
) -> None:
    got = occurrence(start, frequency, k)
    assert got.tzinfo is start.tzinfo
    assert (got.year, got.month, got.day, got.hour, got.minute) == wall
    assert got.astimezone(UTC).hour == utc_hour


def test_occurrences_are_real_instants_an_hour_apart_across_the_change() -> None:
    start = local(PARIS, 2025, 3, 29, 9)
    first, second = occurrence(start, D, 0), occurrence(start, D, 1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=23)
    assert to_ms(second) - to_ms(first) == 23 * 3_600_000


@pytest.mark.parametrize(
    ("start", "frequency", "now", "expected"),
    [
        (utc(2025, 1, 31, 9), M, utc(2025, 1, 1), utc(2025, 1, 31, 9)),  # start is ahead
        (utc(2025, 1, 31, 9), M, utc(2025, 1, 31, 9), utc(2025, 2, 28, 9)),  # strictly after
        (utc(2025, 1, 31, 9), M, utc(2025, 2, 28, 8, 59), utc(2025, 2, 28, 9)),
        (utc(2025, 1, 31, 9), M, utc(2025, 3, 15), utc(2025, 3, 31, 9)),
        (utc(2025, 1, 31, 9), M, utc(2025, 3, 31, 10), utc(2025, 4, 30, 9)),
        (utc(2024, 2, 29, 9), Y, utc(2026, 6, 1), utc(2027, 2, 28, 9)),
        (utc(2024, 2, 29, 9), Y, utc(2027, 12, 31), utc(2028, 2, 29, 9)),
        (utc(2025, 1, 1, 9), D, utc(2025, 1, 10, 8), utc(2025, 1, 10, 9)),
        (utc(2025, 1, 1, 9), D, utc(2025, 1, 10, 9, 0, 0, 1), utc(2025, 1, 11, 9)),
        (utc(2025, 1, 1, 9), W, utc(2025, 1, 15, 9), utc(2025, 1, 22, 9)),
        (utc(2025, 1, 15, 9), Q, utc(2025, 9, 1), utc(2025, 10, 15, 9)),
        (local(PARIS, 2025, 3, 1, 9), D, utc(2025, 3, 30, 7, 30), local(PARIS, 2025, 3, 31, 9)),
        (local(PARIS, 2025, 3, 1, 9), D, utc(2025, 3, 30, 6, 30), local(PARIS, 2025, 3, 30, 9)),
        # `now` in another zone: compared as instants
        (
            local(NEW_YORK, 2025, 1, 1, 23),
            D,
            local(PARIS, 2025, 1, 3, 4, 30),  # 22:30 in New York on Jan 2
            local(NEW_YORK, 2025, 1, 2, 23),
        ),
    ],
)
def test_next_after(
    start: datetime, frequency: Frequency, now: datetime, expected: datetime
) -> None:
    got = next_after(start, frequency, now)
    assert got == expected and got > now


def test_next_after_far_in_the_future_matches_counting() -> None:
    start = local(NEW_YORK, 2020, 1, 31, 23, 45)
    for frequency in Frequency:
        for k in (0, 1, 7, 40, 123):
            at = occurrence(start, frequency, k)
            assert next_after(start, frequency, at) == occurrence(start, frequency, k + 1)
            before = at - timedelta(microseconds=1)
            assert next_after(start, frequency, before) == at


def test_next_after_compares_instants_in_the_repeated_hour() -> None:
    start = local(NEW_YORK, 2025, 11, 1, 1, 30)
    first_half_past_one = occurrence(start, D, 1)  # 2025-11-02 01:30 EDT (05:30 UTC)
    quarter_past_one_again = datetime(2025, 11, 2, 1, 15, fold=1, tzinfo=NEW_YORK)  # 06:15 UTC
    assert quarter_past_one_again.astimezone(UTC) > first_half_past_one.astimezone(UTC)
    got = next_after(start, D, quarter_past_one_again)
    assert (got.month, got.day, got.hour, got.minute) == (11, 3, 1, 30)
    assert restart(quarter_past_one_again, first_half_past_one, D) == occurrence(start, D, 2)


@pytest.mark.parametrize(
    ("existing_next", "new_start", "frequency", "expected"),
    [
        # the new start is after the next run: kept
        (utc(2025, 5, 1, 9), utc(2025, 5, 2, 9), D, utc(2025, 5, 2, 9)),
        # at or before the next run: pushed back exactly one period
        (utc(2025, 5, 1, 9), utc(2025, 5, 1, 9), D, utc(2025, 5, 2, 9)),
        (utc(2025, 5, 10, 9), utc(2025, 5, 1, 9), W, utc(2025, 5, 8, 9)),
        (utc(2025, 5, 10, 9), utc(2025, 1, 31, 9), M, utc(2025, 2, 28, 9)),
        (utc(2025, 5, 10, 9), utc(2025, 4, 1, 9), Q, utc(2025, 7, 1, 9)),
        (utc(2025, 5, 10, 9), utc(2024, 2, 29, 9), Y, utc(2025, 2, 28, 9)),
        (
            local(PARIS, 2025, 3, 30, 9),
            local(PARIS, 2025, 3, 29, 9),
            D,
            local(PARIS, 2025, 3, 30, 9),
        ),
    ],
)
def test_restart_rule(
    existing_next: datetime, new_start: datetime, frequency: Frequency, expected: datetime
) -> None:
    assert restart(existing_next, new_start, frequency) == expected


def test_naive_datetimes_and_negative_counts_are_refused() -> None:
    naive = datetime(2025, 1, 1, 9)
    with pytest.raises(ValueError):
        occurrence(naive, D, 1)
    with pytest.raises(ValueError):
        next_after(utc(2025, 1, 1), D, naive)
    with pytest.raises(ValueError):
        restart(naive, utc(2025, 1, 1), D)
    with pytest.raises(ValueError):
        occurrence(utc(2025, 1, 1), D, -1)
    with pytest.raises(ValueError):
        to_ms(naive)


def test_instants_and_zone_names() -> None:
    at = local(PARIS, 2026, 1, 1, 1)
    assert to_ms(at) == 1_767_225_600_000
    assert from_ms(1_767_225_600_000, "Europe/Paris") == at
    assert from_ms(1_767_225_600_000).tzinfo == ZoneInfo("UTC")
    assert zone_name(PARIS) == "Europe/Paris"
    assert zone_name(UTC) == "UTC"
    with pytest.raises(ValueError):
        zone_name(timezone(timedelta(hours=2)))
    with pytest.raises(ValueError):
        zone_name(None)
