"""An action's evaluated inputs, for its server-log entry (bubble-semantics.md §2.11: the
logs show "evaluated action properties").

While a step runs, `Frame.evaluate` records the first result of every value it evaluates
(`Capture`); afterwards `named_inputs` walks the action's options and names each recorded
result by the option it came from (`email`, `fields.price`, `return.total`). Secrets are
masked when the entry is written (`burble.logs.redact`: `password`, `token`, ...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from burble.workflows.changes import FieldChange
from burble.workflows.dynamic import Dynamic, Items, Static, Template, Value, to_json

_VALUES = (Static, Dynamic, Template, Items)


class Capture:
    """The first result of each value evaluated during one step."""

    def __init__(self) -> None:
        self.results: dict[int, object] = {}

    def record(self, value: Value, result: object) -> None:
        self.results.setdefault(id(value), result)


def _options(obj: object, prefix: str) -> Iterator[tuple[str, Value]]:
    if isinstance(obj, _VALUES):
        yield prefix, obj
    elif isinstance(obj, FieldChange):
        if obj.value is not None:
            yield f"{prefix}.{obj.field.name}" if prefix else obj.field.name, obj.value
    elif isinstance(obj, tuple):
        for item in obj:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                yield from _options(item[1], f"{prefix}.{item[0]}" if prefix else item[0])
            else:
                yield from _options(item, prefix)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            name = f"{prefix}.{f.name}" if prefix else f.name
            yield from _options(getattr(obj, f.name), name)


# An action's (name, value) options, worked out once per action of a loaded definition (the
# walk through its dataclasses was 15 % of a one-action run). Keyed by id; the action is kept
# alongside so that its id is not reused while cached.
_NAMED: dict[int, tuple[object, list[tuple[str, Value]]]] = {}
_NAMED_MAX = 4096


def _named_options(action: object) -> list[tuple[str, Value]]:
    hit = _NAMED.get(id(action))
    if hit is not None and hit[0] is action:
        return hit[1]
    options = list(_options(action, ""))
    if len(_NAMED) >= _NAMED_MAX:
        _NAMED.clear()
    _NAMED[id(action)] = (action, options)
    return options


def named_inputs(action: object, capture: Capture) -> dict[str, object]:
    """The action's options that were evaluated, by name, as JSON."""
    out: dict[str, object] = {}
    for name, value in _named_options(action):
        key = id(value)
        if key in capture.results:
            out[name] = to_json(capture.results[key], value.type)
    return out
