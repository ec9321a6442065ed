"""Evaluating an expression in Python, on things in their stored form.

Left to right, short-circuiting `and`/`or`. Empty (`None`, `""`, `[]`) is not `no`: every
comparison with an empty side is false, except `is empty` and the negative forms (`is not`,
`doesn't contain`, `is not in`), which are the exact negations of the positive ones. A
not-logged-in Current User is a temporary user: never empty, equal to nothing stored, and
every field of it is empty.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from burble import values
from burble.appdef.model import DataType, Field
from burble.expr import dates
from burble.expr.ast import (
    AllOptions,
    Apply,
    Arith,
    ArithOp,
    Check,
    CheckOp,
    Compare,
    CompareOp,
    ConstraintOp,
    CurrentUser,
    DateShift,
    Expr,
    Filtered,
    GetField,
    Literal,
    Logic,
    LogicOp,
    Now,
    Op,
    Parameter,
    SearchFor,
    Sorted,
    StepResult,
    ThisItem,
    ThisThing,
)
from burble.expr.types import Kind

Thing = Mapping[str, Any]


def _no_parameters() -> Mapping[str, object]:
    return {}


def _no_results() -> Mapping[int, object]:
    return {}


@dataclass
class EvalContext:
    """What an expression can see when it runs.

    `fetch` reads a thing by id (chains like `This Booking's unit's owner`); `search` runs
    `Search for` with constraints `(field, store.query.Op spelling, stored value)` and applies
    the caller's privacy rules. `current_user` None means not logged in. `results` holds
    the results of a workflow's earlier steps by number (a custom event's: a mapping of its
    returned values)."""

    this: Thing | None
    current_user: Thing | None
    now_ms: int
    fetch: Callable[[DataType, str], Thing | None]
    search: Callable[[DataType, list[tuple[Field, str, object]]], list[Thing]]
    parameters: Mapping[str, object] = field(default_factory=_no_parameters)
    results: Mapping[int, object] = field(default_factory=_no_results)


class _Anonymous:
    """The not-logged-in Current User: a temporary user, not empty, equal to nothing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ANONYMOUS"


ANONYMOUS = _Anonymous()


def evaluate(expr: Expr, ctx: EvalContext) -> object:
    """The value of `expr` in stored form (`None` = empty; things as their unique ids)."""
    return stored(_Evaluator(ctx).eval(expr))


def stored(value: object) -> object:
    """An evaluator value in stored form: things → ids, empty texts and lists → None."""
    if value is ANONYMOUS or value == "":
        return None
    if isinstance(value, Mapping):
        return value.get("_id")
    if isinstance(value, list):
        out = [stored(v) for v in value]
        return [v for v in out if v is not None] or None
    return value


# --- value helpers ------------------------------------------------------------------------


def is_empty(value: object) -> bool:
    if value is None or value == "" or value == []:
        return True
    if isinstance(value, values.Address):
        return value.address is None and value.lat is None
    return False


def _key(value: object) -> object:
    """What equality looks at: a thing's id, a list's items' keys."""
    if isinstance(value, Mapping):
        return value.get("_id")
    if isinstance(value, list):
        return [_key(v) for v in value]
    return value


def equal(a: object, b: object) -> bool:
    if is_empty(a) or is_empty(b) or a is ANONYMOUS or b is ANONYMOUS:
        return False
    return _key(a) == _key(b)


def _items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _contains(items: object, item: object) -> bool:
    if is_empty(item) or item is ANONYMOUS:
        return False
    wanted = _key(item)
    return any(_key(i) == wanted for i in _items(items))


def _unique(items: list[Any]) -> list[Any]:
    seen: list[object] = []
    out = []
    for item in items:
        k = _key(item)
        if k not in seen:
            seen.append(k)
            out.append(item)
    return out


def round15(x: float) -> float | None:
    """Math results keep 15 significant figures, as Bubble rounds them."""
    if not math.isfinite(x):
        return None
    return float(f"{x:.15g}")


def _round_half_up(x: float, places: int) -> float:
    try:
        q = Decimal(repr(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return x
    return float(q)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return str(value.get("_id"))
    try:
        return values.parse_text(value)
    except values.NotParseable:
        return str(value)


def _json_safe(value: object, kind: Kind) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(json.dumps(_text(v), ensure_ascii=False) for v in value) or None
    if kind is Kind.DATE and isinstance(value, int):
        return json.dumps(values.format_date(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return values.parse_text(value)
    return json.dumps(_text(value), ensure_ascii=False)


# --- the evaluator ------------------------------------------------------------------------


class _Evaluator:
    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx
        self.items: list[object] = []

    def thing(self, dtype: DataType, value: object) -> Thing | None:
        if isinstance(value, Mapping):
            return value
        if isinstance(value, str) and value:
            return self.ctx.fetch(dtype, value)
        return None  # empty, or the not-logged-in user (all of whose fields are empty)

    def eval(self, node: Expr) -> Any:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise TypeError(f"cannot evaluate {type(node).__name__}")
        return handler(self, node)

    # --- sources --------------------------------------------------------------------------

    def literal(self, node: Literal) -> Any:
        return node.value

    def this(self, node: ThisThing) -> Any:
        return self.ctx.this

    def this_item(self, node: ThisItem) -> Any:
        return self.items[-1] if self.items else None

    def current_user(self, node: CurrentUser) -> Any:
        user = self.ctx.current_user
        return ANONYMOUS if user is None else user

    def now(self, node: Now) -> Any:
        return self.ctx.now_ms

    def parameter(self, node: Parameter) -> Any:
        return self.ctx.parameters.get(node.name)

    def step_result(self, node: StepResult) -> Any:
        value = self.ctx.results.get(node.step)
        if node.key is not None:
            return value.get(node.key) if isinstance(value, Mapping) else None
        return value

    def all_options(self, node: AllOptions) -> Any:
        return list(node.options)

    def search(self, node: SearchFor) -> Any:
        constraints: list[tuple[Field, str, object]] = []
        for c in node.constraints:
            op = c.op
            value: object = None
            if c.value is not None:
                value = self.eval(c.value)
                if isinstance(value, list):
                    value = [stored(v) for v in value if v is not ANONYMOUS and not is_empty(v)]
                if value is ANONYMOUS or is_empty(value):
                    # Nothing stored equals the temporary user; an empty value asks for an
                    # empty field with `=` / `≠` (Bubble without "ignore empty constraints").
                    if op is ConstraintOp.EQUALS and value is not ANONYMOUS:
                        op, value = ConstraintOp.IS_EMPTY, None
                    elif op is ConstraintOp.NOT_EQUAL and value is not ANONYMOUS:
                        op, value = ConstraintOp.IS_NOT_EMPTY, None
                    elif op in (
                        ConstraintOp.NOT_EQUAL,
                        ConstraintOp.NOT_CONTAINS,
                        ConstraintOp.NOT_IN,
                    ):
                        continue  # every thing passes
                    else:
                        return []  # no thing passes
                else:
                    value = stored(value)
            constraints.append((c.field, op.value, value))
        return list(self.ctx.search(node.dtype, constraints))

    # --- steps ----------------------------------------------------------------------------

    def get_field(self, node: GetField) -> Any:
        base = self.eval(node.base)
        name = node.field.name
        if not node.base.type.is_list:
            thing = self.thing(node.of_type, base)
            return None if thing is None else thing.get(name)
        out: list[Any] = []
        for item in _items(base):
            thing = self.thing(node.of_type, item)
            if thing is None:
                continue
            value = thing.get(name)
            if isinstance(value, list):
                out.extend(v for v in value if not is_empty(v))
            elif not is_empty(value):
                out.append(value)
        return out

    def sorted(self, node: Sorted) -> Any:
        items = _items(self.eval(node.base))
        keyed: list[tuple[Any, Any]] = []
        empties = []
        for item in items:
            key: Any = item
            if node.field is not None:
                assert node.of_type is not None
                thing = self.thing(node.of_type, item)
                key = None if thing is None else thing.get(node.field.name)
            if is_empty(key):
                empties.append(item)
                continue
            if node.option_order:
                key = (
                    node.option_order.index(key)
                    if key in node.option_order
                    else len(node.option_order)
                )
            keyed.append((key, item))
        keyed.sort(key=lambda p: p[0], reverse=node.descending)
        return [item for _, item in keyed] + empties

    def filtered(self, node: Filtered) -> Any:
        out = []
        for item in _items(self.eval(node.base)):
            self.items.append(item)
            try:
                if self.eval(node.condition) is True:
                    out.append(item)
            finally:
                self.items.pop()
        return out

    def date_shift(self, node: DateShift) -> Any:
        base = self.eval(node.base)
        amount = self.eval(node.amount)
        if not isinstance(base, int) or isinstance(amount, bool) or amount is None:
            return None
        return dates.shift(base, node.unit, node.sign * float(amount))

    def arith(self, node: Arith) -> Any:
        a = self.eval(node.left)
        b = self.eval(node.right)
        if is_empty(a) or is_empty(b):
            return None
        lk, rk = node.left.type.kind, node.right.type.kind
        op = node.op
        if node.type.kind is Kind.NUMBER:
            if op is ArithOp.ADD:
                return round15(a + b)
            if op is ArithOp.SUB:
                return round15(a - b)
            if op is ArithOp.MUL:
                return round15(a * b)
            return None if b == 0 else round15(a / b)
        # dates and intervals: exact integer ms
        if op is ArithOp.SUB:
            return int(a - b)
        if lk is Kind.DATE or rk is Kind.DATE:
            result = int(a + b)
            return result if values.MIN_DATE_MS <= result <= values.MAX_DATE_MS else None
        return int(a + b)

    def apply(self, node: Apply) -> Any:
        base = self.eval(node.base)
        op = node.op
        if op is Op.DEFAULTING_TO:
            return base if not is_empty(base) else self.eval(node.args[0])
        args = [self.eval(a) for a in node.args]
        return _APPLY[op](base, args, node)

    # --- yes/no ---------------------------------------------------------------------------

    def compare(self, node: Compare) -> Any:
        a = self.eval(node.left)
        b = self.eval(node.right)
        op = node.op
        if op is CompareOp.IS:
            return equal(a, b)
        if op is CompareOp.IS_NOT:
            return not equal(a, b)
        if op in (CompareOp.CONTAINS, CompareOp.NOT_CONTAINS):
            if node.left.type.is_list:
                found = _contains(a, b)
            else:
                found = isinstance(a, str) and isinstance(b, str) and bool(a) and bool(b) and b in a
            return found if op is CompareOp.CONTAINS else not found
        if op in (CompareOp.IN, CompareOp.NOT_IN):
            found = _contains(b, a)
            return found if op is CompareOp.IN else not found
        if is_empty(a) or is_empty(b):
            return False
        if op is CompareOp.GREATER:
            return bool(a > b)
        if op is CompareOp.LESS:
            return bool(a < b)
        if op is CompareOp.GREATER_EQUAL:
            return bool(a >= b)
        return bool(a <= b)

    def check(self, node: Check) -> Any:
        if node.op is CheckOp.LOGGED_IN:
            return self.ctx.current_user is not None
        if node.op is CheckOp.NOT_LOGGED_IN:
            return self.ctx.current_user is None
        empty = is_empty(self.eval(node.operand))
        return empty if node.op is CheckOp.EMPTY else not empty

    def logic(self, node: Logic) -> Any:
        left = self.eval(node.left) is True
        if node.op is LogicOp.AND:
            return left and self.eval(node.right) is True
        return left or self.eval(node.right) is True


_HANDLERS: dict[type, Callable[[_Evaluator, Any], Any]] = {
    Literal: _Evaluator.literal,
    ThisThing: _Evaluator.this,
    ThisItem: _Evaluator.this_item,
    CurrentUser: _Evaluator.current_user,
    Now: _Evaluator.now,
    Parameter: _Evaluator.parameter,
    StepResult: _Evaluator.step_result,
    AllOptions: _Evaluator.all_options,
    SearchFor: _Evaluator.search,
    GetField: _Evaluator.get_field,
    Sorted: _Evaluator.sorted,
    Filtered: _Evaluator.filtered,
    DateShift: _Evaluator.date_shift,
    Arith: _Evaluator.arith,
    Apply: _Evaluator.apply,
    Compare: _Evaluator.compare,
    Check: _Evaluator.check,
    Logic: _Evaluator.logic,
}


# --- :operators ---------------------------------------------------------------------------

_Impl = Callable[[Any, list[Any], Apply], Any]


def _text_op(fn: Callable[[str], str]) -> _Impl:
    def impl(base: Any, args: list[Any], node: Apply) -> Any:
        return fn(base) if isinstance(base, str) and base else None

    return impl


def _numbers(base: Any) -> list[Any]:
    return [v for v in _items(base) if not is_empty(v)]


def _item_at(base: Any, args: list[Any], node: Apply) -> Any:
    n = args[0]
    items = _items(base)
    if not isinstance(n, float | int) or isinstance(n, bool) or n != int(n):
        return None
    return items[int(n) - 1] if 1 <= n <= len(items) else None


def _sum(base: Any, args: list[Any], node: Apply) -> Any:
    nums = _numbers(base)
    return round15(math.fsum(nums)) if nums else None


def _average(base: Any, args: list[Any], node: Apply) -> Any:
    nums = _numbers(base)
    return round15(math.fsum(nums) / len(nums)) if nums else None


def _plus_item(base: Any, args: list[Any], node: Apply) -> Any:
    items = list(_items(base))
    item = args[0]
    if is_empty(item) or item is ANONYMOUS or _contains(items, item):
        return items
    return [*items, item]


def _minus_item(base: Any, args: list[Any], node: Apply) -> Any:
    item = args[0]
    return [i for i in _items(base) if not equal(i, item)]


def _minus_list(base: Any, args: list[Any], node: Apply) -> Any:
    drop = _items(args[0])
    return [i for i in _items(base) if not _contains(drop, i)]


def _join_with(base: Any, args: list[Any], node: Apply) -> Any:
    sep = args[0] if isinstance(args[0], str) else ""
    return sep.join(_text(v) for v in _items(base)) or None


def _split_by(base: Any, args: list[Any], node: Apply) -> Any:
    if not isinstance(base, str) or not base:
        return None
    sep = args[0]
    parts = base.split(sep) if isinstance(sep, str) and sep else [base]
    return [p for p in parts if p]


def _append(base: Any, args: list[Any], node: Apply) -> Any:
    return ((base or "") + (args[0] or "")) or None


def _find_replace(base: Any, args: list[Any], node: Apply) -> Any:
    if not isinstance(base, str) or not base:
        return None
    find, new = args
    if not isinstance(find, str) or not find:
        return base
    return base.replace(find, new or "") or None


def _truncated_to(base: Any, args: list[Any], node: Apply) -> Any:
    n = args[0]
    if not isinstance(base, str) or not isinstance(n, float | int):
        return base or None
    return base[: max(0, int(n))] or None


def _to_number(base: Any, args: list[Any], node: Apply) -> Any:
    if not isinstance(base, str):
        return None
    try:
        return values.parse_number(base.replace(",", ""))
    except values.NotParseable:
        return None


def _formatted_as(base: Any, args: list[Any], node: Apply) -> Any:
    if not isinstance(base, int) or isinstance(base, bool):
        return None
    pattern = args[0] if isinstance(args[0], str) else "ISO"
    return dates.format_date(base, pattern)


def _rounded_to(base: Any, args: list[Any], node: Apply) -> Any:
    n = args[0]
    if not isinstance(base, float | int) or not isinstance(n, float | int):
        return None
    return _round_half_up(float(base), max(0, int(n)))


def _number_op(fn: Callable[[float], float]) -> _Impl:
    def impl(base: Any, args: list[Any], node: Apply) -> Any:
        return float(fn(base)) if isinstance(base, float | int) else None

    return impl


def _part(index: int) -> _Impl:
    def impl(base: Any, args: list[Any], node: Apply) -> Any:
        return base[index] if isinstance(base, list | tuple) and len(base) == 2 else None

    return impl


def _interval(unit_ms: int, places: int) -> _Impl:
    def impl(base: Any, args: list[Any], node: Apply) -> Any:
        if not isinstance(base, float | int):
            return None
        return _round_half_up(base / unit_ms, places)

    return impl


def _address(attr: str) -> _Impl:
    def impl(base: Any, args: list[Any], node: Apply) -> Any:
        return getattr(base, attr) if isinstance(base, values.Address) else None

    return impl


def _capitalized(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def _trimmed(text: str) -> str:
    return text.strip()


_APPLY: dict[Op, _Impl] = {
    Op.COUNT: lambda b, a, n: float(len(_items(b))),
    Op.FIRST_ITEM: lambda b, a, n: _items(b)[0] if _items(b) else None,
    Op.LAST_ITEM: lambda b, a, n: _items(b)[-1] if _items(b) else None,
    Op.ITEM_AT: _item_at,
    Op.SUM: _sum,
    Op.AVERAGE: _average,
    Op.MIN: lambda b, a, n: min(_numbers(b)) if _numbers(b) else None,
    Op.MAX: lambda b, a, n: max(_numbers(b)) if _numbers(b) else None,
    Op.UNIQUE: lambda b, a, n: _unique(_items(b)),
    Op.PLUS_ITEM: _plus_item,
    Op.MINUS_ITEM: _minus_item,
    Op.MERGED_WITH: lambda b, a, n: _unique(_items(b) + _items(a[0])),
    Op.MINUS_LIST: _minus_list,
    Op.JOIN_WITH: _join_with,
    Op.LOWERCASE: _text_op(str.lower),
    Op.UPPERCASE: _text_op(str.upper),
    Op.CAPITALIZED: _text_op(_capitalized),
    Op.TRIMMED: _text_op(_trimmed),
    Op.LENGTH: lambda b, a, n: float(len(b)) if isinstance(b, str) else 0.0,
    Op.SPLIT_BY: _split_by,
    Op.APPEND: _append,
    Op.FIND_REPLACE: _find_replace,
    Op.TRUNCATED_TO: _truncated_to,
    Op.TO_NUMBER: _to_number,
    Op.FORMATTED_AS: _formatted_as,
    Op.JSON_SAFE: lambda b, a, n: _json_safe(b, n.base.type.kind),
    Op.ROUNDED_TO: _rounded_to,
    Op.FLOOR: _number_op(math.floor),
    Op.CEILING: _number_op(math.ceil),
    Op.START: _part(0),
    Op.END: _part(1),
    Op.AS_DAYS: _interval(dates.MS_PER_DAY, 1),
    Op.AS_HOURS: _interval(3_600_000, 1),
    Op.AS_MINUTES: _interval(60_000, 0),
    Op.AS_SECONDS: _interval(1000, 0),
    Op.ADDRESS_TEXT: _address("address"),
    Op.LATITUDE: _address("lat"),
    Op.LONGITUDE: _address("lng"),
    Op.DISPLAY: lambda b, a, n: b if isinstance(b, str) else None,
}
