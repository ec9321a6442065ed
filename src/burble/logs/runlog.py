"""Recording one workflow run: `RunLog`.

Bubble logs one entry when a workflow starts, one for its condition (even an empty one), one
per action, one when it ends or errors; so does a RunLog (`LogKind`). Entries are kept in
memory; a run that succeeds writes them in its own transaction just before it commits
(`write_into`, then `committed()`), and any others are written by `flush()` in their own
short transaction, which the caller runs after the run's transaction has committed or rolled
back — so the log of a failed run survives its rollback. (On SQLite, writing while the same
thread holds a write transaction would wait for itself: never call `flush()` inside the
run's transaction.) `with RunLog(...) as log:` flushes on leaving the block, error or not.

Durations: an action's is the time until the next entry of the run (the next action, the
end, or the error); the end's and the error's are the whole run's, from `start()`.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import orjson

from burble.errors import BurbleError
from burble.logs.redact import redact
from burble.store.backend import Backend, Tx
from burble.values import new_unique_id, now_ms

log = logging.getLogger("burble.logs")


class LogKind(enum.Enum):
    START = "start"  # started running workflow
    CONDITION = "condition"  # event (or action) condition passed / not passed
    ACTION = "action"  # running action
    END = "end"  # finished running workflow
    ERROR = "error"  # workflow error


@dataclass(frozen=True, slots=True)
class LogEntry:
    id: str
    run_id: str
    seq: int  # order in the run, from 0
    at: int  # ms since the epoch
    workflow: str
    user_id: str | None  # None: an anonymous caller
    kind: LogKind
    step: int | None  # the action's step number, from 1
    message: str
    data: Any  # JSON-ready, secrets masked
    duration_ms: float | None


class RunLog:
    """The server log of one run of `workflow`, on behalf of `user_id` (None: anonymous)."""

    def __init__(
        self,
        backend: Backend,
        workflow: str,
        user_id: str | None = None,
        *,
        run_id: str | None = None,
        clock: Callable[[], int] = now_ms,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.backend = backend
        self.workflow = workflow
        self.user_id = user_id
        self._clock = clock
        self._timer = timer
        self.run_id = run_id or new_unique_id(clock())
        self._pending: list[LogEntry] = []
        self._in_tx: list[LogEntry] = []  # written in a transaction not known to have committed
        self._seq = 0
        self._started: float | None = None
        self._open_action: tuple[int, float] | None = None  # index in _pending, start time

    @property
    def pending(self) -> list[LogEntry]:
        """Entries recorded and not yet written."""
        return list(self._pending)

    # --- recording ----------------------------------------------------------------------

    def start(self, parameters: Mapping[str, object] | None = None) -> None:
        """The run starts; `parameters`: what it was called with."""
        self._started = self._timer()
        self._add(LogKind.START, f"Started running workflow {self.workflow}", parameters)

    def condition(
        self, passed: bool, *, step: int | None = None, expression: str | None = None
    ) -> None:
        """The workflow's condition (`step` None) or an action's was evaluated."""
        if step is None:
            message = f"Event condition {'passed' if passed else 'not passed'}"
        else:
            message = f"Action condition {'passed' if passed else 'failed'} (step {step})"
        data = None if expression is None else {"condition": expression}
        self._add(LogKind.CONDITION, message, data, step=step)

    def action(self, step: int, name: str, inputs: Mapping[str, object] | None = None) -> int:
        """An action starts; returns its entry's index, for `inputs` once it has run."""
        self._add(LogKind.ACTION, f"Running action {name} (step {step})", inputs, step=step)
        self._open_action = (len(self._pending) - 1, self._timer())
        return len(self._pending) - 1

    def inputs(self, entry: int, inputs: Mapping[str, object]) -> None:
        """Record the evaluated inputs of the action at `entry` (secrets masked)."""
        if inputs and 0 <= entry < len(self._pending):
            self._pending[entry] = replace(self._pending[entry], data=redact(dict(inputs)))

    def end(self, result: Mapping[str, object] | None = None) -> None:
        """The run finished (in its transaction, just before the commit); `result`: what it
        returned."""
        self._add(
            LogKind.END, f"Finished running workflow {self.workflow}", result, self._elapsed()
        )

    def error(
        self, message: str, *, step: int | None = None, data: Mapping[str, object] | None = None
    ) -> None:
        """The run stopped on an error (at `step`, when an action failed)."""
        self._add(LogKind.ERROR, f"Workflow error: {message}", data, self._elapsed(), step=step)

    def _elapsed(self) -> float | None:
        return None if self._started is None else (self._timer() - self._started) * 1000

    def _add(
        self,
        kind: LogKind,
        message: str,
        data: object,
        duration_ms: float | None = None,
        *,
        step: int | None = None,
    ) -> None:
        self._take_back()
        if self._open_action is not None:  # the previous action lasted until now
            index, began = self._open_action
            if index < len(self._pending):
                entry = self._pending[index]
                self._pending[index] = replace(entry, duration_ms=(self._timer() - began) * 1000)
            self._open_action = None
        self._pending.append(
            LogEntry(
                id=new_unique_id(),
                run_id=self.run_id,
                seq=self._seq,
                at=self._clock(),
                workflow=self.workflow,
                user_id=self.user_id,
                kind=kind,
                step=step,
                message=message,
                data=None if data is None else redact(data),
                duration_ms=duration_ms,
            )
        )
        self._seq += 1

    # --- writing ------------------------------------------------------------------------

    def write_into(self, tx: Tx) -> None:
        """Write the pending entries in `tx`, the run's own transaction, just before it
        commits: a run that commits writes its log with it, in one transaction instead of
        two. Call `committed()` once it has; until then the entries count as not written
        (a rollback took them with it), and the next entry or `flush()` writes them again."""
        self._take_back()
        if not self._pending:
            return
        self._open_action = None
        self._in_tx, self._pending = self._pending, []
        insert(tx, self.backend.dialect.table("burble_logs"), self._in_tx)

    def committed(self) -> None:
        """The transaction given to `write_into` has committed."""
        self._in_tx = []

    def _take_back(self) -> None:
        if self._in_tx:
            self._pending = self._in_tx + self._pending
            self._in_tx = []

    def flush(self) -> int:
        """Write the pending entries in one transaction of their own; returns how many.
        A storage failure is logged (Python logging) and the entries stay pending."""
        self._take_back()
        if not self._pending:
            return 0
        entries, self._pending = self._pending, []
        self._open_action = None  # an action still running: its duration stays unknown
        try:
            write(self.backend, entries)
        except BurbleError as exc:
            log.error("server log entries of run %s not written: %s", self.run_id, exc.message)
            self._pending = entries + self._pending
            return 0
        return len(entries)

    def __enter__(self) -> RunLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.flush()


def write(backend: Backend, entries: list[LogEntry]) -> None:
    """Store entries, in one transaction."""
    with backend.write() as tx:
        insert(tx, backend.dialect.table("burble_logs"), entries)


def insert(tx: Tx, table: str, entries: list[LogEntry]) -> None:
    """Store entries in `tx` (`table`: the quoted `burble_logs`)."""
    tx.executemany(
        f"INSERT INTO {table} (id, run_id, seq, at, workflow, user_id, kind, step, message, "
        "data, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                e.id,
                e.run_id,
                e.seq,
                e.at,
                e.workflow,
                e.user_id,
                e.kind.value,
                e.step,
                e.message,
                None if e.data is None else orjson.dumps(e.data).decode(),
                e.duration_ms,
            ]
            for e in entries
        ],
    )
