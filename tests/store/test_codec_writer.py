"""`TypeCodec.to_json`'s generated row writers give exactly what the loop over the readers
followed by `Access.mask`'s key removal gave: the reference below is that code."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import orjson
import pytest

from burble import values
from burble.appdef.load import parse_app
from burble.appdef.model import DataType, KeyStyle
from burble.store.codec import TypeCodec, _reader_for, column_names
from burble.store.postgres import PostgresDialect
from burble.store.sqlite import SQLiteDialect

APP = """
name: kinds
option_sets:
  Colour: [Red, Green]
types:
  User:
    fields: {name: text, age: number}
  Everything:
    fields:
      text: text
      number: number
      numbers: list of numbers
      range: numeric range
      when: date
      whens: list of dates
      stay: date range
      yes: yes/no
      place: geographic address
      places: list of geographic addresses
      doc: file
      pics: list of images
      pic: image
      owner: User
      others: list of Users
      colour: Colour
      colours: list of Colour
"""

DIALECTS = [SQLiteDialect(), PostgresDialect("s")]


def reference(dialect: Any, dtype: DataType, row: Sequence[Any], keys: KeyStyle) -> dict[str, Any]:
    """The implementation the generated writers replaced."""
    columns = 5 + (2 if dtype.is_user else 0)
    readers = []
    for field in dtype.fields:
        readers.append(_reader_for(dialect, field, columns))
        columns += len(column_names(field))
    out: dict[str, Any] = {"_id": row[0], "Created Date": values.format_date(row[1])}
    out["Modified Date"] = values.format_date(row[2])
    if row[3] is not None:
        out["Created By"] = row[3]
    if row[4] is not None:
        out["Slug"] = row[4]
    if dtype.is_user and row[5] is not None:
        confirmed = dialect.bool_result(row[6]) if row[6] is not None else False
        out["authentication"] = {"email": {"email": row[5], "email_confirmed": confirmed}}
        out["user_signed_up"] = True
    by_id = keys is KeyStyle.ID
    for r in readers:
        if r.width == 1:
            raw = row[r.index]
            if raw is None:
                continue
        else:
            raw = row[r.index : r.index + r.width]
            if all(x is None for x in raw):
                continue
        out[r.id_key if by_id else r.display_key] = r.convert(raw)
    return out


def masked(thing: dict[str, Any], hidden: tuple[str, ...]) -> dict[str, Any]:
    """`Access.mask` as it was: pop each hidden key."""
    for key in hidden:
        thing.pop(key, None)
    return thing


def _json(dialect: Any, value: object) -> object:
    return orjson.dumps(value).decode() if isinstance(dialect, SQLiteDialect) else value


def random_row(rng: random.Random, dialect: Any, dtype: DataType) -> list[Any]:
    def maybe(value: object) -> object:
        return None if rng.random() < 0.3 else value

    created = rng.randrange(values.MIN_DATE_MS, values.MAX_DATE_MS)
    modified = created if rng.random() < 0.5 else rng.randrange(0, 4_102_444_800_000)
    row: list[Any] = [f"{rng.randrange(10**13)}x{rng.randrange(10**18)}", created, modified]
    row += [maybe("admin_user_x"), maybe("a-slug")]
    if dtype.is_user:
        row += [maybe("a@example.com"), maybe(rng.choice([0, 1, True, False]))]
    for field in dtype.fields:
        kind = field.type.kind.value
        if field.type.is_list:
            item = {
                "number": lambda: rng.choice([1.0, 2.5, -3.0]),
                "date": lambda: rng.randrange(0, 4_102_444_800_000),
                "geographic address": lambda: {"address": "Oslo", "lat": 59.9, "lng": 10.7},
            }.get(kind, lambda: rng.choice(["a", "b", "1x2"]))
            row.append(maybe(_json(dialect, [item() for _ in range(rng.randrange(4))])))
        elif kind == "geographic address":
            cols = [maybe("Oslo"), maybe(59.9), maybe(10.75)]
            row += cols
        elif kind == "number":
            row.append(maybe(rng.choice([5.0, 2.5, -0.0, 1e300, 9007199254740993.0])))
        elif kind == "date":
            row.append(maybe(rng.randrange(values.MIN_DATE_MS, values.MAX_DATE_MS)))
        elif kind in ("numeric range", "date range"):
            row.append(
                maybe(_json(dialect, sorted([rng.randrange(10**12), rng.randrange(10**12)])))
            )
        elif kind == "yes/no":
            row.append(maybe(rng.choice([0, 1, True, False])))
        else:
            row.append(maybe(rng.choice(["text", "", "Red", "1x1"])))
    return row


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("type_name", ["User", "Everything"])
def test_writers_match_the_reference(dialect: Any, type_name: str) -> None:
    dtype = parse_app(APP).types[type_name]
    codec = TypeCodec(dialect, dtype)
    rng = random.Random(7)
    all_keys = [k for f in dtype.fields for k in (f.name, f.id_key)]
    hidden_sets: list[tuple[str, ...]] = [
        (),
        ("authentication", "user_signed_up"),
        (*all_keys[:3], "authentication", "user_signed_up"),
        tuple(all_keys),
        ("Slug", "name"),  # a hidden key that is a built-in's: removed as mask removed it
    ]
    for _ in range(400):
        row = random_row(rng, dialect, dtype)
        assert len(row) == len(codec.columns)
        for keys in KeyStyle:
            for hidden in hidden_sets:
                got = codec.to_json(row, keys, hidden)
                want = masked(reference(dialect, dtype, row, keys), hidden)
                assert got == want
                assert list(got) == list(want)  # the same key order
                assert orjson.dumps(got) == orjson.dumps(want)


def test_modified_date_reuses_created_dates_text_only_when_equal() -> None:
    dtype = parse_app(APP).types["User"]
    codec = TypeCodec(SQLiteDialect(), dtype)
    row = ["1x1", 0, 0, None, None, None, None, None, None]
    assert codec.to_json(row, KeyStyle.DISPLAY)["Modified Date"] == "1970-01-01T00:00:00.000Z"
    row[2] = 1
    assert codec.to_json(row, KeyStyle.DISPLAY)["Modified Date"] == "1970-01-01T00:00:00.001Z"
    row[1], row[2] = values.MAX_DATE_MS + 1, values.MAX_DATE_MS + 1
    with pytest.raises(ValueError):
        codec.to_json(row, KeyStyle.DISPLAY)


@pytest.mark.parametrize("dialect", [SQLiteDialect(), PostgresDialect("s")], ids=["sqlite", "pg"])
def test_stored_as_is_only_where_db_values_passes_the_value_through(dialect: Any) -> None:
    # `ThingStore.insert_batch` skips `db_values` for these fields: it must not change them.
    from burble.store.codec import db_values, stored_as_is

    samples: dict[str, object] = {
        "numeric range": [1.0, 2.0],
        "date range": [0, 1],
        "geographic address": values.Address("Paris", 48.85, 2.35),
    }
    dtype = parse_app(APP).types["Everything"]
    for field in dtype.fields:
        value: object = samples.get(field.type.kind.value, "x")
        if field.type.is_list:
            value = [samples.get(field.type.kind.value, "x")]
        assert stored_as_is(field) == (db_values(dialect, field, value) == [value]), field.name
