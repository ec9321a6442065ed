"""Privacy rules, compiled: each rule's `when` parsed against its type (`This <Type>`,
`Current User`) and checked to compile to SQL, so enforcement is never a loop in Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from burble.appdef.model import AppDefinition, DataType, Field, Permission, RuleSpec
from burble.errors import AppDefError, Problem
from burble.expr import Expr, ExprError, Scope, compilable, parse_condition


@dataclass(frozen=True, slots=True)
class Rule:
    spec: RuleSpec
    condition: Expr | None  # None: applies to everyone

    @property
    def name(self) -> str:
        return self.spec.name

    def grants(self, permission: Permission) -> bool:
        return permission in self.spec.grants

    def views(self, field: Field) -> bool:
        return Permission.VIEW_ALL in self.spec.grants or field in self.spec.view_fields

    @property
    def views_anything(self) -> bool:
        return Permission.VIEW_ALL in self.spec.grants or bool(self.spec.view_fields)


@dataclass(frozen=True, slots=True)
class TypeRules:
    """The rules of one data type; `rules` is None when the type has none (admin-only)."""

    dtype: DataType
    rules: tuple[Rule, ...] | None

    def granting(self, permission: Permission) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules or () if r.grants(permission))


def compile_rules(
    definition: AppDefinition, filename: str = "app.yaml"
) -> tuple[dict[str, TypeRules], list[Problem]]:
    """Every type's rules, and every problem found in their conditions."""
    out: dict[str, TypeRules] = {}
    problems: list[Problem] = []
    for dtype in definition.types.values():
        if dtype.privacy is None:
            out[dtype.name] = TypeRules(dtype, None)
            continue
        scope = Scope(definition, this_type=dtype)
        rules: list[Rule] = []
        for spec in dtype.privacy:
            condition: Expr | None = None
            if spec.when is not None:
                try:
                    condition = parse_condition(spec.when, scope)
                except ExprError as exc:
                    problems.append(
                        Problem(
                            f"{exc.message} (column {exc.column} of the condition)",
                            file=filename,
                            line=spec.line,
                            path=spec.path,
                        )
                    )
                    continue
                if not compilable(condition):
                    problems.append(
                        Problem(
                            "this condition cannot be turned into a database query, which "
                            "privacy rules require: simplify it",
                            file=filename,
                            line=spec.line,
                            path=spec.path,
                        )
                    )
                    continue
            rules.append(Rule(spec, condition))
        out[dtype.name] = TypeRules(dtype, tuple(rules))
    return out, problems


def rules_or_raise(
    definition: AppDefinition, filename: str = "app.yaml"
) -> Mapping[str, TypeRules]:
    rules, problems = compile_rules(definition, filename)
    if problems:
        raise AppDefError(problems)
    return rules
