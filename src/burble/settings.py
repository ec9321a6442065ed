"""Process settings: built once at the edge (the CLI) and passed down. The only module that
reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

# Every environment variable Burble reads, with its meaning (docs/cli.md lists them all).
ENVIRONMENT_VARIABLES = {
    "BURBLE_DATABASE_URL": "PostgreSQL URL (postgresql://...). Unset: SQLite files in the data directory.",
    "BURBLE_DATA_DIR": "Where SQLite files live. Default: <app directory>/.burble",
    "BURBLE_SCHEMA_PREFIX": "PostgreSQL schema name prefix: Live is <prefix>_live, Development <prefix>_test. Default: burble",
}


@dataclass(frozen=True)
class Settings:
    app_dir: Path
    data_dir: Path
    database_url: str | None = None
    schema_prefix: str = "burble"
    max_body_bytes: int = 50 * 1024 * 1024

    @staticmethod
    def from_env(app_dir: str | Path, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        app = Path(app_dir)
        data_dir = env.get("BURBLE_DATA_DIR") or str(app / ".burble")
        return Settings(
            app_dir=app,
            data_dir=Path(data_dir),
            database_url=env.get("BURBLE_DATABASE_URL") or None,
            schema_prefix=env.get("BURBLE_SCHEMA_PREFIX") or "burble",
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
