"""Process settings: built once at the edge (the CLI) and passed down. The only module that
reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from burble.errors import BurbleError

# Every environment variable Burble reads, with its meaning (docs/cli.md lists them all).
ENVIRONMENT_VARIABLES = {
    "BURBLE_DATABASE_URL": "PostgreSQL URL (postgresql://...). Unset: SQLite files in the data directory.",
    "BURBLE_DATA_DIR": "Where SQLite files and uploaded files (files/) live. Default: <app directory>/.burble",
    "BURBLE_SCHEMA_PREFIX": "PostgreSQL schema name prefix: Live is <prefix>_live, Development <prefix>_test. Default: burble",
    "BURBLE_PUBLIC_URL": "Scheme and host (and port) clients reach the server at, starting uploaded files' URLs. Default: //<host>:<port> of burble serve",
    "BURBLE_MAX_UPLOAD_BYTES": "Largest uploaded file, in bytes (decoded). Default: 52428800 (50 MiB)",
    "BURBLE_MAX_BODY_BYTES": "Largest request body, in bytes; a larger one answers 413. Default: 52428800 (50 MiB)",
    "BURBLE_GEOCODER": "How address texts become coordinates: gazetteer (default, offline: world cities), google, nominatim, or none",
    "BURBLE_GEOCODER_URL": "The geocoding service's URL template ({query}, {key}) for google or nominatim. Default: the service's public URL",
    "BURBLE_GEOCODER_KEY": "The geocoding service's API key (google needs one)",
    # --- email (burble.mail) ---
    "BURBLE_SMTP_URL": "The mail server emails are sent through: smtp://user:password@host:587 (STARTTLS) or smtps://host:465. Unset: emails stay in the outbox",
    "BURBLE_MAIL_FROM": "The sender address of emails, like 'Rentals <noreply@example.com>'. Required with BURBLE_SMTP_URL",
    # --- end email ---
    "BURBLE_WORKERS": "Server processes of burble serve (its --workers). Default: one per CPU core",
}

GEOCODERS = ("gazetteer", "google", "nominatim", "none")

DEFAULT_PUBLIC_URL = "//127.0.0.1:8080"
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 50 * 1024 * 1024
MALLOC_ARENAS = 2  # per burble serve process, unless MALLOC_ARENA_MAX is set (burble.malloc)


def server_url(host: str, port: int) -> str:
    """The protocol-relative URL of `burble serve --host HOST --port PORT` (files' default)."""
    if host in ("", "0.0.0.0", "::"):  # every interface: the loopback address reaches it
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"//{host}:{port}"


def _public_url(raw: str) -> str:
    url = raw.strip().rstrip("/")
    if not url.startswith(("//", "http://", "https://")) or "?" in url or "#" in url:
        raise BurbleError(
            f"BURBLE_PUBLIC_URL must look like https://files.example.com (or //host:port), not {raw!r}"
        )
    return url


def _positive_bytes(name: str, raw: str | None, default: int) -> int:
    if not raw:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise BurbleError(f"{name} must be a positive number of bytes, not {raw!r}")
    return value


def default_workers() -> int:
    """One server process per CPU core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def _workers(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return default_workers()
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise BurbleError(f"BURBLE_WORKERS must be a positive number of processes, not {raw!r}")
    return value


def _geocoder(raw: str) -> str:
    kind = raw.strip().lower()
    if kind not in GEOCODERS:
        raise BurbleError(f"BURBLE_GEOCODER must be one of {', '.join(GEOCODERS)}, not {raw!r}")
    return kind


@dataclass(frozen=True)
class Settings:
    app_dir: Path
    data_dir: Path
    database_url: str | None = None
    schema_prefix: str = "burble"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Uploaded files live in <data_dir>/files/live and .../test.
    public_url: str = DEFAULT_PUBLIC_URL
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    geocoder: str = "gazetteer"
    geocoder_url: str | None = None
    geocoder_key: str | None = None
    # Read by burble.mail.smtp.mailer_from_settings; may hold a password: not in repr().
    smtp_url: str | None = field(default=None, repr=False)
    mail_from: str | None = None
    # burble serve's processes (BURBLE_WORKERS; from_env's default: one per CPU core).
    workers: int = 1
    # glibc malloc arenas per server process (burble.malloc); None: glibc's own choice, as
    # when MALLOC_ARENA_MAX is in the environment (glibc reads it itself).
    malloc_arenas: int | None = None

    @staticmethod
    def from_env(
        app_dir: str | Path,
        env: Mapping[str, str] | None = None,
        *,
        listen: tuple[str, int] | None = None,
    ) -> Settings:
        """`listen` is `burble serve`'s (host, port): the files' URL when BURBLE_PUBLIC_URL is
        unset. Raises BurbleError for an unusable BURBLE_PUBLIC_URL or BURBLE_MAX_UPLOAD_BYTES."""
        env = os.environ if env is None else env
        app = Path(app_dir)
        data_dir = env.get("BURBLE_DATA_DIR") or str(app / ".burble")
        public_url = DEFAULT_PUBLIC_URL if listen is None else server_url(*listen)
        if env.get("BURBLE_PUBLIC_URL"):
            public_url = _public_url(env["BURBLE_PUBLIC_URL"])
        max_upload = env.get("BURBLE_MAX_UPLOAD_BYTES")
        return Settings(
            app_dir=app,
            data_dir=Path(data_dir),
            database_url=env.get("BURBLE_DATABASE_URL") or None,
            schema_prefix=env.get("BURBLE_SCHEMA_PREFIX") or "burble",
            public_url=public_url,
            max_upload_bytes=_positive_bytes(
                "BURBLE_MAX_UPLOAD_BYTES", max_upload, DEFAULT_MAX_UPLOAD_BYTES
            ),
            max_body_bytes=_positive_bytes(
                "BURBLE_MAX_BODY_BYTES", env.get("BURBLE_MAX_BODY_BYTES"), DEFAULT_MAX_BODY_BYTES
            ),
            geocoder=_geocoder(env.get("BURBLE_GEOCODER") or "gazetteer"),
            geocoder_url=env.get("BURBLE_GEOCODER_URL") or None,
            geocoder_key=env.get("BURBLE_GEOCODER_KEY") or None,
            smtp_url=env.get("BURBLE_SMTP_URL") or None,
            mail_from=env.get("BURBLE_MAIL_FROM") or None,
            workers=_workers(env.get("BURBLE_WORKERS")),
            malloc_arenas=None if env.get("MALLOC_ARENA_MAX") else MALLOC_ARENAS,
        )

    @property
    def files_dir(self) -> Path:
        """Uploaded files: `live/` and `test/` in here (a directory every server can reach)."""
        return self.data_dir / "files"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
