"""Group commit on SQLite for the writes of one event loop (ADR 0013).

SQLite has one writer, and a transaction costs about as much to begin and commit as the
insert it holds. Coroutines hand their write (a function of a `Tx`) to the `GroupWriter` of
their loop and backend; the writes waiting when the writer is free run together, one
savepoint each, in one transaction (`SQLiteBackend.write_group`), on the loop itself:
no thread to hand over to and back from, one BEGIN and one COMMIT for the lot.

A write that fails is rolled back alone and its coroutine gets its exception; each write's
coroutine resumes only once its transaction has committed. While another thread or process
holds the writer, a thread waits for it (`_Waiter`) and hands it to the loop, which goes on
serving meanwhile; more writes join the group (at most `MAX_GROUP`).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from burble.store.backend import Tx
from burble.store.sqlite import SQLiteBackend

T = TypeVar("T")

MAX_GROUP = 256  # writes in one transaction at most
RETRY_SECONDS = 0.0  # while the writer is busy: how often to try again

_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, GroupWriter]] = (
    weakref.WeakKeyDictionary()
)


def group_writer(backend: SQLiteBackend) -> GroupWriter:
    """The group writer of the running loop for `backend`."""
    loop = asyncio.get_running_loop()
    per_loop = _writers.setdefault(loop, {})
    writer = per_loop.get(id(backend))
    if writer is None or writer.backend is not backend:
        writer = per_loop[id(backend)] = GroupWriter(backend, loop)
    return writer


class GroupWriter:
    def __init__(self, backend: SQLiteBackend, loop: asyncio.AbstractEventLoop) -> None:
        self.backend = backend
        self._loop = loop
        self._pending: list[tuple[Callable[[Tx], Any], asyncio.Future[Any]]] = []
        self._scheduled = False  # a _flush is due on the loop
        self._waiting = False  # the waiter thread is taking the writer for us
        self.groups = 0  # transactions committed (for tests and the curious)

    async def write(self, body: Callable[[Tx], T]) -> T:
        """Run `body` in a write transaction shared with the other writes waiting now; its
        value once committed, or the exception it (or the commit) raised."""
        future: asyncio.Future[T] = self._loop.create_future()
        self._pending.append((body, future))
        if not self._scheduled and not self._waiting:
            self._scheduled = True
            self._loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        if self._waiting or not self._live_pending():
            return
        state = self.backend.try_hold_writer()
        if state == "held":
            self._write()
        elif state == "busy elsewhere":  # another process: more writes join meanwhile
            self._waiting = True
            _waiter().wait_for(self)
        else:  # a thread of this process
            self._scheduled = True
            self._loop.call_later(RETRY_SECONDS, self._flush)

    def held(self) -> None:
        """The waiter thread took the processes' `flock` for us (called on the loop)."""
        self._waiting = False
        if not self._live_pending():
            self.backend.release_handed_writer()
        elif self.backend.hold_handed_writer():
            self._write()
        else:  # a thread of this process is writing: try again soon
            self._scheduled = True
            self._loop.call_later(RETRY_SECONDS, self._flush)

    def _live_pending(self) -> bool:
        self._pending = [(b, f) for b, f in self._pending if not f.done()]  # cancelled
        return bool(self._pending)

    def _write(self) -> None:
        """Write the waiting writes, with the writer held (released here)."""
        batch = self._pending[:MAX_GROUP]
        try:
            outcomes = self.backend.write_group([body for body, _ in batch])
        except Exception as exc:  # the transaction could not begin: every write fails
            del self._pending[: len(batch)]
            for _, future in batch:
                future.set_exception(exc)
            self._again()
            return
        if outcomes is None:  # another program holds SQLite's write lock: try again soon
            self._scheduled = True
            self._loop.call_later(RETRY_SECONDS, self._flush)
            return
        self.groups += 1
        del self._pending[: len(batch)]
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if outcome.ok:
                future.set_result(outcome.value)
            else:
                future.set_exception(outcome.value)
        self._again()

    def _again(self) -> None:
        if self._pending and not self._scheduled and not self._waiting:
            self._scheduled = True
            self._loop.call_soon(self._flush)


class _Waiter:
    """One thread per process that waits for the processes' `flock` for the group writers
    that found it taken, then hands it to their loop: no polling, and the loop keeps serving
    meanwhile."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[GroupWriter] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="burble-group-commit", daemon=True).start()

    def wait_for(self, writer: GroupWriter) -> None:
        self._queue.put(writer)

    def _run(self) -> None:
        while True:
            writer = self._queue.get()
            writer.backend.wait_for_writer()
            try:
                writer._loop.call_soon_threadsafe(writer.held)
            except RuntimeError:  # its loop is closed: nobody to write for
                writer.backend.release_handed_writer()


_the_waiter: _Waiter | None = None
_waiter_lock = threading.Lock()


def _waiter() -> _Waiter:
    global _the_waiter
    with _waiter_lock:
        if _the_waiter is None:
            _the_waiter = _Waiter()
        return _the_waiter
