"""The `burble` command: init, serve, check, deploy, token."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import NoReturn

import click

from burble.appdef.load import DEFINITION_FILE, load_app
from burble.errors import AppDefError, BurbleError, Problem
from burble.runtime import Databases, check_all, deploy
from burble.settings import Settings


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="burble")
def main() -> None:
    """Burble: a self-hosted server for Bubble's backend API."""


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Write a small example app (DIRECTORY/app.yaml) to start from."""
    target = directory / DEFINITION_FILE
    if target.exists():
        _fail(f"{target} already exists; not overwriting it.")
    directory.mkdir(parents=True, exist_ok=True)
    template = resources.files("burble.cli").joinpath("templates/app.yaml").read_text("utf-8")
    target.write_text(template, encoding="utf-8")
    click.echo(f"Wrote {target}. Next: burble serve {directory}")


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check(directory: Path) -> None:
    """List every problem in the app definition (like Bubble's issue checker)."""
    path = directory / DEFINITION_FILE
    if not path.exists():
        _fail(f"no {DEFINITION_FILE} in {directory}")
    settings = _settings(directory)
    try:
        databases = Databases(settings)
    except BurbleError as exc:
        _fail(f"cannot open the databases: {exc.message}")
    try:
        problems = check_all(databases, path.read_text("utf-8"), str(path))
    finally:
        databases.close()
    if problems:
        _print_problems(problems)
        sys.exit(1)
    click.echo("No problems found.")


@main.command(name="deploy")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def deploy_cmd(directory: Path) -> None:
    """Promote the Development definition to Live and migrate Live's schema."""
    settings = _settings(directory)
    try:
        working = load_app(directory)
        databases = Databases(settings)
    except AppDefError as exc:
        _print_problems(exc.problems)
        click.echo("Not deployed.", err=True)
        sys.exit(1)
    except BurbleError as exc:
        _fail(f"cannot open the databases: {exc.message}")
    try:
        version = deploy(databases, working)
    except AppDefError as exc:
        _print_problems(exc.problems)
        click.echo("Not deployed.", err=True)
        sys.exit(1)
    finally:
        databases.close()
    click.echo(f"Deployed version {version} of '{working.name}' to Live.")


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
def serve(directory: Path, host: str, port: int) -> None:
    """Serve Live at /api/1.1/ and Development at /version-test/api/1.1/."""
    import uvicorn

    from burble.api.app import create_app
    from burble.runtime import Runtime

    try:
        # Uploaded files' URLs start with BURBLE_PUBLIC_URL, else this server's address.
        settings = Settings.from_env(directory, listen=(host, port))
        working = load_app(directory)
        runtime = Runtime(Databases(settings), working)
    except AppDefError as exc:
        _print_problems(exc.problems)
        sys.exit(1)
    except BurbleError as exc:
        _fail(f"cannot start: {exc.message}")
    app = create_app(runtime, settings.max_body_bytes)
    base = f"http://{host}:{port}"
    click.echo(f"Burble serving '{working.name}' ({runtime.databases.live.describe()})")
    click.echo(f"  Live:        {base}/api/1.1/")
    click.echo(f"  Development: {base}/version-test/api/1.1/")
    files = settings.public_url
    click.echo(f"  Files:       {files}/fileupload/ and {files}/version-test/fileupload/")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        runtime.close()


@main.group()
def token() -> None:
    """Admin API tokens (they act as an admin: privacy rules do not apply)."""


_APP_OPTION = click.option(
    "--app",
    "app_dir",
    default=".",
    show_default=True,
    envvar="BURBLE_APP_DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The app directory.",
)


def _tokens(app_dir: Path) -> tuple[Databases, object]:
    from burble.auth.tokens import TokenStore

    try:
        databases = Databases(_settings(app_dir))
    except BurbleError as exc:
        _fail(f"cannot open the databases: {exc.message}")
    return databases, TokenStore(databases.live)


@token.command("create")
@click.option("--label", required=True, help="What the token is for (e.g. ci, zapier).")
@_APP_OPTION
def token_create(label: str, app_dir: Path) -> None:
    """Create an admin token and print it once."""
    from burble.auth.tokens import TokenStore

    databases, store = _tokens(app_dir)
    assert isinstance(store, TokenStore)
    try:
        info, secret = store.create(label)
    finally:
        databases.close()
    click.echo(secret)
    click.echo(f"Token {info.id} ('{label}') created. It is shown only this once.", err=True)


@token.command("list")
@_APP_OPTION
def token_list(app_dir: Path) -> None:
    """List tokens (never their secrets)."""
    from burble.auth.tokens import TokenStore
    from burble.values import format_date

    databases, store = _tokens(app_dir)
    assert isinstance(store, TokenStore)
    try:
        infos = store.all()
    finally:
        databases.close()
    if not infos:
        click.echo("No tokens.")
    for info in infos:
        state = "active" if info.revoked_at is None else f"revoked {format_date(info.revoked_at)}"
        click.echo(f"{info.id}  {info.label}  created {format_date(info.created_at)}  {state}")


@token.command("revoke")
@click.argument("id_or_label")
@_APP_OPTION
def token_revoke(id_or_label: str, app_dir: Path) -> None:
    """Revoke a token by id, or every active token with this label."""
    from burble.auth.tokens import TokenStore
    from burble.errors import TokenNotFound

    databases, store = _tokens(app_dir)
    assert isinstance(store, TokenStore)
    try:
        revoked = store.revoke(id_or_label)
    except TokenNotFound as exc:
        _fail(exc.message)
    finally:
        databases.close()
    for info in revoked:
        click.echo(f"Revoked {info.id} ('{info.label}').")


if __name__ == "__main__":
    main()
