"""Reading a value sent by a client (or written as a default) into a field's stored form.

Lenient like Bubble (bubble-wire.md §5.3): numeric strings for numbers, `"true"`/`"yes"` for
yes/no, ISO dates with 0–9 fraction digits and the other date forms of seed 003.
An empty value (`null`, `""`, `[]`) clears the field and is stored as `None`.
"""

from __future__ import annotations

from collections.abc import Callable

from burble import values
from burble.appdef.model import AppDefinition, Field, FieldKind, FieldType
from burble.errors import InvalidData, InvalidValue, ListTooLong


def _thing_id(value: object) -> str:
    if not values.is_unique_id(value):
        raise values.NotParseable("thing")
    assert isinstance(value, str)
    return value


def _url(value: object) -> str:
    if isinstance(value, dict):
        raise values.NotParseable("file URL")
    if not isinstance(value, str):
        raise values.NotParseable("file")
    return value.strip()


def _number_range(value: object) -> object:
    return list(values.parse_number_range(value))


def _date_range(value: object) -> object:
    return list(values.parse_date_range(value))


def _text(value: object) -> str:
    text = values.parse_text(value)
    if "\x00" in text:  # no database stores NUL in text; refuse it the same way everywhere
        raise values.NotParseable("text")
    return text


_PARSERS: dict[FieldKind, Callable[[object], object]] = {
    FieldKind.TEXT: _text,
    FieldKind.NUMBER: values.parse_number,
    FieldKind.NUMBER_RANGE: _number_range,
    FieldKind.DATE: values.parse_date,
    FieldKind.DATE_RANGE: _date_range,
    FieldKind.YES_NO: values.parse_yes_no,
    FieldKind.ADDRESS: values.parse_address,
    FieldKind.FILE: _url,
    FieldKind.IMAGE: _url,
    FieldKind.THING: _thing_id,
}


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == []


def coerce_item(ftype: FieldType, value: object, definition: AppDefinition) -> object:
    """One (non-list) value; raises `values.NotParseable`."""
    if ftype.kind is FieldKind.OPTION:
        assert ftype.target is not None
        option_set = definition.option_sets[ftype.target]
        if isinstance(value, str) and value in option_set.options:
            return value
        raise values.NotParseable(ftype.target)
    return _PARSERS[ftype.kind](value)


def coercer(field: Field, definition: AppDefinition) -> Callable[[object], object]:
    """`coerce_value` for one field, with what depends on the field alone decided once:
    for a single value of a kind with a parser, that parser (a bulk create coerces 1,000
    values per field)."""
    ftype = field.type
    parse = _PARSERS.get(ftype.kind)
    if ftype.is_list or parse is None or ftype.kind in (FieldKind.FILE, FieldKind.IMAGE):
        return lambda value: coerce_value(field, value, definition)

    def coerce(value: object) -> object:
        if _is_empty(value):
            return None
        try:
            return parse(value)
        except values.NotParseable as exc:
            raise InvalidData(field.name, exc.expected) from None

    return coerce


def coerce_value(field: Field, value: object, definition: AppDefinition) -> object:
    """The stored form of `value` for `field`, or `None` when it is empty.

    Raises `InvalidData` naming the field, or `ListTooLong`.
    """
    if _is_empty(value):
        return None
    ftype = field.type
    try:
        if not ftype.is_list:
            return coerce_item(ftype, value, definition)
        if not isinstance(value, list):
            value = [value]  # a single value sent for a list field is a list of one
        limit = definition.settings.max_list_length
        if len(value) > limit:
            raise ListTooLong(field.name, limit)
        item = ftype.item()
        return [coerce_item(item, v, definition) for v in value if not _is_empty(v)] or None
    except values.NotParseable as exc:
        if exc.expected == "file URL":
            raise InvalidValue(
                f"Invalid data for field {field.name}: uploading file contents is not supported "
                "yet; send the file's URL"
            ) from None
        raise InvalidData(field.name, exc.expected) from None
