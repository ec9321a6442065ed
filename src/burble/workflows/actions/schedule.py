"""Scheduling actions (bubble-semantics.md §2.3–§2.7): Schedule API workflow, ... on a list,
Cancel a scheduled API workflow, ... a list of them, and Set/cancel a recurring event.

Every job is written in the run's own transaction (`burble.jobs.JobQueue`), so a run that
rolls back schedules nothing. A job carries the scheduling run's caller, its depth (one more
than the run's: recursion protection), and the definition version in force, which the worker
uses to run it as it was when scheduled (snapshot semantics).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from burble.appdef.model import DataType, Field, FieldType
from burble.errors import ActionFailed
from burble.expr import Expr, ValueType, evaluate
from burble.expr import types as t
from burble.jobs import Frequency, JobQueue, Kind, NewJob
from burble.workflows.changes import normalise
from burble.workflows.compile import Builder
from burble.workflows.dynamic import Value, to_json
from burble.workflows.engine import Frame, Run
from burble.workflows.model import Action
from burble.workflows.registry import ActionKind

FREQUENCIES = ("none", "daily", "weekly", "monthly", "quarterly", "yearly")


class ScheduleFailed(ActionFailed):
    """A scheduling action could not schedule (400 through the Workflow API)."""


def _queue(run: Run) -> JobQueue:
    jobs = run.engine.jobs
    if jobs is None:
        raise ScheduleFailed("this environment has no scheduler")
    return jobs


def job_params(run: Run, parameters: Mapping[str, object]) -> dict[str, object]:
    """What a job keeps of its run's caller next to the target's parameters."""
    return {"parameters": dict(parameters), "actor": run.actor.kind.value}


def _new_job(
    run: Run,
    workflow: str,
    kind: str,
    parameters: Mapping[str, object],
    run_at: int | None,
    ignore_privacy: bool,
    thing_id: str | None = None,
    retry: tuple[int, int] = (1, 0),
) -> NewJob:
    return NewJob(
        workflow=workflow,
        params=job_params(run, parameters),
        run_at=run_at,
        kind=kind,
        depth=run.job_depth + 1,
        user_id=run.actor.user_id,
        ignore_privacy=ignore_privacy,
        definition_version=run.engine.definition_version,
        max_attempts=retry[0],
        retry_delay_ms=retry[1],
        parent_run_id=None if run.log is None else run.log.run_id,
        thing_id=thing_id,
    )


def _parameters(
    b: Builder, raw: object, target: str, this_type: DataType | None = None
) -> tuple[tuple[str, FieldType, Value], ...] | None:
    """`parameters:` of a scheduling action, checked against the target API workflow."""
    spec = b.definition.workflows.get(target)
    if spec is None:
        return None
    return b.arguments(raw, spec.parameters, f"API workflow {target}", this_type)


def _target(b: Builder, raw: object, key: str) -> str | None:
    if not isinstance(raw, str) or raw not in b.definition.workflows:
        known = ", ".join(b.definition.workflows) or "none is defined"
        b.problem(f"unknown API workflow '{raw}' (known: {known})", key)
        return None
    return raw


def _when(
    b: Builder, options: Mapping[str, Any], this_type: DataType | None = None
) -> Value | None:
    if options.get("at") is None:
        return None
    return b.value(options["at"], t.DATE, "at", this_type=this_type)


def _flag(b: Builder, options: Mapping[str, Any], key: str) -> bool:
    value = options.get(key, False)
    if not isinstance(value, bool):
        b.problem(f"{key} is yes or no (true/false)", key)
        return False
    return value


def _evaluated(
    frame: Frame, params: tuple[tuple[str, FieldType, Value], ...], this: Any = None
) -> dict[str, object]:
    return {
        name: to_json(
            normalise(Field(name, "", ftype, ""), frame.evaluate(value, this)),
            ValueType.of(ftype),
        )
        for name, ftype, value in params
    }


def _time(frame: Frame, value: Value | None, this: Any = None) -> int | None:
    if value is None:
        return None
    at = frame.evaluate(value, this)
    return at if isinstance(at, int) and not isinstance(at, bool) else None


def _retry(run: Run, workflow: str) -> tuple[int, int]:
    spec = run.definition.workflows.get(workflow)
    return (1, 0) if spec is None else (spec.retry_attempts, spec.retry_delay_ms)


# --- Schedule API workflow ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Schedule(Action):
    workflow: str
    at: Value | None
    parameters: tuple[tuple[str, FieldType, Value], ...]
    ignore_privacy: bool

    def result_type(self) -> ValueType:
        return t.TEXT


def parse_schedule(options: Mapping[str, Any], b: Builder) -> Schedule | None:
    target = _target(b, options["schedule"], "schedule")
    at = _when(b, options)
    ignore = _flag(b, options, "ignore_privacy")
    params = None if target is None else _parameters(b, options.get("parameters"), target)
    if target is None or params is None or not b.ok:
        return None
    return Schedule(target, at, params, ignore)


def run_schedule(action: Schedule, frame: Frame) -> object:
    """The scheduled run's id (a text), for `Result of step N` and Cancel."""
    run = frame.run
    job = _new_job(
        run,
        action.workflow,
        Kind.WORKFLOW,
        _evaluated(frame, action.parameters),
        _time(frame, action.at),
        action.ignore_privacy,
        retry=_retry(run, action.workflow),
    )
    return _queue(run).schedule(run.tx, job)


# --- Schedule API workflow on a list --------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ScheduleOnList(Action):
    workflow: str
    things: Expr
    dtype: DataType
    at: Value | None
    interval: Value | None  # seconds between items' runs; None: all at `at`
    parameters: tuple[tuple[str, FieldType, Value], ...]  # `This <Type>` is each item
    ignore_privacy: bool

    def result_type(self) -> ValueType:
        return t.TEXT.as_list()


def parse_schedule_on_list(options: Mapping[str, Any], b: Builder) -> ScheduleOnList | None:
    target = _target(b, options["schedule_on_list"], "schedule_on_list")
    found = b.thing(options.get("list"), "list", many=True)
    dtype = None if found is None else found[1]
    at = _when(b, options)
    interval = None
    if options.get("interval") is not None:
        interval = b.value(options["interval"], t.NUMBER, "interval")
    ignore = _flag(b, options, "ignore_privacy")
    params = None
    if target is not None and dtype is not None:
        params = _parameters(b, options.get("parameters"), target, this_type=dtype)
    if target is None or found is None or dtype is None or params is None or not b.ok:
        return None
    return ScheduleOnList(target, found[0], dtype, at, interval, params, ignore)


def run_schedule_on_list(action: ScheduleOnList, frame: Frame) -> object:
    """One run per item, item k at `at + k × interval`; the ids of the scheduled runs. More
    items than `settings.schedule_list_limit` fail the run (Bubble drops them silently)."""
    run = frame.run
    ids = evaluate(action.things, frame.context())
    items = [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
    limit = run.definition.settings.schedule_list_limit
    if len(items) > limit:
        raise ScheduleFailed(
            f"the list has {len(items)} items; at most {limit} workflows can be scheduled on "
            "a list (settings.schedule_list_limit): nothing was scheduled"
        )
    start = _time(frame, action.at)
    step_ms = 0
    if action.interval is not None:
        seconds = frame.evaluate(action.interval)
        if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
            step_ms = round(seconds * 1000)
    base = run.engine.clock_ms() if start is None else start
    retry = _retry(run, action.workflow)
    jobs: list[NewJob] = []
    for k, thing_id in enumerate(items):
        run.check_time()
        this = frame.this(action.dtype, thing_id)
        jobs.append(
            _new_job(
                run,
                action.workflow,
                Kind.WORKFLOW,
                _evaluated(frame, action.parameters, this),
                base + k * step_ms,
                action.ignore_privacy,
                thing_id=thing_id,
                retry=retry,
            )
        )
    return _queue(run).schedule_many(run.tx, jobs) or None


# --- Cancel a scheduled API workflow / a list of them ---------------------------------------


@dataclass(frozen=True, eq=False)
class Cancel(Action):
    ids: Value  # one id


@dataclass(frozen=True, eq=False)
class CancelList(Cancel):
    pass  # ids: a list of ids


def parse_cancel(options: Mapping[str, Any], b: Builder) -> Cancel | None:
    value = b.value(options["cancel_scheduled"], t.TEXT, "cancel_scheduled")
    return None if value is None else Cancel(value)


def parse_cancel_list(options: Mapping[str, Any], b: Builder) -> CancelList | None:
    value = b.value(options["cancel_scheduled_list"], t.TEXT.as_list(), "cancel_scheduled_list")
    return None if value is None else CancelList(value)


def run_cancel(action: Cancel, frame: Frame) -> object:
    """Cancels the runs that have not started; an unknown or finished id does nothing."""
    run = frame.run
    found = frame.evaluate(action.ids)
    ids = found if isinstance(found, list) else [found]
    _queue(run).cancel_many(run.tx, [i for i in ids if isinstance(i, str) and i])
    return None


# --- Set/cancel a recurring event -----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SetRecurring(Action):
    event: str
    thing: Expr
    dtype: DataType
    frequency: Value
    start: Value | None


def parse_set_recurring(options: Mapping[str, Any], b: Builder) -> SetRecurring | None:
    name = options["set_recurring"]
    spec = b.definition.recurring_events.get(name) if isinstance(name, str) else None
    if spec is None:
        known = ", ".join(b.definition.recurring_events) or "none is defined"
        b.problem(f"unknown recurring event '{name}' (known: {known})", "set_recurring")
    found = b.thing(options.get("thing"), "thing")
    frequency = b.value(options.get("frequency"), t.TEXT, "frequency")
    raw = options.get("frequency")
    if isinstance(raw, str) and "[" not in raw and raw.strip().lower() not in FREQUENCIES:
        b.problem(f"frequency is one of {', '.join(FREQUENCIES)}", "frequency")
    start = _when(b, {"at": options.get("start")})
    if spec is None or found is None or frequency is None or not b.ok:
        return None
    if found[1].name != spec.type_name:
        b.problem(
            f"recurring event {spec.name} runs on a {spec.type_name}, not a {found[1].name}",
            "thing",
        )
        return None
    return SetRecurring(spec.name, found[0], found[1], frequency, start)


def recurring_key(event: str, thing_id: str) -> str:
    """One active schedule per (recurring event, thing)."""
    return f"{event}:{thing_id}"


def run_set_recurring(action: SetRecurring, frame: Frame) -> object:
    run = frame.run
    thing_id = evaluate(action.thing, frame.context())
    if not isinstance(thing_id, str):
        raise ScheduleFailed("set_recurring: the thing is empty")
    text = frame.evaluate(action.frequency)
    name = text.strip().lower() if isinstance(text, str) else ""
    if name not in FREQUENCIES:
        raise ScheduleFailed(
            f"set_recurring: '{text}' is not a frequency ({', '.join(FREQUENCIES)})"
        )
    queue = _queue(run)
    key = recurring_key(action.event, thing_id)
    if name == "none":
        queue.cancel_recurring(run.tx, key)
        return None
    zone = zoneinfo.ZoneInfo(run.definition.settings.timezone)
    at = _time(frame, action.start)
    start = datetime.fromtimestamp((run.engine.clock_ms() if at is None else at) / 1000, UTC)
    spec = run.definition.recurring_events[action.event]
    job = _new_job(run, action.event, Kind.RECURRING, {}, None, spec.ignore_privacy, thing_id)
    return queue.set_recurring(run.tx, key, job, Frequency(name), start.astimezone(zone))


KINDS: list[ActionKind[Any]] = [
    ActionKind(
        "schedule",
        "Schedule API workflow",
        Schedule,
        parse_schedule,
        run_schedule,
        ("at", "parameters", "ignore_privacy"),
    ),
    ActionKind(
        "schedule_on_list",
        "Schedule API workflow on a list",
        ScheduleOnList,
        parse_schedule_on_list,
        run_schedule_on_list,
        ("list", "at", "interval", "parameters", "ignore_privacy"),
    ),
    ActionKind(
        "cancel_scheduled",
        "Cancel a scheduled API workflow",
        Cancel,
        parse_cancel,
        run_cancel,
    ),
    ActionKind(
        "cancel_scheduled_list",
        "Cancel a list of scheduled API workflows",
        CancelList,
        parse_cancel_list,
        run_cancel,
    ),
    ActionKind(
        "set_recurring",
        "Set/cancel a recurring event",
        SetRecurring,
        parse_set_recurring,
        run_set_recurring,
        ("thing", "frequency", "start"),
    ),
]
