"""A generic worker: claims due jobs and runs each with a handler the caller supplies.

The handler gets a `JobContext` and does the job's work in its own write transaction,
finishing the job in that same transaction::

    def handle(ctx: JobContext) -> None:
        with ctx.transaction() as tx:      # finishes the job first, in this transaction
            tx.execute("INSERT ...", [...])  # the job's effects commit with it, or not at all

`ctx.transaction()` raises `ClaimLost` (rolling everything back) when this worker no longer
holds the job — its lease expired and another worker took it. A handler that returns without
finishing is finished as done by the worker, in a transaction of its own; one that raises is
recorded with `JobQueue.fail` (retried while `attempts < max_attempts`).

Delivery is at least once: a worker that dies mid-job loses its lease and the job runs again
elsewhere. Database effects made in the finishing transaction happen exactly once; for any
other effect (an email, an HTTP call) use `ctx.job.id` and `ctx.job.attempts` to make it
idempotent.

While a batch is held, a heartbeat thread extends its leases every `lease_ms / 3`, so a
slow job is not taken away from a live worker.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from burble.errors import BurbleError
from burble.jobs.model import Job, Status
from burble.jobs.queue import JobQueue
from burble.store.backend import Tx

log = logging.getLogger("burble.jobs")


class ClaimLost(BurbleError):
    """This worker no longer holds the job (its lease expired and another worker claimed it);
    the transaction that tried to finish it is rolled back."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} is no longer held by this worker")
        self.job_id = job_id


class JobContext:
    """What a handler gets: the claimed `job`, and the means to finish it in a transaction."""

    def __init__(self, queue: JobQueue, job: Job, worker_id: str) -> None:
        self.queue = queue
        self.job = job
        self.worker_id = worker_id
        self.committed = False  # set once `transaction()` has committed the job's end

    def finish(
        self,
        tx: Tx,
        status: Status = Status.DONE,
        error: str | None = None,
        *,
        next_occurrence: bool = True,
    ) -> bool:
        """`JobQueue.finish` for this job, in the caller's transaction `tx`. On False, roll
        `tx` back (raise): another worker has the job."""
        return self.queue.finish(
            tx, self.job.id, self.worker_id, status, error, next_occurrence=next_occurrence
        )

    @contextmanager
    def transaction(
        self,
        status: Status = Status.DONE,
        error: str | None = None,
        *,
        next_occurrence: bool = True,
    ) -> Iterator[Tx]:
        """A write transaction that finishes the job (with `status`) before anything else,
        then commits with the handler's effects. Raises `ClaimLost` when the job is no longer
        this worker's. Finishing first also locks the job's row (PostgreSQL) for the
        transaction, so no other worker can take it while the effects are written."""
        with self.queue.backend.write() as tx:
            if not self.finish(tx, status, error, next_occurrence=next_occurrence):
                raise ClaimLost(self.job.id)
            yield tx
        self.committed = True


Handler = Callable[[JobContext], None]


def default_worker_id() -> str:
    """`host:pid:random`, unique among the workers of all machines."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _describe(exc: Exception) -> str:
    if isinstance(exc, BurbleError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


class Worker:
    """Runs jobs from `queue` with `handler`, one at a time, in the calling thread.

    `batch` jobs are claimed at once (each held under a lease of `lease_ms`, kept alive by the
    heartbeat); `poll_ms` is the pause after finding nothing to do. `sleep(seconds)` replaces
    that pause (tests); by default `run_forever` waits on its stop event. Time comes from the
    queue's clock. Run several workers — processes, machines, or threads each with its own
    `Worker` — for parallelism: claims never overlap.
    """

    def __init__(
        self,
        queue: JobQueue,
        handler: Handler,
        *,
        worker_id: str | None = None,
        lease_ms: int = 60_000,
        poll_ms: int = 500,
        batch: int = 10,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if lease_ms <= 0 or poll_ms < 0 or batch < 1:
            raise ValueError("lease_ms must be positive, poll_ms not negative, batch at least 1")
        self.queue = queue
        self.handler = handler
        self.worker_id = worker_id or default_worker_id()
        self.lease_ms = lease_ms
        self.poll_ms = poll_ms
        self.batch = batch
        self._sleep = sleep

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Claim one batch and run it; returns how many jobs ran (0: nothing was due). When
        `stop` is set mid-batch, the jobs not started yet are released to other workers."""
        jobs = self.queue.claim(self.worker_id, self.lease_ms, self.batch)
        if not jobs:
            return 0
        held = {job.id for job in jobs}
        guard = threading.Lock()
        ran = 0
        with self._heartbeat(held, guard):
            for index, job in enumerate(jobs):
                if stop is not None and stop.is_set():
                    for rest in jobs[index:]:
                        self.queue.release(rest.id, self.worker_id)
                    break
                try:
                    self._run(job)
                finally:
                    with guard:
                        held.discard(job.id)
                ran += 1
        return ran

    def run_forever(self, stop: threading.Event) -> None:
        """Run batches until `stop` is set; a database error is logged and retried after the
        poll pause (the jobs it touched are re-run when their leases expire)."""
        while not stop.is_set():
            try:
                ran = self.run_once(stop)
            except Exception:
                log.exception("worker %s: a batch failed; retrying", self.worker_id)
                ran = 0
            if ran == 0 and not stop.is_set():
                seconds = self.poll_ms / 1000
                if self._sleep is not None:
                    self._sleep(seconds)
                else:
                    stop.wait(seconds)

    def _run(self, job: Job) -> None:
        ctx = JobContext(self.queue, job, self.worker_id)
        try:
            self.handler(ctx)
        except ClaimLost:
            log.warning(
                "worker %s: job %s was taken over; its run rolled back", ctx.worker_id, job.id
            )
            return
        except Exception as exc:
            log.warning("worker %s: job %s failed: %s", self.worker_id, job.id, exc, exc_info=True)
            self.queue.fail(job.id, self.worker_id, _describe(exc))
            return
        if not ctx.committed:
            with self.queue.backend.write() as tx:
                self.queue.finish(tx, job.id, self.worker_id)

    @contextmanager
    def _heartbeat(self, held: set[str], guard: threading.Lock) -> Iterator[None]:
        stopped = threading.Event()
        interval = self.lease_ms / 3 / 1000

        def beat() -> None:
            while not stopped.wait(interval):
                with guard:
                    ids = sorted(held)
                try:
                    self.queue.extend_leases(ids, self.worker_id, self.lease_ms)
                except Exception:
                    log.exception("worker %s: could not extend leases", self.worker_id)

        thread = threading.Thread(target=beat, name=f"burble-heartbeat-{self.worker_id}")
        thread.daemon = True
        thread.start()
        try:
            yield
        finally:
            stopped.set()
            thread.join()
