"""`values.format_date`'s fast path gives exactly what the plain formatting gave, errors
included: the reference below is the implementation it replaced."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from burble import values
from burble.values import MAX_DATE_MS, MIN_DATE_MS, format_date, format_date_range

DAY = 86_400_000
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def reference(ms: int) -> str:
    days, rem = divmod(ms, DAY)
    d = date.fromordinal(days + EPOCH_ORDINAL)
    secs, milli = divmod(rem, 1000)
    mins, sec = divmod(secs, 60)
    hour, minute = divmod(mins, 60)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{hour:02d}:{minute:02d}:{sec:02d}.{milli:03d}Z"


def outcome(fn: object, value: object) -> tuple[str, str]:
    try:
        return "ok", fn(value)  # type: ignore[operator]
    except Exception as exc:
        return "error", type(exc).__name__


EDGES = [
    0,
    1,
    -1,
    999,
    1000,
    59_999,
    60_000,
    3_599_999,
    3_600_000,
    DAY - 1,
    DAY,
    -DAY,
    -DAY - 1,
    951_782_400_000,  # 2000-02-29
    1_709_164_800_000,  # 2024-02-29
    1_709_563_107_880,  # 2024-03-04T14:38:27.880Z
    253_402_300_799_999,  # 9999-12-31T23:59:59.999Z
    MIN_DATE_MS,
    MIN_DATE_MS + 1,
    MAX_DATE_MS,
    MAX_DATE_MS - 1,
    MAX_DATE_MS + 1,  # year 10000: ValueError
    MIN_DATE_MS - 1,  # year 0: ValueError
    MIN_DATE_MS - DAY,
    MAX_DATE_MS + 400 * DAY,
    10**18,
    -(10**18),
]


@pytest.mark.parametrize("ms", EDGES)
def test_edges_match_the_reference(ms: int) -> None:
    assert outcome(format_date, ms) == outcome(reference, ms)


def test_out_of_range_raises_value_error_every_time() -> None:
    for _ in range(2):  # the day cache must not remember a failure as a success
        with pytest.raises(ValueError):
            format_date(MAX_DATE_MS + 1)
        with pytest.raises(ValueError):
            format_date(MIN_DATE_MS - 1)


@pytest.mark.parametrize(
    "value", [True, False, 1.5e12, 1_709_563_107_880.0, float("nan"), "1709563107880", None]
)
def test_other_types_behave_as_before(value: object) -> None:
    # bool formats like 0/1; floats and others fail as they did (the day cache is never
    # consulted with a float that equals an int key)
    format_date(1_500_000_000_000)  # warm the day cache for 1.5e12
    assert outcome(format_date, value) == outcome(reference, value)


@settings(max_examples=3000, deadline=None)
@given(st.integers(min_value=MIN_DATE_MS - 2 * DAY, max_value=MAX_DATE_MS + 2 * DAY))
def test_any_millisecond_matches_the_reference(ms: int) -> None:
    assert outcome(format_date, ms) == outcome(reference, ms)


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=4_102_444_800_000), st.integers(0, DAY - 1))
def test_every_time_of_day_matches_the_reference(day_ms: int, time_of_day: int) -> None:
    ms = day_ms // DAY * DAY + time_of_day
    assert format_date(ms) == reference(ms)


def test_a_sweep_of_recent_dates_matches() -> None:
    start = 1_700_000_000_000
    for ms in range(start, start + 40 * DAY, 7_777_777):
        assert format_date(ms) == reference(ms)


def test_ranges_use_the_same_formatting() -> None:
    assert format_date_range((0, DAY)) == {
        "start": "1970-01-01T00:00:00.000Z",
        "end": "1970-01-02T00:00:00.000Z",
    }
    assert values.format_date(1_709_563_107_880) == "2024-03-04T14:38:27.880Z"
