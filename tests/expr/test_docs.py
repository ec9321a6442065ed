"""docs/expressions.md is complete and true: every operator is documented, and every example
(the `bubble` blocks and the examples in the tables) parses against the example app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from burble.appdef.load import load_app
from burble.appdef.model import FieldKind, FieldType
from burble.expr import Scope, parse
from burble.expr.ast import CheckOp, CompareOp, ConstraintOp, DateUnit, Op

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = (ROOT / "docs" / "expressions.md").read_text(encoding="utf-8")
RENTALS = load_app(ROOT / "examples" / "rentals")
PARTS = {Op.ADDRESS_TEXT, Op.LATITUDE, Op.LONGITUDE, Op.DISPLAY}


def _examples() -> list[str]:
    found: list[str] = []
    for block in re.findall(r"^```bubble\n(.*?)^```", DOC, re.MULTILINE | re.DOTALL):
        found += [line for line in block.splitlines() if line.strip()]
    for line in DOC.splitlines():
        if line.startswith("|") and "Example" not in line and not line.startswith("|---"):
            cell = line.rstrip(" |").rsplit(" | ", 1)[-1]
            found += [
                e for e in re.findall(r"`([^`]+)`", cell) if " " in e and not e.startswith(":")
            ]
    return found


EXAMPLES = _examples()


def _scope(text: str) -> Scope:
    this = None
    for name in sorted(RENTALS.types, key=len, reverse=True):
        if f"This {name}" in text:
            this = RENTALS.types[name]
            break
    return Scope(RENTALS, this, {"price": FieldType(FieldKind.NUMBER)})


def test_there_are_examples() -> None:
    assert len(EXAMPLES) > 60


@pytest.mark.parametrize("text", EXAMPLES)
def test_every_example_parses(text: str) -> None:
    parse(text, _scope(text))


def test_every_operator_is_documented() -> None:
    missing = [f":{op.value}" for op in Op if op not in PARTS and f"`:{op.value}" not in DOC]
    missing += [f"'s {op.value}" for op in PARTS if f"'s {op.value}" not in DOC]
    missing += [op.value for op in (*CompareOp, *CheckOp) if f"`{op.value}`" not in DOC]
    missing += [unit.value for unit in DateUnit if f"`{unit.value}`" not in DOC]
    missing += [op.value for op in ConstraintOp if f"`{op.value}`" not in DOC]
    assert not missing, "missing from docs/expressions.md"


def test_sections() -> None:
    for heading in (
        "## Grammar",
        "## Data sources",
        "## Empty is not no",
        "## The current user",
        "## What compiles to SQL",
        "## Python API",
    ):
        assert heading in DOC
