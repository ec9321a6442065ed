"""Bubble's expression language: parse and type-check against the app definition, evaluate,
and compile conditions to SQL. Reference: docs/expressions.md."""

from burble.expr.ast import Expr
from burble.expr.errors import ExprError
from burble.expr.evaluate import EvalContext, Thing, evaluate
from burble.expr.parser import Scope, StepOutput, parse, parse_condition
from burble.expr.to_sql import SqlContext, compilable, to_sql
from burble.expr.types import Kind, ValueType

__all__ = [
    "EvalContext",
    "Expr",
    "ExprError",
    "Kind",
    "Scope",
    "SqlContext",
    "StepOutput",
    "Thing",
    "ValueType",
    "compilable",
    "evaluate",
    "parse",
    "parse_condition",
    "to_sql",
]
