"""Calendar math for recurring events (bubble-semantics.md §2.7): pure functions, no I/O.

Occurrences are computed from the series' start, never by adding a period to the previous
occurrence, so month ends clamp the way calendars do and never drift: a monthly series from
Jan 31 runs on Feb 28 (29 in leap years), Mar 31, Apr 30, ...; a yearly series from Feb 29
runs on Feb 28 in other years. The wall-clock time is kept in the start's timezone across
daylight-saving changes (09:00 Europe/Paris stays 09:00 local, so the UTC instant moves by an
hour). A local time that does not exist on a given day (in the spring-forward gap) is moved
forward by the gap (02:30 → 03:30); an ambiguous one (in the autumn fold) is the first of
the two.

Bubble's frequency *None* cancels a series: that is the caller's business, not a frequency.
"""

from __future__ import annotations

import calendar
import enum
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo


class Frequency(enum.Enum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


_DAYS = {Frequency.DAILY: 1, Frequency.WEEKLY: 7}
_MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.YEARLY: 12}


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a timezone)")
    return value


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _at_wall_clock(day: date, start: datetime) -> datetime:
    """`start`'s local time of day on `day`, in its zone, as a real instant."""
    assert start.tzinfo is not None
    local = datetime.combine(day, start.timetz().replace(fold=0))
    # Through UTC and back: a time in a DST gap becomes the instant it would name with the
    # offset before the change (i.e. moved forward by the gap).
    return local.astimezone(UTC).astimezone(start.tzinfo)


def occurrence(start: datetime, frequency: Frequency, k: int) -> datetime:
    """The `k`-th occurrence of a series (`k = 0` is `start` itself), in `start`'s timezone."""
    _aware(start, "start")
    if k < 0:
        raise ValueError("k must not be negative")
    if k == 0:
        return start
    day = start.date()
    if frequency in _DAYS:
        day = day + timedelta(days=_DAYS[frequency] * k)
    else:
        day = _add_months(day, _MONTHS[frequency] * k)
    return _at_wall_clock(day, start)


def _estimate(start: datetime, frequency: Frequency, now: datetime) -> int:
    local = now.astimezone(start.tzinfo)
    if frequency in _DAYS:
        return (local.date() - start.date()).days // _DAYS[frequency]
    months = (local.year - start.year) * 12 + (local.month - start.month)
    return months // _MONTHS[frequency]


def _instant(value: datetime) -> datetime:
    """For comparing: Python compares two datetimes of the same zone by wall-clock time,
    which is wrong in the hour that repeats when the clocks go back."""
    return value.astimezone(UTC)


def next_after(start: datetime, frequency: Frequency, now: datetime) -> datetime:
    """The first occurrence strictly after `now` (`start` itself when it is after `now`)."""
    _aware(start, "start")
    limit = _instant(_aware(now, "now"))
    if _instant(start) > limit:
        return start
    k = max(_estimate(start, frequency, now), 0)
    while k > 0 and _instant(occurrence(start, frequency, k - 1)) > limit:
        k -= 1
    while _instant(occurrence(start, frequency, k)) <= limit:
        k += 1
    return occurrence(start, frequency, k)


def restart(existing_next: datetime, new_start: datetime, frequency: Frequency) -> datetime:
    """When a re-set series first runs (Bubble: "If the action is re-run on a thing already
    scheduled, the new start date must be after the original next-run date, otherwise it is
    pushed back one period").

    Interpretation: when `new_start` is at or before `existing_next` (the series' next run
    before the change), the first run is `new_start` pushed back by exactly one period,
    `occurrence(new_start, frequency, 1)` — even if that is still not after `existing_next`;
    otherwise it is `new_start`. The series stays anchored on `new_start`, so later
    occurrences are counted from it (a Jan 31 monthly start pushed back runs Feb 28, then
    Mar 31).
    """
    _aware(existing_next, "existing_next")
    if _instant(_aware(new_start, "new_start")) <= _instant(existing_next):
        return occurrence(new_start, frequency, 1)
    return new_start


# --- instants and zones, as the queue stores them --------------------------------------------


def zone_name(zone: tzinfo | None) -> str:
    """The IANA name to store for a series' timezone (UTC for `datetime.UTC`)."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    if zone is not None and zone.utcoffset(None) == timedelta(0) and zone.tzname(None) == "UTC":
        return "UTC"
    raise ValueError("a recurring series needs a zoneinfo.ZoneInfo timezone (or UTC)")


def to_ms(value: datetime) -> int:
    """An aware datetime as ms since the epoch."""
    _aware(value, "value")
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return delta // timedelta(milliseconds=1)


def from_ms(ms: int, zone: str = "UTC") -> datetime:
    """ms since the epoch as an aware datetime in the named zone."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).astimezone(
        ZoneInfo(zone)
    )
