"""How field values move between their stored form, database columns and API 1.1 JSON.

Stored forms (what `burble.appdef.coerce` produces): text/file/image/thing/option → str,
number → float, date → int ms, yes/no → bool, ranges → [start, end], address → `Address`,
lists → list of item forms. Out as API 1.1 (seed 003): ISO dates with ms and `Z`, addresses
as `{address, lat, lng}`, empty fields omitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from burble import values
from burble.appdef.model import DataType, Field, FieldKind, FieldType, KeyStyle
from burble.store.backend import Dialect

# Built-in fields as pseudo-fields, so searches and sorts treat them like any other.
ID_FIELD = Field("_id", "_id", FieldType(FieldKind.TEXT), "_id")
CREATED_DATE = Field("Created Date", "Created Date", FieldType(FieldKind.DATE), "_created_date")
MODIFIED_DATE = Field("Modified Date", "Modified Date", FieldType(FieldKind.DATE), "_modified_date")
CREATED_BY = Field(
    "Created By", "Created By", FieldType(FieldKind.THING, False, "User"), "_created_by"
)
SLUG = Field("Slug", "Slug", FieldType(FieldKind.TEXT), "_slug")
BUILTIN_FIELDS = (ID_FIELD, CREATED_DATE, MODIFIED_DATE, CREATED_BY, SLUG)
BUILTIN_COLUMNS = ("_id", "_created_date", "_modified_date", "_created_by", "_slug")
USER_COLUMNS = ("_email", "_email_confirmed")  # read into `authentication`

Converter = Callable[[Any], Any]


def _identity(v: Any) -> Any:
    return v


def _item_out(kind: FieldKind) -> Converter:
    """JSON-stored item (inside a list or range) → API JSON."""
    if kind is FieldKind.NUMBER:
        return values.format_number
    if kind is FieldKind.DATE:
        return values.format_date
    if kind is FieldKind.NUMBER_RANGE:
        return lambda v: values.format_number_range((v[0], v[1]))
    if kind is FieldKind.DATE_RANGE:
        return lambda v: values.format_date_range((v[0], v[1]))
    return _identity


def _item_in(kind: FieldKind) -> Converter:
    """Stored item → something JSON can hold (for list columns)."""
    if kind is FieldKind.ADDRESS:
        return lambda a: a.to_json()
    return _identity


_NOT_AS_IS = frozenset([FieldKind.ADDRESS, FieldKind.NUMBER_RANGE, FieldKind.DATE_RANGE])


def stored_as_is(field: Field) -> bool:
    """True when `db_values` of the field is always `[value]`: one column, no JSON."""
    ftype = field.type
    return not ftype.is_list and ftype.kind not in _NOT_AS_IS


def db_values(dialect: Dialect, field: Field, value: object) -> list[object]:
    """The column values for a stored value (None clears every column)."""
    ftype = field.type
    if ftype.kind is FieldKind.ADDRESS and not ftype.is_list:
        if value is None:
            return [None, None, None]
        assert isinstance(value, values.Address)
        return [value.address, value.lat, value.lng]
    if value is None:
        return [None]
    if ftype.is_list:
        to_json = _item_in(ftype.kind)
        assert isinstance(value, list)
        return [dialect.json_param([to_json(v) for v in value])]
    if ftype.kind in (FieldKind.NUMBER_RANGE, FieldKind.DATE_RANGE):
        return [dialect.json_param(value)]
    return [value]


def column_names(field: Field) -> list[str]:
    if field.type.kind is FieldKind.ADDRESS and not field.type.is_list:
        return [field.column, field.column + "__lat", field.column + "__lng"]
    return [field.column]


@dataclass(frozen=True, slots=True)
class _Reader:
    display_key: str
    id_key: str
    index: int
    width: int
    convert: Converter


def _reader_for(dialect: Dialect, field: Field, index: int) -> _Reader:
    ftype = field.type
    kind = ftype.kind
    convert: Converter
    if ftype.is_list:
        item = _item_out(kind)
        decode = dialect.json_result
        convert = lambda v: [item(x) for x in decode(v)]  # type: ignore[attr-defined]  # noqa: E731
    elif kind is FieldKind.ADDRESS:

        def convert(v: Any) -> Any:
            return values.Address(v[0], v[1], v[2]).to_json()

    elif kind in (FieldKind.NUMBER_RANGE, FieldKind.DATE_RANGE):
        item = _item_out(kind)
        decode = dialect.json_result
        convert = lambda v: item(decode(v))  # noqa: E731
    elif kind is FieldKind.YES_NO:
        convert = dialect.bool_result
    else:
        convert = _item_out(kind)
    width = 3 if kind is FieldKind.ADDRESS and not ftype.is_list else 1
    return _Reader(field.name, field.id_key, index, width, convert)


_BUILTIN_KEYS = frozenset(("_id", "Created Date", "Modified Date", "Created By", "Slug"))
RowWriter = Callable[[Sequence[Any]], dict[str, Any]]


class TypeCodec:
    """Precomputed, per data type and dialect: the SELECT list and row → JSON readers."""

    def __init__(self, dialect: Dialect, dtype: DataType) -> None:
        self.dtype = dtype
        columns = list(BUILTIN_COLUMNS) + (list(USER_COLUMNS) if dtype.is_user else [])
        readers: list[_Reader] = []
        for field in dtype.fields:
            readers.append(_reader_for(dialect, field, len(columns)))
            columns += column_names(field)
        self.columns = columns
        self.select_list = ", ".join(dialect.quote(c) for c in columns)
        self._readers = tuple(readers)
        self._user = dtype.is_user
        self._bool = dialect.bool_result
        # Row writers by key style (by id?), then by the keys left out.
        self._writers: tuple[dict[tuple[str, ...], RowWriter], ...] = ({}, {})

    def to_json(
        self, row: Sequence[Any], keys: KeyStyle, hidden: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The thing as API JSON; `hidden`: keys left out (fields privacy rules hide)."""
        return self.writer(keys, hidden)(row)

    def writer(self, keys: KeyStyle, hidden: tuple[str, ...] = ()) -> RowWriter:
        """`to_json` for these keys, as a function of the row (for a page of rows)."""
        writers = self._writers[keys is KeyStyle.ID]
        write = writers.get(hidden)
        if write is None:
            write = self._writer(keys, hidden)
            if len(writers) < 64:  # one per combination of view flags
                writers[hidden] = write
        return write

    def _writer(self, keys: KeyStyle, hidden: tuple[str, ...]) -> RowWriter:
        """A function writing one row as JSON, generated for this type, key style and hidden
        keys (as `dataclasses` generates `__init__`): it runs for every thing read, and
        straight-line code is about twice as fast as a loop over the readers.

        What it does: built-ins first (Modified Date reuses Created Date's text when they
        are the same number), a user's `authentication` and `user_signed_up`, then each field
        that is not empty (an address: not all of its columns empty), converted; `hidden`
        keys are left out."""
        by_id = keys is KeyStyle.ID
        leave_out = set(hidden)
        names: dict[str, Any] = {"format_date": values.format_date, "bool_result": self._bool}
        lines = [
            "def write(row):",
            "    created = row[1]",
            "    modified = row[2]",
            "    created_text = format_date(created)",
            "    out = {'_id': row[0], 'Created Date': created_text, 'Modified Date': (",
            "        created_text if modified == created and type(modified) is type(created)",
            "        else format_date(modified))}",
            "    value = row[3]",
            "    if value is not None:",
            "        out['Created By'] = value",
            "    value = row[4]",
            "    if value is not None:",
            "        out['Slug'] = value",
        ]
        if self._user:
            lines += ["    email = row[5]", "    if email is not None:", "        pass"]
            if "authentication" not in leave_out:
                lines += [
                    "        confirmed = bool_result(row[6]) if row[6] is not None else False",
                    "        out['authentication'] = "
                    "{'email': {'email': email, 'email_confirmed': confirmed}}",
                ]
            if "user_signed_up" not in leave_out:
                lines.append("        out['user_signed_up'] = True")
        for n, r in enumerate(self._readers):
            key = r.id_key if by_id else r.display_key
            if key in leave_out:
                continue
            convert = "value"
            if r.convert is not _identity:
                names[f"convert{n}"] = r.convert
                convert = f"convert{n}(value)"
            if r.width == 1:
                lines += [f"    value = row[{r.index}]", "    if value is not None:"]
            else:
                lines += [
                    f"    value = row[{r.index} : {r.index + r.width}]",
                    "    if not all(x is None for x in value):",
                ]
            lines.append(f"        out[{key!r}] = {convert}")
        lines += [f"    out.pop({k!r}, None)" for k in hidden if k in _BUILTIN_KEYS]
        lines.append("    return out")
        exec("\n".join(lines), names)
        write: RowWriter = names["write"]
        return write
