"""The Workflow API: `/wf/<name>` runs an exposed API workflow, `/wf/<name>/initialize`
reports the parameters a sample request holds (bubble-wire.md §8; docs/workflows.md)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from starlette.datastructures import Headers, QueryParams
from starlette.responses import Response

from burble.api.errors import error_parts
from burble.appdef.model import ResponseKind, WorkflowAuth
from burble.auth.actor import Actor, ActorKind
from burble.errors import (
    BadRequest,
    BurbleError,
    MethodNotAllowed,
    PermissionDenied,
    RouteNotFound,
    WorkflowApiDisabled,
    WorkflowNotFound,
    WorkflowNotInitializing,
)
from burble.runtime import Environment, Version
from burble.workflows import Outcome, Workflow, detect_types

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
FORM = "application/x-www-form-urlencoded"
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_ -]*$")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


def _json(
    data: object, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    response = Response(orjson.dumps(data), status, media_type=JSON)
    for name, value in headers or []:
        response.headers.append(name, value)
    return response


def handle(
    env: Environment,
    actor: Actor,
    method: str,
    parts: list[str],
    query: QueryParams,
    headers: Headers,
    raw: bytes,
) -> Response:
    if not env.definition.settings.workflow_api:
        raise WorkflowApiDisabled()
    if not parts:
        raise RouteNotFound("Missing workflow name: use /wf/<name>")
    name = parts[0]
    workflow = env.workflows.workflows.api.get(name)
    if len(parts) == 2 and parts[1] == "initialize":
        if workflow is None or not workflow.spec.expose or env.version is not Version.TEST:
            raise WorkflowNotInitializing(name)
        if method != "POST":
            raise MethodNotAllowed(method, ("POST",))
        sample = {**_query(query), **_body(headers, raw)}
        found = detect_types(sample)
        return _json({"status": "success", "parameters": found, "yaml": _as_yaml(found)})
    if workflow is None or not workflow.spec.expose or len(parts) != 1:
        raise WorkflowNotFound(name if len(parts) == 1 else "/".join(parts))
    allowed = (workflow.spec.method,)
    if method not in allowed:
        raise MethodNotAllowed(method, allowed)
    try:
        _authorise(workflow, actor)
        sent = _parameters(workflow, query, headers, raw)
        outcome = env.workflows.run(workflow, actor, sent, _user_token(actor, headers))
    except BurbleError as exc:
        if workflow.spec.redirect_on_error is None:
            raise
        status, _, message = error_parts(exc)
        return _redirect(
            workflow.spec.redirect_on_error, [("statusCode", status), ("message", message)]
        )
    return _answer(workflow, outcome)


def _as_yaml(found: dict[str, str]) -> str:
    """The detected parameters as `app.yaml` lines to paste under the workflow."""
    lines = ["parameters:"]
    for name, kind in found.items():
        plain = _PLAIN_KEY.match(name) and name.lower() not in _YAML_WORDS and name == name.strip()
        key = name if plain else orjson.dumps(name).decode()
        if kind == "object":
            lines.append(f"  # {key}: an object is not a parameter type")
        else:
            lines.append(f"  {key}: {kind}")
    return "\n".join(lines) + "\n"


def _user_token(actor: Actor, headers: Headers) -> str | None:
    """The bearer token a user called with (what *Log the user out* revokes); None for an
    admin or anonymous caller, or a user logged in by the session cookie only."""
    if actor.kind is not ActorKind.USER:
        return None
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _authorise(workflow: Workflow, actor: Actor) -> None:
    auth = workflow.spec.auth
    if auth is WorkflowAuth.USER and actor.kind is ActorKind.ANONYMOUS:
        raise PermissionDenied(
            f"Workflow {workflow.name} requires authentication: send a user token or an "
            "admin API token"
        )
    if auth is WorkflowAuth.ADMIN and not actor.is_admin:
        raise PermissionDenied(f"Workflow {workflow.name} requires an admin API token")


def _query(query: QueryParams) -> dict[str, object]:
    """Query-string parameters (a repeated key gives a list), without `api_token`."""
    out: dict[str, object] = {}
    for key in query:
        if key == "api_token":
            continue
        found = query.getlist(key)
        out[key] = found[0] if len(found) == 1 else found
    return out


def _body(headers: Headers, raw: bytes) -> dict[str, object]:
    """A JSON object or a form-encoded body (anything else with a body is refused)."""
    if not raw.strip():
        return {}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == FORM:
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise BadRequest("The request body is not UTF-8 text") from None
        out: dict[str, object] = {}
        for key, value in pairs:
            before = out.get(key)
            if before is None:
                out[key] = value
            elif isinstance(before, list):
                before.append(value)
            else:
                out[key] = [before, value]
        return out
    if content_type.startswith("multipart/"):
        raise BadRequest("Send parameters as JSON or form-encoded (multipart is not supported)")
    return json_object(raw)


def json_object(raw: bytes) -> dict[str, object]:
    """A request body that must be one JSON object (400 otherwise)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("Could not parse the request body as JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    return body


def _parameters(
    workflow: Workflow, query: QueryParams, headers: Headers, raw: bytes
) -> dict[str, object]:
    """Each declared parameter's raw value: `in: query` ones (and every one of a GET
    workflow) from the query string; the others from the body, else the query string."""
    from_query = _query(query)
    body = {} if workflow.spec.method == "GET" else _body(headers, raw)
    out: dict[str, object] = {}
    for p in workflow.parameters:
        if p.in_query or workflow.spec.method == "GET":
            value = from_query.get(p.name)
        else:
            value = body[p.name] if p.name in body else from_query.get(p.name)
        if p.type.is_list and isinstance(value, str) and value.lstrip().startswith("["):
            value = _json_list(value)
        out[p.name] = value
    return out


def _json_list(text: str) -> object:
    """A list sent in the query string as a JSON array (`tags=["a","b"]`)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _answer(workflow: Workflow, outcome: Outcome) -> Response:
    spec = workflow.spec
    if not outcome.ran:
        if spec.return_200_if_not_run:
            return _json({"status": "success", "response": {}})
        # Bubble's flat body (bubble-wire.md §9.2), not an error of the table.
        message = f"The condition for the workflow {spec.name} is not met. Workflow won't run"
        if spec.redirect_on_error is not None:
            return _redirect(spec.redirect_on_error, [("statusCode", 400), ("message", message)])
        return _json({"status": "NOT_RUN", "message": message}, 400)
    if spec.response is ResponseKind.REDIRECT and spec.redirect is not None:
        return _redirect(spec.redirect, list(outcome.response.items()), outcome.headers)
    if spec.response is ResponseKind.JSON:
        return _json({"status": "success", "response": outcome.response}, 200, outcome.headers)
    media = spec.content_type or TEXT
    response = Response((outcome.text or "").encode(), 200, headers={"content-type": media})
    for name, value in outcome.headers:
        response.headers.append(name, value)
    return response


def _redirect(
    url: str, data: list[tuple[str, object]], headers: list[tuple[str, str]] | None = None
) -> Response:
    """302 to `url` with `data` added to its query string (a list: the key repeated; an
    empty value: left out)."""
    pairs: list[tuple[str, str]] = []
    for key, value in data:
        for item in value if isinstance(value, list) else [value]:
            text = _query_text(item)
            if text is not None:
                pairs.append((key, text))
    if pairs:
        parts = urlsplit(url)
        query = (parts.query + "&" if parts.query else "") + urlencode(pairs)
        url = urlunsplit(parts._replace(query=query))
    response = Response(b"", 302, headers={"location": url})
    for name, value in headers or []:
        response.headers.append(name, value)
    return response


def _query_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)
