"""Actions that steer a run: Return data (from an API workflow, or a custom event's returned
values), Terminate this workflow, Trigger a custom event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from burble.appdef.model import Field, FieldType, ResponseKind
from burble.expr import ValueType
from burble.expr import types as t
from burble.workflows.changes import normalise
from burble.workflows.compile import Builder
from burble.workflows.dynamic import Value, as_text, to_json
from burble.workflows.engine import Frame
from burble.workflows.model import Action
from burble.workflows.registry import ActionKind

# "Lists returned by the Workflow API are limited to 50 entries" (bubble-semantics.md §2.2).
MAX_RETURNED_ITEMS = 50


# --- Return data --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ReturnData(Action):
    """`return: {key: value}` (JSON, or a custom event's returned values) or `return: text`."""

    values: tuple[tuple[str, Value], ...] = ()
    text: Value | None = None


def parse_return(options: Mapping[str, Any], b: Builder) -> ReturnData | None:
    raw = options["return"]
    ctx = b.context
    if ctx.returns is not None:  # a custom event
        if not isinstance(raw, dict):
            b.problem("a custom event returns named values: `return: {name: value}`", "return")
            return None
        out: list[tuple[str, Value]] = []
        for key, spec in raw.items():
            ftype = ctx.returns.get(key)
            if ftype is None:
                known = ", ".join(ctx.returns) or "none are declared"
                b.problem(
                    f"'{key}' is not a value this custom event returns (its `return:` "
                    f"declares: {known})",
                    "return",
                    key,
                )
                continue
            value = b.value(spec, ValueType.of(ftype), "return", key)
            if value is not None:
                out.append((key, value))
        return ReturnData(tuple(out)) if b.ok else None
    if ctx.response in (ResponseKind.JSON, ResponseKind.REDIRECT):
        if not isinstance(raw, dict):
            b.problem("this workflow answers JSON: `return: {key: value, ...}`", "return")
            return None
        values: list[tuple[str, Value]] = []
        for key, spec in raw.items():
            value = b.value(spec, None, "return", str(key))
            if value is not None:
                values.append((str(key), value))
        return ReturnData(tuple(values)) if b.ok else None
    if isinstance(raw, dict | list):
        b.problem('this workflow answers text: `return: "text with [expressions]"`', "return")
        return None
    text = b.value(raw, t.TEXT, "return")
    return None if text is None else ReturnData(text=text)


def run_return(action: ReturnData, frame: Frame) -> object:
    frame.stopped = True
    if frame.event is not None:
        returns = frame.event.returns
        frame.returned = {
            key: normalise(Field(key, "", returns[key], ""), frame.evaluate(value))
            for key, value in action.values
        }
        return None
    run = frame.run
    if action.text is not None:
        run.text = as_text(frame.evaluate(action.text), t.TEXT)
        return None
    for key, value in action.values:
        result = to_json(frame.evaluate(value), value.type)
        if isinstance(result, list):
            result = result[:MAX_RETURNED_ITEMS]
        run.response[key] = result
    return None


# --- Terminate this workflow --------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Terminate(Action):
    pass


def parse_terminate(options: Mapping[str, Any], b: Builder) -> Terminate | None:
    if options["terminate"] is not True:
        b.problem("write `terminate: true` (with `only_when:` to stop only sometimes)", "terminate")
        return None
    return Terminate()


def run_terminate(action: Terminate, frame: Frame) -> object:
    frame.stopped = True
    return None


# --- Trigger a custom event ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TriggerEvent(Action):
    event: str
    parameters: tuple[tuple[str, FieldType, Value], ...]
    returns: Mapping[str, ValueType]

    def result_fields(self) -> Mapping[str, ValueType]:
        return self.returns


def parse_trigger(options: Mapping[str, Any], b: Builder) -> TriggerEvent | None:
    spec = b.event(options["trigger"], "trigger")
    if spec is None:
        return None
    params = b.arguments(options.get("parameters"), spec.parameters, f"custom event {spec.name}")
    if params is None or not b.ok:
        return None
    returns = {name: ValueType.of(ftype) for name, ftype in spec.returns}
    return TriggerEvent(spec.name, params, returns)


def run_trigger(action: TriggerEvent, frame: Frame) -> object:
    engine = frame.run.engine
    event = engine.workflows.events[action.event]
    params = {
        name: normalise(Field(name, "", ftype, ""), frame.evaluate(value))
        for name, ftype, value in action.parameters
    }
    return engine.trigger(event, frame, params)


KINDS: list[ActionKind[Any]] = [
    ActionKind("return", "Return data", ReturnData, parse_return, run_return),
    ActionKind("terminate", "Terminate this workflow", Terminate, parse_terminate, run_terminate),
    ActionKind(
        "trigger",
        "Trigger a custom event",
        TriggerEvent,
        parse_trigger,
        run_trigger,
        ("parameters",),
    ),
]
