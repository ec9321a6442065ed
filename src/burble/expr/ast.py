"""The expression tree. Every node is immutable and knows its static `type` and the 1-based
`column` where it starts in the source text.

Nodes compare by identity (they hold data types and fields, which are not hashable)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from burble.appdef.model import DataType, Field
from burble.expr.types import ValueType


class CompareOp(enum.Enum):
    IS = "is"
    IS_NOT = "is not"
    GREATER = ">"
    LESS = "<"
    GREATER_EQUAL = "≥"
    LESS_EQUAL = "≤"
    CONTAINS = "contains"
    NOT_CONTAINS = "doesn't contain"
    IN = "is in"
    NOT_IN = "is not in"


class CheckOp(enum.Enum):
    EMPTY = "is empty"
    NOT_EMPTY = "is not empty"
    LOGGED_IN = "is logged in"
    NOT_LOGGED_IN = "is not logged in"


class LogicOp(enum.Enum):
    AND = "and"
    OR = "or"


class ArithOp(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"


class DateUnit(enum.Enum):
    SECONDS = "seconds"
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    YEARS = "years"


class Op(enum.Enum):
    """The `:operator` steps (and `'s` parts of ranges, addresses and options)."""

    COUNT = "count"
    FIRST_ITEM = "first item"
    LAST_ITEM = "last item"
    ITEM_AT = "item #"
    SUM = "sum"
    AVERAGE = "average"
    MIN = "min"
    MAX = "max"
    UNIQUE = "unique elements"
    PLUS_ITEM = "plus item"
    MINUS_ITEM = "minus item"
    MERGED_WITH = "merged with"
    MINUS_LIST = "minus list"
    JOIN_WITH = "join with"
    LOWERCASE = "lowercase"
    UPPERCASE = "uppercase"
    CAPITALIZED = "capitalized words"
    TRIMMED = "trimmed"
    LENGTH = "number of characters"
    SPLIT_BY = "split by"
    APPEND = "append"
    FIND_REPLACE = "find & replace"
    TRUNCATED_TO = "truncated to"
    TO_NUMBER = "converted to number"
    FORMATTED_AS = "formatted as"
    JSON_SAFE = "formatted as JSON-safe"
    DEFAULTING_TO = "defaulting to"
    ROUNDED_TO = "rounded to"
    FLOOR = "floor"
    CEILING = "ceiling"
    START = "start"
    END = "end"
    AS_DAYS = "format as days"
    AS_HOURS = "format as hours"
    AS_MINUTES = "format as minutes"
    AS_SECONDS = "format as seconds"
    ADDRESS_TEXT = "formatted address"
    LATITUDE = "latitude"
    LONGITUDE = "longitude"
    DISPLAY = "Display"


class ConstraintOp(enum.Enum):
    """Search constraints; values are `burble.store.query.Op` spellings, which is what
    `EvalContext.search` receives."""

    EQUALS = "equals"
    NOT_EQUAL = "not equal"
    GREATER_THAN = "greater than"
    LESS_THAN = "less than"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"
    CONTAINS = "contains"
    NOT_CONTAINS = "not contains"
    IN = "in"
    NOT_IN = "not in"


@dataclass(frozen=True, eq=False, kw_only=True)
class Expr:
    type: ValueType
    column: int


# --- data sources -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Literal(Expr):
    """A constant in stored form (`None`: the literal `empty`)."""

    value: object


@dataclass(frozen=True, eq=False)
class ThisThing(Expr):
    dtype: DataType


@dataclass(frozen=True, eq=False)
class ThisItem(Expr):
    """The item a `:filtered` condition is about."""


@dataclass(frozen=True, eq=False)
class CurrentUser(Expr):
    pass


@dataclass(frozen=True, eq=False)
class Now(Expr):
    pass


@dataclass(frozen=True, eq=False)
class Parameter(Expr):
    name: str


@dataclass(frozen=True, eq=False)
class StepResult(Expr):
    """`Result of step N` in a workflow (`key`: one of a custom event's returned values)."""

    step: int
    key: str | None = None


@dataclass(frozen=True, eq=False)
class AllOptions(Expr):
    option_set: str
    options: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Constraint:
    field: Field
    op: ConstraintOp
    value: Expr | None
    column: int


@dataclass(frozen=True, eq=False)
class SearchFor(Expr):
    dtype: DataType
    constraints: tuple[Constraint, ...]


# --- steps --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GetField(Expr):
    """`'s field` of a thing, or of each thing of a list (`:each item's field`)."""

    base: Expr
    field: Field
    of_type: DataType


@dataclass(frozen=True, eq=False)
class Apply(Expr):
    """A `:operator` (or a `'s` part) applied to `base` with its arguments."""

    op: Op
    base: Expr
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True, eq=False)
class Sorted(Expr):
    base: Expr
    field: Field | None
    of_type: DataType | None
    descending: bool
    option_order: tuple[str, ...] = ()  # options sort in their set's order


@dataclass(frozen=True, eq=False)
class Filtered(Expr):
    base: Expr
    condition: Expr


@dataclass(frozen=True, eq=False)
class DateShift(Expr):
    """`date +(unit): amount` (sign -1 for `-(unit):`)."""

    base: Expr
    unit: DateUnit
    amount: Expr
    sign: int


@dataclass(frozen=True, eq=False)
class Arith(Expr):
    op: ArithOp
    left: Expr
    right: Expr


# --- yes/no -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Compare(Expr):
    op: CompareOp
    left: Expr
    right: Expr


@dataclass(frozen=True, eq=False)
class Check(Expr):
    op: CheckOp
    operand: Expr


@dataclass(frozen=True, eq=False)
class Logic(Expr):
    op: LogicOp
    left: Expr
    right: Expr


def children(node: Expr) -> list[Expr]:
    """The direct sub-expressions of a node, left to right."""
    if isinstance(node, SearchFor):
        return [c.value for c in node.constraints if c.value is not None]
    if isinstance(node, GetField | Sorted):
        return [node.base]
    if isinstance(node, Apply):
        return [node.base, *node.args]
    if isinstance(node, Filtered):
        return [node.base, node.condition]
    if isinstance(node, DateShift):
        return [node.base, node.amount]
    if isinstance(node, Arith | Compare | Logic):
        return [node.left, node.right]
    if isinstance(node, Check):
        return [node.operand]
    return []
