"""The running app: Live and Development environments over their databases, and the tokens.

Live serves the last deployed definition (stored in Live's `burble_definitions`) on the Live
database; Development serves the working definition (`app.yaml`) on its own database.
Both schemas follow their definitions on open; `deploy` moves Live forward.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from burble.appdef.load import check_app, parse_app
from burble.appdef.model import AppDefinition
from burble.auth.accounts import Accounts, PasswordPolicy
from burble.auth.tokens import TokenStore
from burble.auth.user_tokens import UserTokenStore
from burble.errors import AppDefError, BurbleError, Conflict, Problem, StorageError
from burble.files.store import FileStore, LocalFileStore
from burble.geo import Geocoder, make_geocoder
from burble.jobs import JobQueue
from burble.mail.postman import Postman
from burble.mail.smtp import mailer_from_settings
from burble.privacy.rules import compile_rules
from burble.settings import DEFAULT_MAX_UPLOAD_BYTES, Settings
from burble.store import schema
from burble.store.backend import Backend
from burble.store.migrations import migrate
from burble.store.sqlite import SQLiteBackend
from burble.things.service import ThingService
from burble.values import now_ms
from burble.workflows import Engine, compile_workflows, default_registry
from burble.workflows.triggers import TriggerRecorder

if TYPE_CHECKING:  # imported when a database URL is set: psycopg costs 0.1 s to import
    from burble.store.postgres import PostgresPool


class Version(enum.Enum):
    LIVE = "live"
    TEST = "test"  # Development, served under /version-test/


@dataclass
class Environment:
    version: Version
    backend: Backend
    definition: AppDefinition
    things: ThingService
    workflows: Engine

    @staticmethod
    def open(
        version: Version,
        backend: Backend,
        definition: AppDefinition,
        files: FileStore | None = None,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        geocoder: Geocoder | None = None,
        user_tokens: UserTokenStore | None = None,
        on_email: Callable[[], None] | None = None,
        definition_version: int | None = None,
        sync: bool = True,
    ) -> Environment:
        """`sync=False` opens an older definition over the current tables (a scheduled run's
        snapshot) without touching the schema."""
        if sync:
            schema.sync(backend, definition, label=_label(version))
        creator = f"admin_user_{definition.name}_{version.value}"
        things = ThingService(
            backend,
            definition,
            creator,
            files=files,
            max_upload_bytes=max_upload_bytes,
            geocoder=geocoder,
        )
        compiled, problems = compile_workflows(definition, default_registry())
        if problems:
            raise AppDefError(problems)
        rules = definition.settings.password
        policy = PasswordPolicy(
            rules.min_length, rules.require_number, rules.require_capital, rules.require_symbol
        )
        accounts = Accounts(things.store, user_tokens or UserTokenStore(backend), policy)
        workflows = Engine(
            backend,
            definition,
            things,
            compiled,
            accounts=accounts,
            on_email=on_email,
            jobs=JobQueue(backend),
            definition_version=definition_version,
        )
        if definition.triggers:
            codecs = {name: things.store.codec(t) for name, t in definition.types.items()}
            things.store.watcher = TriggerRecorder(
                definition, JobQueue(backend), codecs, definition_version
            )
        return Environment(version, backend, definition, things, workflows)


def _label(version: Version) -> str:
    return "Live" if version is Version.LIVE else "Development"


class Databases:
    """The Live and Development backends for one app (opened once, closed once)."""

    def __init__(self, settings: Settings, pool: PostgresPool | None = None) -> None:
        self.settings = settings
        self._owned_pool: PostgresPool | None = None
        if settings.database_url:
            from burble.store.postgres import PostgresBackend, PostgresPool

            if pool is None:
                pool = self._owned_pool = PostgresPool(settings.database_url)
            self._pool = pool
            prefix = settings.schema_prefix
            self.live: Backend = PostgresBackend(pool, f"{prefix}_live")
            self.test: Backend = PostgresBackend(pool, f"{prefix}_test")
        else:
            self.live = SQLiteBackend(settings.data_dir / "live.sqlite")
            self.test = SQLiteBackend(settings.data_dir / "test.sqlite")
        migrate(self.live)
        migrate(self.test)

    def close(self) -> None:
        self.live.close()
        self.test.close()
        if self._owned_pool is not None:
            self._owned_pool.close()


def deployed_definition(live: Backend) -> AppDefinition | None:
    """The definition Live runs: the last one deployed, or None before the first deploy."""
    table = live.dialect.table("burble_definitions")
    with live.read() as tx:
        row = tx.fetchone(f"SELECT source FROM {table} ORDER BY version DESC LIMIT 1")
    return None if row is None else parse_app(row[0], "<deployed definition>")


def deployed_version(live: Backend) -> int:
    """The number of the last deploy (0 before the first)."""
    table = live.dialect.table("burble_definitions")
    with live.read() as tx:
        row = tx.fetchone(f"SELECT COALESCE(MAX(version), 0) FROM {table}")
    return int(row[0]) if row else 0


def definition_version(backend: Backend, definition: AppDefinition) -> int:
    """The version number of `definition` in `backend`'s `burble_definitions`, recorded if it
    is not the latest one: Development's snapshots, kept so a scheduled run uses the
    definition it was scheduled under (Live's versions are its deploys)."""
    table = backend.dialect.table("burble_definitions")
    with backend.read() as tx:
        row = tx.fetchone(f"SELECT version, source FROM {table} ORDER BY version DESC LIMIT 1")
    if row is not None and row[1] == definition.source:
        return int(row[0])
    for _ in range(3):  # another process starting at the same moment may take the number
        try:
            with backend.write() as tx:
                row = tx.fetchone(
                    f"SELECT version, source FROM {table} ORDER BY version DESC LIMIT 1"
                )
                if row is not None and row[1] == definition.source:
                    return int(row[0])
                version = int(row[0]) + 1 if row else 1
                tx.execute(
                    f"INSERT INTO {table} (version, deployed_at, source) VALUES (?, ?, ?)",
                    [version, now_ms(), definition.source],
                )
            return version
        except Conflict:
            continue
    raise StorageError("could not record the definition's version")


def stored_definition(backend: Backend, version: int) -> AppDefinition | None:
    """Version `version` of the definition as recorded in `backend` (None: unknown)."""
    table = backend.dialect.table("burble_definitions")
    with backend.read() as tx:
        row = tx.fetchone(f"SELECT source FROM {table} WHERE version = ?", [version])
    return None if row is None else parse_app(row[0], f"<definition version {version}>")


def deploy(databases: Databases, working: AppDefinition) -> int:
    """Promote the working definition to Live: refuse on any problem, migrate, record."""
    problems = definition_problems(working.source, "app.yaml")
    if not problems:
        problems = schema.conflicts(databases.live, working, "Live")
    if problems:
        raise AppDefError(problems)
    schema.sync(databases.live, working, label="Live")
    table = databases.live.dialect.table("burble_definitions")
    with databases.live.write() as tx:
        row = tx.fetchone(f"SELECT COALESCE(MAX(version), 0) FROM {table}")
        version = int(row[0]) + 1 if row else 1
        tx.execute(
            f"INSERT INTO {table} (version, deployed_at, source) VALUES (?, ?, ?)",
            [version, now_ms(), working.source],
        )
    return version


def definition_problems(text: str, filename: str) -> list[Problem]:
    """Every problem of the definition on its own, privacy rules' conditions and workflows
    included."""
    problems = check_app(text, filename)
    if problems:
        return problems
    definition = parse_app(text, filename)
    problems = compile_rules(definition, filename)[1]
    return problems + compile_workflows(definition, default_registry(), filename)[1]


def check_all(databases: Databases | None, text: str, filename: str) -> list[Problem]:
    """Every problem: the definition itself, then its conflicts with both databases."""
    problems = definition_problems(text, filename)
    if problems or databases is None:
        return problems
    working = parse_app(text, filename)
    return schema.conflicts(databases.test, working, "Development") + schema.conflicts(
        databases.live, working, "Live"
    )


MAX_SNAPSHOTS = 16  # older definitions kept open for scheduled runs


class Runtime:
    """Both environments and the token store, as the HTTP layer uses them.

    A running server notices a `burble deploy` made by another process: Live's deployed
    version is re-read at most every `LIVE_CHECK_SECONDS`, and Live switches when it moved.
    """

    LIVE_CHECK_SECONDS = 2.0

    def __init__(
        self,
        databases: Databases,
        working: AppDefinition,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.databases = databases
        self.tokens = TokenStore(databases.live)
        # Users are per environment, so are their tokens (each in its environment's database).
        self.user_tokens: dict[Version, UserTokenStore] = {
            Version.LIVE: UserTokenStore(databases.live),
            Version.TEST: UserTokenStore(databases.test),
        }
        self._clock = clock
        self._lock = threading.Lock()
        settings = databases.settings
        self.files: dict[Version, FileStore] = {
            Version.LIVE: LocalFileStore(settings.files_dir / "live", settings.public_url, ""),
            Version.TEST: LocalFileStore(
                settings.files_dir / "test", settings.public_url, "/version-test"
            ),
        }
        self._max_upload_bytes = settings.max_upload_bytes
        self.geocoder = make_geocoder_from(settings)
        mailer = mailer_from_settings(settings)
        # Emails are sent right after the run that queued them commits (none without SMTP).
        self.postmen: dict[Version, Postman] = (
            {}
            if mailer is None
            else {
                Version.LIVE: Postman(databases.live, mailer, "live"),
                Version.TEST: Postman(databases.test, mailer, "test"),
            }
        )
        self._snapshots: dict[tuple[Version, int], Environment] = {}
        self.test = self._open(Version.TEST, databases.test, working)
        self._live_version = deployed_version(databases.live)
        self.live = self._open_live()
        self._next_check = clock() + self.LIVE_CHECK_SECONDS

    def _open_live(self) -> Environment:
        live_def = deployed_definition(self.databases.live) or AppDefinition.empty()
        return self._open(Version.LIVE, self.databases.live, live_def)

    def _open(
        self,
        version: Version,
        backend: Backend,
        definition: AppDefinition,
        number: int | None = None,
        sync: bool = True,
    ) -> Environment:
        if number is None:
            number = (
                deployed_version(backend)
                if version is Version.LIVE
                else definition_version(backend, definition)
            )
        return Environment.open(
            version,
            backend,
            definition,
            self.files[version],
            self._max_upload_bytes,
            self.geocoder,
            self.user_tokens[version],
            on_email=postman.poke if (postman := self.postmen.get(version)) else None,
            definition_version=number,
            sync=sync,
        )

    def snapshot(self, version: Version, number: int | None) -> Environment | None:
        """The environment as it was at definition version `number` (a scheduled run's
        snapshot): the current one when it is that version, None when the version is
        unknown. Older versions are opened without touching the schema, and kept."""
        env = self.environment(version)
        if number is None or env.workflows.definition_version == number:
            return env
        key = (version, number)
        with self._lock:
            found = self._snapshots.get(key)
        if found is not None:
            return found
        backend = self.databases.live if version is Version.LIVE else self.databases.test
        definition = stored_definition(backend, number)
        if definition is None:
            return None
        opened = self._open(version, backend, definition, number, sync=False)
        with self._lock:
            if len(self._snapshots) >= MAX_SNAPSHOTS:
                self._snapshots.pop(next(iter(self._snapshots)))
            self._snapshots.setdefault(key, opened)
        return opened

    def environment(self, version: Version) -> Environment:
        if version is Version.TEST:
            return self.test
        if self._clock() >= self._next_check:
            self._refresh_live()
        return self.live

    def _refresh_live(self) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next_check:
                return
            self._next_check = now + self.LIVE_CHECK_SECONDS
            version = deployed_version(self.databases.live)
            if version != self._live_version:
                self.live = self._open_live()
                self._live_version = version

    def close(self) -> None:
        for postman in self.postmen.values():
            postman.stop()
        close = getattr(self.geocoder, "close", None)
        if close is not None:
            close()
        self.databases.close()


def make_geocoder_from(settings: Settings) -> Geocoder | None:
    """The geocoder the settings name (`BURBLE_GEOCODER`); None for "none"."""
    if settings.geocoder == "none":
        return None
    options: dict[str, object] = {}
    if settings.geocoder in ("google", "nominatim"):
        if settings.geocoder_url:
            options["url"] = settings.geocoder_url
        if settings.geocoder_key:
            options["api_key"] = settings.geocoder_key
    try:
        return make_geocoder(settings.geocoder, **options)
    except (ValueError, TypeError) as exc:
        raise BurbleError(f"BURBLE_GEOCODER: {exc}") from None
