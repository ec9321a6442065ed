"""The scheduler's admin endpoints (docs/scheduling.md#http): the same controls as
`burble scheduler`, for a console. Admin token only; per environment like every route
(`/version-test/api/1.1/scheduler/...` is Development's queue).

    GET  /api/1.1/scheduler/jobs?status=&workflow=&limit=&cursor=   list, by time
    GET  /api/1.1/scheduler/jobs/<id>                               one job
    POST /api/1.1/scheduler/pause | /resume                         pause, resume all
    POST /api/1.1/scheduler/cancel       {"ids": [...]}             cancel some
    POST /api/1.1/scheduler/cancel-all   {"past_due": true|false}   cancel all (or past-due)
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.responses import Response

from burble.api.workflow_api import json_object
from burble.auth.actor import Actor
from burble.errors import BadRequest, MethodNotAllowed, PermissionDenied, RouteNotFound
from burble.jobs import Job, JobQueue, Status
from burble.runtime import Environment
from burble.values import format_date, now_ms

MAX_LIMIT = 1000


def _json(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "time": format_date(job.run_at),
        "status": job.status.value,
        "kind": job.kind,
        "workflow": job.workflow,
        "user": job.user_id,
        "parameters": job.params.get("parameters") if job.kind == "workflow" else None,
        "thing": job.thing_id,
        "depth": job.depth,
        "attempts": job.attempts,
        "error": job.error,
        "created": format_date(job.created_at),
        "finished": None if job.finished_at is None else format_date(job.finished_at),
    }


def _body(raw: bytes) -> dict[str, Any]:
    return json_object(raw) if raw.strip() else {}


def _int(query: QueryParams, key: str, default: int, high: int) -> int:
    text = query.get(key)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{key} must be a whole number") from None
    if not 0 <= value <= high:
        raise BadRequest(f"{key} must be between 0 and {high}")
    return value


def handle(
    env: Environment, actor: Actor, method: str, parts: list[str], query: QueryParams, raw: bytes
) -> Response:
    if not actor.is_admin:
        raise PermissionDenied("The scheduler's endpoints need an admin API token")
    queue = JobQueue(env.backend)
    route = "/".join(parts)
    if parts[:1] == ["jobs"] and len(parts) <= 2:
        if method != "GET":
            raise MethodNotAllowed(method, ("GET",))
        if len(parts) == 2:
            found = queue.get(parts[1])
            if found is None:
                raise RouteNotFound(f"No scheduled job {parts[1]}")
            return _json({"status": "success", "response": job_json(found)})
        status = query.get("status")
        try:
            wanted = Status(status) if status else [Status.SCHEDULED, Status.RUNNING]
        except ValueError:
            raise BadRequest(f"status is one of {', '.join(s.value for s in Status)}") from None
        limit = _int(query, "limit", 100, MAX_LIMIT)
        cursor = _int(query, "cursor", 0, 10_000_000)
        workflow = query.get("workflow")
        jobs = queue.list(status=wanted, workflow=workflow, limit=limit, offset=cursor)
        total = queue.count(status=wanted, workflow=workflow)
        body = {
            "paused": queue.is_paused(),
            "cursor": cursor,
            "count": len(jobs),
            "remaining": max(0, total - cursor - len(jobs)),
            "results": [job_json(j) for j in jobs],
        }
        return _json({"status": "success", "response": body})
    if route not in ("pause", "resume", "cancel", "cancel-all"):
        raise RouteNotFound(f"No scheduler endpoint /scheduler/{route}")
    if method != "POST":
        raise MethodNotAllowed(method, ("POST",))
    body = _body(raw)
    if route == "pause":
        queue.pause()
        return _json({"status": "success", "response": {"paused": True}})
    if route == "resume":
        queue.resume()
        return _json({"status": "success", "response": {"paused": False}})
    if route == "cancel":
        ids = body.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadRequest('Send {"ids": ["<job id>", ...]}')
        with env.backend.write() as tx:
            count = queue.cancel_many(tx, ids)
        return _json({"status": "success", "response": {"cancelled": count}})
    past_due = body.get("past_due", False)
    if not isinstance(past_due, bool):
        raise BadRequest("past_due is true or false")
    count = queue.cancel_all(now_ms() if past_due else None)
    return _json({"status": "success", "response": {"cancelled": count}})
