"""The fields an expression can read with `'s`: a type's own fields plus the built-ins
(`unique id`, `Created Date`, `Modified Date`, `Created By`/`Creator`, `Slug`) and, on User,
`email`. Built-ins are pseudo-fields whose `name` is the key a thing mapping holds them under
and whose `column` is their database column."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from burble.appdef.model import DataType, Field, FieldKind, FieldType
from burble.store.codec import CREATED_BY, CREATED_DATE, ID_FIELD, MODIFIED_DATE, SLUG

EMAIL = Field("email", "email", FieldType(FieldKind.TEXT), "_email")

_BUILTINS: dict[str, Field] = {
    "unique id": ID_FIELD,
    "_id": ID_FIELD,
    "Created Date": CREATED_DATE,
    "Modified Date": MODIFIED_DATE,
    "Created By": CREATED_BY,
    "Creator": CREATED_BY,
    "Slug": SLUG,
}


def readable_fields(dtype: DataType) -> Mapping[str, Field]:
    """Every name `'s` accepts on a thing of `dtype`, and the field it reads."""
    names = dict(_BUILTINS)
    if dtype.is_user:
        names["email"] = EMAIL
    names.update(dtype.by_name)  # a field of the type wins over a built-in's alias
    return MappingProxyType(names)


def is_builtin(field: Field) -> bool:
    return field.column.startswith("_")
