"""On SQLite, nothing imports PostgreSQL's driver: psycopg costs about 0.1 s of every
`burble` command's and every server process's start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from burble.runtime import Databases
from burble.settings import Settings

SRC = Path(__file__).parent.parent / "src"


def test_a_sqlite_app_runs_without_importing_psycopg(tmp_path: Path) -> None:
    script = f"""
import sys
from pathlib import Path
from burble.api.app import create_app
from burble.appdef.load import load_app
from burble.cli.main import main
from burble.runtime import Databases, Runtime
from burble.settings import Settings

app_dir = Path({str(tmp_path)!r})
(app_dir / "app.yaml").write_text("name: lazy\\ntypes:\\n  Item:\\n    fields: {{name: text}}\\n")
runtime = Runtime(Databases(Settings(app_dir=app_dir, data_dir=app_dir / "data")),
                  load_app(app_dir))
create_app(runtime)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("psycopg", "psycopg_pool")))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": ""},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_database_url_still_opens_postgresql(settings: Settings) -> None:
    """The import moved into `Databases`; both backends still open through it."""
    databases = Databases(settings)
    try:
        expected = "PostgreSQL" if settings.database_url else "SQLite"
        assert databases.live.describe().startswith(expected)
    finally:
        databases.close()
