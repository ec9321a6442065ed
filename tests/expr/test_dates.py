"""Date steps (calendar-aware in UTC, month-end clamping, rounding) and date formats."""

from __future__ import annotations

import pytest

from burble.expr.ast import DateUnit
from burble.expr.dates import add_months, format_date, js_round, shift, shift_ms
from burble.values import MAX_DATE_MS, MIN_DATE_MS, parse_date
from burble.values import format_date as iso


def d(text: str) -> int:
    return parse_date(text)


@pytest.mark.parametrize(
    ("start", "unit", "amount", "expected"),
    [
        ("2024-01-31T10:00:00Z", DateUnit.MONTHS, 1, "2024-02-29T10:00:00.000Z"),
        ("2023-01-31T10:00:00Z", DateUnit.MONTHS, 1, "2023-02-28T10:00:00.000Z"),
        ("2024-03-31T00:00:00Z", DateUnit.MONTHS, -1, "2024-02-29T00:00:00.000Z"),
        ("2024-12-15T00:00:00Z", DateUnit.MONTHS, 1, "2025-01-15T00:00:00.000Z"),
        ("2024-01-15T00:00:00Z", DateUnit.MONTHS, -13, "2022-12-15T00:00:00.000Z"),
        ("2024-02-29T00:00:00Z", DateUnit.YEARS, 1, "2025-02-28T00:00:00.000Z"),
        ("2024-02-29T00:00:00Z", DateUnit.YEARS, 4, "2028-02-29T00:00:00.000Z"),
        ("2024-01-31T00:00:00Z", DateUnit.YEARS, 0.25, "2024-04-30T00:00:00.000Z"),
        ("2024-01-31T00:00:00Z", DateUnit.MONTHS, 1.5, "2024-03-31T00:00:00.000Z"),
        ("2024-01-31T00:00:00Z", DateUnit.MONTHS, 1.4, "2024-02-29T00:00:00.000Z"),
        ("2024-03-09T12:00:00Z", DateUnit.DAYS, 1, "2024-03-10T12:00:00.000Z"),
        ("2024-03-09T12:00:00Z", DateUnit.DAYS, -0.5, "2024-03-09T12:00:00.000Z"),
        ("2024-03-09T12:00:00Z", DateUnit.DAYS, 0.5, "2024-03-10T12:00:00.000Z"),
        ("2024-03-09T12:00:00Z", DateUnit.WEEKS, 2, "2024-03-23T12:00:00.000Z"),
        ("2024-03-09T12:00:00Z", DateUnit.HOURS, 0.25, "2024-03-09T12:15:00.000Z"),
        ("2024-03-09T12:00:00Z", DateUnit.MINUTES, -90, "2024-03-09T10:30:00.000Z"),
        ("2024-03-09T12:00:00Z", DateUnit.SECONDS, 1.0006, "2024-03-09T12:00:01.001Z"),
        ("1969-12-31T23:00:00Z", DateUnit.MONTHS, 1, "1970-01-31T23:00:00.000Z"),
    ],
)
def test_shift(start: str, unit: DateUnit, amount: float, expected: str) -> None:
    result = shift(d(start), unit, amount)
    assert result is not None and iso(result) == expected


def test_shifts_out_of_range_are_empty() -> None:
    assert shift(MAX_DATE_MS, DateUnit.SECONDS, 1) is None
    assert shift(MIN_DATE_MS, DateUnit.DAYS, -1) is None
    assert shift(d("9999-12-01"), DateUnit.MONTHS, 1) is None
    assert add_months(d("0001-01-15"), -1) is None


def test_fixed_steps_are_what_sql_adds() -> None:
    assert shift_ms(DateUnit.DAYS, 1.5) == 2 * 86_400_000
    assert shift_ms(DateUnit.HOURS, -1) == -3_600_000
    assert shift_ms(DateUnit.MONTHS, 1) is None
    assert js_round(-0.5) == 0 and js_round(0.5) == 1 and js_round(-1.5) == -1


@pytest.mark.parametrize(
    ("when", "pattern", "expected"),
    [
        ("2024-03-04T14:38:27.880Z", "ISO", "2024-03-04T14:38:27.880Z"),
        ("2024-03-04T14:38:27.880Z", "yyyy-mm-dd", "2024-03-04"),
        ("2024-03-04T14:38:27.880Z", "m/d/yy", "3/4/24"),
        ("2024-03-04T14:38:27.880Z", "dddd, mmmm d", "Monday, March 4"),
        ("2024-03-04T14:38:27.880Z", "ddd mmm dd", "Mon Mar 04"),
        ("2024-03-04T14:38:27.880Z", "HH:ii:ss", "14:38:27"),
        ("2024-03-04T14:38:27.880Z", "h:ii a", "2:38 pm"),
        ("2024-03-04T00:05:00Z", "hh:ii A", "12:05 AM"),
        ("2024-03-04T12:05:00Z", "h a", "12 pm"),
        ("2024-03-04T09:05:00Z", "H", "9"),
        ("2024-03-04T09:05:00Z", "'at' HH'h'", "at 09h"),
        ("2024-03-04T09:05:00Z", "yyyy/mm/dd - ", "2024/03/04 - "),
    ],
)
def test_formats(when: str, pattern: str, expected: str) -> None:
    assert format_date(d(when), pattern) == expected
