"""Development's definition versions (what scheduled runs snapshot), on both backends."""

from __future__ import annotations

import threading

from burble.appdef.load import parse_app
from burble.runtime import Databases, definition_version, stored_definition

ONE = "name: one\ntypes:\n  Item: {fields: {a: text}}\n"
TWO = "name: one\ntypes:\n  Item: {fields: {a: text, b: number}}\n"


def test_a_new_text_is_a_new_version(databases: Databases) -> None:
    backend = databases.test
    first = definition_version(backend, parse_app(ONE))
    assert definition_version(backend, parse_app(ONE)) == first
    second = definition_version(backend, parse_app(TWO))
    assert second == first + 1
    assert definition_version(backend, parse_app(ONE)) == first + 2  # the latest differed
    stored = stored_definition(backend, second)
    assert stored is not None and stored.source == TWO
    assert stored_definition(backend, 999) is None


def test_processes_starting_together_agree(databases: Databases) -> None:
    backend = databases.test
    definition = parse_app(TWO)
    found: list[int] = []
    threads = [
        threading.Thread(target=lambda: found.append(definition_version(backend, definition)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(found)) == 1 and len(found) == 4
