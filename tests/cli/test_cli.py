"""The `burble` command, run in-process with click's runner on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from burble.cli.main import main


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("BURBLE_DATABASE_URL", "BURBLE_DATA_DIR", "BURBLE_APP_DIR"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_init_writes_the_example_and_refuses_to_overwrite(
    runner: CliRunner, tmp_path: Path
) -> None:
    app = tmp_path / "myapp"
    result = runner.invoke(main, ["init", str(app)])
    assert result.exit_code == 0, result.output
    assert "name: rentals" in (app / "app.yaml").read_text()
    again = runner.invoke(main, ["init", str(app)])
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_check_is_clean_for_the_example(runner: CliRunner, tmp_path: Path) -> None:
    app = tmp_path / "app"
    runner.invoke(main, ["init", str(app)])
    result = runner.invoke(main, ["check", str(app)])
    assert result.exit_code == 0, result.output
    assert "No problems found." in result.output


def test_check_lists_every_problem_and_deploy_refuses(runner: CliRunner, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.yaml").write_text(
        "name: x\n"
        "settings:\n"
        "  data_api: {expose: [Nope]}\n"
        "types:\n"
        "  Thing:\n"
        "    fields:\n"
        "      price: nmber\n"
        "      size: {type: number, default: big}\n"
    )
    result = runner.invoke(main, ["check", str(app)])
    assert result.exit_code == 1
    assert "app.yaml:3: unknown data type 'Nope'" in result.output
    assert "app.yaml:7: unknown field type 'nmber'" in result.output
    assert "types.Thing.fields.size.default" in result.output
    assert "3 problems found." in result.output
    deployed = runner.invoke(main, ["deploy", str(app)])
    assert deployed.exit_code == 1
    assert "Not deployed." in deployed.output


def test_check_reports_a_changed_field_type_against_the_database(
    runner: CliRunner, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.yaml").write_text("name: x\ntypes:\n  Thing:\n    fields:\n      price: number\n")
    assert runner.invoke(main, ["deploy", str(app)]).exit_code == 0
    (app / "app.yaml").write_text("name: x\ntypes:\n  Thing:\n    fields:\n      price: text\n")
    result = runner.invoke(main, ["check", str(app)])
    assert result.exit_code == 1
    assert "the type of field 'price' changed from 'number' to 'text' in the Live database" in (
        result.output
    )
    assert runner.invoke(main, ["deploy", str(app)]).exit_code == 1


def test_deploy_then_token_create_list_revoke(runner: CliRunner, tmp_path: Path) -> None:
    app = tmp_path / "app"
    runner.invoke(main, ["init", str(app)])
    deployed = runner.invoke(main, ["deploy", str(app)])
    assert deployed.exit_code == 0
    assert "Deployed version 1" in deployed.output
    assert "Deployed version 2" in runner.invoke(main, ["deploy", str(app)]).output

    created = runner.invoke(main, ["token", "create", "--label", "ci", "--app", str(app)])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[0]
    assert len(secret) == 64 and int(secret, 16) >= 0  # 32 random bytes, hex

    listed = runner.invoke(main, ["token", "list", "--app", str(app)])
    assert " ci " in listed.output and "active" in listed.output
    assert secret not in listed.output

    revoked = runner.invoke(main, ["token", "revoke", "ci", "--app", str(app)])
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    assert "revoked" in runner.invoke(main, ["token", "list", "--app", str(app)]).output
    missing = runner.invoke(main, ["token", "revoke", "ci", "--app", str(app)])
    assert missing.exit_code == 1


def test_a_bad_setting_is_a_clear_error_not_a_traceback(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = tmp_path / "app"
    runner.invoke(main, ["init", str(app)])
    monkeypatch.setenv("BURBLE_MAX_BODY_BYTES", "lots")
    for args in (["check", str(app)], ["deploy", str(app)], ["token", "list", "--app", str(app)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1
        assert "bad setting: BURBLE_MAX_BODY_BYTES must be a positive number of bytes" in (
            result.output
        )
        assert "Traceback" not in result.output
