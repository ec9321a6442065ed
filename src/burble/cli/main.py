"""The `burble` command: init, serve, check, deploy, token, user, logs, mail (and worker,
scheduler: `burble.cli.scheduler`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

from burble.appdef.load import DEFINITION_FILE, load_app
from burble.cli.common import (
    _APP_OPTION,
    _ENVIRONMENT_OPTION,
    _environment_backend,
    _fail,
    _print_problems,
    _settings,
)
from burble.cli.scheduler import scheduler, worker
from burble.errors import AppDefError, BurbleError
from burble.runtime import Databases, check_all, deploy
from burble.settings import Settings

if TYPE_CHECKING:
    from burble.logs.runlog import LogEntry
    from burble.mail.outbox import OutboxEmail
    from burble.runtime import Environment


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
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Server processes [default: BURBLE_WORKERS, else one per CPU core].",
)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Do not run scheduled work in this process (run `burble worker` elsewhere).",
)
def serve(directory: Path, host: str, port: int, workers: int | None, no_worker: bool) -> None:
    """Serve Live at /api/1.1/ and Development at /version-test/api/1.1/."""
    import functools

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from burble.api.app import create_app, http_protocol, worker_app
    from burble.malloc import limit_malloc_arenas
    from burble.runtime import Runtime
    from burble.scheduler import Workers

    try:
        # Uploaded files' URLs start with BURBLE_PUBLIC_URL, else this server's address.
        settings = Settings.from_env(directory, listen=(host, port))
        limit_malloc_arenas(settings.malloc_arenas)  # each worker process too (`worker_app`)
        if workers is not None:
            settings = settings.with_(workers=workers)
        working = load_app(directory)
        # Checks the definition against the databases and migrates them, once, before any
        # worker process starts.
        runtime = Runtime(Databases(settings), working)
    except AppDefError as exc:
        _print_problems(exc.problems)
        sys.exit(1)
    except BurbleError as exc:
        _fail(f"cannot start: {exc.message}")
    base = f"http://{host}:{port}"
    click.echo(f"Burble serving '{working.name}' ({runtime.databases.live.describe()})")
    click.echo(f"  Live:        {base}/api/1.1/")
    click.echo(f"  Development: {base}/version-test/api/1.1/")
    files = settings.public_url
    click.echo(f"  Files:       {files}/fileupload/ and {files}/version-test/fileupload/")
    n = settings.workers
    click.echo(f"  Processes:   {n}")
    # uvicorn picks uvloop and httptools when they are installed (uvicorn[standard]).
    options: dict[str, object] = {"log_level": "warning", "access_log": False, "workers": n}
    options["http"] = http_protocol()  # httptools, a response's writes joined into one
    # The scheduler's workers (Live and Development): threads of this first process.
    scheduled = None if no_worker else Workers(runtime).start()
    click.echo(f"  Scheduler:   {'off (--no-worker)' if no_worker else 'on'}")
    if n == 1:
        app = create_app(runtime, settings.max_body_bytes)
        try:
            uvicorn.run(app, host=host, port=port, **options)  # type: ignore[arg-type]
        finally:
            if scheduled is not None:
                scheduled.stop()
            runtime.close()
        return
    # Several processes on one listening socket, each building its own app (databases,
    # caches) from the same definition text; uvicorn's supervisor restarts one that dies.
    if scheduled is None:
        runtime.close()
    factory = functools.partial(
        worker_app, working.source, str(directory / DEFINITION_FILE), settings
    )
    config = uvicorn.Config(factory, host=host, port=port, factory=True, **options)  # type: ignore[arg-type]
    sock = config.bind_socket()
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
        if scheduled is not None:
            scheduled.stop()
            runtime.close()


@main.group()
def token() -> None:
    """Admin API tokens (they act as an admin: privacy rules do not apply)."""


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


# --- users (burble.auth): `burble user ...` -------------------------------------------------

_VERSION_OPTION = click.option(
    "--version",
    "version",
    type=click.Choice(["live", "test"]),
    default="test",
    show_default=True,
    help="The environment: test (Development) or live. Each has its own users.",
)


def _stdin_is_tty() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


@contextmanager
def _user_environment(app_dir: Path, version: str) -> Iterator[Environment]:
    """The environment whose users a `user` command works on; its databases closed after."""
    from burble.runtime import Environment, Version, deployed_definition

    settings = _settings(app_dir)
    try:
        databases = Databases(settings)
    except BurbleError as exc:
        _fail(f"cannot open the databases: {exc.message}")
    try:
        if version == "live":
            definition = deployed_definition(databases.live)
            if definition is None:
                _fail("nothing is deployed to Live yet (run burble deploy first)")
            env = Environment.open(Version.LIVE, databases.live, definition)
        else:
            env = Environment.open(Version.TEST, databases.test, load_app(app_dir))
        yield env
    except AppDefError as exc:
        _print_problems(exc.problems)
        sys.exit(1)
    except BurbleError as exc:
        _fail(exc.message)
    finally:
        databases.close()


def _label(env: Environment) -> str:
    return "Live" if env.version.value == "live" else "Development"


def _user_id(env: Environment, email: str) -> str:
    from burble.auth.users import user_id_by_email

    user_type = env.definition.types.get("User")
    found = user_id_by_email(env.backend, user_type.table, email) if user_type else None
    if found is None:
        _fail(f"no user with email '{email}' in {_label(env)}")
    return found


@main.group()
def user() -> None:
    """Users and their tokens, in Development (default) or Live."""


@user.command("create")
@click.option("--email", required=True, help="The new user's email.")
@click.option(
    "--password",
    default=None,
    help="The password; omitted: asked for (twice) on a terminal, else none.",
)
@_VERSION_OPTION
@_APP_OPTION
def user_create(email: str, password: str | None, version: str, app_dir: Path) -> None:
    """Create a user (like the Data API would) and print its id."""
    from burble.auth.actor import ADMIN

    if password is None and _stdin_is_tty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    body = {"email": email} if password is None else {"email": email, "password": password}
    with _user_environment(app_dir, version) as env:
        try:
            user_id = env.things.create(ADMIN, env.definition.types["User"], body)
        except BurbleError as exc:
            _fail(exc.message)
        click.echo(user_id)
        click.echo(f"User {email.strip().lower()} created in {_label(env)}.", err=True)


@user.command("token")
@click.argument("email")
@click.option("--keep-logged-in", is_flag=True, help="Valid for 12 months instead of 24 hours.")
@_VERSION_OPTION
@_APP_OPTION
def user_token(email: str, keep_logged_in: bool, version: str, app_dir: Path) -> None:
    """Create a token for a user and print it once."""
    from burble.auth.user_tokens import DAY_MS, IDLE_MS, UserTokenStore
    from burble.values import format_date

    with _user_environment(app_dir, version) as env:
        user_id = _user_id(env, email)
        info, secret = UserTokenStore(env.backend).create(user_id, keep_logged_in)
        click.echo(secret)
        click.echo(
            f"Token {info.id} for {email} in {_label(env)} expires {format_date(info.expires_at)}"
            f" (or {IDLE_MS // DAY_MS} days after its last use). It is shown only this once.",
            err=True,
        )


@user.command("logout")
@click.argument("email")
@click.option("--all", "all_tokens", is_flag=True, help="Revoke every token of the user.")
@click.option("--token-id", default=None, help="Revoke this token only.")
@_VERSION_OPTION
@_APP_OPTION
def user_logout(
    email: str, all_tokens: bool, token_id: str | None, version: str, app_dir: Path
) -> None:
    """Log a user out: revoke one token (--token-id) or all of them (--all)."""
    from burble.auth.user_tokens import UserTokenStore
    from burble.errors import TokenNotFound

    if all_tokens == (token_id is not None):
        raise click.UsageError("give either --all or --token-id ID")
    with _user_environment(app_dir, version) as env:
        user_id = _user_id(env, email)
        store = UserTokenStore(env.backend)
        if token_id is not None:
            try:
                store.revoke(token_id, user_id=user_id)
            except TokenNotFound as exc:
                _fail(exc.message)
            click.echo(f"Revoked token {token_id} of {email}.")
        else:
            count = store.revoke_all(user_id)
            click.echo(f"Revoked {count} token{'' if count == 1 else 's'} of {email}.")


# --- end users ------------------------------------------------------------------------------


# --- server logs (burble.logs) and the outbox (burble.mail): `burble logs`, `burble mail` ---


def _log_user(app_dir: Path, databases: Databases, version: str, user: str) -> str:
    """A `--user` value as a unique id: an email is looked up in the environment's users."""
    from burble.auth.users import user_id_by_email
    from burble.runtime import deployed_definition

    if "@" not in user:
        return user
    try:
        definition = deployed_definition(databases.live) if version == "live" else load_app(app_dir)
    except AppDefError as exc:
        _print_problems(exc.problems)
        sys.exit(1)
    user_type = definition.types.get("User") if definition else None
    backend = databases.live if version == "live" else databases.test
    found = user_id_by_email(backend, user_type.table, user) if user_type else None
    if found is None:
        _fail(f"no user with email '{user}' in {'Live' if version == 'live' else 'Development'}")
    return found


def _log_line(entry: LogEntry) -> str:
    import orjson

    from burble.values import format_date

    parts = [
        format_date(entry.at),
        f"{entry.kind.value:<9}",
        entry.workflow,
        f"run={entry.run_id}",
        f"user={entry.user_id or 'anonymous'}",
        entry.message,
    ]
    if entry.data is not None:
        parts.append(orjson.dumps(entry.data).decode())
    if entry.duration_ms is not None:
        parts.append(f"({entry.duration_ms:.1f} ms)")
    return "  ".join(parts)


@main.command("logs")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_ENVIRONMENT_OPTION
@click.option("--workflow", default=None, help="Only this workflow's runs.")
@click.option("--since", default=None, help="From this time: ISO date, or an age (30m, 1h, 2d).")
@click.option("--until", default=None, help="Before this time: ISO date, or an age.")
@click.option("--user", default=None, help="Only runs of this user: unique id or email.")
@click.option("--run", "run_id", default=None, help="Only this run (zoom on one run).")
@click.option("--text", default=None, help="Only entries whose message or data contain this.")
@click.option("--errors", is_flag=True, help="Only workflow errors.")
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="At most this many entries (the latest).",
)
def logs_cmd(
    directory: Path,
    version: str,
    workflow: str | None,
    since: str | None,
    until: str | None,
    user: str | None,
    run_id: str | None,
    text: str | None,
    errors: bool,
    limit: int,
) -> None:
    """Print the server logs: one line per entry, oldest first."""
    from burble.logs.search import parse_since, search
    from burble.values import now_ms

    now = now_ms()
    try:
        start = None if since is None else parse_since(since, now)
        end = None if until is None else parse_since(until, now)
    except BurbleError as exc:
        raise click.BadParameter(exc.message) from None
    with _environment_backend(directory, version) as (databases, backend):
        user_id = None if user is None else _log_user(directory, databases, version, user)
        try:
            entries = search(
                backend,
                workflow=workflow,
                since=start,
                until=end,
                user=user_id,
                run_id=run_id,
                text=text,
                errors_only=errors,
                limit=limit,
            )
        except BurbleError as exc:
            _fail(exc.message)
    if not entries:
        click.echo("No log entries.", err=True)
    for entry in entries:
        click.echo(_log_line(entry))


@main.group()
def mail() -> None:
    """The outbox: every email workflows send, in Development (default) or Live."""


def _recipients(email: OutboxEmail) -> str:
    return ", ".join(email.message.to)


@mail.command("list")
@click.option(
    "--status",
    type=click.Choice(["queued", "sending", "sent", "failed"]),
    default=None,
    help="Only emails with this status.",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@_ENVIRONMENT_OPTION
@_APP_OPTION
def mail_list(status: str | None, limit: int, version: str, app_dir: Path) -> None:
    """List the latest emails, newest first."""
    from burble.mail.outbox import Status, emails
    from burble.values import format_date

    with _environment_backend(app_dir, version) as (_, backend):
        found = emails(backend, status=None if status is None else Status(status), limit=limit)
    if not found:
        click.echo("No emails.")
    for email in found:
        line = (
            f"{email.id}  {format_date(email.created_at)}  {email.status.value:<7}  "
            f"to {_recipients(email)}  {email.message.subject!r}"
        )
        if email.error:
            line += f"  ({email.error})"
        click.echo(line)


@mail.command("show")
@click.argument("email_id")
@_ENVIRONMENT_OPTION
@_APP_OPTION
def mail_show(email_id: str, version: str, app_dir: Path) -> None:
    """Print one email: its headers, status and body."""
    from burble.mail.outbox import email
    from burble.values import format_date

    with _environment_backend(app_dir, version) as (_, backend):
        found = email(backend, email_id)
    if found is None:
        _fail(f"no email with id '{email_id}'")
    m = found.message
    rows = [
        ("Id", found.id),
        ("Created", format_date(found.created_at)),
        ("Status", found.status.value),
        ("Sent", None if found.sent_at is None else format_date(found.sent_at)),
        ("Attempts", str(found.attempts)),
        ("Error", found.error),
        ("Run", found.run_id),
        ("Sender name", m.sender_name),
        ("To", ", ".join(m.to)),
        ("Cc", ", ".join(m.cc) or None),
        ("Bcc", ", ".join(m.bcc) or None),
        ("Reply-To", m.reply_to),
        ("Subject", m.subject),
        ("Format", "HTML" if m.html else "text"),
    ]
    for name, value in rows:
        if value is not None:
            click.echo(f"{name}: {value}")
    click.echo("")
    click.echo(m.body)


@mail.command("send-pending")
@click.option("--retry-failed", is_flag=True, help="Queue the failed emails again first.")
@_ENVIRONMENT_OPTION
@_APP_OPTION
def mail_send_pending(retry_failed: bool, version: str, app_dir: Path) -> None:
    """Send the queued emails through BURBLE_SMTP_URL."""
    from burble.mail.outbox import DEFAULT_BATCH, deliver_pending, email, requeue_failed
    from burble.mail.smtp import mailer_from_settings

    try:
        mailer = mailer_from_settings(_settings(app_dir))
    except BurbleError as exc:
        _fail(f"bad setting: {exc.message}")
    if mailer is None:
        _fail("BURBLE_SMTP_URL is not set: emails stay in the outbox (burble mail list)")
    sent, failed = 0, []
    with _environment_backend(app_dir, version) as (_, backend):
        if retry_failed:
            requeue_failed(backend)
        while True:
            done = deliver_pending(backend, mailer)
            sent += len(done.sent)
            failed += [email(backend, i) for i in done.failed]
            if len(done.sent) + len(done.failed) < DEFAULT_BATCH:
                break
    for f in failed:
        if f is not None:
            click.echo(f"{f.id} to {_recipients(f)} failed: {f.error}", err=True)
    click.echo(f"Sent {sent} email{'' if sent == 1 else 's'} via {mailer.describe()}.")
    if failed:
        click.echo(f"{len(failed)} failed.", err=True)
        sys.exit(1)


# --- end logs and mail ----------------------------------------------------------------------

# `burble worker` and `burble scheduler ...` live in their own module.
main.add_command(worker)
main.add_command(scheduler)

if __name__ == "__main__":
    main()
