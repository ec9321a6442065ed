from __future__ import annotations

import math
import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from burble.values import (
    MAX_DATE_MS,
    MIN_DATE_MS,
    Address,
    NotParseable,
    format_date,
    format_date_range,
    format_number,
    format_number_range,
    is_unique_id,
    new_unique_id,
    now_ms,
    parse_address,
    parse_date,
    parse_date_range,
    parse_number,
    parse_number_range,
    parse_text,
    parse_yes_no,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_of(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    *,
    offset_minutes: int = 0,
) -> int:
    """Reference conversion through datetime."""
    dt = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    dt -= timedelta(minutes=offset_minutes)
    return (dt - EPOCH) // timedelta(milliseconds=1)


# --------------------------------------------------------------------------- NotParseable


def test_not_parseable_is_value_error() -> None:
    assert issubclass(NotParseable, ValueError)
    exc = NotParseable("date")
    assert exc.expected == "date"
    assert "date" in str(exc)


# --------------------------------------------------------------------------- unique ids

UNIQUE_ID_RE = re.compile(r"^\d{13}x\d{18}$")


def test_new_unique_id_shape_and_distinct() -> None:
    ids = [new_unique_id() for _ in range(1000)]
    assert all(UNIQUE_ID_RE.match(i) for i in ids)
    assert len(set(ids)) == 1000
    assert all(is_unique_id(i) for i in ids)


def test_new_unique_id_random_digits_are_spread() -> None:
    # 18 random digits, uniform: every leading digit turns up, none dominates.
    leading = Counter(new_unique_id(0)[14] for _ in range(5000))
    assert set(leading) == set("0123456789")
    assert max(leading.values()) < 700  # 500 expected for each


def test_new_unique_id_differs_after_fork() -> None:
    # The random bytes are read ahead per thread: a forked child must not reuse the parent's.
    new_unique_id(0)  # the buffer is filled
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        os.write(write, ",".join(new_unique_id(0) for _ in range(20)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split(",")
    os.waitpid(pid, 0)
    parent = [new_unique_id(0) for _ in range(20)]
    assert len(child) == 20
    assert not set(child) & set(parent)


def test_new_unique_id_distinct_across_threads() -> None:
    def make() -> list[str]:
        return [new_unique_id(0) for _ in range(2000)]

    with ThreadPoolExecutor(4) as pool:
        ids = [i for batch in pool.map(lambda _: make(), range(4)) for i in batch]
    assert len(set(ids)) == 8000


def test_new_unique_id_uses_given_time() -> None:
    uid = new_unique_id(1449154312665)
    assert uid.startswith("1449154312665x")
    assert UNIQUE_ID_RE.match(uid)


def test_new_unique_id_timestamp_is_now() -> None:
    before = now_ms()
    ts = int(new_unique_id().split("x")[0])
    after = now_ms()
    assert before <= ts <= after


def test_now_ms() -> None:
    a = now_ms()
    assert isinstance(a, int)
    assert abs(a - int(datetime.now(UTC).timestamp() * 1000)) < 5000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1449154312665x293260311940684900", True),
        ("1x2", True),
        ("12345x", False),
        ("x12345", False),
        ("1449154312665X293260311940684900", False),
        ("1449154312665x2932603119406849a0", False),
        ("1449154312665x293260311940684900\n", False),
        (" 1x2", False),
        ("", False),
        (1449154312665, False),
        (None, False),
    ],
)
def test_is_unique_id(value: object, expected: bool) -> None:
    assert is_unique_id(value) is expected


# --------------------------------------------------------------------------- dates

DATE_CASES: list[tuple[object, int]] = [
    # timestamps
    (1453398788637, 1453398788637),
    (0, 0),
    (-1, -1),
    (1453398788637.0, 1453398788637),
    (1453398788637.4, 1453398788637),
    (1453398788637.6, 1453398788638),
    ("1453398788637", 1453398788637),
    (" 1453398788637 ", 1453398788637),
    ("-86400000", -86400000),
    ("0", 0),
    # ISO 8601
    ("2024-01-02", ms_of(2024, 1, 2)),
    ("2024-01-02T03:04:05", ms_of(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02T03:04:05Z", ms_of(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02t03:04:05z", ms_of(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02 03:04:05", ms_of(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02T03:04", ms_of(2024, 1, 2, 3, 4)),
    ("2024-01-02T03:04:05.000000Z", 1704164645000),
    ("2024-01-02T03:04:05.1Z", 1704164645100),
    ("2024-01-02T03:04:05.12Z", 1704164645120),
    ("2024-01-02T03:04:05.880Z", 1704164645880),
    ("2024-01-02T03:04:05.8809Z", 1704164645880),
    ("2024-01-02T03:04:05.123456789Z", 1704164645123),
    ("2024-01-02T03:04:05,5Z", 1704164645500),
    ("2024-03-04T14:38:27.880Z", 1709563107880),
    ("2024-01-02T03:04:05+05:00", ms_of(2024, 1, 2, 3, 4, 5, offset_minutes=300)),
    ("2024-01-02T03:04:05+0500", ms_of(2024, 1, 2, 3, 4, 5, offset_minutes=300)),
    ("2024-01-02T03:04:05-05", ms_of(2024, 1, 2, 3, 4, 5, offset_minutes=-300)),
    ("2024-01-02T03:04:05.250-05:30", ms_of(2024, 1, 2, 3, 4, 5, offset_minutes=-330) + 250),
    ("2024-01-02 03:04:05 +01:00", ms_of(2024, 1, 2, 3, 4, 5, offset_minutes=60)),
    ("  2024-01-02T03:04:05Z\n", ms_of(2024, 1, 2, 3, 4, 5)),
    ("2024-02-29", ms_of(2024, 2, 29)),
    ("1969-12-31T23:59:59.999Z", -1),
    ("1900-01-01T00:00:00.000Z", ms_of(1900, 1, 1)),
    ("0001-01-01T00:00:00.000Z", MIN_DATE_MS),
    ("9999-12-31T23:59:59.999Z", MAX_DATE_MS),
    # textual forms -> midnight UTC
    ("Wed Jan 13 2016", 1452643200000),
    ("Jan 13 2016", 1452643200000),
    ("jan 13 2016", 1452643200000),
    ("January 13, 2016", 1452643200000),
    ("Wednesday, Jan 13 2016", 1452643200000),
    ("Sept 1 2016", ms_of(2016, 9, 1)),
    ("01/13/2016", 1452643200000),
    ("1/3/2016", ms_of(2016, 1, 3)),
    # JavaScript Date.toString()
    ("Wed Jan 13 2016 16:45:09 GMT-0500 (EST)", 1452721509000),
    ("Wed Jan 13 2016 16:45:09 GMT-0500 (Eastern Standard Time)", 1452721509000),
    ("Wed Jan 13 2016 16:45:09 GMT-0500", 1452721509000),
    ("Wed Jan 13 2016 22:45:09 GMT+0100 (CET)", 1452721509000),
    ("Wed Jan 13 2016 21:45:09 GMT", 1452721509000),
    ("Wed Jan 13 2016 21:45:09", 1452721509000),
    ("Jan 13 2016 21:45", 1452721500000),
    # JavaScript Date.toUTCString() / RFC 1123
    ("Wed, 13 Jan 2016 21:45:09 GMT", 1452721509000),
    ("13 Jan 2016", 1452643200000),
]


@pytest.mark.parametrize(("value", "expected"), DATE_CASES)
def test_parse_date(value: object, expected: int) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        {},
        [],
        {"date": "2024-01-02"},
        [2024, 1, 2],
        "",
        "   ",
        "hello",
        "2024-13-45",
        "2024-02-30",
        "2023-02-29",
        "2024-00-10",
        "0000-01-01",
        "2024-01-02T24:00:00Z",
        "2024-01-02T23:60:00Z",
        "2024-01-02T23:59:60Z",
        "2024-01-02T03:04:05.1234567890Z",
        "2024-01-02T03:04:05+25:00",
        "2024-01-02T03:04:05+05:70",
        "2024-01-02T03:04:05 GMT",
        "2024-1-2",
        "2024-01-02T",
        "2024-01-02Z",
        "13/13/2016",
        "02/30/2016",
        "Foo Jan 13 2016",
        "Wed Foo 13 2016",
        "Wed Jan 32 2016",
        "Wed Jan 13 2016 25:00:00 GMT",
        "1.5",
        "1e3",
        "\u0662\u0660\u0662\u0664-01-02",
        "\u0661\u0662\u0663",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59.999-00:01",
        MIN_DATE_MS - 1,
        MAX_DATE_MS + 1,
        str(MAX_DATE_MS + 1),
        "9" * 40,
        math.nan,
        math.inf,
        -math.inf,
        1e300,
    ],
)
def test_parse_date_rejects(value: object) -> None:
    with pytest.raises(NotParseable) as info:
        parse_date(value)
    assert info.value.expected == "date"


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (1709563107880, "2024-03-04T14:38:27.880Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-1000, "1969-12-31T23:59:59.000Z"),
        (-86400000, "1969-12-31T00:00:00.000Z"),
        (-86400001, "1969-12-30T23:59:59.999Z"),
        (1452721509000, "2016-01-13T21:45:09.000Z"),
        (MIN_DATE_MS, "0001-01-01T00:00:00.000Z"),
        (MAX_DATE_MS, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_format_date(ms: int, expected: str) -> None:
    assert format_date(ms) == expected
    assert parse_date(expected) == ms


@pytest.mark.parametrize("ms", [MIN_DATE_MS - 1, MAX_DATE_MS + 1])
def test_format_date_out_of_range(ms: int) -> None:
    with pytest.raises(ValueError):
        format_date(ms)


@pytest.mark.parametrize(
    "ms", [-1, -999, -1001, -2208988800000, -2208988800001, -62135596800000, -12345678901234]
)
def test_pre_1970_round_trip(ms: int) -> None:
    assert parse_date(format_date(ms)) == ms
    assert parse_date(ms) == ms
    assert parse_date(str(ms)) == ms


@given(st.integers(min_value=MIN_DATE_MS, max_value=MAX_DATE_MS))
def test_format_parse_round_trip(ms: int) -> None:
    text = format_date(ms)
    assert parse_date(text) == ms
    reference = EPOCH + timedelta(milliseconds=ms)
    assert text == reference.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5.0),
        (-3, -3.0),
        (2.5, 2.5),
        (0.0, 0.0),
        ("5", 5.0),
        (" 3.25 ", 3.25),
        ("-1e3", -1000.0),
        ("+7", 7.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1E-2", 0.01),
        ("-0", -0.0),
    ],
)
def test_parse_number(value: object, expected: float) -> None:
    result = parse_number(value)
    assert isinstance(result, float)
    assert result == expected


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        None,
        [],
        {},
        "",
        "  ",
        "abc",
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "1_000",
        "1,000",
        "0x10",
        "1e999",
        "5 5",
        "\u0665",
        math.nan,
        math.inf,
        -math.inf,
        10**400,
    ],
)
def test_parse_number_rejects(value: object) -> None:
    with pytest.raises(NotParseable) as info:
        parse_number(value)
    assert info.value.expected == "number"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5.0, 5),
        (-5.0, -5),
        (0.0, 0),
        (-0.0, 0),
        (2.5, 2.5),
        (float(2**53), 2**53),
        (float(-(2**53)), -(2**53)),
        (float(2**54), float(2**54)),
        (1e300, 1e300),
        (7, 7),
    ],
)
def test_format_number(value: float, expected: float) -> None:
    result = format_number(value)
    assert result == expected
    assert type(result) is type(expected)


# --------------------------------------------------------------------------- yes / no


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("yes", True),
        (" Yes ", True),
        ("false", False),
        ("FALSE", False),
        ("no", False),
        ("No", False),
        (1, True),
        (0, False),
        (1.0, True),
        (0.0, False),
    ],
)
def test_parse_yes_no(value: object, expected: bool) -> None:
    assert parse_yes_no(value) is expected


@pytest.mark.parametrize(
    "value", [None, "", "y", "n", "1", "0", "maybe", 2, -1, 0.5, [], {}, math.nan]
)
def test_parse_yes_no_rejects(value: object) -> None:
    with pytest.raises(NotParseable) as info:
        parse_yes_no(value)
    assert info.value.expected == "yes / no"


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", "hello"),
        ("", ""),
        ("  spaced  ", "  spaced  "),
        (5, "5"),
        (-5, "-5"),
        (2.5, "2.5"),
        (5.0, "5"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (1e-6, "0.000001"),
        (1.5e-7, "1.5e-7"),
        (-2.5e-7, "-2.5e-7"),
        (123.456, "123.456"),
        (0.000123, "0.000123"),
        (2**60, str(2**60)),
    ],
)
def test_parse_text(value: object, expected: str) -> None:
    assert parse_text(value) == expected


@pytest.mark.parametrize("value", [True, False, None, {}, [], ["a"], {"a": 1}, math.nan, math.inf])
def test_parse_text_rejects(value: object) -> None:
    with pytest.raises(NotParseable) as info:
        parse_text(value)
    assert info.value.expected == "text"


# --------------------------------------------------------------------------- ranges


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"start": 1, "end": 5}, (1.0, 5.0)),
        ({"start": "1.5", "end": " 2 ", "extra": 0}, (1.5, 2.0)),
        ([1, 5], (1.0, 5.0)),
        ((3, 3), (3.0, 3.0)),
        ([-10, "-1e0"], (-10.0, -1.0)),
    ],
)
def test_parse_number_range(value: object, expected: tuple[float, float]) -> None:
    assert parse_number_range(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        5,
        "1-5",
        [],
        [1],
        [1, 2, 3],
        {"start": 1},
        {"end": 1},
        {"start": 5, "end": 1},
        [5, 1],
        [1, "x"],
        [True, 2],
        {"start": None, "end": 1},
    ],
)
def test_parse_number_range_rejects(value: object) -> None:
    with pytest.raises(NotParseable) as info:
        parse_number_range(value)
    assert info.value.expected == "numeric range"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"start": "2024-01-02", "end": "2024-01-03T00:00:00Z"},
            (ms_of(2024, 1, 2), ms_of(2024, 1, 3)),
        ),
        ([0, 1000], (0, 1000)),
        (["1969-12-31", "01/13/2016"], (-86400000, 1452643200000)),
        ({"start": 5, "end": 5}, (5, 5)),
    ],
)
def test_parse_date_range(value: object, expected: tuple[int, int]) -> None:
    assert parse_date_range(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "2024-01-02",
        [],
        ["2024-01-02"],
        {"start": "2024-01-02"},
        {"start": "2024-01-03", "end": "2024-01-02"},
        [1000, 0],
        ["2024-01-02", "hello"],
        [None, 0],
    ],
)
def test_parse_date_range_rejects(value: object) -> None:
    with pytest.raises(NotParseable) as info:
        parse_date_range(value)
    assert info.value.expected == "date range"


def test_format_ranges() -> None:
    assert format_number_range((1.0, 2.5)) == {"start": 1, "end": 2.5}
    assert type(format_number_range((1.0, 2.5))["start"]) is int
    assert format_date_range((-1, 1709563107880)) == {
        "start": "1969-12-31T23:59:59.999Z",
        "end": "2024-03-04T14:38:27.880Z",
    }


def test_range_round_trips() -> None:
    r = parse_date_range(format_date_range((-5, 1709563107880)))
    assert r == (-5, 1709563107880)
    assert parse_number_range(format_number_range((-1.5, 3.0))) == (-1.5, 3.0)


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  10 Downing St, London ", Address("10 Downing St, London", None, None)),
        ({"address": "Paris"}, Address("Paris", None, None)),
        ({"address": " Paris ", "lat": 48.85, "lng": 2.35}, Address("Paris", 48.85, 2.35)),
        ({"lat": 48.85, "lng": 2.35}, Address(None, 48.85, 2.35)),
        ({"lat": "48.85", "lng": " -2.35 "}, Address(None, 48.85, -2.35)),
        ({"lat": 90, "lng": -180}, Address(None, 90.0, -180.0)),
        ({"lat": -90, "lng": 180, "foo": "bar"}, Address(None, -90.0, 180.0)),
        ({"address": "", "lat": 0, "lng": 0}, Address(None, 0.0, 0.0)),
        ({"address": "X", "lat": None, "lng": None}, Address("X", None, None)),
    ],
)
def test_parse_address(value: object, expected: Address) -> None:
    assert parse_address(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        5,
        True,
        [],
        ["Paris"],
        {},
        {"foo": "bar"},
        {"address": ""},
        {"address": 5},
        {"lat": 1},
        {"lng": 1},
        {"address": "Paris", "lat": 1},
        {"lat": 91, "lng": 0},
        {"lat": -91, "lng": 0},
        {"lat": 0, "lng": 180.5},
        {"lat": 0, "lng": -181},
        {"lat": "north", "lng": 0},
        {"lat": True, "lng": 0},
        {"lat": math.nan, "lng": 0},
    ],
)
def test_parse_address_rejects(value: object) -> None:
    with pytest.raises(NotParseable) as info:
        parse_address(value)
    assert info.value.expected == "geographic address"


def test_address_to_json() -> None:
    assert Address("Paris", 48.85, 2.35).to_json() == {
        "address": "Paris",
        "lat": 48.85,
        "lng": 2.35,
    }
    assert Address("Paris", None, None).to_json() == {"address": "Paris"}
    assert Address(None, 1.0, 2.0).to_json() == {"lat": 1.0, "lng": 2.0}
    assert parse_address(Address("Paris", 1.0, 2.0).to_json()) == Address("Paris", 1.0, 2.0)


def test_address_is_frozen() -> None:
    a = Address("Paris", None, None)
    with pytest.raises(AttributeError):
        a.address = "London"  # type: ignore[misc,unused-ignore]
