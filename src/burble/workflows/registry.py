"""Action kinds: how an action is written (its key and options), the dataclass it becomes and
the runner that carries it out. A registry maps keys to kinds when the definition is compiled
and each action class to its runner; nothing dispatches on strings at run time.

Adding an action (docs/workflows.md, "Adding an action"): a frozen dataclass subclassing
`Action`, a parser `(options, Builder) -> action | None` and a runner `(action, Frame) ->
result`, registered with `registry.add(ActionKind(...))` where the registry is built."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from burble.workflows.model import Action

if TYPE_CHECKING:
    from burble.workflows.compile import Builder
    from burble.workflows.engine import Frame

A = TypeVar("A", bound=Action)


@dataclass(frozen=True)
class ActionKind(Generic[A]):
    key: str  # how the action is written: `create: Listing`
    title: str  # Bubble's name for it: "Create a new thing"
    cls: type[A]
    parse: Callable[[Mapping[str, Any], Builder], A | None]
    run: Callable[[A, Frame], object]
    options: tuple[str, ...] = ()  # other keys it takes (`only_when` is always allowed)


class Registry:
    def __init__(self) -> None:
        self._by_key: dict[str, ActionKind[Any]] = {}
        self._by_class: dict[type[Action], ActionKind[Any]] = {}

    def add(self, kind: ActionKind[Any]) -> None:
        if kind.key in self._by_key:
            raise ValueError(f"an action is already written '{kind.key}:'")
        if kind.cls in self._by_class:
            raise ValueError(f"{kind.cls.__name__} already has a runner")
        if kind.key == "only_when" or kind.key in kind.options:
            raise ValueError(f"'{kind.key}' cannot be an action key")
        self._by_key[kind.key] = kind
        self._by_class[kind.cls] = kind

    def by_key(self, key: str) -> ActionKind[Any] | None:
        return self._by_key.get(key)

    def runner(self, action: Action) -> Callable[[Any, Frame], object]:
        return self._by_class[type(action)].run

    def keys(self) -> list[str]:
        return list(self._by_key)

    def __iter__(self) -> Iterator[ActionKind[Any]]:
        return iter(self._by_key.values())
