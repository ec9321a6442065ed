"""Workflows as they run: compiled from the definition's specs by `burble.workflows.compile`.

An API workflow or a custom event is a sequence of steps; each step holds one action (a frozen
dataclass of its options, one class per action kind), its optional `only_when` condition and
the runner the registry gave its class when the definition was compiled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from burble.appdef.model import (
    BackendEventSpec,
    CustomEventSpec,
    DataType,
    FieldType,
    ParameterSpec,
    WorkflowSpec,
)
from burble.expr import Expr, ValueType

if TYPE_CHECKING:
    from burble.workflows.engine import Frame


class Action:
    """Base of every action's options dataclass.

    `result_type` / `result_fields` say what `Result of step N` gives for this action: one value
    of a type, named values (a custom event's returns), or nothing (both None)."""

    def result_type(self) -> ValueType | None:
        return None

    def result_fields(self) -> Mapping[str, ValueType] | None:
        return None


# A runner carries out one action in a frame and returns the step's result (stored form:
# a thing's id, a list of ids, a mapping of named values, or None).
Runner = Callable[[Any, "Frame"], object]


@dataclass(frozen=True, eq=False)
class Step:
    number: int  # 1-based, as `Result of step N` counts
    title: str  # the action's name: "Create a new thing"
    action: Action
    only_when: Expr | None
    runner: Runner
    where: str  # `workflows.x.actions[0]`, for messages
    condition: str | None = None  # `only_when` as written, for the server log


@dataclass(frozen=True, eq=False)
class Workflow:
    """An API workflow."""

    spec: WorkflowSpec
    only_when: Expr | None
    steps: tuple[Step, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def parameters(self) -> tuple[ParameterSpec, ...]:
        return self.spec.parameters


@dataclass(frozen=True, eq=False)
class CustomEvent:
    spec: CustomEventSpec
    steps: tuple[Step, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def parameters(self) -> tuple[ParameterSpec, ...]:
        return self.spec.parameters

    @property
    def returns(self) -> Mapping[str, FieldType]:
        return dict(self.spec.returns)


@dataclass(frozen=True, eq=False)
class BackendEvent:
    """A recurring event (its thing is `This <Type>`) or a database trigger event (its
    sources `<Type> before change` / `<Type> now` are parameters holding snapshots)."""

    spec: BackendEventSpec
    dtype: DataType
    only_when: Expr | None
    steps: tuple[Step, ...]

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class Workflows:
    """Every API workflow, custom event and backend event of one definition, compiled."""

    api: Mapping[str, Workflow]
    events: Mapping[str, CustomEvent]
    recurring: Mapping[str, BackendEvent] = field(default_factory=dict)
    triggers: Mapping[str, BackendEvent] = field(default_factory=dict)

    @staticmethod
    def empty() -> Workflows:
        return Workflows({}, {})
