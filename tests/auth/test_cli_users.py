"""`burble user create | token | logout`, run in-process with click's runner on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from burble.auth.passwords import verify_password
from burble.auth.user_tokens import UserTokenStore
from burble.cli import main as cli
from burble.cli.main import main
from burble.runtime import Databases
from burble.settings import Settings
from burble.store.backend import Backend


@pytest.fixture
def runner(cli_runner: CliRunner) -> CliRunner:
    return cli_runner  # tests/conftest.py


@pytest.fixture
def app(cli_app: Path) -> Path:
    return cli_app


def run(runner: CliRunner, *args: str, code: int = 0, **kw: object) -> tuple[str, str]:
    result = runner.invoke(main, list(args), **kw)  # type: ignore[arg-type]
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout, result.stderr


def user_row(backend: Backend, user_id: str) -> tuple[object, ...]:
    with backend.read() as tx:
        row = tx.fetchone(
            f"SELECT _email, _password_hash, _created_by FROM {backend.dialect.table('t_user')} "
            "WHERE _id = ?",
            [user_id],
        )
    assert row is not None
    return row


def resolve(app: Path, token: str, live: bool = False) -> str | None:
    databases = Databases(Settings.from_env(app, {}))
    try:
        return UserTokenStore(databases.live if live else databases.test).resolve(token, "t_user")
    finally:
        databases.close()


def test_user_create_token_and_logout(runner: CliRunner, app: Path) -> None:
    out, err = run(
        runner,
        "user",
        "create",
        "--email",
        " Ann@Example.com ",
        "--password",
        "pw1",
        "--app",
        str(app),
    )
    user_id = out.strip()
    assert "ann@example.com created in Development" in err
    databases = Databases(Settings.from_env(app, {}))
    try:
        email, password_hash, created_by = user_row(databases.test, user_id)
    finally:
        databases.close()
    assert email == "ann@example.com"
    assert isinstance(password_hash, str) and verify_password(password_hash, "pw1")
    assert created_by == "admin_user_rentals_test"  # created like the Data API's admin would

    _, err = run(runner, "user", "create", "--email", "ann@example.com", "--app", str(app), code=1)
    assert "another user has this email" in err
    _, err = run(runner, "user", "create", "--email", "nope", "--app", str(app), code=1)
    assert "not a valid email address" in err

    out, err = run(runner, "user", "token", "ANN@example.com", "--app", str(app))
    first = out.strip()
    assert len(out.splitlines()) == 1 and len(first) >= 43
    assert "expires" in err and "shown only this once" in err and first not in err
    token_id = err.split()[1]
    out, err = run(
        runner, "user", "token", "ann@example.com", "--keep-logged-in", "--app", str(app)
    )
    second = out.strip()
    assert resolve(app, first) == user_id and resolve(app, second) == user_id

    out, _ = run(
        runner, "user", "logout", "ann@example.com", "--token-id", token_id, "--app", str(app)
    )
    assert f"Revoked token {token_id}" in out
    assert resolve(app, first) is None and resolve(app, second) == user_id
    _, err = run(
        runner,
        "user",
        "logout",
        "ann@example.com",
        "--token-id",
        token_id,
        "--app",
        str(app),
        code=1,
    )
    assert "no active user token" in err
    out, _ = run(runner, "user", "logout", "ann@example.com", "--all", "--app", str(app))
    assert "Revoked 1 token of ann@example.com." in out
    assert resolve(app, second) is None

    _, err = run(runner, "user", "token", "bob@example.com", "--app", str(app), code=1)
    assert "no user with email 'bob@example.com' in Development" in err
    _, err = run(runner, "user", "logout", "ann@example.com", "--app", str(app), code=2)
    assert "--all or --token-id" in err
    run(
        runner,
        "user",
        "logout",
        "ann@example.com",
        "--all",
        "--token-id",
        "x",
        "--app",
        str(app),
        code=2,
    )


def test_live_users_need_a_deploy_and_are_separate(runner: CliRunner, app: Path) -> None:
    _, err = run(
        runner,
        "user",
        "create",
        "--email",
        "a@example.com",
        "--version",
        "live",
        "--app",
        str(app),
        code=1,
    )
    assert "nothing is deployed to Live yet" in err
    run(runner, "deploy", str(app))
    out, err = run(
        runner, "user", "create", "--email", "a@example.com", "--version", "live", "--app", str(app)
    )
    live_id = out.strip()
    assert "created in Live" in err
    run(runner, "user", "token", "a@example.com", "--app", str(app), code=1)  # not in Development
    out, _ = run(runner, "user", "token", "a@example.com", "--version", "live", "--app", str(app))
    token = out.strip()
    assert resolve(app, token, live=True) == live_id
    assert resolve(app, token) is None
    out, _ = run(
        runner, "user", "logout", "a@example.com", "--all", "--version", "live", "--app", str(app)
    )
    assert "Revoked 1 token" in out
    assert resolve(app, token, live=True) is None


def test_password_prompt_on_a_terminal(
    runner: CliRunner, app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_stdin_is_tty", lambda: True)
    out, _ = run(
        runner,
        "user",
        "create",
        "--email",
        "p@example.com",
        "--app",
        str(app),
        input="s3cret\ns3cret\n",
    )
    user_id = out.strip().splitlines()[-1]
    databases = Databases(Settings.from_env(app, {}))
    try:
        _, password_hash, _ = user_row(databases.test, user_id)
    finally:
        databases.close()
    assert isinstance(password_hash, str) and verify_password(password_hash, "s3cret")


def test_no_terminal_no_password(runner: CliRunner, app: Path) -> None:
    out, _ = run(runner, "user", "create", "--email", "np@example.com", "--app", str(app))
    databases = Databases(Settings.from_env(app, {}))
    try:
        _, password_hash, _ = user_row(databases.test, out.strip())
    finally:
        databases.close()
    assert password_hash is None


def test_a_broken_definition_is_reported_not_a_traceback(runner: CliRunner, app: Path) -> None:
    (app / "app.yaml").write_text("name: x\ntypes:\n  Thing:\n    fields:\n      price: nmber\n")
    _, err = run(runner, "user", "create", "--email", "a@example.com", "--app", str(app), code=1)
    assert "unknown field type 'nmber'" in err and "Traceback" not in err
