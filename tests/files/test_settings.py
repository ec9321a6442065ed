"""The upload settings: BURBLE_PUBLIC_URL, BURBLE_MAX_UPLOAD_BYTES and where files live."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from burble.cli.main import main
from burble.errors import BurbleError
from burble.settings import ENVIRONMENT_VARIABLES, Settings, server_url


def test_defaults(tmp_path: Path) -> None:
    s = Settings.from_env(tmp_path, {})
    assert s.public_url == "//127.0.0.1:8080"
    assert s.max_upload_bytes == 50 * 1024 * 1024
    assert s.files_dir == tmp_path / ".burble" / "files"
    assert Settings(app_dir=tmp_path, data_dir=tmp_path).public_url == "//127.0.0.1:8080"


def test_files_follow_the_data_directory(tmp_path: Path) -> None:
    s = Settings.from_env(tmp_path, {"BURBLE_DATA_DIR": str(tmp_path / "d")})
    assert s.files_dir == tmp_path / "d" / "files"
    # Also with PostgreSQL: the files are not in the database.
    pg = Settings.from_env(
        tmp_path, {"BURBLE_DATABASE_URL": "postgresql://x/y", "BURBLE_DATA_DIR": "/srv/b"}
    )
    assert pg.files_dir == Path("/srv/b/files")


def test_serve_address_is_the_default(tmp_path: Path) -> None:
    assert Settings.from_env(tmp_path, {}, listen=("127.0.0.1", 9000)).public_url == (
        "//127.0.0.1:9000"
    )
    assert server_url("example.org", 80) == "//example.org:80"
    assert server_url("0.0.0.0", 8080) == "//127.0.0.1:8080"
    assert server_url("::", 8080) == "//127.0.0.1:8080"
    assert server_url("::1", 8080) == "//[::1]:8080"


def test_public_url_from_the_environment(tmp_path: Path) -> None:
    for raw, url in [
        ("https://api.example.com", "https://api.example.com"),
        ("https://api.example.com/", "https://api.example.com"),
        (" http://10.0.0.5:8080/burble/ ", "http://10.0.0.5:8080/burble"),
        ("//cdn.example.com", "//cdn.example.com"),
    ]:
        env = {"BURBLE_PUBLIC_URL": raw}
        assert Settings.from_env(tmp_path, env, listen=("0.0.0.0", 1)).public_url == url
    for bad in ("api.example.com", "ftp://x", "https://x/?a=1", "https://x/#a"):
        with pytest.raises(BurbleError, match="BURBLE_PUBLIC_URL must look like"):
            Settings.from_env(tmp_path, {"BURBLE_PUBLIC_URL": bad})


def test_max_upload_bytes_from_the_environment(tmp_path: Path) -> None:
    env = {"BURBLE_MAX_UPLOAD_BYTES": "1048576"}
    assert Settings.from_env(tmp_path, env).max_upload_bytes == 1048576
    for bad in ("0", "-1", "1.5", "10MB", "lots"):
        with pytest.raises(BurbleError, match="BURBLE_MAX_UPLOAD_BYTES must be a positive"):
            Settings.from_env(tmp_path, {"BURBLE_MAX_UPLOAD_BYTES": bad})


def test_the_variables_are_listed() -> None:
    assert "BURBLE_PUBLIC_URL" in ENVIRONMENT_VARIABLES
    assert "BURBLE_MAX_UPLOAD_BYTES" in ENVIRONMENT_VARIABLES


def test_serve_refuses_a_bad_setting(tmp_path: Path) -> None:
    app = tmp_path / "app"
    assert CliRunner().invoke(main, ["init", str(app)]).exit_code == 0
    result = CliRunner().invoke(main, ["serve", str(app)], env={"BURBLE_MAX_UPLOAD_BYTES": "big"})
    assert result.exit_code == 1
    assert "cannot start: BURBLE_MAX_UPLOAD_BYTES must be a positive" in result.output
