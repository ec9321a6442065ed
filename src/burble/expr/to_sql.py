"""Compiling a condition to a SQL boolean expression, for privacy rules and searches.

The result is a WHERE-clause fragment with `?` parameters, valid on SQLite and PostgreSQL,
that holds for a row exactly when `evaluate` gives yes for that thing (`This <Type>` is the
row of the enclosing query, under `SqlContext.this_alias`). It is never NULL: every
comparison tests its nullable sides (`x IS NOT NULL AND x = ?`), so `NOT` is safe.

How values compile:
- a subtree that reads no thing (literals, `Current date/time` and its `+(unit)` arithmetic,
  `Current User` itself, `is logged in`) is computed in Python and bound as a parameter;
- `This <Type>'s field` is a column of the enclosing row; each further `'s` step through a
  reference joins the referenced table (`_x1._id = <ref>`), and a comparison over joined
  values becomes `EXISTS (SELECT 1 FROM <joins> WHERE <links> AND <test>)` — a broken chain is
  empty, so the comparison is false, as in Python;
- a list field is its JSON column; `contains` uses the dialect's list test when the item is a
  parameter, otherwise the list is expanded (json_each / jsonb_array_elements_text);
- `Search for <Types> (constraints)` is a join on the searched table; `:count` of it is a
  `COUNT(*)` subquery.

Anything else raises `ExprError`; `compilable()` says beforehand whether a tree compiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from burble import values
from burble.appdef.model import DataType, Field, FieldKind
from burble.expr import dates
from burble.expr import types as t
from burble.expr.ast import (
    Apply,
    Arith,
    ArithOp,
    Check,
    CheckOp,
    Compare,
    CompareOp,
    Constraint,
    ConstraintOp,
    DateShift,
    Expr,
    Filtered,
    GetField,
    Logic,
    LogicOp,
    Op,
    Parameter,
    SearchFor,
    Sorted,
    StepResult,
    ThisItem,
    ThisThing,
    children,
)
from burble.expr.errors import ExprError
from burble.expr.evaluate import ANONYMOUS, EvalContext, Thing, _Evaluator, stored
from burble.expr.types import Kind
from burble.store.backend import Dialect
from burble.store.codec import column_names
from burble.store.sqlite import SQLiteDialect


@dataclass(frozen=True)
class SqlContext:
    dialect: Dialect
    this_alias: str | None  # the enclosing query's alias for the This thing's table row
    current_user_id: str | None  # None: not logged in
    now_ms: int


class _Unsupported(Exception):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def to_sql(expr: Expr, ctx: SqlContext) -> tuple[str, list[object]]:
    """A SQL condition (never NULL) with `?` parameters, true where `expr` is yes."""
    if expr.type != t.YES_NO:
        raise ExprError(
            f"only a yes/no condition compiles to SQL; this is {expr.type.describe()}",
            expr.column,
        )
    try:
        sql = _Compiler(ctx).boolean(expr)
    except _Unsupported as exc:
        raise ExprError(f"cannot run this in SQL: {exc.message}", exc.column) from None
    return sql.text, list(sql.params)


def compilable(expr: Expr) -> bool:
    """Whether `to_sql` compiles every node of `expr` (whoever the current user is)."""
    if expr.type != t.YES_NO:
        return False
    for user in ("0x0", None):
        try:
            _Compiler(SqlContext(SQLiteDialect(), "t", user, 0)).boolean(expr)
        except _Unsupported:
            return False
    return True


# --- SQL text with its parameters ---------------------------------------------------------


@dataclass(frozen=True)
class S:
    text: str
    params: tuple[object, ...] = ()


def cat(*parts: S | str) -> S:
    text: list[str] = []
    params: list[object] = []
    for p in parts:
        if isinstance(p, str):
            text.append(p)
        else:
            text.append(p.text)
            params.extend(p.params)
    return S("".join(text), tuple(params))


def join_all(parts: Sequence[S], sep: str) -> S:
    out: list[S | str] = []
    for i, p in enumerate(parts):
        if i:
            out.append(sep)
        out.append(p)
    return cat(*out)


TRUE = S("1 = 1")
FALSE = S("1 = 0")


def _const(value: bool) -> S:
    return TRUE if value else FALSE


def _not(s: S) -> S:
    if s is TRUE:
        return FALSE
    if s is FALSE:
        return TRUE
    return cat("NOT (", s, ")")


@dataclass(frozen=True)
class _Join:
    source: S  # a FROM item
    link: S  # its condition


@dataclass(frozen=True)
class _Val:
    """A value as SQL. With `joins`, `expr` only makes sense inside a query over them;
    `multi` joins give one row per item of a list."""

    kind: Kind
    expr: S = S("NULL")
    joins: tuple[_Join, ...] = ()
    multi: bool = False
    json_list: bool = False  # expr is a JSON-array column
    nullable: bool = True
    static: bool = False  # known in Python: `value` (stored form; None = empty)
    value: object = None
    anonymous: bool = False  # the not-logged-in Current User
    row: str | None = None  # expr is `<row>._id`: fields are columns of that row
    address: tuple[str, str, str] | None = None  # the columns of a geographic address

    @property
    def static_empty(self) -> bool:
        return self.static and not self.anonymous and self.value is None


# --- static subtrees ----------------------------------------------------------------------

_NEVER_STATIC = (ThisThing, ThisItem, SearchFor, Parameter, StepResult, GetField, Filtered)


def _is_static(node: Expr) -> bool:
    if isinstance(node, _NEVER_STATIC):
        return False
    return all(_is_static(c) for c in children(node))


def _no_fetch(dtype: DataType, thing_id: str) -> Thing | None:
    raise AssertionError("static subtrees read no things")


def _no_search(dtype: DataType, constraints: list[tuple[Field, str, object]]) -> list[Thing]:
    raise AssertionError("static subtrees search nothing")


class _Compiler:
    def __init__(self, ctx: SqlContext) -> None:
        self.ctx = ctx
        self.d = ctx.dialect
        self.sqlite = ctx.dialect.name == "sqlite"
        self.aliases = 0
        user = None if ctx.current_user_id is None else {"_id": ctx.current_user_id}
        self.python = _Evaluator(EvalContext(None, user, ctx.now_ms, _no_fetch, _no_search))

    def alias(self) -> str:
        self.aliases += 1
        return f"_x{self.aliases}"

    def col(self, alias: str, column: str) -> str:
        return f"{alias}.{self.d.quote(column)}"

    # --- yes/no ---------------------------------------------------------------------------

    def boolean(self, node: Expr) -> S:
        if _is_static(node):
            return _const(self.python.eval(node) is True)
        if isinstance(node, Logic):
            left, right = self.boolean(node.left), self.boolean(node.right)
            absorbing, neutral = (FALSE, TRUE) if node.op is LogicOp.AND else (TRUE, FALSE)
            if left is absorbing or right is absorbing:
                return absorbing
            if left is neutral or right is neutral:
                return right if left is neutral else left
            word = " AND " if node.op is LogicOp.AND else " OR "
            return cat("(", left, word, right, ")")
        if isinstance(node, Check):
            present = self.present(self.value(node.operand))
            return present if node.op is CheckOp.NOT_EMPTY else _not(present)
        if isinstance(node, Compare):
            return self.compare(node)
        v = self.value(node)  # a yes/no field or operator result
        if v.static:
            return _const(v.value is True)
        return self.exists([v], self.where(v, cat(v.expr, " = ", S("?", (True,)))))

    def compare(self, node: Compare) -> S:
        op = node.op
        if op in (CompareOp.IS, CompareOp.IS_NOT):
            same = self.equal(self.value(node.left), self.value(node.right), node)
            return same if op is CompareOp.IS else _not(same)
        if op in (CompareOp.CONTAINS, CompareOp.NOT_CONTAINS, CompareOp.IN, CompareOp.NOT_IN):
            whole, part = (
                (node.left, node.right)
                if op in (CompareOp.CONTAINS, CompareOp.NOT_CONTAINS)
                else (node.right, node.left)
            )
            a, b = self.value(whole), self.value(part)
            found = (
                self.list_contains(a, b, node) if whole.type.is_list else self.text_contains(a, b)
            )
            return found if op in (CompareOp.CONTAINS, CompareOp.IN) else _not(found)
        symbol = {
            CompareOp.GREATER: " > ",
            CompareOp.LESS: " < ",
            CompareOp.GREATER_EQUAL: " >= ",
            CompareOp.LESS_EQUAL: " <= ",
        }[op]
        a, b = self.value(node.left), self.value(node.right)
        if a.static_empty or b.static_empty:
            return FALSE
        return self.exists([a, b], self.where(a, b, cat(a.expr, symbol, b.expr)))

    def where(self, *parts: _Val | S) -> S:
        """`x IS NOT NULL AND ... AND test`: the null tests of the nullable values, then the
        condition; false (not NULL) when a value is NULL."""
        conds: list[S] = []
        for p in parts:
            if isinstance(p, _Val):
                if p.nullable and not p.static:
                    conds.append(cat(p.expr, " IS NOT NULL"))
            else:
                conds.append(p)
        return join_all(conds, " AND ")

    def exists(self, vals: Sequence[_Val], cond: S) -> S:
        joins = [j for v in vals for j in v.joins]
        if not joins:
            return cond
        return cat("EXISTS (", self.select(S("1"), joins, cond), ")")

    def select(self, what: S, joins: Sequence[_Join], cond: S | None = None) -> S:
        links = [j.link for j in joins if j.link is not TRUE]
        if cond is not None and cond is not TRUE:
            links.append(cond)
        sources = join_all([j.source for j in joins], ", ")
        where = cat(" WHERE ", join_all(links, " AND ")) if links else S("")
        return cat("SELECT ", what, " FROM ", sources, where)

    def present(self, v: _Val) -> S:
        """True when the value is not empty (two-valued)."""
        if v.anonymous:
            return TRUE
        if v.static:
            return _const(not (v.value is None or v.value == []))
        if v.address is not None:
            text, lat, _ = v.address
            return self.exists([v], S(f"({text} IS NOT NULL OR {lat} IS NOT NULL)"))
        if v.json_list:
            if v.multi:
                return self.exists([self.explode(v, 0)], TRUE)
            return self.exists([v], _not(S(self.d.json_is_empty(v.expr.text), v.expr.params)))
        return self.exists([v], self.where(v) if v.nullable else TRUE)

    def equal(self, a: _Val, b: _Val, node: Expr) -> S:
        if a.anonymous or b.anonymous or a.static_empty or b.static_empty:
            return FALSE
        for v in (a, b):
            if v.json_list or v.multi or isinstance(v.value, list):
                raise _Unsupported("comparing lists with 'is'", node.column)
            if v.kind in (Kind.ADDRESS, Kind.NUMBER_RANGE, Kind.DATE_RANGE):
                raise _Unsupported(f"comparing {v.kind.value}s with 'is'", node.column)
        return self.exists([a, b], self.where(a, b, cat(a.expr, " = ", b.expr)))

    def list_contains(self, whole: _Val, item: _Val, node: Expr) -> S:
        if item.anonymous or item.static_empty or whole.static_empty:
            return FALSE
        if whole.static:
            items = (
                [v for v in whole.value if v is not None] if isinstance(whole.value, list) else []
            )
            if not items:
                return FALSE
            marks = ", ".join("?" for _ in items)
            return self.exists(
                [item], self.where(item, cat(item.expr, S(f" IN ({marks})", tuple(items))))
            )
        if whole.kind is Kind.ADDRESS or whole.kind in (Kind.NUMBER_RANGE, Kind.DATE_RANGE):
            raise _Unsupported(f"lists of {whole.kind.value}s", node.column)
        if whole.json_list and not whole.multi and item.static:
            test = self.d.list_contains_sql(whole.expr.text, False)
            param = self.d.list_contains_param(item.value, False)
            cond = cat(whole.expr, " IS NOT NULL AND ", S(test, (*whole.expr.params, param)))
            return self.exists([whole], cond)
        rows = self.explode(whole, node.column)
        return self.exists([rows, item], self.where(item, cat(rows.expr, " = ", item.expr)))

    def text_contains(self, a: _Val, b: _Val) -> S:
        if a.static_empty or b.static_empty:
            return FALSE
        test = (
            cat("instr(", a.expr, ", ", b.expr, ") > 0")
            if self.sqlite
            else cat("strpos(", a.expr, ", ", b.expr, ") > 0")
        )
        return self.exists([a, b], self.where(a, b, test))

    # --- values ---------------------------------------------------------------------------

    def value(self, node: Expr) -> _Val:
        if _is_static(node):
            return self.static(node)
        if isinstance(node, ThisThing):
            alias = self.ctx.this_alias
            if alias is None:
                raise ExprError(
                    "this condition reads This thing: compile it with a this_alias",
                    node.column,
                )
            return _Val(Kind.THING, S(f"{alias}._id"), nullable=False, row=alias)
        if isinstance(node, GetField):
            return self.get_field(node)
        if isinstance(node, SearchFor):
            return self.search(node)
        if isinstance(node, Compare | Check | Logic):
            return _Val(Kind.YES_NO, self.boolean(node), nullable=False)
        if isinstance(node, Apply):
            return self.apply(node)
        if isinstance(node, DateShift):
            return self.date_shift(node)
        if isinstance(node, Arith):
            return self.arith(node)
        what = {
            Parameter: "workflow parameters",
            StepResult: "'Result of step'",
            ThisItem: "'This item'",
            Filtered: "':filtered'",
            Sorted: "':sorted'",
        }.get(type(node), type(node).__name__)
        raise _Unsupported(f"{what} cannot be used in SQL", node.column)

    def static(self, node: Expr) -> _Val:
        raw = self.python.eval(node)
        kind = node.type.kind
        if raw is ANONYMOUS:
            return _Val(kind, static=True, anonymous=True, nullable=False)
        value = stored(raw)
        if value is None:
            return _Val(kind, static=True)
        if isinstance(value, list):
            return _Val(kind, static=True, value=value, nullable=False)
        if isinstance(value, values.Address) or kind in (Kind.NUMBER_RANGE, Kind.DATE_RANGE):
            raise _Unsupported(f"a {kind.value} value in SQL", node.column)
        return _Val(kind, S("?", (value,)), static=True, value=value, nullable=False)

    def get_field(self, node: GetField) -> _Val:
        base = self.value(node.base)
        f = node.field
        ft = f.type
        kind = Kind(ft.kind.value)
        if base.static:
            if base.anonymous or base.value is None:
                return _Val(kind, static=True)  # every field of nothing is empty
            if isinstance(base.value, list):
                raise _Unsupported("fields of a list computed in Python", node.column)
        ref = self.explode(base, node.column) if node.base.type.is_list else base
        if ref.row is not None:
            row, joins = ref.row, ref.joins
        else:
            row = self.alias()
            link = cat(f"{row}._id = ", ref.expr)
            joins = (*ref.joins, _Join(S(f"{self.d.table(node.of_type.table)} {row}"), link))
        cols = column_names(f)
        col = self.col(row, cols[0])
        multi = ref.multi
        if ft.kind is FieldKind.ADDRESS and not ft.is_list:
            address = (col, self.col(row, cols[1]), self.col(row, cols[2]))
            return _Val(kind, S(col), joins, multi, address=address)
        not_null = f.column in ("_id", "_created_date", "_modified_date")
        return _Val(
            kind,
            S(col),
            joins,
            multi,
            json_list=ft.is_list,
            nullable=not not_null,
            row=row if f.column == "_id" else None,
        )

    def explode(self, v: _Val, column: int) -> _Val:
        """One row per item of a list value."""
        if v.static:
            raise _Unsupported("a list computed in Python, used as a table", column)
        if not v.json_list:
            if v.multi:
                return v
            raise _Unsupported("expected a list", column)
        alias = self.alias()
        if self.sqlite:
            source = cat("json_each(", v.expr, f") {alias}")
            item = f"{alias}.value"
        else:
            source = cat("jsonb_array_elements_text(", v.expr, f") AS {alias}(value)")
            cast = {Kind.NUMBER: "DOUBLE PRECISION", Kind.DATE: "BIGINT", Kind.YES_NO: "BOOLEAN"}
            item = f"CAST({alias}.value AS {cast[v.kind]})" if v.kind in cast else f"{alias}.value"
        if v.kind in (Kind.ADDRESS, Kind.NUMBER_RANGE, Kind.DATE_RANGE):
            raise _Unsupported(f"lists of {v.kind.value}s", column)
        return _Val(v.kind, S(item), (*v.joins, _Join(source, TRUE)), multi=True, nullable=False)

    def scalar(self, v: _Val, column: int) -> _Val:
        """The value as an expression of the outer query alone (a scalar subquery)."""
        if not v.joins:
            return v
        if v.multi:
            raise _Unsupported("a list used where one value is needed", column)
        sub = cat("(", self.select(v.expr, v.joins), ")")
        return replace(v, expr=sub, joins=(), nullable=True, row=None, address=None)

    def search(self, node: SearchFor) -> _Val:
        row = self.alias()
        links = [self.constraint(row, c) for c in node.constraints]
        link = join_all(links, " AND ") if links else TRUE
        source = S(f"{self.d.table(node.dtype.table)} {row}")
        return _Val(
            Kind.THING, S(f"{row}._id"), (_Join(source, link),), multi=True, nullable=False, row=row
        )

    def constraint(self, row: str, c: Constraint) -> S:
        f = c.field
        col = self.col(row, column_names(f)[0])
        is_list = f.type.is_list
        empty = S(self.d.json_is_empty(col)) if is_list else S(f"{col} IS NULL")
        op = c.op
        if op is ConstraintOp.IS_EMPTY:
            return empty
        if op is ConstraintOp.IS_NOT_EMPTY:
            return _not(empty)
        assert c.value is not None
        v = self.scalar(self.value(c.value), c.column)
        if f.type.kind is FieldKind.ADDRESS:
            raise _Unsupported("constraints on geographic addresses", c.column)
        negative = op in (ConstraintOp.NOT_EQUAL, ConstraintOp.NOT_CONTAINS, ConstraintOp.NOT_IN)
        if v.anonymous:
            return _const(negative)  # nothing stored is the temporary user
        if v.static_empty:
            if op is ConstraintOp.EQUALS:
                return empty
            if op is ConstraintOp.NOT_EQUAL:
                return _not(empty)
            return _const(op in (ConstraintOp.NOT_CONTAINS, ConstraintOp.NOT_IN))
        if isinstance(v.value, list) and v.static:
            marks = ", ".join("?" for _ in v.value)
            inside = cat(f"{col} IN (", S(marks, tuple(v.value)), ")")
            if op is ConstraintOp.IN:
                return inside
            if op is ConstraintOp.NOT_IN:
                return cat(f"({col} IS NULL OR NOT ", inside, ")")
            raise _Unsupported("a list value in this constraint", c.column)
        if v.json_list or v.kind in (Kind.NUMBER_RANGE, Kind.DATE_RANGE):
            raise _Unsupported("a list value in this constraint", c.column)
        if op is ConstraintOp.EQUALS:
            test = cat(f"{col} IS NOT NULL AND {col} = ", v.expr)
            return self.if_value(v, test, empty)
        if op is ConstraintOp.NOT_EQUAL:
            test = cat(f"({col} IS NULL OR NOT {col} = ", v.expr, ")")
            return self.if_value(v, test, _not(empty))
        if op in (ConstraintOp.GREATER_THAN, ConstraintOp.LESS_THAN):
            symbol = " > " if op is ConstraintOp.GREATER_THAN else " < "
            return self.where(v, cat(f"{col} IS NOT NULL AND {col}", symbol, v.expr))
        if op in (ConstraintOp.CONTAINS, ConstraintOp.NOT_CONTAINS):
            whole = _Val(Kind(f.type.kind.value), S(col), json_list=True)
            found = self.list_contains(whole, v, c.value)
            if op is ConstraintOp.CONTAINS:
                return self.where(v, found)
            return self.if_value(v, _not(found), TRUE)
        raise _Unsupported(f"the constraint '{op.value}' with a value read in SQL", c.column)

    def if_value(self, v: _Val, test: S, when_empty: S) -> S:
        """`test` when `v` has a value, else `when_empty` (as the evaluator rewrites them)."""
        if not v.nullable:
            return test
        return cat(
            "((",
            v.expr,
            " IS NOT NULL AND ",
            test,
            ") OR (",
            v.expr,
            " IS NULL AND ",
            when_empty,
            "))",
        )

    def apply(self, node: Apply) -> _Val:
        op = node.op
        base = self.value(node.base)
        if base.anonymous and op is Op.DEFAULTING_TO:
            return base  # the temporary user is never empty
        if base.static_empty or base.anonymous:
            if op in (Op.COUNT, Op.LENGTH):
                return _Val(Kind.NUMBER, S("?", (0.0,)), static=True, value=0.0, nullable=False)
            if op is Op.DEFAULTING_TO:
                return self.scalar(self.value(node.args[0]), node.column)
            return _Val(node.type.kind, static=True)
        if op is Op.COUNT:
            return self.count(base, node)
        if op is Op.LENGTH:
            s = self.scalar(base, node.column)
            return _Val(Kind.NUMBER, cat("COALESCE(length(", s.expr, "), 0)"), nullable=False)
        if op is Op.DEFAULTING_TO:
            other = self.scalar(self.value(node.args[0]), node.column)
            first = self.scalar(base, node.column)
            for v in (first, other):
                if v.anonymous or v.json_list or isinstance(v.value, list) or v.address:
                    raise _Unsupported("':defaulting to' on this value", node.column)
            if first.static_empty:
                return other
            if other.static_empty:
                return first
            expr = cat("COALESCE(", first.expr, ", ", other.expr, ")")
            return _Val(node.type.kind, expr, nullable=other.nullable)
        if op in (Op.START, Op.END):
            index = 0 if op is Op.START else 1
            if self.sqlite:
                expr = cat("json_extract(", base.expr, f", '$[{index}]')")
            else:
                cast = "BIGINT" if node.type.kind is Kind.DATE else "DOUBLE PRECISION"
                expr = cat("CAST((", base.expr, f")->>{index} AS {cast})")
            return replace(base, kind=node.type.kind, expr=expr, nullable=True, row=None)
        if op in (Op.ADDRESS_TEXT, Op.LATITUDE, Op.LONGITUDE) and base.address is not None:
            index = {Op.ADDRESS_TEXT: 0, Op.LATITUDE: 1, Op.LONGITUDE: 2}[op]
            expr = S(base.address[index])
            return replace(base, kind=node.type.kind, expr=expr, nullable=True, address=None)
        if op is Op.DISPLAY:
            return replace(base, kind=Kind.TEXT)
        raise _Unsupported(f"':{op.value}' cannot be used in SQL", node.column)

    def count(self, base: _Val, node: Apply) -> _Val:
        if base.json_list and not base.multi:
            s = self.scalar(base, node.column)
            length = "json_array_length" if self.sqlite else "jsonb_array_length"
            return _Val(Kind.NUMBER, cat(f"COALESCE({length}(", s.expr, "), 0)"), nullable=False)
        rows = self.explode(base, node.column) if base.json_list else base
        if not rows.multi:
            raise _Unsupported("':count' of this value", node.column)
        cond = None if rows.row is not None or not rows.nullable else self.where(rows)
        sub = cat("(", self.select(S("COUNT(*)"), rows.joins, cond), ")")
        return _Val(Kind.NUMBER, sub, nullable=False)

    def date_shift(self, node: DateShift) -> _Val:
        base = self.value(node.base)
        if not _is_static(node.amount):
            raise _Unsupported("a date step by an amount read from a thing", node.amount.column)
        amount = self.python.eval(node.amount)
        if amount is None or base.static_empty:
            return _Val(Kind.DATE, static=True)
        step = dates.shift_ms(node.unit, node.sign * float(amount))
        if step is None:
            raise _Unsupported(
                f"'+({node.unit.value})' on a date read from a thing (calendar months)",
                node.column,
            )
        return replace(base, expr=cat("(", base.expr, " + ", S("?", (step,)), ")"), row=None)

    def arith(self, node: Arith) -> _Val:
        if node.type.kind is Kind.NUMBER:
            raise _Unsupported(
                "arithmetic on numbers read from things (Bubble rounds to 15 digits)", node.column
            )
        a, b = self.value(node.left), self.value(node.right)
        if a.static_empty or b.static_empty:
            return _Val(node.type.kind, static=True)
        if a.multi or b.multi:
            raise _Unsupported("arithmetic on lists", node.column)
        symbol = " - " if node.op is ArithOp.SUB else " + "
        return _Val(
            node.type.kind,
            cat("(", a.expr, symbol, b.expr, ")"),
            (*a.joins, *b.joins),
            nullable=a.nullable or b.nullable,
        )
