"""Text → typed expression tree, in one pass: names are resolved against the app definition
while parsing (they contain spaces, so only the schema says where one ends), and every node is
type-checked as it is built. Errors carry the column where the problem is.

Grammar (docs/expressions.md has it with examples):

    expression  := comparison (("and" | "or") comparison)*        left to right, no precedence
    comparison  := arith (compare-op arith | check-op)*
    arith       := chain (("+" | "-" | "*" | "/") chain)*
    chain       := primary ("'s" name | ":" operator | ("+" | "-") "(" unit "):" operand)*
    operand     := primary ("'s" name)*                            arguments of operators
    primary     := "(" expression ")" | literal | data source | option value | parameter
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from burble import values
from burble.appdef.model import AppDefinition, DataType, Field, FieldType
from burble.expr import types as t
from burble.expr.ast import (
    AllOptions,
    Apply,
    Arith,
    ArithOp,
    Check,
    CheckOp,
    Compare,
    CompareOp,
    Constraint,
    ConstraintOp,
    CurrentUser,
    DateShift,
    DateUnit,
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
from burble.expr.errors import ExprError
from burble.expr.fields import readable_fields
from burble.expr.lexer import Cursor, suggest
from burble.expr.signatures import arg_types, arith_type, noun, op_type
from burble.expr.types import Kind, ValueType


def _no_parameters() -> Mapping[str, FieldType]:
    return MappingProxyType({})


@dataclass(frozen=True)
class StepOutput:
    """What `Result of step N` gives: one value (`type`), named values (`fields`: a custom
    event's returned values, read with `'s <name>`), or nothing (both None). `title` is the
    action's name, which `Result of step N (<title>)` may repeat."""

    title: str
    type: ValueType | None = None
    fields: Mapping[str, ValueType] | None = None


def _no_steps() -> Mapping[int, StepOutput]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Scope:
    """What names an expression may use: the app's types and option sets, `This <Type>` (when
    `this_type` is set), workflow parameters by name and the results of earlier steps."""

    definition: AppDefinition
    this_type: DataType | None = None
    parameters: Mapping[str, FieldType] = field(default_factory=_no_parameters)
    steps: Mapping[int, StepOutput] = field(default_factory=_no_steps)


def parse(text: str, scope: Scope) -> Expr:
    """Parse and type-check an expression; raises `ExprError`."""
    return _Parser(text, scope).parse()


def parse_condition(text: str, scope: Scope) -> Expr:
    """Parse a condition: an expression whose result is yes/no."""
    expr = parse(text, scope)
    if expr.type != t.YES_NO:
        raise ExprError(
            f"a condition must be yes/no; this expression is a {expr.type.describe()}",
            expr.column,
            text,
        )
    return expr


# --- keyword tables -----------------------------------------------------------------------

# (words, operator): longest forms first, so `is not in` wins over `is not` and `is`.
_COMPARE_WORDS: list[tuple[tuple[str, ...], CompareOp | CheckOp]] = [
    (("is", "not", "logged", "in"), CheckOp.NOT_LOGGED_IN),
    (("isn't", "logged", "in"), CheckOp.NOT_LOGGED_IN),
    (("is", "logged", "in"), CheckOp.LOGGED_IN),
    (("is", "not", "empty"), CheckOp.NOT_EMPTY),
    (("isn't", "empty"), CheckOp.NOT_EMPTY),
    (("is", "empty"), CheckOp.EMPTY),
    (("is", "not", "in"), CompareOp.NOT_IN),
    (("is", "in"), CompareOp.IN),
    (("is", "not"), CompareOp.IS_NOT),
    (("isn't",), CompareOp.IS_NOT),
    (("is",), CompareOp.IS),
    (("≠",), CompareOp.IS_NOT),
    (("!=",), CompareOp.IS_NOT),
    (("<>",), CompareOp.IS_NOT),
    (("=",), CompareOp.IS),
    (("≥",), CompareOp.GREATER_EQUAL),
    ((">=",), CompareOp.GREATER_EQUAL),
    (("≤",), CompareOp.LESS_EQUAL),
    (("<=",), CompareOp.LESS_EQUAL),
    ((">",), CompareOp.GREATER),
    (("<",), CompareOp.LESS),
    (("contains",), CompareOp.CONTAINS),
    (("doesn't", "contain"), CompareOp.NOT_CONTAINS),
    (("does", "not", "contain"), CompareOp.NOT_CONTAINS),
]

_CONSTRAINT_OPS: dict[CompareOp | CheckOp, ConstraintOp] = {
    CompareOp.IS: ConstraintOp.EQUALS,
    CompareOp.IS_NOT: ConstraintOp.NOT_EQUAL,
    CompareOp.GREATER: ConstraintOp.GREATER_THAN,
    CompareOp.LESS: ConstraintOp.LESS_THAN,
    CheckOp.EMPTY: ConstraintOp.IS_EMPTY,
    CheckOp.NOT_EMPTY: ConstraintOp.IS_NOT_EMPTY,
    CompareOp.CONTAINS: ConstraintOp.CONTAINS,
    CompareOp.NOT_CONTAINS: ConstraintOp.NOT_CONTAINS,
    CompareOp.IN: ConstraintOp.IN,
    CompareOp.NOT_IN: ConstraintOp.NOT_IN,
}

_ARITH = {"+": ArithOp.ADD, "-": ArithOp.SUB, "*": ArithOp.MUL, "/": ArithOp.DIV}

# `:operator` names (longest match). Range and address parts also read with `'s`.
_COLON_OPS: dict[str, Op] = {
    op.value: op for op in Op if op not in (Op.ADDRESS_TEXT, Op.LATITUDE, Op.LONGITUDE, Op.DISPLAY)
}
_SPECIAL_COLON = ("sorted", "filtered", "each item's", "each item’s")

_PARTS: dict[Kind, dict[str, Op]] = {
    Kind.NUMBER_RANGE: {"start": Op.START, "end": Op.END},
    Kind.DATE_RANGE: {"start": Op.START, "end": Op.END},
    Kind.ADDRESS: {
        "formatted address": Op.ADDRESS_TEXT,
        "latitude": Op.LATITUDE,
        "longitude": Op.LONGITUDE,
        "lat": Op.LATITUDE,
        "lng": Op.LONGITUDE,
    },
    Kind.OPTION: {"Display": Op.DISPLAY, "display": Op.DISPLAY},
}


def _plurals(name: str) -> list[str]:
    forms = [name, name + "s", name + "es"]
    if name.endswith("y"):
        forms.append(name[:-1] + "ies")
    return forms


class _Parser:
    def __init__(self, text: str, scope: Scope) -> None:
        self.c = Cursor(text)
        self.text = text
        self.scope = scope
        self.defn = scope.definition
        self.items: list[ValueType] = []  # what `This item` is, inside `:filtered`

    def error(self, message: str, column: int | None = None) -> ExprError:
        return self.c.error(message, column)

    def parse(self) -> Expr:
        if self.c.at_end():
            raise self.error("the expression is empty")
        expr = self.expression(None)
        if not self.c.at_end():
            raise self.error(f"unexpected {self.c.describe_next()}")
        return expr

    # --- and / or -------------------------------------------------------------------------

    def expression(self, expected: ValueType | None) -> Expr:
        left = self.comparison(expected)
        while True:
            col = self.c.column
            if self.c.accept("and"):
                op = LogicOp.AND
            elif self.c.accept("or"):
                op = LogicOp.OR
            else:
                return left
            self._need_yes_no(left, f"'{op.value}'", col)
            right = self.comparison(None)
            self._need_yes_no(right, f"'{op.value}'", right.column)
            left = Logic(op, left, right, type=t.YES_NO, column=left.column)

    def _need_yes_no(self, expr: Expr, what: str, col: int) -> None:
        if expr.type.kind not in (Kind.YES_NO, Kind.EMPTY) or expr.type.is_list:
            raise self.error(f"{what} joins yes/no values; this is a {expr.type.describe()}", col)

    # --- comparisons ----------------------------------------------------------------------

    def _compare_word(self) -> CompareOp | CheckOp | None:
        for words, op in _COMPARE_WORDS:
            if self.c.accept_seq(*words):
                return op
        return None

    def comparison(self, expected: ValueType | None) -> Expr:
        left = self.arith(expected)
        while True:
            col = self.c.column
            op = self._compare_word()
            if op is None:
                return left
            if op in (CompareOp.IS, CompareOp.IS_NOT) and self.c.accept("empty"):
                op = CheckOp.EMPTY if op is CompareOp.IS else CheckOp.NOT_EMPTY
            if isinstance(op, CheckOp):
                left = self._check(op, left, col)
                continue
            right = self.arith(self._expected_right(op, left.type))
            self._type_compare(op, left, right, col)
            left = Compare(op, left, right, type=t.YES_NO, column=left.column)

    def _check(self, op: CheckOp, operand: Expr, col: int) -> Expr:
        if op in (CheckOp.LOGGED_IN, CheckOp.NOT_LOGGED_IN) and not isinstance(
            operand, CurrentUser
        ):
            raise self.error(f"'{op.value}' applies to Current User only", col)
        return Check(op, operand, type=t.YES_NO, column=operand.column)

    @staticmethod
    def _expected_right(op: CompareOp, left: ValueType) -> ValueType | None:
        if op in (CompareOp.CONTAINS, CompareOp.NOT_CONTAINS):
            return left.item() if left.is_list else left
        if op in (CompareOp.IN, CompareOp.NOT_IN):
            return left.as_list()
        return left

    def _type_compare(self, op: CompareOp, left: Expr, right: Expr, col: int) -> None:
        lt, rt = left.type, right.type
        if op in (CompareOp.IS, CompareOp.IS_NOT):
            if not t.same(lt, rt):
                raise self.error(
                    f"cannot compare {noun(lt)} with {noun(rt)} using '{op.value}'", right.column
                )
        elif op in (CompareOp.CONTAINS, CompareOp.NOT_CONTAINS):
            if lt.is_list:
                if rt.is_list or not t.same(lt.item(), rt):
                    raise self.error(f"{noun(lt)} cannot contain {noun(rt)}", right.column)
            elif lt.kind in t.TEXT_LIKE:
                if rt.is_list or not (rt.kind in t.TEXT_LIKE or rt.kind is Kind.EMPTY):
                    raise self.error(
                        f"a text can only contain a text, not {noun(rt)}", right.column
                    )
            elif lt.kind is not Kind.EMPTY:
                raise self.error(
                    f"'{op.value}' needs a list or a text on its left; this is {noun(lt)}", col
                )
        elif op in (CompareOp.IN, CompareOp.NOT_IN):
            if not (rt.is_list or rt.kind is Kind.EMPTY):
                raise self.error(
                    f"'{op.value}' needs a list on its right; this is {noun(rt)}", right.column
                )
            if lt.is_list or not t.same(lt, rt.item()):
                raise self.error(f"{noun(lt)} cannot be in {noun(rt)}", left.column)
        else:
            for side in (left, right):
                if side.type.kind is Kind.EMPTY:
                    continue
                if side.type.is_list or side.type.kind not in t.ORDERED:
                    raise self.error(
                        f"'{op.value}' compares numbers, dates or date intervals; "
                        f"this is {noun(side.type)}",
                        side.column,
                    )
            if not t.same(lt, rt):
                raise self.error(
                    f"cannot compare {noun(lt)} with {noun(rt)} using '{op.value}'", right.column
                )

    # --- arithmetic -----------------------------------------------------------------------

    def _date_unit(self) -> tuple[int, DateUnit] | None:
        """`+(days):` / `-(days):`, consumed only when complete."""
        start = self.c.pos
        sign = 1 if self.c.accept("+") else -1 if self.c.accept("-") else 0
        if sign and self.c.accept("("):
            name = self.c.longest(u.value for u in DateUnit)
            if name is not None and self.c.accept(")") and self.c.accept(":"):
                return sign, DateUnit(name)
        self.c.pos = start
        return None

    def arith(self, expected: ValueType | None) -> Expr:
        left = self.chain(expected)
        while True:
            col = self.c.column
            sym = self.c.longest(_ARITH)
            if sym is None:
                return left
            op = _ARITH[sym]
            right = self.chain(t.INTERVAL if left.type.kind is Kind.DATE else left.type)
            result = arith_type(op, left.type, right.type)
            if result is None:
                raise self.error(
                    f"cannot use '{sym}' on {noun(left.type)} and {noun(right.type)}", col
                )
            left = Arith(op, left, right, type=result, column=left.column)

    def _date_shift(self, base: Expr, sign: int, unit: DateUnit, col: int) -> Expr:
        amount = self.operand(t.NUMBER)
        if base.type.kind not in (Kind.DATE, Kind.EMPTY) or base.type.is_list:
            raise self.error(
                f"'{'+' if sign > 0 else '-'}({unit.value})' needs a date on its left; "
                f"this is {noun(base.type)}",
                col,
            )
        if amount.type.kind not in (Kind.NUMBER, Kind.EMPTY) or amount.type.is_list:
            raise self.error(
                f"the number of {unit.value} must be a number, not {noun(amount.type)}",
                amount.column,
            )
        return DateShift(base, unit, amount, sign, type=t.DATE, column=base.column)

    # --- chains ---------------------------------------------------------------------------

    def chain(self, expected: ValueType | None) -> Expr:
        return self.steps(self.primary(expected), colon=True)

    def operand(self, expected: ValueType | None) -> Expr:
        """An operator's argument: `:` steps after it apply to the outer value."""
        return self.steps(self.primary(expected), colon=False)

    def steps(self, base: Expr, colon: bool) -> Expr:
        """`'s` steps, and (`colon`) `:operator` and `+(unit):` steps."""
        while True:
            col = self.c.column
            if self.c.apostrophe():
                base = self.possessive(base, col)
            elif not colon:
                return base
            elif self.c.accept(":"):
                base = self.colon(base)
            elif (shift := self._date_unit()) is not None:
                base = self._date_shift(base, *shift, col)
            else:
                return base

    def _field_name(self, dtype: DataType) -> Field:
        names = readable_fields(dtype)
        col = self.c.column
        name = self.c.longest(names)
        if name is None:
            found, hint = suggest(self.c, names)
            what = f"'{found}'" if found else "a field name"
            raise self.error(f"unknown field {what} of {dtype.name}{hint}", col)
        return names[name]

    def possessive(self, base: Expr, apostrophe: int) -> Expr:
        bt = base.type
        if bt.kind is Kind.THING:
            assert bt.target is not None
            dtype = self.defn.types[bt.target]
            f = self._field_name(dtype)
            ft = ValueType.of(f.type)
            rtype = ft.as_list() if bt.is_list else ft
            return GetField(base, f, dtype, type=rtype, column=base.column)
        parts = _PARTS.get(bt.kind)
        col = self.c.column
        if parts is not None and not bt.is_list:
            name = self.c.longest(parts)
            if name is not None:
                return self._apply(parts[name], base, (), col)
            found, hint = suggest(self.c, parts)
            raise self.error(f"{noun(bt)} has no '{found}'{hint}", col)
        raise self.error(f"'s reads a field of a thing; this is {noun(bt)}", apostrophe)

    def colon(self, base: Expr) -> Expr:
        col = self.c.column
        special = self.c.longest(_SPECIAL_COLON)
        if special == "sorted":
            return self._sorted(base, col)
        if special == "filtered":
            return self._filtered(base, col)
        if special is not None:  # each item's
            if not (base.type.is_list and base.type.kind is Kind.THING):
                raise self.error(
                    f"':each item's' needs a list of things; this is {noun(base.type)}", col
                )
            return self.possessive(base, col)
        name = self.c.longest(_COLON_OPS)
        if name is None:
            found, hint = suggest(self.c, [*_COLON_OPS, "sorted", "filtered", "each item's"])
            raise self.error(f"unknown operator ':{found}'{hint}", col)
        op = _COLON_OPS[name]
        return self._apply(op, base, self._args(op, base), col)

    def _args(self, op: Op, base: Expr) -> tuple[Expr, ...]:
        args: list[Expr] = []
        for i, expected in enumerate(arg_types(op, base.type)):
            if i:  # `:find & replace "a" with "b"`
                self.c.expect("with", "'with' and the replacement text")
            args.append(self.operand(expected))
        return tuple(args)

    def _apply(self, op: Op, base: Expr, args: tuple[Expr, ...], col: int) -> Expr:
        result = op_type(op, base.type, [a.type for a in args])
        if isinstance(result, str):
            raise self.error(result, col)
        for arg, wanted in zip(args, arg_types(op, base.type), strict=False):
            if not t.same(arg.type, wanted):
                raise self.error(
                    f"':{op.value}' needs {noun(wanted)} here, not {noun(arg.type)}", arg.column
                )
        if op is Op.DEFAULTING_TO:
            result = t.join(base.type, args[0].type)
        return Apply(op, base, args, type=result, column=base.column)

    def _sorted(self, base: Expr, col: int) -> Expr:
        bt = base.type
        if not bt.is_list:
            raise self.error(f"':sorted' needs a list; this is {noun(bt)}", col)
        sort_field: Field | None = None
        dtype: DataType | None = None
        if self.c.accept("by"):
            if bt.kind is not Kind.THING:
                raise self.error("':sorted by' sorts things by a field; sort these with ':sorted'")
            assert bt.target is not None
            dtype = self.defn.types[bt.target]
            sort_field = self._field_name(dtype)
            ft = ValueType.of(sort_field.type)
            if ft.is_list or ft.kind not in (*t.ORDERED, *t.TEXT_LIKE, Kind.YES_NO, Kind.OPTION):
                raise self.error(f"cannot sort by {noun(ft)}", col)
        elif bt.kind is Kind.THING:
            raise self.error("things are sorted by a field: ':sorted by <field>'", col)
        elif bt.kind not in (*t.ORDERED, *t.TEXT_LIKE, Kind.OPTION, Kind.YES_NO):
            raise self.error(f"cannot sort {noun(bt)}", col)
        descending = self.c.accept("descending")
        key_type = ValueType.of(sort_field.type) if sort_field is not None else bt.item()
        order: tuple[str, ...] = ()
        if key_type.kind is Kind.OPTION:
            assert key_type.target is not None
            order = self.defn.option_sets[key_type.target].options
        return Sorted(base, sort_field, dtype, descending, order, type=bt, column=base.column)

    def _filtered(self, base: Expr, col: int) -> Expr:
        bt = base.type
        if not bt.is_list:
            raise self.error(f"':filtered' needs a list; this is {noun(bt)}", col)
        self.c.expect("(", "'(' and a condition on This item")
        self.items.append(bt.item())
        try:
            condition = self.expression(None)
        finally:
            self.items.pop()
        self._need_yes_no(condition, "':filtered'", condition.column)
        self.c.expect(")")
        return Filtered(base, condition, type=bt, column=base.column)

    # --- data sources and literals --------------------------------------------------------

    def primary(self, expected: ValueType | None) -> Expr:
        c = self.c
        col = c.column
        if c.at_end():
            raise self.error("expected a value, found the end of the expression")
        if c.accept("("):
            inner = self.expression(expected)
            c.expect(")")
            return inner
        text = c.string()
        if text is not None:
            return self._text_literal(text, expected, col)
        if c.peek("-"):
            start = c.pos
            c.accept("-")
            n = c.number()
            if n is not None:
                return Literal(-n, type=t.NUMBER, column=col)
            c.pos = start
        n = c.number()
        if n is not None:
            return Literal(n, type=t.NUMBER, column=col)
        for word, value in (("yes", True), ("no", False)):
            if c.accept(word):
                return Literal(value, type=t.YES_NO, column=col)
        if c.accept("empty"):
            return Literal(None, type=t.EMPTY, column=col)
        if c.accept("This"):
            return self._this(col)
        if c.accept("Current User"):
            return CurrentUser(type=t.thing("User"), column=col)
        if c.accept("Current date/time"):
            return Now(type=t.DATE, column=col)
        if c.accept("Search for") or c.accept("Do a search for"):
            return self._search(col)
        if c.accept("All"):
            return self._all_options(col)
        if c.accept_seq("Result", "of", "step"):
            return self._step_result(col)
        name = c.longest(self.scope.parameters)
        if name is not None:
            return Parameter(name, type=ValueType.of(self.scope.parameters[name]), column=col)
        set_name = self._option_set_prefix()
        if set_name is not None:
            return self._option(set_name, col)
        if expected is not None and expected.kind is Kind.OPTION:
            assert expected.target is not None
            return self._option(expected.target, col)
        option = self._any_option(col)
        if option is not None:
            return option
        found = c.next_words(1)
        raise self.error(
            f"unknown name '{found}': expected a value (a \"text\", a number, yes, no, empty, "
            "This <Type>, Current User, Current date/time, Search for <Types>, an option or "
            "a parameter)",
            col,
        )

    def _text_literal(self, text: str, expected: ValueType | None, col: int) -> Expr:
        # Like Bubble, a typed-in value takes the type the other side expects when it can.
        if expected is not None and not expected.is_list:
            if expected.kind is Kind.DATE:
                try:
                    return Literal(values.parse_date(text), type=t.DATE, column=col)
                except values.NotParseable:
                    pass
            elif expected.kind is Kind.OPTION:
                assert expected.target is not None
                options = self.defn.option_sets[expected.target].options
                if text not in options:
                    raise self.error(_unknown_option(text, expected.target, options), col)
                return Literal(text, type=expected, column=col)
        return Literal(text or None, type=t.TEXT, column=col)

    def _step_result(self, col: int) -> Expr:
        c = self.c
        num_col = c.column
        n = c.number()
        if n is None or n != int(n) or n < 1:
            raise self.error("expected a step number after 'Result of step' (1 for the first)")
        step = int(n)
        output = self.scope.steps.get(step)
        if output is None:
            raise self.error(f"there is no step {step} before this one", num_col)
        c.skip_ws()
        if c.pos < len(c.text) and c.text[c.pos] == "(":
            close = c.text.find(")", c.pos)
            if close < 0:
                raise self.error("expected ')' after the step's action name")
            label = " ".join(c.text[c.pos + 1 : close].split())
            if label.lower() != output.title.lower():
                raise self.error(f"step {step} is '{output.title}', not '{label}'", c.pos + 2)
            c.pos = close + 1
        if output.fields is not None:
            at = c.column
            if not c.apostrophe():
                names = ", ".join(output.fields) or "none"
                raise self.error(
                    f"step {step} ({output.title}) returns named values: read one with "
                    f"'s <name> ({names})",
                    at,
                )
            key_col = c.column
            key = c.longest(output.fields)
            if key is None:
                found, hint = suggest(c, output.fields)
                raise self.error(
                    f"step {step} ({output.title}) returns no value '{found}'{hint}", key_col
                )
            return StepResult(step, key, type=output.fields[key], column=col)
        if output.type is None:
            raise self.error(f"step {step} ({output.title}) has no result", num_col)
        return StepResult(step, type=output.type, column=col)

    def _option_set_prefix(self) -> str | None:
        """`Unit Status's` before an option value: the set's name."""
        start = self.c.pos
        name = self.c.longest(self.defn.option_sets)
        if name is not None and self.c.apostrophe():
            return name
        self.c.pos = start
        return None

    def _option(self, set_name: str, col: int) -> Expr:
        options = self.defn.option_sets[set_name].options
        name = self.c.longest(options)
        if name is None:
            found, hint = suggest(self.c, options)
            raise self.error(f"unknown option '{found}' of {set_name}{hint}", col)
        return Literal(name, type=ValueType(Kind.OPTION, False, set_name), column=col)

    def _any_option(self, col: int) -> Expr | None:
        """An option value with nothing to say which set: it must name one option only."""
        start = self.c.pos
        found: dict[str, list[str]] = {}
        for set_name, option_set in self.defn.option_sets.items():
            self.c.pos = start
            name = self.c.longest(option_set.options)
            if name is not None:
                found.setdefault(name, []).append(set_name)
        self.c.pos = start
        if not found:
            return None
        name = max(found, key=len)
        sets = found[name]
        if len(sets) > 1:
            raise self.error(
                f"'{name}' is an option of {' and '.join(sets)}: write {sets[0]}'s {name}", col
            )
        self.c.pos = start + len(name)
        return Literal(name, type=ValueType(Kind.OPTION, False, sets[0]), column=col)

    def _all_options(self, col: int) -> Expr:
        forms = {p: n for n in self.defn.option_sets for p in _plurals(n)}
        name = self.c.longest(forms)
        if name is None:
            found, hint = suggest(self.c, forms)
            raise self.error(f"unknown option set '{found}'{hint}", col)
        set_name = forms[name]
        return AllOptions(
            set_name,
            self.defn.option_sets[set_name].options,
            type=ValueType(Kind.OPTION, True, set_name),
            column=col,
        )

    def _this(self, col: int) -> Expr:
        if self.c.accept("item"):
            if not self.items:
                raise self.error("'This item' is only available inside ':filtered'", col)
            return ThisItem(type=self.items[-1], column=col)
        name = self.c.longest(self.defn.types)
        if name is None:
            found, hint = suggest(self.c, self.defn.types)
            raise self.error(f"unknown data type '{found}'{hint}", self.c.column)
        if self.items and self.items[-1] == t.thing(name):
            return ThisItem(type=self.items[-1], column=col)
        this = self.scope.this_type
        if this is None:
            raise self.error(
                f"'This {name}' is not available here: there is no thing in this context", col
            )
        if name != this.name:
            raise self.error(
                f"'This {name}' is not available here: this expression is about {this.name}", col
            )
        return ThisThing(this, type=t.thing(this.name), column=col)

    def _search(self, col: int) -> Expr:
        forms = {p: n for n in self.defn.types for p in _plurals(n)}
        name = self.c.longest(forms)
        if name is None:
            found, hint = suggest(self.c, forms)
            raise self.error(f"unknown data type '{found}'{hint}", self.c.column)
        dtype = self.defn.types[forms[name]]
        constraints: list[Constraint] = []
        if self.c.accept("("):
            while True:
                constraints.append(self._constraint(dtype))
                if not self.c.accept(","):
                    break
            self.c.expect(")", "',' or ')'")
        return SearchFor(dtype, tuple(constraints), type=t.thing(dtype.name, True), column=col)

    def _constraint(self, dtype: DataType) -> Constraint:
        col = self.c.column
        f = self._field_name(dtype)
        ft = ValueType.of(f.type)
        op_col = self.c.column
        word = self._compare_word()
        op = _CONSTRAINT_OPS.get(word) if word is not None else None
        if op is None:
            raise self.error(
                "expected a constraint: =, ≠, >, <, is empty, is not empty, contains, "
                "doesn't contain, is in, is not in",
                op_col,
            )
        if op in (ConstraintOp.IS_EMPTY, ConstraintOp.IS_NOT_EMPTY):
            return Constraint(f, op, None, col)
        if word in (CompareOp.IS, CompareOp.IS_NOT) and self.c.accept("empty"):
            empty_op = ConstraintOp.IS_EMPTY if word is CompareOp.IS else ConstraintOp.IS_NOT_EMPTY
            return Constraint(f, empty_op, None, col)
        assert isinstance(word, CompareOp)
        if ft.is_list and op not in (ConstraintOp.CONTAINS, ConstraintOp.NOT_CONTAINS):
            raise self.error(
                f"'{f.name}' is a list: constrain it with contains / doesn't contain", op_col
            )
        value = self.arith(self._expected_right(word, ft))
        probe = Literal(None, type=ft, column=col)
        self._type_compare(word, probe, value, op_col)
        return Constraint(f, op, value, col)


def _unknown_option(text: str, set_name: str, options: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(text, options, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown option '{text}' of {set_name}{hint}"
