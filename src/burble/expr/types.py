"""The static types of expressions: a field type plus what only expressions have (date
intervals, the `empty` literal). Every expression node carries one; the type checker uses
them to reject mismatches at load time."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from burble.appdef.model import FieldKind, FieldType


class Kind(enum.Enum):
    """What a value is. The value is how error messages and docs spell it."""

    TEXT = "text"
    NUMBER = "number"
    NUMBER_RANGE = "numeric range"
    DATE = "date"
    DATE_RANGE = "date range"
    INTERVAL = "date interval"  # a duration in ms: what `date - date` gives
    YES_NO = "yes/no"
    ADDRESS = "geographic address"
    FILE = "file"
    IMAGE = "image"
    THING = "thing"  # `target` names the data type
    OPTION = "option"  # `target` names the option set
    EMPTY = "empty"  # the literal `empty`: fits wherever a value does


_FROM_FIELD = {k: Kind(k.value) for k in FieldKind}

# Kinds whose values are texts that compare with each other.
TEXT_LIKE = frozenset({Kind.TEXT, Kind.FILE, Kind.IMAGE})
ORDERED = frozenset({Kind.NUMBER, Kind.DATE, Kind.INTERVAL})


@dataclass(frozen=True, slots=True)
class ValueType:
    kind: Kind
    is_list: bool = False
    target: str | None = None

    @staticmethod
    def of(ftype: FieldType) -> ValueType:
        return ValueType(_FROM_FIELD[ftype.kind], ftype.is_list, ftype.target)

    def item(self) -> ValueType:
        return ValueType(self.kind, False, self.target)

    def as_list(self) -> ValueType:
        return ValueType(self.kind, True, self.target)

    def describe(self) -> str:
        """How a builder would say it: `number`, `Rental Unit`, `list of texts`."""
        one = self.target if self.target is not None else self.kind.value
        if not self.is_list:
            return one
        if self.target is None and self.kind not in (Kind.YES_NO, Kind.EMPTY):
            return f"list of {one}s"
        return f"list of {one}"

    @property
    def is_thing(self) -> bool:
        return self.kind is Kind.THING

    def field_kind(self) -> FieldKind | None:
        """The field kind of this type (None for intervals and `empty`)."""
        try:
            return FieldKind(self.kind.value)
        except ValueError:
            return None


TEXT = ValueType(Kind.TEXT)
NUMBER = ValueType(Kind.NUMBER)
DATE = ValueType(Kind.DATE)
INTERVAL = ValueType(Kind.INTERVAL)
YES_NO = ValueType(Kind.YES_NO)
EMPTY = ValueType(Kind.EMPTY)
TEXTS = TEXT.as_list()


def thing(type_name: str, is_list: bool = False) -> ValueType:
    return ValueType(Kind.THING, is_list, type_name)


def same(a: ValueType, b: ValueType) -> bool:
    """Whether values of `a` and `b` can be compared with `is` (ignoring list-ness rules)."""
    if a.kind is Kind.EMPTY or b.kind is Kind.EMPTY:
        return True
    if a.is_list != b.is_list:
        return False
    if a.kind in TEXT_LIKE and b.kind in TEXT_LIKE:
        return True
    return a.kind is b.kind and a.target == b.target


def join(a: ValueType, b: ValueType) -> ValueType:
    """The type of a value that is `a` or `b` (they are `same`): the more specific one."""
    return b if a.kind is Kind.EMPTY else a
