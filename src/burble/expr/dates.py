"""Date arithmetic and formatting for expressions, in UTC.

`+(seconds|minutes|hours)` add an exact duration (fractions round to the nearest ms);
`+(days|weeks|months|years)` are calendar steps (fractions round to the nearest whole step;
years count as 12 months), and a month step that lands past the end of a month clamps to its
last day (Jan 31 + 1 month = Feb 28/29), as in Bubble. Dates are epoch ms.
"""

from __future__ import annotations

import calendar
import math
import re
from datetime import date

from burble import values
from burble.expr.ast import DateUnit

MS_PER_DAY = 86_400_000
_EPOCH = date(1970, 1, 1).toordinal()
_ABSOLUTE = {DateUnit.SECONDS: 1000, DateUnit.MINUTES: 60_000, DateUnit.HOURS: 3_600_000}
FIXED_MS = {**_ABSOLUTE, DateUnit.DAYS: MS_PER_DAY, DateUnit.WEEKS: 7 * MS_PER_DAY}


def js_round(x: float) -> int:
    """Round half up, like JavaScript's Math.round."""
    return math.floor(x + 0.5)


def _in_range(ms: int) -> int | None:
    return ms if values.MIN_DATE_MS <= ms <= values.MAX_DATE_MS else None


def add_months(ms: int, months: int) -> int | None:
    days, rem = divmod(ms, MS_PER_DAY)
    d = date.fromordinal(days + _EPOCH)
    year, month0 = divmod(d.year * 12 + d.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        return None
    day = min(d.day, calendar.monthrange(year, month0 + 1)[1])
    return (date(year, month0 + 1, day).toordinal() - _EPOCH) * MS_PER_DAY + rem


def shift_ms(unit: DateUnit, amount: float) -> int | None:
    """The fixed number of ms `+(unit): amount` adds, or None for months and years."""
    if unit in _ABSOLUTE:
        return js_round(amount * _ABSOLUTE[unit])
    if unit in FIXED_MS:
        return js_round(amount) * FIXED_MS[unit]
    return None


def shift(ms: int, unit: DateUnit, amount: float) -> int | None:
    """`ms +(unit): amount`; None when the result is outside years 1–9999."""
    fixed = shift_ms(unit, amount)
    if fixed is not None:
        return _in_range(ms + fixed)
    months = js_round(amount) if unit is DateUnit.MONTHS else js_round(amount * 12)
    result = add_months(ms, months)
    return None if result is None else _in_range(result)


# --- :formatted as ------------------------------------------------------------------------

# English names, whatever the process locale.
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
]  # date.weekday()
_TOKEN = re.compile(r"'[^']*'|yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|HH|H|hh|h|ii|ss|a|A")


def format_date(ms: int, pattern: str) -> str:
    """Bubble-style custom formats (see docs/expressions.md), or `ISO` for ISO 8601 UTC."""
    if pattern.strip().upper() == "ISO":
        return values.format_date(ms)
    days, rem = divmod(ms, MS_PER_DAY)
    d = date.fromordinal(days + _EPOCH)
    secs = rem // 1000
    hour, minute, second = secs // 3600, secs // 60 % 60, secs % 60
    hour12 = hour % 12 or 12
    parts = {
        "yyyy": f"{d.year:04d}",
        "yy": f"{d.year % 100:02d}",
        "mmmm": _MONTHS[d.month - 1],
        "mmm": _MONTHS[d.month - 1][:3],
        "mm": f"{d.month:02d}",
        "m": str(d.month),
        "dddd": _DAYS[d.weekday()],
        "ddd": _DAYS[d.weekday()][:3],
        "dd": f"{d.day:02d}",
        "d": str(d.day),
        "HH": f"{hour:02d}",
        "H": str(hour),
        "hh": f"{hour12:02d}",
        "h": str(hour12),
        "ii": f"{minute:02d}",
        "ss": f"{second:02d}",
        "a": "am" if hour < 12 else "pm",
        "A": "AM" if hour < 12 else "PM",
    }

    def token(m: re.Match[str]) -> str:
        text = m.group()
        return text[1:-1] if text.startswith("'") else parts[text]

    return _TOKEN.sub(token, pattern)
