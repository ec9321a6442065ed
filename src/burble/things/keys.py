"""Which field a key names.

Writes use one spelling, per the app's key style (bubble-wire.md §1.4): the display name
exactly, or the id key (`price_number`). Searches and sorts also accept the other spelling
and the lower-case, space-stripped form some clients send (`unitname` for `Unit Name`).
"""

from __future__ import annotations

from burble.appdef.model import DataType, Field, KeyStyle, api_name
from burble.errors import UnrecognizedField
from burble.store.codec import BUILTIN_FIELDS

_BUILTIN_BY_NAME = {f.name: f for f in BUILTIN_FIELDS}
_BUILTIN_LOOSE = {api_name(f.name): f for f in BUILTIN_FIELDS}


def write_field(dtype: DataType, key: str, keys: KeyStyle) -> Field:
    field = (dtype.by_name if keys is KeyStyle.DISPLAY else dtype.by_id_key).get(key)
    if field is None:
        raise UnrecognizedField(key)
    return field


def read_field(dtype: DataType, key: str) -> Field:
    """A field or built-in named by a constraint or sort key."""
    field = (
        _BUILTIN_BY_NAME.get(key)
        or dtype.by_name.get(key)
        or dtype.by_id_key.get(key)
        or dtype.by_loose.get(api_name(key))
        or _BUILTIN_LOOSE.get(api_name(key))
    )
    if field is None:
        raise UnrecognizedField(key)
    return field
