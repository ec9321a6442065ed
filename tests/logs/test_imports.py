"""burble.logs and burble.mail stand low (layer 2, tests/test_layers.py) and narrower still:
they import only the store, values, errors and settings (and each other's own package)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent.parent / "src" / "burble"
ALLOWED = {"store", "values", "errors", "settings"}


@pytest.mark.parametrize("package", ["logs", "mail"])
def test_only_store_values_errors_settings(package: str) -> None:
    wrong = []
    for path in (SRC / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "burble" and parts[1] not in ALLOWED | {package}:
                    wrong.append(f"{path.relative_to(SRC)} imports {name}")
    assert not wrong
