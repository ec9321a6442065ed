"""Running workflows (DESIGN §7): actions one after another, each after its `only_when`; every
change of a run in one transaction, committed at the end or not at all; searches and reads in
that transaction, filtered by the caller's privacy rules unless the workflow ignores them; a
time limit checked before each action. Each run writes its server log (`burble.logs`) after
its transaction has committed or rolled back."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from burble import values
from burble.appdef.model import AppDefinition, DataType, EventKind, Field, ParameterSpec
from burble.auth.accounts import Accounts
from burble.auth.actor import Actor
from burble.errors import ActionFailed, BurbleError, WorkflowTimeout
from burble.expr import EvalContext, Expr, Thing, evaluate
from burble.jobs import JobQueue
from burble.logs.runlog import RunLog
from burble.store.backend import Backend, Tx
from burble.things.service import ThingService, note_caller
from burble.workflows.dynamic import Value, evaluate_value
from burble.workflows.inputs import Capture, named_inputs
from burble.workflows.model import BackendEvent, CustomEvent, Step, Workflow, Workflows
from burble.workflows.parameters import check_thing_parameters, coerce_parameters
from burble.workflows.reads import Reader
from burble.workflows.triggers import DEPTH, IN_TRIGGER

MAX_EVENT_DEPTH = 20  # custom events triggering custom events

T = TypeVar("T")
Write = Callable[[], AbstractContextManager[Tx]]


@dataclass
class Outcome:
    """What a run answers. `ran` is False when the workflow's condition was not met."""

    ran: bool
    response: dict[str, Any] = field(default_factory=dict)  # JSON keys (Return data, log in)
    text: str | None = None  # a text response's body
    headers: list[tuple[str, str]] = field(default_factory=list)  # e.g. a session cookie


class Run:
    """What the frames of one run share: the transaction, the caller, the response."""

    def __init__(
        self,
        engine: Engine,
        tx: Tx,
        actor: Actor,
        ignore_privacy: bool,
        name: str,
        log: RunLog | None = None,
        token: str | None = None,
    ) -> None:
        self.engine = engine
        self.token = token  # the user token the caller sent (bearer or cookie), for log out
        self.tokens_changed = False  # a session was revoked: forget cached tokens on commit
        self.emails_queued = False  # Send email ran: wake the postman on commit
        self.capture: Capture | None = None  # the running step's evaluated values (its log)
        self.job_depth = 0  # a scheduled run's depth (recursion protection); 0: not scheduled
        self.in_trigger = False  # a trigger's run: its changes fire no trigger
        self.log = log
        self.failed_step: int | None = None  # the top-level step an error stopped the run at
        self.tx = tx
        self.actor = actor
        self.name = name
        self.definition = engine.definition
        self.things = engine.things
        self.reader = Reader(tx, engine.things, actor, ignore_privacy)
        self.response: dict[str, Any] = {}
        self.text: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.depth = 0
        self._deadline = engine.monotonic() + engine.time_limit
        self._user: Thing | None = None
        self._user_read = False

    # --- the caller -----------------------------------------------------------------------

    def current_user(self) -> Thing | None:
        """The calling user as a thing (read again after the run changes data); None when
        not logged in (admin tokens included)."""
        if not self._user_read:
            self._user_read = True
            user_type = self.definition.types.get("User")
            uid = self.actor.user_id
            self._user = (
                None if uid is None or user_type is None else self.reader.fetch(user_type, uid)
            )
        return self._user

    def check_time(self) -> None:
        if self.engine.monotonic() > self._deadline:
            limit = values.parse_text(float(self.engine.time_limit))
            raise WorkflowTimeout(
                f"Workflow {self.name} took longer than its time limit of {limit} seconds: "
                "it was stopped and none of its changes were kept"
            )

    # --- changing data (every write of a run goes through here) ---------------------------

    def changed(self) -> None:
        self._user_read = False

    def create(self, dtype: DataType, changes: Mapping[Field, object]) -> str:
        self.changed()
        return self.things.create_in(self.tx, self.actor, dtype, changes)

    def update(self, dtype: DataType, thing_id: str, changes: Mapping[Field, object]) -> bool:
        self.changed()
        return self.things.update_in(self.tx, dtype, thing_id, changes)

    def delete(self, dtype: DataType, thing_id: str) -> bool:
        self.changed()
        return self.things.delete_in(self.tx, dtype, thing_id)

    def set_slug(self, dtype: DataType, thing_id: str, slug: str) -> str | None:
        self.changed()
        return self.things.set_slug_in(self.tx, dtype, thing_id, slug)


class Frame:
    """One API workflow or custom event being run: its parameters and its steps' results."""

    def __init__(
        self, run: Run, parameters: Mapping[str, object], event: CustomEvent | None = None
    ) -> None:
        self.run = run
        self.parameters = dict(parameters)
        self.results: dict[int, object] = {}
        self.event = event
        self.returned: dict[str, object] | None = None  # a custom event's Return data
        self.default_this: Thing | None = None  # a recurring event's thing
        self.stopped = False  # Return data / Terminate this workflow

    def context(self, this: Thing | None = None) -> EvalContext:
        reader = self.run.reader
        return EvalContext(
            this=this if this is not None else self.default_this,
            current_user=self.run.current_user(),
            now_ms=self.run.engine.clock_ms(),
            fetch=reader.fetch,
            search=reader.search,
            parameters=self.parameters,
            results=self.results,
        )

    def evaluate(self, value: Value, this: Thing | None = None) -> object:
        result = evaluate_value(value, self.context(this))
        if self.run.capture is not None:
            self.run.capture.record(value, result)
        return result

    def holds(self, condition: Expr, this: Thing | None = None) -> bool:
        return evaluate(condition, self.context(this)) is True

    def this(self, dtype: DataType, thing_id: object) -> Thing | None:
        """A thing for `This <Type>`, as the caller may read it."""
        return self.run.reader.fetch(dtype, thing_id) if isinstance(thing_id, str) else None


class Engine:
    """The workflows of one environment (Live or Development)."""

    def __init__(
        self,
        backend: Backend,
        definition: AppDefinition,
        things: ThingService,
        workflows: Workflows,
        clock_ms: Callable[[], int] = values.now_ms,
        monotonic: Callable[[], float] = time.monotonic,
        accounts: Accounts | None = None,
        on_email: Callable[[], None] | None = None,
        jobs: JobQueue | None = None,
        definition_version: int | None = None,
    ) -> None:
        self.backend = backend
        self.on_email = on_email  # called after a run that queued emails has committed
        self.accounts = accounts  # users and their tokens (account actions); None: none
        self.definition = definition
        self.things = things
        self.workflows = workflows
        self.clock_ms = clock_ms
        self.monotonic = monotonic  # replaceable (tests move time by hand)
        self.time_limit = definition.settings.workflow_time_limit_seconds
        self.jobs = jobs  # the scheduler's queue (scheduling actions); None: none
        self.definition_version = definition_version  # kept with each job (snapshots)

    def run(
        self,
        workflow: Workflow,
        actor: Actor,
        sent: Mapping[str, object],
        token: str | None = None,
        *,
        write: Write | None = None,
        job_depth: int = 0,
        ignore_privacy: bool = False,
        run_id: str | None = None,
    ) -> Outcome:
        """Run an API workflow with the parameters the caller sent (raw, as received);
        `token`: the user token the caller sent, if any (what *Log the user out* revokes).
        A scheduled run gives the worker's `write` (a transaction that also finishes its
        job), its `job_depth`, and whether the schedule asked to ignore privacy rules."""
        spec = workflow.spec
        log = RunLog(self.backend, spec.name, actor.user_id, clock=self.clock_ms, run_id=run_id)
        with log:  # written after the run's transaction, whatever happened
            log.start(sent)
            params = _logged(
                log,
                lambda: coerce_parameters(
                    spec.name, spec.parameters, sent, self.definition, self.things
                ),
            )

            def begin(tx: Tx) -> Frame:
                check_thing_parameters(spec.parameters, params, self.definition, self.things, tx)
                run = Run(
                    self, tx, actor, spec.ignore_privacy or ignore_privacy, spec.name, log, token
                )
                run.job_depth = job_depth
                return Frame(run, params)

            return self._execute(
                log, begin, workflow.only_when, spec.only_when, workflow.steps,
                f"Workflow {spec.name}", write,
            )  # fmt: skip

    def run_event(
        self,
        event: BackendEvent,
        actor: Actor,
        parameters: Mapping[str, object],
        this_id: str | None,
        *,
        write: Write | None = None,
        job_depth: int = 0,
        run_id: str | None = None,
    ) -> Outcome:
        """Run a recurring event on the thing `this_id`, or a trigger with its `<Type> before
        change` / `<Type> now` snapshots in `parameters` (triggers run as admin, with
        `Current User` still `actor`)."""
        spec = event.spec
        trigger = spec.kind is EventKind.TRIGGER
        log = RunLog(self.backend, spec.name, actor.user_id, clock=self.clock_ms, run_id=run_id)
        with log:
            log.start({"thing": this_id} if this_id else {})

            def begin(tx: Tx) -> Frame:
                run = Run(self, tx, actor, trigger or spec.ignore_privacy, spec.name, log)
                run.job_depth = job_depth
                run.in_trigger = trigger
                frame = Frame(run, parameters)
                if this_id is not None:
                    frame.default_this = run.reader.fetch(event.dtype, this_id)
                    if frame.default_this is None:
                        raise ActionFailed(f"the {spec.type_name} {this_id} no longer exists")
                return frame

            kind = "Trigger" if trigger else "Recurring event"
            return self._execute(
                log, begin, event.only_when, spec.only_when, event.steps,
                f"{kind} {spec.name}", write,
            )  # fmt: skip

    def _execute(
        self,
        log: RunLog,
        begin: Callable[[Tx], Frame],
        only_when: Expr | None,
        condition: str | None,
        steps: tuple[Step, ...],
        where: str,
        write: Write | None,
    ) -> Outcome:
        frame: Frame | None = None

        def work() -> Outcome:
            nonlocal frame
            with (write or self.backend.write)() as tx:
                frame = begin(tx)
                run = frame.run
                note_caller(tx, run.actor)  # for database triggers: who, how deep, whether
                tx.notes[DEPTH] = run.job_depth  # a trigger's run (whose changes fire none)
                tx.notes[IN_TRIGGER] = run.in_trigger
                passed = only_when is None or frame.holds(only_when)
                log.condition(passed, expression=condition)
                if passed:
                    self.run_steps(steps, frame, where)
                    outcome = Outcome(True, run.response, run.text, run.headers)
                else:
                    outcome = Outcome(False)
                log.end(outcome.response if outcome.text is None else {"text": outcome.text})
                log.write_into(tx)  # the log commits with the run
            log.committed()
            if run.tokens_changed and self.accounts is not None:
                self.accounts.tokens.forget()  # committed: no stale cached token
            if run.emails_queued and self.on_email is not None:
                self.on_email()
            return outcome

        return _logged(log, work, lambda: None if frame is None else frame.run.failed_step)

    def trigger(
        self, event: CustomEvent, caller: Frame, parameters: Mapping[str, object]
    ) -> dict[str, object]:
        """Run a custom event in the caller's run (same transaction, same caller); its
        returned values by name (None for those it did not return)."""
        run = caller.run
        if run.depth >= MAX_EVENT_DEPTH:
            raise ActionFailed(
                f"custom events triggered each other more than {MAX_EVENT_DEPTH} levels deep"
            )
        frame = Frame(run, _with_optional(event.parameters, parameters), event)
        run.depth += 1
        try:
            self.run_steps(event.steps, frame, f"Custom event {event.name}")
        finally:
            run.depth -= 1
        returned = frame.returned or {}
        return {name: returned.get(name) for name in event.returns}

    def run_steps(self, steps: tuple[Step, ...], frame: Frame, where: str) -> None:
        run = frame.run
        log = run.log
        in_event = "" if frame.event is None else f" in custom event {frame.event.name}"
        for step in steps:
            run.check_time()
            if step.only_when is not None:
                passed = frame.holds(step.only_when)
                if log is not None:
                    log.condition(passed, step=step.number, expression=step.condition)
                if not passed:
                    frame.results[step.number] = None
                    continue
            entry = None if log is None else log.action(step.number, step.title + in_event)
            outer, run.capture = run.capture, (None if log is None else Capture())
            try:
                frame.results[step.number] = step.runner(step.action, frame)
            except WorkflowTimeout:
                raise
            except BurbleError as exc:
                if frame.event is None:
                    run.failed_step = step.number
                exc.message = f"{where}, step {step.number} ({step.title}): {exc.message}"
                exc.args = (exc.message,)
                raise
            finally:
                if log is not None and entry is not None and run.capture is not None:
                    log.inputs(entry, named_inputs(step.action, run.capture))
                run.capture = outer
            if frame.stopped:
                break


def _logged(
    log: RunLog, work: Callable[[], T], failed_step: Callable[[], int | None] = lambda: None
) -> T:
    """`work()`, with the error it raises (and the step it failed at) in the run's log."""
    try:
        return work()
    except BurbleError as exc:
        log.error(exc.message, step=failed_step())
        raise
    except Exception:
        log.error("internal error", step=failed_step())
        raise


def _with_optional(
    specs: tuple[ParameterSpec, ...], given: Mapping[str, object]
) -> dict[str, object]:
    return {p.name: given.get(p.name) for p in specs}
