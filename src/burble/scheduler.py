"""Running scheduled work: the handler that turns a claimed job into a workflow run, and the
workers `burble serve` and `burble worker` start (docs/scheduling.md, ADR 0011).

A job runs in the definition it was scheduled under (`Runtime.snapshot`), as the caller that
scheduled it, in a transaction that also finishes the job (`JobContext.transaction`): the
run's changes and the job's end commit together, so a run's database effects happen once even
when a worker dies and another re-runs the job. A job deeper than the definition's
`recursion_limit` is not run: it is logged as a workflow error and kept as `skipped`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from burble.appdef.model import DataType
from burble.auth.actor import ADMIN, ANONYMOUS, Actor, ActorKind
from burble.errors import BurbleError
from burble.expr import Thing
from burble.jobs import JobContext, JobQueue, Kind, Status, Worker
from burble.logs.runlog import RunLog
from burble.runtime import Environment, Runtime, Version
from burble.store.backend import Dialect, Row
from burble.workflows.reads import thing_of_row
from burble.workflows.triggers import change_of, row_of

log = logging.getLogger("burble.scheduler")


class JobFailed(BurbleError):
    """A job cannot run: its workflow or definition version no longer exists."""


def _actor(job_params: Mapping[str, object], user_id: str | None) -> Actor:
    kind = job_params.get("actor")
    if kind == ActorKind.ADMIN.value:
        return ADMIN
    if kind == ActorKind.USER.value and user_id:
        return Actor(ActorKind.USER, user_id)
    return ANONYMOUS


class JobRunner:
    """The worker's handler for one environment (Live or Development)."""

    def __init__(self, runtime: Runtime, version: Version) -> None:
        self.runtime = runtime
        self.version = version

    def __call__(self, ctx: JobContext) -> None:
        job = ctx.job
        env = self.runtime.snapshot(self.version, job.definition_version)
        if env is None:
            raise JobFailed(f"definition version {job.definition_version} is not recorded")
        engine = env.workflows
        limit = env.definition.settings.recursion_limit
        if job.depth > limit:
            self._too_deep(ctx, env, limit)
            return
        actor = _actor(job.params, job.user_id)
        if job.kind == Kind.WORKFLOW:
            workflow = engine.workflows.api.get(job.workflow)
            if workflow is None:
                raise JobFailed(f"the API workflow {job.workflow} does not exist")
            sent = job.params.get("parameters")
            engine.run(
                workflow,
                actor,
                sent if isinstance(sent, dict) else {},
                write=ctx.transaction,
                job_depth=job.depth,
                ignore_privacy=job.ignore_privacy,
                run_id=job.id,
            )
        elif job.kind == Kind.RECURRING:
            event = engine.workflows.recurring.get(job.workflow)
            if event is None:
                raise JobFailed(f"the recurring event {job.workflow} does not exist")
            engine.run_event(
                event, actor, {}, job.thing_id, write=ctx.transaction, job_depth=job.depth,
                run_id=job.id,
            )  # fmt: skip
        elif job.kind == Kind.TRIGGER:
            self._trigger(ctx, env, actor)
        else:
            raise JobFailed(f"unknown kind of job '{job.kind}'")

    def _trigger(self, ctx: JobContext, env: Environment, actor: Actor) -> None:
        """A database trigger: as admin, `Current User` the user who caused the change; not
        run (done at once) when the change is not one it watches."""
        job = ctx.job
        event = env.workflows.workflows.triggers.get(job.workflow)
        if event is None:
            raise JobFailed(f"the trigger {job.workflow} does not exist")
        before, now = job.params.get("before"), job.params.get("now")
        if not isinstance(before, dict | None) or not isinstance(now, dict | None):
            raise JobFailed("the trigger's snapshots are unreadable")
        if change_of(before, now) not in event.spec.on or (before is None and now is None):
            return
        codec = env.things.store.codec(event.dtype)
        dialect = env.backend.dialect
        params = {
            event.spec.before_name: _thing(dialect, event.dtype, row_of(codec, before)),
            event.spec.now_name: _thing(dialect, event.dtype, row_of(codec, now)),
        }
        env.workflows.run_event(
            event, actor, params, None, write=ctx.transaction, job_depth=job.depth, run_id=job.id
        )

    def _too_deep(self, ctx: JobContext, env: Environment, limit: int) -> None:
        job = ctx.job
        message = (
            f"Scheduled workflow {job.workflow} not run: it is {job.depth} scheduling levels "
            f"deep, beyond the recursion limit of {limit} (settings.recursion_limit)"
        )
        with RunLog(env.backend, job.workflow, job.user_id, run_id=job.id) as run_log:
            run_log.error(message, data={"job": job.id, "depth": job.depth})
        with ctx.transaction(Status.SKIPPED, message, next_occurrence=False):
            pass


def _thing(dialect: Dialect, dtype: DataType, row: Row | None) -> Thing | None:
    return None if row is None else thing_of_row(dialect, dtype, row)


class Workers:
    """In-process workers (threads), one per environment: `burble serve`'s scheduler."""

    def __init__(
        self,
        runtime: Runtime,
        versions: tuple[Version, ...] = (Version.LIVE, Version.TEST),
        poll_ms: int = 500,
        lease_ms: int = 60_000,
    ) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        for version in versions:
            backend = runtime.databases.live if version is Version.LIVE else runtime.databases.test
            worker = Worker(
                JobQueue(backend),
                JobRunner(runtime, version),
                poll_ms=poll_ms,
                lease_ms=lease_ms,
            )
            thread = threading.Thread(
                target=worker.run_forever,
                args=(self._stop,),
                name=f"burble-worker-{version.value}",
                daemon=True,
            )
            self._threads.append(thread)

    def start(self) -> Workers:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the jobs being run (the rest of a claimed batch is released)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
