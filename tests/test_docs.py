"""The documentation is complete and true: every CLI command and option, environment
variable, app-definition key and error class is documented, and generated files are current."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import click
import jsonschema
import yaml

from burble.api.errors import ERROR_TABLE
from burble.appdef.raw import (
    RawAppDef,
    RawContentType,
    RawCustomEvent,
    RawDataApi,
    RawField,
    RawOptionSet,
    RawParameter,
    RawPrivacyRule,
    RawSettings,
    RawType,
    RawViewFields,
    RawWorkflow,
    json_schema,
)
from burble.cli.main import main
from burble.settings import ENVIRONMENT_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SCHEMA_FILE = DOCS / "app-definition.schema.json"
EXAMPLE = ROOT / "examples" / "rentals" / "app.yaml"
TEMPLATE = ROOT / "src" / "burble" / "cli" / "templates" / "app.yaml"
REGENERATE = (
    ".venv/bin/python -c 'import json; from burble.appdef.raw import json_schema; "
    'open("docs/app-definition.schema.json", "w").write('
    'json.dumps(json_schema(), indent=2, sort_keys=True) + "\\n")\''
)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "burble") -> Iterator[tuple[str, click.Command]]:
    """Every command and subcommand, with its full name (`burble token create`)."""
    for name, command in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        yield full, command
        if isinstance(command, click.Group):
            yield from _commands(command, full)


def _missing(names: list[str], text: str) -> list[str]:
    return [n for n in names if f"`{n}`" not in text]


# --- docs/cli.md -------------------------------------------------------------------------


def test_every_command_is_documented() -> None:
    text = _read(DOCS / "cli.md")
    names = [full for full, _ in _commands(main)]
    assert names, "no commands found on burble.cli.main.main"
    assert not _missing(names, text), "commands missing from docs/cli.md"
    headings = {line[3:].strip() for line in text.splitlines() if line.startswith("## ")}
    headings |= {line[4:].strip() for line in text.splitlines() if line.startswith("### ")}
    no_heading = [
        full
        for full, command in _commands(main)
        if not isinstance(command, click.Group) and f"`{full}`" not in headings
    ]
    assert not no_heading, "commands without a `burble <command>` heading in docs/cli.md"


def test_every_option_and_argument_is_documented() -> None:
    text = _read(DOCS / "cli.md")
    options: list[str] = []
    arguments: list[str] = []
    commands: list[click.Command] = [main, *(c for _, c in _commands(main))]
    for command in commands:
        for param in command.params:
            if isinstance(param, click.Option):
                options += [*param.opts, *param.secondary_opts]
            elif isinstance(param, click.Argument):
                arguments.append(param.human_readable_name)
    assert "--host" in options and "--app" in options  # the walk sees nested commands
    assert not _missing(sorted(set(options)), text), "options missing from docs/cli.md"
    missing_args = [a for a in sorted(set(arguments)) if a not in text]
    assert not missing_args, "arguments missing from docs/cli.md"


def test_every_environment_variable_is_documented() -> None:
    text = _read(DOCS / "cli.md")
    names = [*ENVIRONMENT_VARIABLES, "BURBLE_APP_DIR", "BURBLE_TEST_POSTGRES", "CI"]
    assert not _missing(names, text), "environment variables missing from docs/cli.md"


# --- docs/app-definition.md and its JSON Schema ------------------------------------------


def test_every_app_definition_key_is_documented() -> None:
    text = _read(DOCS / "app-definition.md")
    models = (
        RawAppDef,
        RawSettings,
        RawDataApi,
        RawOptionSet,
        RawType,
        RawField,
        RawPrivacyRule,
        RawViewFields,
        RawWorkflow,
        RawParameter,
        RawContentType,
        RawCustomEvent,
    )
    keys = sorted(
        {field.alias or key for model in models for key, field in model.model_fields.items()}
    )
    assert "max_list_length" in keys
    assert not _missing(keys, text), "app.yaml keys missing from docs/app-definition.md"


def test_json_schema_file_is_current() -> None:
    expected = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    actual = _read(SCHEMA_FILE) if SCHEMA_FILE.exists() else ""
    assert actual == expected, (
        "docs/app-definition.schema.json is out of date with src/burble/appdef/raw.py; "
        f"regenerate it with:\n  {REGENERATE}"
    )


def test_json_schema_accepts_the_example_app() -> None:
    schema = json.loads(_read(SCHEMA_FILE))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(_read(EXAMPLE)), schema)


def test_json_schema_rejects_unknown_keys() -> None:
    schema = json.loads(_read(SCHEMA_FILE))
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors({"name": "x"}))
    assert list(validator.iter_errors({"name": "x", "settings": {"kyes": "id"}}))
    assert list(validator.iter_errors({"types": {}}))  # name is required


# --- docs/data-api.md --------------------------------------------------------------------


def test_every_error_is_in_the_catalogue() -> None:
    text = _read(DOCS / "data-api.md")
    classes = sorted(cls.__name__ for cls in ERROR_TABLE)
    codes = sorted({code for _, code in ERROR_TABLE.values()})
    assert not _missing(classes, text), "error classes missing from docs/data-api.md"
    assert not _missing(codes, text), "Bubble status codes missing from docs/data-api.md"
    rows = {
        m.group(1): line for line in text.splitlines() if (m := re.match(r"\| `(\w+)` \|", line))
    }
    wrong = [
        cls.__name__
        for cls, (status, code) in ERROR_TABLE.items()
        if cls.__name__ not in rows
        or f"| {status} |" not in rows[cls.__name__]
        or f"`{code}`" not in rows[cls.__name__]
    ]
    assert not wrong, "error catalogue rows with a wrong or missing HTTP status / status code"


# --- README, CI, example ------------------------------------------------------------------


def test_readme_starts_with_the_setup_commands() -> None:
    lines = _read(ROOT / "README.md").splitlines()
    assert lines[0].startswith("# "), "README.md must start with its title"
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", "\n".join(lines), re.MULTILINE | re.DOTALL)
    assert blocks, "README.md has no code block"
    first = blocks[0]
    assert "make serve" in first and "make test" in first
    body = [line for line in lines[1:] if line.strip()]
    assert not body[0].startswith("```") and body[1].startswith("```"), (
        "README.md: the title, one description line, then the set-up commands"
    )


def test_ci_runs_the_readme_test_command() -> None:
    assert re.search(r"^\s*make test\b", _read(ROOT / ".ci" / "run"), re.MULTILINE)


def test_init_template_is_the_example_app() -> None:
    assert TEMPLATE.read_bytes() == EXAMPLE.read_bytes(), (
        "src/burble/cli/templates/app.yaml and examples/rentals/app.yaml must be identical"
    )


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown page."""
    prose = re.sub(r"^```.*?^```", "", _read(page), flags=re.MULTILINE | re.DOTALL)
    headings = re.findall(r"^#+ (.+)$", prose, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_relative_links_in_docs_resolve() -> None:
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(DOCS.rglob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", _read(page)):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path) if path else page
            if not linked.exists() or (
                anchor and linked.suffix == ".md" and anchor not in _anchors(linked)
            ):
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, "broken relative links"
