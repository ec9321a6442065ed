"""Dependencies point down only (DESIGN §2): a module imports only from its own layer or below,
and nothing but the settings module reads the environment."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parent.parent / "src" / "burble"

LAYERS = {
    "errors": 0,
    "values": 0,
    "settings": 0,
    "malloc": 0,
    "appdef": 1,
    "connector": 1,
    "geo": 1,
    "store": 2,
    "files": 2,
    "mail": 2,  # may import store, values, errors, settings only
    "logs": 2,  # may import store, values, errors, settings only
    "jobs": 2,  # may import store, values, errors, settings only
    "expr": 3,
    "auth": 4,
    "privacy": 4,
    "things": 5,
    "workflows": 6,
    "runtime": 7,
    "scheduler": 7,  # runs scheduled jobs with the runtime's environments
    "api": 8,
    "cli": 9,
}


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("burble."):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("burble.")]
    return found


def test_every_module_belongs_to_a_layer() -> None:
    for path in SRC.rglob("*.py"):
        top = path.relative_to(SRC).parts[0].removesuffix(".py")
        assert top in LAYERS or top == "__init__", f"{path} is in no layer: add it to LAYERS"


def test_imports_point_down() -> None:
    wrong = []
    for path in SRC.rglob("*.py"):
        top = path.relative_to(SRC).parts[0].removesuffix(".py")
        if top not in LAYERS:
            continue
        for module in _imports(path):
            target = _layer(module)
            if LAYERS.get(target, 0) > LAYERS[top]:
                wrong.append(f"{path.relative_to(SRC)} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_only_settings_reads_the_environment() -> None:
    readers = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if "os.environ" in p.read_text() or "getenv" in p.read_text()
    ]
    assert readers == ["settings.py"]
