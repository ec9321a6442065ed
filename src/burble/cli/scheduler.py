"""`burble worker` (runs scheduled work) and `burble scheduler ...` (looks at and controls
the queue of one environment), docs/scheduling.md."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click
import orjson

from burble.appdef.load import load_app
from burble.cli.common import (
    _APP_OPTION,
    _ENVIRONMENT_OPTION,
    _environment_backend,
    _fail,
    _print_problems,
    _settings,
)
from burble.errors import AppDefError, BurbleError
from burble.jobs import Job, JobQueue, Status
from burble.runtime import Databases, Runtime, Version
from burble.values import format_date, now_ms


@click.command("worker")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--version",
    "versions",
    type=click.Choice(["live", "test", "both"]),
    default="both",
    show_default=True,
    help="Which environments' scheduled work to run.",
)
@click.option(
    "--poll-ms",
    default=500,
    show_default=True,
    type=click.IntRange(10, 60_000),
    help="How long to wait when nothing is due.",
)
def worker(directory: Path, versions: str, poll_ms: int) -> None:
    """Run due scheduled workflows, recurring events and triggers until stopped (Ctrl-C or
    SIGTERM). Run as many as you like, on any machines sharing the database."""
    from burble.scheduler import Workers

    chosen = {"live": (Version.LIVE,), "test": (Version.TEST,)}.get(
        versions, (Version.LIVE, Version.TEST)
    )
    try:
        runtime = Runtime(Databases(_settings(directory)), load_app(directory))
    except AppDefError as exc:
        _print_problems(exc.problems)
        raise SystemExit(1) from None
    except BurbleError as exc:
        _fail(f"cannot start: {exc.message}")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    workers = Workers(runtime, chosen, poll_ms=poll_ms).start()
    names = " and ".join("Live" if v is Version.LIVE else "Development" for v in chosen)
    click.echo(f"Burble worker running {names}'s scheduled work (Ctrl-C to stop).")
    try:
        stop.wait()
    finally:
        workers.stop()
        runtime.close()


@click.group("scheduler")
def scheduler() -> None:
    """The scheduler of one environment: list, pause, resume, cancel."""


def _line(job: Job) -> str:
    params = job.params.get("parameters") if job.kind == "workflow" else None
    parts = [
        format_date(job.run_at),
        job.id,
        f"{job.status.value:<9}",
        job.workflow,
        f"user={job.user_id or job.params.get('actor') or 'admin'}",
    ]
    if job.thing_id:
        parts.append(f"thing={job.thing_id}")
    if params:
        parts.append(orjson.dumps(params).decode())
    if job.error:
        parts.append(f"error: {job.error}")
    return "  ".join(str(p) for p in parts)


@scheduler.command("list")
@click.option(
    "--status",
    type=click.Choice([s.value for s in Status]),
    default=None,
    help="Only jobs of this status (default: scheduled and running).",
)
@click.option("--all", "everything", is_flag=True, help="Every job, finished ones too.")
@click.option("--workflow", default=None, help="Only this workflow's jobs.")
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(1, 100_000), help="At most."
)
@_ENVIRONMENT_OPTION
@_APP_OPTION
def list_cmd(
    status: str | None, everything: bool, workflow: str | None, limit: int, version: str,
    app_dir: Path,
) -> None:  # fmt: skip
    """Scheduled work by time: time, id, status, workflow, user, parameters."""
    wanted: list[Status] | Status | None = None
    if status is not None:
        wanted = Status(status)
    elif not everything:
        wanted = [Status.SCHEDULED, Status.RUNNING]
    with _environment_backend(app_dir, version) as (_, backend):
        queue = JobQueue(backend)
        found = queue.list(status=wanted, workflow=workflow, limit=limit)
        paused = queue.is_paused()
    if paused:
        click.echo("The scheduler is paused (burble scheduler resume).", err=True)
    for job in found:
        click.echo(_line(job))
    if not found:
        click.echo("Nothing scheduled.", err=True)


@scheduler.command("pause")
@_ENVIRONMENT_OPTION
@_APP_OPTION
def pause(version: str, app_dir: Path) -> None:
    """Stop running scheduled work in this environment (jobs stay queued)."""
    with _environment_backend(app_dir, version) as (_, backend):
        JobQueue(backend).pause()
    click.echo("Paused: no scheduled work runs until `burble scheduler resume`.")


@scheduler.command("resume")
@_ENVIRONMENT_OPTION
@_APP_OPTION
def resume(version: str, app_dir: Path) -> None:
    """Run scheduled work again (what came due meanwhile runs now)."""
    with _environment_backend(app_dir, version) as (_, backend):
        JobQueue(backend).resume()
    click.echo("Resumed.")


@scheduler.command("cancel")
@click.argument("ids", nargs=-1, required=True)
@_ENVIRONMENT_OPTION
@_APP_OPTION
def cancel(ids: tuple[str, ...], version: str, app_dir: Path) -> None:
    """Cancel scheduled jobs by id (those not started yet)."""
    with _environment_backend(app_dir, version) as (_, backend):
        queue = JobQueue(backend)
        with backend.write() as tx:
            count = queue.cancel_many(tx, list(ids))
    click.echo(f"Cancelled {count} of {len(ids)}.")
    if count < len(ids):
        raise SystemExit(1)


@scheduler.command("cancel-all")
@click.option("--past-due", is_flag=True, help="Only jobs whose time has passed.")
@_ENVIRONMENT_OPTION
@_APP_OPTION
def cancel_all(past_due: bool, version: str, app_dir: Path) -> None:
    """Cancel every job not started yet (or only the past-due ones)."""
    with _environment_backend(app_dir, version) as (_, backend):
        count = JobQueue(backend).cancel_all(now_ms() if past_due else None)
    click.echo(f"Cancelled {count} job{'' if count == 1 else 's'}.")
