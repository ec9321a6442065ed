"""The Data API: `/obj/<type>`, `/obj/<type>/<id>`, `/obj/<type>/bulk` (seed 004)."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from burble.appdef.model import DataType
from burble.auth.actor import Actor
from burble.errors import BadRequest, DataApiDisabled, MethodNotAllowed, RouteNotFound, TypeNotFound
from burble.runtime import Environment

JSON = "application/json"


def _json(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type=JSON)


def parse_body(raw: bytes) -> object:
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("Could not parse the request body as JSON") from None


def created(thing_id: str) -> Response:
    """The answer to a create."""
    return _json({"status": "success", "id": thing_id}, 201)


def bulk_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The request body is not UTF-8 text") from None


def bulk_response(lines: list[dict[str, str]], ok: bool) -> Response:
    """The answer to a bulk create: one JSON line per line sent."""
    body = b"\n".join(orjson.dumps(line) for line in lines)
    # Exactly "text/plain": a client checks the header verbatim (bubble-wire.md §4.4).
    return Response(body, 200 if ok else 400, headers={"content-type": "text/plain"})


def data_type(env: Environment, segment: str) -> DataType:
    settings = env.definition.settings
    if not settings.data_api:
        raise DataApiDisabled()
    dtype = env.definition.type_for_path(segment)
    if dtype is None or dtype.name not in settings.exposed_types:
        raise TypeNotFound(segment)
    return dtype


def handle(
    env: Environment,
    actor: Actor,
    method: str,
    parts: list[str],
    query: Mapping[str, str],
    raw: bytes,
) -> Response:
    if not parts:
        if not env.definition.settings.data_api:
            raise DataApiDisabled()
        raise RouteNotFound("Missing type name: use /obj/<typename>")
    dtype = data_type(env, parts[0])
    things = env.things
    if len(parts) == 1:
        if method == "GET":
            found = things.search(actor, dtype, query)
            return _json(
                {
                    "response": {
                        "cursor": found.cursor,
                        "results": found.results,
                        "count": found.count,
                        "remaining": found.remaining,
                    }
                }
            )
        if method == "POST":
            return created(things.create(actor, dtype, parse_body(raw)))
        raise MethodNotAllowed(method, ("GET", "POST"))
    if len(parts) != 2:
        raise RouteNotFound(f"No endpoint at /obj/{'/'.join(parts)}")
    thing_id = parts[1]
    if method == "GET":
        return _json({"response": things.get(actor, dtype, thing_id)})
    if method in ("PATCH", "PUT"):
        things.modify(actor, dtype, thing_id, parse_body(raw), replace=method == "PUT")
        return Response(status_code=204)
    if method == "DELETE":
        things.delete(actor, dtype, thing_id)
        return Response(status_code=204)
    if method == "POST" and thing_id == "bulk":
        return bulk_response(*things.bulk_create(actor, dtype, bulk_text(raw)))
    raise MethodNotAllowed(method, ("GET", "PATCH", "PUT", "DELETE"))
