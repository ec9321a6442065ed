"""What the `burble` subcommands share: failing, settings, problems, common options."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from burble.errors import BurbleError, Problem
from burble.runtime import Databases
from burble.settings import Settings
from burble.store.backend import Backend


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


def _settings(directory: Path) -> Settings:
    try:
        return Settings.from_env(directory)
    except BurbleError as exc:
        _fail(f"bad setting: {exc.message}")


def _print_problems(problems: list[Problem]) -> None:
    for p in problems:
        click.echo(str(p), err=True)
    click.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found.", err=True)


_APP_OPTION = click.option(
    "--app",
    "app_dir",
    default=".",
    show_default=True,
    envvar="BURBLE_APP_DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The app directory.",
)


_ENVIRONMENT_OPTION = click.option(
    "--version",
    "version",
    type=click.Choice(["live", "test"]),
    default="test",
    show_default=True,
    help="The environment: test (Development) or live.",
)


@contextmanager
def _environment_backend(app_dir: Path, version: str) -> Iterator[tuple[Databases, Backend]]:
    """The database of one environment (no definition needed); closed after."""
    try:
        databases = Databases(_settings(app_dir))
    except BurbleError as exc:
        _fail(f"cannot open the databases: {exc.message}")
    try:
        yield databases, databases.live if version == "live" else databases.test
    finally:
        databases.close()
