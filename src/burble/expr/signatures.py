"""What each operator takes and gives: the typing rules the parser applies as it builds the
tree. Each rule returns the result type, or a message saying what the operator needs."""

from __future__ import annotations

from collections.abc import Callable

from burble.expr import types as t
from burble.expr.ast import ArithOp, Op
from burble.expr.types import Kind, ValueType

NO_ARGS = {
    Op.COUNT,
    Op.FIRST_ITEM,
    Op.LAST_ITEM,
    Op.SUM,
    Op.AVERAGE,
    Op.MIN,
    Op.MAX,
    Op.UNIQUE,
    Op.LOWERCASE,
    Op.UPPERCASE,
    Op.CAPITALIZED,
    Op.TRIMMED,
    Op.LENGTH,
    Op.TO_NUMBER,
    Op.JSON_SAFE,
    Op.FLOOR,
    Op.CEILING,
    Op.START,
    Op.END,
    Op.AS_DAYS,
    Op.AS_HOURS,
    Op.AS_MINUTES,
    Op.AS_SECONDS,
}


def noun(vt: ValueType) -> str:
    """`a number`, `an image`, `a list of texts`, `empty`."""
    if vt.kind is Kind.EMPTY and not vt.is_list:
        return "empty"
    word = vt.describe()
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


def arith_type(op: ArithOp, a: ValueType, b: ValueType) -> ValueType | None:
    if a.is_list or b.is_list:
        return None
    ka, kb = a.kind, b.kind
    if ka is Kind.EMPTY:
        ka = kb
    if kb is Kind.EMPTY:
        kb = ka
    if ka is Kind.NUMBER and kb is Kind.NUMBER:
        return t.NUMBER
    if op in (ArithOp.ADD, ArithOp.SUB):
        if ka is Kind.DATE and kb is Kind.INTERVAL:
            return t.DATE
        if ka is Kind.INTERVAL and kb is Kind.INTERVAL:
            return t.INTERVAL
        if op is ArithOp.SUB and ka is Kind.DATE and kb is Kind.DATE:
            return t.INTERVAL
        if op is ArithOp.ADD and ka is Kind.INTERVAL and kb is Kind.DATE:
            return t.DATE
    return None


def arg_types(op: Op, base: ValueType) -> list[ValueType]:
    if op in (Op.PLUS_ITEM, Op.MINUS_ITEM):
        return [base.item()]
    if op in (Op.MERGED_WITH, Op.MINUS_LIST, Op.DEFAULTING_TO):
        return [base]
    if op in (Op.ITEM_AT, Op.TRUNCATED_TO, Op.ROUNDED_TO):
        return [t.NUMBER]
    if op is Op.FIND_REPLACE:
        return [t.TEXT, t.TEXT]
    if op in NO_ARGS:
        return []
    return [t.TEXT]


_Typer = Callable[[ValueType], ValueType | str]


def _needs(
    what: str, ok: Callable[[ValueType], bool], result: Callable[[ValueType], ValueType]
) -> _Typer:
    def typer(vt: ValueType) -> ValueType | str:
        if vt.kind is Kind.EMPTY and not vt.is_list:
            return f"needs {what}; this is empty"
        return result(vt) if ok(vt) else f"needs {what}; this is {noun(vt)}"

    return typer


def _is_list(vt: ValueType) -> bool:
    return vt.is_list


def _is_text(vt: ValueType) -> bool:
    return not vt.is_list and vt.kind in t.TEXT_LIKE


def _is_number(vt: ValueType) -> bool:
    return not vt.is_list and vt.kind is Kind.NUMBER


def _is_interval(vt: ValueType) -> bool:
    return not vt.is_list and vt.kind is Kind.INTERVAL


def _const(vt: ValueType) -> Callable[[ValueType], ValueType]:
    return lambda _: vt


def _range_item(vt: ValueType) -> ValueType:
    return t.NUMBER if vt.kind is Kind.NUMBER_RANGE else t.DATE


_TYPERS: dict[Op, _Typer] = {
    Op.COUNT: _needs("a list", _is_list, _const(t.NUMBER)),
    Op.FIRST_ITEM: _needs("a list", _is_list, ValueType.item),
    Op.LAST_ITEM: _needs("a list", _is_list, ValueType.item),
    Op.ITEM_AT: _needs("a list", _is_list, ValueType.item),
    Op.SUM: _needs(
        "a list of numbers", lambda v: v.is_list and v.kind is Kind.NUMBER, ValueType.item
    ),
    Op.AVERAGE: _needs(
        "a list of numbers", lambda v: v.is_list and v.kind is Kind.NUMBER, ValueType.item
    ),
    Op.MIN: _needs(
        "a list of numbers or dates", lambda v: v.is_list and v.kind in t.ORDERED, ValueType.item
    ),
    Op.MAX: _needs(
        "a list of numbers or dates", lambda v: v.is_list and v.kind in t.ORDERED, ValueType.item
    ),
    Op.UNIQUE: _needs("a list", _is_list, lambda v: v),
    Op.PLUS_ITEM: _needs("a list", _is_list, lambda v: v),
    Op.MINUS_ITEM: _needs("a list", _is_list, lambda v: v),
    Op.MERGED_WITH: _needs("a list", _is_list, lambda v: v),
    Op.MINUS_LIST: _needs("a list", _is_list, lambda v: v),
    Op.JOIN_WITH: _needs(
        "a list of texts or numbers",
        lambda v: v.is_list and v.kind in (*t.TEXT_LIKE, Kind.NUMBER, Kind.OPTION),
        _const(t.TEXT),
    ),
    Op.LOWERCASE: _needs("a text", _is_text, _const(t.TEXT)),
    Op.UPPERCASE: _needs("a text", _is_text, _const(t.TEXT)),
    Op.CAPITALIZED: _needs("a text", _is_text, _const(t.TEXT)),
    Op.TRIMMED: _needs("a text", _is_text, _const(t.TEXT)),
    Op.LENGTH: _needs("a text", _is_text, _const(t.NUMBER)),
    Op.SPLIT_BY: _needs("a text", _is_text, _const(t.TEXTS)),
    Op.APPEND: _needs("a text", _is_text, _const(t.TEXT)),
    Op.FIND_REPLACE: _needs("a text", _is_text, _const(t.TEXT)),
    Op.TRUNCATED_TO: _needs("a text", _is_text, _const(t.TEXT)),
    Op.TO_NUMBER: _needs("a text", _is_text, _const(t.NUMBER)),
    Op.FORMATTED_AS: _needs(
        "a date", lambda v: not v.is_list and v.kind is Kind.DATE, _const(t.TEXT)
    ),
    Op.JSON_SAFE: _needs(
        "a text, number, yes/no, date or list of texts",
        lambda v: (
            (v.kind in t.TEXT_LIKE)
            or (not v.is_list and v.kind in (Kind.NUMBER, Kind.YES_NO, Kind.DATE, Kind.OPTION))
        ),
        _const(t.TEXT),
    ),
    Op.DEFAULTING_TO: lambda v: v,
    Op.ROUNDED_TO: _needs("a number", _is_number, _const(t.NUMBER)),
    Op.FLOOR: _needs("a number", _is_number, _const(t.NUMBER)),
    Op.CEILING: _needs("a number", _is_number, _const(t.NUMBER)),
    Op.START: _needs(
        "a numeric range or a date range",
        lambda v: not v.is_list and v.kind in (Kind.NUMBER_RANGE, Kind.DATE_RANGE),
        _range_item,
    ),
    Op.END: _needs(
        "a numeric range or a date range",
        lambda v: not v.is_list and v.kind in (Kind.NUMBER_RANGE, Kind.DATE_RANGE),
        _range_item,
    ),
    Op.AS_DAYS: _needs("a date interval", _is_interval, _const(t.NUMBER)),
    Op.AS_HOURS: _needs("a date interval", _is_interval, _const(t.NUMBER)),
    Op.AS_MINUTES: _needs("a date interval", _is_interval, _const(t.NUMBER)),
    Op.AS_SECONDS: _needs("a date interval", _is_interval, _const(t.NUMBER)),
    Op.ADDRESS_TEXT: _const(t.TEXT),
    Op.LATITUDE: _const(t.NUMBER),
    Op.LONGITUDE: _const(t.NUMBER),
    Op.DISPLAY: _const(t.TEXT),
}


def op_type(op: Op, base: ValueType, args: list[ValueType]) -> ValueType | str:
    result = _TYPERS[op](base)
    if isinstance(result, str):
        return f"':{op.value}' {result}"
    return result
