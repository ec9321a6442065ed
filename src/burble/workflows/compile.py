"""Compiling the definition's API workflows and custom events: every condition and dynamic
value parsed and type-checked, every action checked by its kind's parser. Problems carry
file, line and path (`workflows.x.actions[1].fields.price`), like privacy rules'."""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from burble.appdef.coerce import coerce_value
from burble.appdef.model import (
    AppDefinition,
    BackendEventSpec,
    CustomEventSpec,
    DataType,
    EventKind,
    Field,
    FieldKind,
    FieldType,
    ParameterSpec,
    PathPart,
    ResponseKind,
    Source,
    WorkflowSpec,
    dotted_path,
)
from burble.errors import BurbleError, Problem
from burble.expr import Expr, ExprError, Scope, StepOutput, ValueType, parse, parse_condition
from burble.expr import types as t
from burble.expr.ast import CurrentUser, Now, SearchFor, StepResult, ThisThing
from burble.expr.signatures import noun
from burble.workflows.changes import LIST_KEYS, FieldChange, ListChange, list_keys
from burble.workflows.dynamic import (
    Dynamic,
    Items,
    Static,
    Template,
    TemplateError,
    Value,
    split_template,
)
from burble.workflows.model import BackendEvent, CustomEvent, Step, Workflow, Workflows
from burble.workflows.registry import Registry

_OTHER_SOURCES = {
    CurrentUser: "Current User",
    SearchFor: "Search for",
    Now: "Current date/time",
    ThisThing: "This <Type>",
    StepResult: "Result of step N",
}


def _other_source(expr: object) -> str | None:
    """The first source a trigger's condition may not use, if any (it sees only the
    changed thing before and after)."""
    name = _OTHER_SOURCES.get(type(expr))
    if name is not None:
        return name
    if dataclasses.is_dataclass(expr) and not isinstance(expr, type):
        for f in dataclasses.fields(expr):
            value = getattr(expr, f.name)
            for item in value if isinstance(value, tuple | list) else (value,):
                found = _other_source(item)
                if found is not None:
                    return found
    return None


_STEP_NUMBER = re.compile(r"Result\s+of\s+step\s+(\d+)")


def compile_workflows(
    definition: AppDefinition, registry: Registry, filename: str = "app.yaml"
) -> tuple[Workflows, list[Problem]]:
    """Every API workflow and custom event, and every problem found in them."""
    compiler = _Compiler(definition, registry, filename)
    events = {n: compiler.event(s) for n, s in definition.custom_events.items()}
    api = {n: compiler.workflow(s) for n, s in definition.workflows.items()}
    recurring = {n: compiler.backend(s) for n, s in definition.recurring_events.items()}
    triggers = {n: compiler.backend(s) for n, s in definition.triggers.items()}
    found = [e for e in (*recurring.values(), *triggers.values()) if e is not None]
    return (
        Workflows(
            api,
            events,
            {e.name: e for e in found if e.spec.kind is EventKind.RECURRING},
            {e.name: e for e in found if e.spec.kind is EventKind.TRIGGER},
        ),
        compiler.problems,
    )


@dataclass
class Context:
    """What the actions of one API workflow or custom event are compiled in."""

    owner: str  # "workflow create-listing" / "custom event notify"
    parameters: Mapping[str, FieldType]
    response: ResponseKind | None  # an API workflow's response kind
    returns: Mapping[str, FieldType] | None  # a custom event's declared returned values
    steps: dict[int, StepOutput]
    broken: set[int] = field(default_factory=set)  # steps with problems of their own
    this_type: DataType | None = None  # a recurring event's thing: `This <Type>`

    @property
    def is_event(self) -> bool:
        return self.returns is not None


class _Compiler:
    def __init__(self, definition: AppDefinition, registry: Registry, filename: str) -> None:
        self.definition = definition
        self.registry = registry
        self.filename = filename
        self.problems: list[Problem] = []

    def problem(self, message: str, source: Source, path: tuple[PathPart, ...]) -> None:
        self.problems.append(
            Problem(message, file=self.filename, line=source.line(path), path=dotted_path(path))
        )

    def workflow(self, spec: WorkflowSpec) -> Workflow:
        ctx = Context(
            f"workflow {spec.name}",
            {p.name: p.type for p in spec.parameters},
            spec.response,
            None,
            {},
        )
        only_when = None
        if spec.only_when is not None:
            b = Builder(self, ctx, spec.source, spec.source.path, 0)
            only_when = b.condition(spec.only_when, "only_when")
        return Workflow(spec, only_when, self.steps(spec.actions, ctx, spec.source))

    def event(self, spec: CustomEventSpec) -> CustomEvent:
        ctx = Context(
            f"custom event {spec.name}",
            {p.name: p.type for p in spec.parameters},
            None,
            dict(spec.returns),
            {},
        )
        return CustomEvent(spec, self.steps(spec.actions, ctx, spec.source))

    def backend(self, spec: BackendEventSpec) -> BackendEvent | None:
        dtype = self.definition.types.get(spec.type_name)
        if dtype is None:
            return None  # reported when the definition was loaded
        kind = "recurring event" if spec.kind is EventKind.RECURRING else "trigger"
        parameters: dict[str, FieldType] = {}
        if spec.kind is EventKind.TRIGGER:
            thing = FieldType(FieldKind.THING, False, dtype.name)
            parameters = {spec.before_name: thing, spec.now_name: thing}
        ctx = Context(
            f"{kind} {spec.name}",
            parameters,
            None,
            None,
            {},
            this_type=dtype if spec.kind is EventKind.RECURRING else None,
        )
        only_when = None
        if spec.only_when is not None:
            b = Builder(self, ctx, spec.source, spec.source.path, 0)
            only_when = b.condition(spec.only_when, "only_when")
            used = None if only_when is None else _other_source(only_when)
            if used is not None:
                b.problem(
                    f"a trigger's condition may use only {spec.before_name} and "
                    f"{spec.now_name}, not {used}",
                    "only_when",
                )
                only_when = None
        return BackendEvent(spec, dtype, only_when, self.steps(spec.actions, ctx, spec.source))

    def steps(
        self, actions: tuple[Mapping[str, Any], ...], ctx: Context, source: Source
    ) -> tuple[Step, ...]:
        steps: list[Step] = []
        for i, raw in enumerate(actions):
            number = i + 1
            path = source.at("actions", i)
            b = Builder(self, ctx, source, path, number)
            keys = [k for k in raw if self.registry.by_key(k) is not None]
            if len(keys) != 1:
                known = ", ".join(self.registry.keys())
                if keys:
                    b.problem(f"an action has one action key; this one has {' and '.join(keys)}")
                else:
                    b.problem(f"unknown action: an action is a mapping with one of {known}")
                ctx.steps[number] = StepOutput("unknown action")
                ctx.broken.add(number)
                continue
            kind = self.registry.by_key(keys[0])
            assert kind is not None
            allowed = {kind.key, "only_when", *kind.options}
            for key in raw:
                if key not in allowed:
                    others = ", ".join(sorted(allowed - {kind.key}))
                    b.problem(f"unknown option '{key}' of {kind.key} (it takes {others})", key)
            only_when = None
            if "only_when" in raw:
                only_when = b.condition(raw["only_when"], "only_when")
            action = kind.parse(raw, b)
            if action is None:
                ctx.steps[number] = StepOutput(kind.title)
                ctx.broken.add(number)
                continue
            ctx.steps[number] = StepOutput(kind.title, action.result_type(), action.result_fields())
            text = raw.get("only_when")
            steps.append(
                Step(
                    number,
                    kind.title,
                    action,
                    only_when,
                    kind.run,
                    dotted_path(path),
                    text if isinstance(text, str) else None,
                )
            )
        return tuple(steps)


class Builder:
    """What an action's parser works with: its step's scope (parameters, earlier steps'
    results), checked readers for its options, and a way to report problems at a path
    relative to the action."""

    def __init__(
        self,
        compiler: _Compiler,
        context: Context,
        source: Source,
        path: tuple[PathPart, ...],
        step: int,
    ) -> None:
        self._c = compiler
        self.context = context
        self.definition = compiler.definition
        self._source = source
        self.path = path
        self.step = step
        self.ok = True

    # --- problems -------------------------------------------------------------------------

    def problem(self, message: str, *rel: PathPart) -> None:
        self.ok = False
        self._c.problem(message, self._source, (*self.path, *rel))

    # --- expressions ----------------------------------------------------------------------

    def scope(self, this_type: DataType | None = None) -> Scope:
        steps = {n: s for n, s in self.context.steps.items() if n < self.step}
        this = this_type or self.context.this_type
        return Scope(self.definition, this, self.context.parameters, steps)

    def condition(
        self, raw: object, *rel: PathPart, this_type: DataType | None = None
    ) -> Expr | None:
        """A condition: an expression without brackets whose value is yes/no."""
        if not isinstance(raw, str) or not raw.strip():
            self.problem("a condition is an expression (text), without brackets", *rel)
            return None
        try:
            return parse_condition(raw, self.scope(this_type))
        except ExprError as exc:
            self._expr_problem(raw, f"{exc.message} (column {exc.column} of the condition)", rel)
            return None

    def _expression(
        self, text: str, offset: int, rel: tuple[PathPart, ...], this_type: DataType | None
    ) -> Expr | None:
        try:
            return parse(text, self.scope(this_type))
        except ExprError as exc:
            self._expr_problem(
                text, f"{exc.message} (column {exc.column + offset} of the value)", rel
            )
            return None

    def _expr_problem(self, text: str, message: str, rel: tuple[PathPart, ...]) -> None:
        """Report a problem, unless the expression uses the result of a step that has
        problems of its own (one mistake, one message)."""
        used = {int(n) for n in _STEP_NUMBER.findall(text)}
        if used & self.context.broken:
            self.ok = False
            return
        self.problem(message, *rel)

    def expression(
        self, raw: object, *rel: PathPart, this_type: DataType | None = None
    ) -> Expr | None:
        """A value that must be one whole `"[expression]"` (the thing an action changes)."""
        if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], str):
            self.problem(
                f'write expressions in quotes: "[{raw[0]}]" (YAML reads [{raw[0]}] as a list)',
                *rel,
            )
            return None
        parts = self._split(raw, rel) if isinstance(raw, str) else None
        if parts is None or len(parts) != 1 or not isinstance(parts[0], tuple):
            if parts is not None or not isinstance(raw, str):
                self.problem('expected an expression in brackets: "[...]"', *rel)
            return None
        offset, text = parts[0]
        return self._expression(text, offset, rel, this_type)

    def _split(self, raw: str, rel: tuple[PathPart, ...]) -> list[str | tuple[int, str]] | None:
        try:
            return split_template(raw)
        except TemplateError as exc:
            self.problem(f"{exc.message} (column {exc.column} of the value)", *rel)
            return None

    def thing(
        self, raw: object, *rel: PathPart, many: bool = False
    ) -> tuple[Expr, DataType] | None:
        """An expression giving a thing (`many`: a list of things), and its type."""
        expr = self.expression(raw, *rel)
        if expr is None:
            return None
        vt = expr.type
        if vt.kind is not t.Kind.THING or vt.is_list != many or vt.target is None:
            wanted = "a list of things" if many else "a thing"
            self.problem(f"expected {wanted}; this expression gives {noun(vt)}", *rel)
            return None
        return expr, self.definition.types[vt.target]

    def value(
        self,
        raw: object,
        expected: ValueType | None,
        *rel: PathPart,
        this_type: DataType | None = None,
    ) -> Value | None:
        """A value for a field, parameter or returned key of type `expected` (None: any)."""
        if isinstance(raw, str) and "[" in raw:
            parts = self._split(raw, rel)
            if parts is None:
                return None
            if len(parts) == 1 and isinstance(parts[0], tuple):
                offset, text = parts[0]
                expr = self._expression(text, offset, rel, this_type)
                if expr is None:
                    return None
                if expected is not None and not t.same(expr.type, expected):
                    self.problem(
                        f"this expression gives {noun(expr.type)}; {noun(expected)} is needed here",
                        *rel,
                    )
                    return None
                return Dynamic(expr)
            if expected is not None and (expected.is_list or expected.kind not in t.TEXT_LIKE):
                self.problem(
                    f"text with [expressions] inside is a text; {noun(expected)} is needed "
                    'here: write the whole value as one "[expression]"',
                    *rel,
                )
                return None
            pieces: list[str | Expr] = []
            for part in parts:
                if isinstance(part, str):
                    pieces.append(part)
                    continue
                expr = self._expression(part[1], part[0], rel, this_type)
                if expr is None:
                    return None
                pieces.append(expr)
            return Template(tuple(pieces))
        if isinstance(raw, list):
            if expected is not None and not expected.is_list:
                hint = ""
                if len(raw) == 1 and isinstance(raw[0], str):
                    hint = f': write expressions in quotes, "[{raw[0]}]" (YAML reads [x] as a list)'
                self.problem(f"a list is not {noun(expected)}{hint}", *rel)
                return None
            item = expected.item() if expected is not None else None
            items = [self.value(r, item, *rel, i, this_type=this_type) for i, r in enumerate(raw)]
            if any(i is None for i in items):
                return None
            found = [i for i in items if i is not None]
            list_type = expected or (found[0].type.as_list() if found else t.TEXTS)
            if expected is None and any(not t.same(i.type, list_type.item()) for i in found):
                self.problem("the items of a list must all be of one type", *rel)
                return None
            if all(isinstance(i, Static) for i in found):
                statics: list[object] = []
                for i in found:
                    assert isinstance(i, Static)
                    if isinstance(i.value, list):
                        statics.extend(i.value)
                    elif i.value is not None:
                        statics.append(i.value)
                return Static(statics or None, list_type)
            return Items(tuple(found), list_type)
        return self._static(raw, expected, rel)

    def _static(
        self, raw: object, expected: ValueType | None, rel: tuple[PathPart, ...]
    ) -> Value | None:
        if isinstance(raw, datetime.date):  # YAML reads 2024-01-31 as a date
            raw = raw.isoformat()
            if expected is None:
                expected = t.DATE
        if expected is None:
            if raw is None:
                return Static(None, t.EMPTY)
            if isinstance(raw, bool):
                return Static(raw, t.YES_NO)
            if isinstance(raw, int | float):
                return Static(float(raw), t.NUMBER)
            if isinstance(raw, str):
                return Static(raw or None, t.TEXT)
            self.problem("expected a value (a text, number, yes/no or [expression])", *rel)
            return None
        kind = expected.field_kind()
        if kind is None:
            if raw is None:
                return Static(None, expected)
            self.problem(f"{noun(expected)} is needed here: write it as an [expression]", *rel)
            return None
        if isinstance(raw, dict) and kind is not FieldKind.ADDRESS:
            self.problem(f"expected {noun(expected)}, not a mapping", *rel)
            return None
        ftype = FieldType(kind, expected.is_list, expected.target)
        probe = Field(dotted_path(rel) or "value", "", ftype, "")
        try:
            return Static(coerce_value(probe, raw, self.definition), expected)
        except BurbleError:
            self.problem(f"{raw!r} is not {noun(expected)}", *rel)
            return None

    # --- options shared by several actions ------------------------------------------------

    def data_type(self, raw: object, *rel: PathPart) -> DataType | None:
        if not isinstance(raw, str) or raw not in self.definition.types:
            close = difflib.get_close_matches(str(raw), list(self.definition.types), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.problem(f"unknown data type '{raw}'{hint}", *rel)
            return None
        return self.definition.types[raw]

    def changes(
        self, dtype: DataType, raw: object, *rel: PathPart, this_type: DataType | None = None
    ) -> tuple[FieldChange, ...] | None:
        """`fields:`: a value (or a list change) per field of `dtype`, by display name."""
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.problem("fields is a mapping of field names to values", *rel)
            return None
        out: list[FieldChange] = []
        ok = True
        for name, spec in raw.items():
            at = (*rel, name)
            field = dtype.by_name.get(name)
            if field is None:
                close = difflib.get_close_matches(str(name), list(dtype.by_name), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                if dtype.is_user and name in ("email", "password"):
                    hint = " (a user's email and password change with the account actions)"
                self.problem(f"unknown field '{name}' of {dtype.name}{hint}", *at)
                ok = False
                continue
            change = self._change(field, spec, at, this_type)
            if change is None:
                ok = False
            else:
                out.append(change)
        return tuple(out) if ok else None

    def _change(
        self, field: Field, spec: object, at: tuple[PathPart, ...], this_type: DataType | None
    ) -> FieldChange | None:
        vt = ValueType.of(field.type)
        is_change = isinstance(spec, dict) and any(k in LIST_KEYS for k in spec)
        if not is_change:
            value = self.value(spec, vt, *at, this_type=this_type)
            return None if value is None else FieldChange(field, ListChange.SET, value)
        assert isinstance(spec, dict)
        if not field.type.is_list:
            self.problem(f"{', '.join(spec)}: list changes apply to list fields only", *at)
            return None
        if len(spec) != 1:
            self.problem(f"one list change per field: {list_keys()}", *at)
            return None
        key, raw = next(iter(spec.items()))
        change = LIST_KEYS[key]
        if change is ListChange.CLEAR:
            if raw is not True:
                self.problem("write `clear: true`", *at, key)
                return None
            return FieldChange(field, change, None)
        wanted = vt if change in (ListChange.ADD_LIST, ListChange.REMOVE_LIST) else vt.item()
        value = self.value(raw, wanted, *at, key, this_type=this_type)
        return None if value is None else FieldChange(field, change, value)

    def arguments(
        self,
        raw: object,
        declared: tuple[ParameterSpec, ...],
        target: str,
        this_type: DataType | None = None,
    ) -> tuple[tuple[str, FieldType, Value], ...] | None:
        """`parameters:` of an action that runs another workflow or event (`target`, e.g.
        "custom event notify"): a value per declared parameter, each checked against its
        type; every required parameter given."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.problem(
                f"parameters is a mapping of {target}'s parameters to values", "parameters"
            )
            return None
        by_name = {p.name: p for p in declared}
        out: list[tuple[str, FieldType, Value]] = []
        for name, value_raw in raw.items():
            p = by_name.get(name)
            if p is None:
                known = ", ".join(by_name) or "none"
                self.problem(
                    f"{target} has no parameter '{name}' (it has: {known})", "parameters", name
                )
                continue
            value = self.value(
                value_raw, ValueType.of(p.type), "parameters", name, this_type=this_type
            )
            if value is not None:
                out.append((name, p.type, value))
        for p in declared:
            if not p.optional and p.name not in raw:
                self.problem(f"{target} needs parameter '{p.name}'", "parameters")
        return tuple(out)

    def event(self, raw: object, *rel: PathPart) -> CustomEventSpec | None:
        events = self.definition.custom_events
        if not isinstance(raw, str) or raw not in events:
            close = difflib.get_close_matches(str(raw), list(events), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.problem(f"unknown custom event '{raw}'{hint}", *rel)
            return None
        return events[raw]
