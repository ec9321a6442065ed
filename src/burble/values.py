"""Parsing and formatting of Bubble field values (dates, numbers, ranges, addresses, ids).

Everything here is pure and standard-library only; these helpers sit on hot request paths.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

__all__ = [
    "Address",
    "NotParseable",
    "format_date",
    "format_date_range",
    "format_number",
    "format_number_range",
    "is_unique_id",
    "new_unique_id",
    "now_ms",
    "parse_address",
    "parse_date",
    "parse_date_range",
    "parse_number",
    "parse_number_range",
    "parse_text",
    "parse_yes_no",
]


class NotParseable(ValueError):
    """A value that cannot be read as the wanted type.

    `expected` is the human type name used in Bubble's message ("date", "number", ...).
    """

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected

    def __str__(self) -> str:
        return f"value cannot be parsed as {self.expected}"


# --------------------------------------------------------------------------- unique ids

_UNIQUE_ID_RE = re.compile(r"[0-9]+x[0-9]+")
_RANDOM_LIMIT = 10**18


def now_ms() -> int:
    """Current UTC time in integer milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


class _Entropy(threading.local):
    """Bytes from the operating system's random source, read 4 KiB at a time per thread:
    one `urandom` call per 500 ids instead of one per id (a bulk create makes 1,000). A
    child process after `fork` starts afresh, never reusing its parent's bytes."""

    SIZE = 4096

    def __init__(self) -> None:
        self.buffer = b""
        self.used = 0
        self.generation = -1

    def below(self, limit: int) -> int:
        """A uniformly random integer in [0, `limit`) for `limit` < 2**64."""
        accept = (1 << 64) // limit * limit  # beyond it, `% limit` would favour small numbers
        while True:
            if self.used + 8 > len(self.buffer) or self.generation != _fork_generation:
                self.buffer, self.used, self.generation = os.urandom(self.SIZE), 0, _fork_generation
            n = int.from_bytes(self.buffer[self.used : self.used + 8], "big")
            self.used += 8
            if n < accept:
                return n % limit


_fork_generation = 0


def _forked() -> None:
    global _fork_generation
    _fork_generation += 1


os.register_at_fork(after_in_child=_forked)
_entropy = _Entropy()


def new_unique_id(now_ms: int | None = None) -> str:
    """A Bubble unique id: ``<13-digit ms timestamp>x<18 random digits>``."""
    ts = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    if ts < 0:
        raise ValueError("unique id timestamp must not be negative")
    return f"{ts:013d}x{_entropy.below(_RANDOM_LIMIT):018d}"


def is_unique_id(value: object) -> bool:
    """True iff `value` is a str shaped like a Bubble unique id (digits ``x`` digits)."""
    return isinstance(value, str) and _UNIQUE_ID_RE.fullmatch(value) is not None


# --------------------------------------------------------------------------- dates

_MS_PER_DAY = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MIN_DATE_MS = (1 - _EPOCH_ORDINAL) * _MS_PER_DAY  # 0001-01-01T00:00:00.000Z
# 9999-12-31T23:59:59.999Z
MAX_DATE_MS = (date.max.toordinal() + 1 - _EPOCH_ORDINAL) * _MS_PER_DAY - 1

_ISO_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r" ?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?",
    re.ASCII,
)
_INT_RE = re.compile(r"-?\d{1,20}", re.ASCII)
_US_RE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
# Time part shared by the textual forms: "16:45:09 GMT-0500 (EST)", "16:45:09 GMT", "16:45".
_TIME_TAIL = (
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(?:\s*(?:GMT|UTC|Z)?(?:([+-])(\d{2}):?(\d{2}))?)?"
    r"(?:\s*\([^()]*\))?)?"
)
# "Wed Jan 13 2016 ...", "Jan 13, 2016" (month first, JS Date.toString)
_TEXT_MDY_RE = re.compile(
    r"(?:([a-z]+),?\s+)?([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})" + _TIME_TAIL, re.IGNORECASE | re.ASCII
)
# "Wed, 13 Jan 2016 21:45:09 GMT" (day first, JS Date.toUTCString / RFC 1123)
_TEXT_DMY_RE = re.compile(
    r"(?:([a-z]+),?\s+)?(\d{1,2})\s+([a-z]+)\.?,?\s+(\d{4})" + _TIME_TAIL, re.IGNORECASE | re.ASCII
)

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTHS = {n: i for i, full in enumerate(_MONTH_NAMES, 1) for n in (full, full[:3])}
_MONTHS["sept"] = 9
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS = frozenset(n for full in _DAY_NAMES for n in (full, full[:3]))


def _to_ms(
    year: int, month: int, day: int, hour: int, minute: int, second: int, milli: int, offset: int
) -> int:
    """Civil date-time at UTC offset `offset` (minutes) -> epoch ms; raises NotParseable."""
    if hour > 23 or minute > 59 or second > 59:
        raise NotParseable("date")
    try:
        ordinal = date(year, month, day).toordinal()
    except ValueError:
        raise NotParseable("date") from None
    total = (
        (ordinal - _EPOCH_ORDINAL) * _MS_PER_DAY
        + ((hour * 60 + minute) * 60 + second) * 1000
        + milli
        - offset * 60_000
    )
    if total < MIN_DATE_MS or total > MAX_DATE_MS:
        raise NotParseable("date")
    return total


def _offset(sign: str | None, hours: str | None, minutes: str | None) -> int:
    if not sign:
        return 0
    h = int(hours or 0)
    m = int(minutes or 0)
    if h > 23 or m > 59:
        raise NotParseable("date")
    total = h * 60 + m
    return -total if sign == "-" else total


def _millis(fraction: str | None) -> int:
    # Extra precision beyond milliseconds is truncated, as JavaScript's Date.parse does.
    return int((fraction + "00")[:3]) if fraction else 0


def _check_ms(ms: int) -> int:
    if ms < MIN_DATE_MS or ms > MAX_DATE_MS:
        raise NotParseable("date")
    return ms


def parse_date(value: object) -> int:
    """Read a Bubble date (timestamp, ISO 8601, US or JavaScript text form) as epoch ms, UTC."""
    if isinstance(value, str):
        s = value.strip()
        m = _ISO_RE.fullmatch(s)
        if m is not None:
            y, mo, d, h, mi, sec, frac, z, sign, oh, om = m.groups()
            if h is None:
                return _to_ms(int(y), int(mo), int(d), 0, 0, 0, 0, 0)
            return _to_ms(
                int(y),
                int(mo),
                int(d),
                int(h),
                int(mi),
                int(sec or 0),
                _millis(frac),
                0 if z else _offset(sign, oh, om),
            )
        if _INT_RE.fullmatch(s):
            return _check_ms(int(s))
        m = _US_RE.fullmatch(s)
        if m is not None:
            return _to_ms(int(m[3]), int(m[1]), int(m[2]), 0, 0, 0, 0, 0)
        m = _TEXT_MDY_RE.fullmatch(s)
        if m is not None:
            wd, mon, d, y = m.group(1, 2, 3, 4)
        else:
            m = _TEXT_DMY_RE.fullmatch(s)
            if m is None:
                raise NotParseable("date")
            wd, d, mon, y = m.group(1, 2, 3, 4)
        month = _MONTHS.get(mon.lower())
        if month is None or (wd is not None and wd.lower() not in _WEEKDAYS):
            raise NotParseable("date")
        h, mi, sec, frac, sign, oh, om = m.group(5, 6, 7, 8, 9, 10, 11)
        return _to_ms(
            int(y),
            month,
            int(d),
            int(h or 0),
            int(mi or 0),
            int(sec or 0),
            _millis(frac),
            _offset(sign, oh, om),
        )
    if isinstance(value, bool):
        raise NotParseable("date")
    if isinstance(value, int):
        return _check_ms(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotParseable("date")
        return _check_ms(round(value))
    raise NotParseable("date")


# format_date runs twice per thing on every read: the date part is cached per day and the
# time of day is put together from precomputed pieces (4x faster than formatting it all).
_HOURS_MINUTES = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SECONDS = tuple(f"{s:02d}." for s in range(60))
_MILLIS = tuple(f"{m:03d}Z" for m in range(1000))


@lru_cache(maxsize=4096)
def _day_prefix(days: int) -> str:
    """``YYYY-MM-DDT`` of the day `days` after 1970-01-01 (ValueError outside years 1-9999)."""
    d = date.fromordinal(days + _EPOCH_ORDINAL)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T"


def format_date(ms: int) -> str:
    """Epoch ms -> API 1.1 ISO string, e.g. ``2024-03-04T14:38:27.880Z``.

    Raises ValueError outside years 1-9999.
    """
    if type(ms) is not int:  # bool, float...: the general path (same results, same errors)
        return _format_date_any(ms)
    days, rem = divmod(ms, _MS_PER_DAY)
    secs, milli = divmod(rem, 1000)
    mins, sec = divmod(secs, 60)
    return _day_prefix(days) + _HOURS_MINUTES[mins] + _SECONDS[sec] + _MILLIS[milli]


def _format_date_any(ms: int) -> str:
    days, rem = divmod(ms, _MS_PER_DAY)
    d = date.fromordinal(days + _EPOCH_ORDINAL)
    secs, milli = divmod(rem, 1000)
    mins, sec = divmod(secs, 60)
    hour, minute = divmod(mins, 60)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{hour:02d}:{minute:02d}:{sec:02d}.{milli:03d}Z"


# --------------------------------------------------------------------------- numbers

_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_MAX_SAFE = 2**53


def parse_number(value: object) -> float:
    """int/float or a numeric string -> float; NaN, infinities, bools and others raise."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            pass
    elif isinstance(value, str):
        s = value.strip()
        if _NUMBER_RE.fullmatch(s):
            f = float(s)
            if math.isfinite(f):
                return f
    raise NotParseable("number")


def format_number(value: float) -> int | float:
    """Integral floats within +-2**53 become int (JSON shows 5, not 5.0); others unchanged."""
    if isinstance(value, float) and value.is_integer() and -_MAX_SAFE <= value <= _MAX_SAFE:
        return int(value)
    return value


def _js_number(value: float) -> str:
    """Render a finite float the way JavaScript's Number.prototype.toString does."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    r = repr(abs(value))
    mantissa, _, exp = r.partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    n = len(int_part) + (int(exp) if exp else 0)  # decimal point position
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{head}e{'+' if e >= 0 else '-'}{abs(e)}"


# --------------------------------------------------------------------------- yes / no, text

_YES_NO = {"true": True, "yes": True, "false": False, "no": False}


def parse_yes_no(value: object) -> bool:
    """Booleans, "true"/"false"/"yes"/"no" (any case) and the numbers 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        result = _YES_NO.get(value.strip().lower())
        if result is not None:
            return result
    elif isinstance(value, int | float) and (value == 1 or value == 0):
        return value == 1
    raise NotParseable("yes / no")


def parse_text(value: object) -> str:
    """str as-is; numbers rendered as JSON/JavaScript writes them (5.0 -> "5")."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise NotParseable("text")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return _js_number(value)
    raise NotParseable("text")


# --------------------------------------------------------------------------- ranges


def _range_parts(value: object, expected: str) -> tuple[object, object]:
    if isinstance(value, dict):
        if "start" in value and "end" in value:
            return value["start"], value["end"]
    elif isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    raise NotParseable(expected)


def parse_number_range(value: object) -> tuple[float, float]:
    """``{"start": a, "end": b}`` or ``[a, b]`` of numbers, with start <= end."""
    a, b = _range_parts(value, "numeric range")
    try:
        start, end = parse_number(a), parse_number(b)
    except NotParseable:
        raise NotParseable("numeric range") from None
    if start > end:
        raise NotParseable("numeric range")
    return start, end


def parse_date_range(value: object) -> tuple[int, int]:
    """``{"start": a, "end": b}`` or ``[a, b]`` of dates, with start <= end."""
    a, b = _range_parts(value, "date range")
    try:
        start, end = parse_date(a), parse_date(b)
    except NotParseable:
        raise NotParseable("date range") from None
    if start > end:
        raise NotParseable("date range")
    return start, end


def format_number_range(value: tuple[float, float]) -> dict[str, int | float]:
    return {"start": format_number(value[0]), "end": format_number(value[1])}


def format_date_range(value: tuple[int, int]) -> dict[str, str]:
    return {"start": format_date(value[0]), "end": format_date(value[1])}


# --------------------------------------------------------------------------- addresses


@dataclass(frozen=True, slots=True)
class Address:
    address: str | None
    lat: float | None
    lng: float | None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.address is not None:
            out["address"] = self.address
        if self.lat is not None:
            out["lat"] = self.lat
        if self.lng is not None:
            out["lng"] = self.lng
        return out


def _coordinate(value: object, limit: float) -> float | None:
    if value is None:
        return None
    try:
        f = parse_number(value)
    except NotParseable:
        raise NotParseable("geographic address") from None
    if not -limit <= f <= limit:
        raise NotParseable("geographic address")
    return f


def parse_address(value: object) -> Address:
    """A non-empty string, or ``{address?, lat?, lng?}`` with an address or both coordinates."""
    if isinstance(value, str):
        s = value.strip()
        if s:
            return Address(s, None, None)
    elif isinstance(value, dict):
        text = value.get("address")
        if text is not None:
            if not isinstance(text, str):
                raise NotParseable("geographic address")
            text = text.strip() or None
        lat = _coordinate(value.get("lat"), 90.0)
        lng = _coordinate(value.get("lng"), 180.0)
        if (lat is None) != (lng is None):
            raise NotParseable("geographic address")
        if text is not None or lat is not None:
            return Address(text, lat, lng)
    raise NotParseable("geographic address")
