"""The registry of the built-in actions. Other action families (accounts, email, ...) add
their kinds to it where it is built (`default_registry`)."""

from __future__ import annotations

from burble.workflows.actions import accounts, data, flow, schedule
from burble.workflows.registry import Registry


def default_registry() -> Registry:
    registry = Registry()
    for kind in [*data.KINDS, *flow.KINDS, *accounts.KINDS, *schedule.KINDS]:
        registry.add(kind)
    return registry
