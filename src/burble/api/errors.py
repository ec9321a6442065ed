"""The only place where errors become HTTP responses (bubble-wire.md §9).

Shape A (nested) for almost everything: `{"statusCode": N, "body": {"status", "message"}}`.
Shape C for a bad token (401), without echoing the token back.
"""

from __future__ import annotations

import logging

import orjson
from starlette.responses import Response

from burble import errors as e
from burble.auth import accounts as acc
from burble.connector.client import ConnectorError, ConnectorTimeout
from burble.expr import ExprError
from burble.files.uploads import UploadInvalid
from burble.geo.geocoder import GeocodingFailed

log = logging.getLogger("burble.api")

# error class → (HTTP status, Bubble status code). Looked up along the class's MRO.
ERROR_TABLE: dict[type[e.BurbleError], tuple[int, str]] = {
    e.DataApiDisabled: (404, "NOT_FOUND"),
    e.TypeNotFound: (404, "NOT_FOUND"),
    e.RouteNotFound: (404, "NOT_FOUND"),
    e.ThingNotFound: (404, "MISSING_DATA"),
    e.BadRequest: (400, "ERROR"),
    e.UnrecognizedField: (400, "ERROR"),
    e.InvalidData: (400, "INVALID_DATA"),
    e.InvalidValue: (400, "INVALID_DATA"),
    ExprError: (500, "ERROR"),  # a definition's expression failed at run time (a bug: logged)
    UploadInvalid: (400, "INVALID_DATA"),  # defined in burble.files.uploads
    GeocodingFailed: (502, "ERROR"),  # the geocoding service failed (burble.geo)
    ConnectorTimeout: (504, "ERROR"),  # an outbound call timed out (burble.connector)
    ConnectorError: (502, "ERROR"),
    e.MissingData: (400, "MISSING_DATA"),
    e.WorkflowApiDisabled: (404, "NOT_FOUND"),
    e.WorkflowNotFound: (404, "NOT_FOUND"),
    e.WorkflowNotInitializing: (404, "NOT_FOUND"),
    e.InvalidParameter: (400, "INVALID"),
    e.ActionFailed: (400, "ERROR"),
    # account actions (burble.auth.accounts; docs/workflows.md, "Account and email actions")
    acc.InvalidEmail: (400, "INVALID_DATA"),
    acc.PasswordTooWeak: (400, "INVALID_DATA"),
    acc.EmailTaken: (400, "ERROR"),
    acc.WrongCredentials: (400, "ERROR"),
    acc.NotLoggedIn: (401, "UNAUTHORIZED"),
    e.WorkflowTimeout: (504, "ERROR"),
    e.ListTooLong: (400, "LIST_TOO_LONG"),
    e.Conflict: (400, "ERROR"),
    e.TooLarge: (413, "ERROR"),
    e.PermissionDenied: (401, "UNAUTHORIZED"),
    e.InvalidToken: (401, "UNAUTHORIZED"),
    e.MethodNotAllowed: (405, "ERROR"),
    e.TokenNotFound: (404, "NOT_FOUND"),
    e.AppDefError: (500, "ERROR"),
    e.SchemaConflict: (500, "ERROR"),
    e.StorageError: (500, "ERROR"),
    e.BurbleError: (500, "ERROR"),
}

JSON = "application/json"


def _lookup(exc: e.BurbleError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    return 500, "ERROR"


def error_parts(exc: e.BurbleError) -> tuple[int, str, str]:
    """The status, code and message a client is shown for `exc` (a 5xx's own message is
    logged, never shown)."""
    status, code = _lookup(exc)
    message = exc.message
    if status in (502, 504):  # an outside service failed; its message is safe to show
        log.warning("upstream error: %s", exc.message)
    elif status >= 500:
        log.error("internal error: %s", exc.message, exc_info=exc)
        message = "The server could not complete the request"
    return status, code, message


def error_response(exc: e.BurbleError) -> Response:
    if isinstance(exc, e.InvalidToken):
        status, _ = _lookup(exc)
        body = {
            "error_class": "Unauthorized",
            "args": {"code": "INVALID_TOKEN"},
            "message": None,
            "translation": exc.message,
        }
        return Response(orjson.dumps(body), status, media_type=JSON)
    status, code, message = error_parts(exc)
    headers = None
    if isinstance(exc, e.MethodNotAllowed) and getattr(exc, "allowed", None):
        headers = {"allow": ", ".join(exc.allowed)}
    nested = {"statusCode": status, "body": {"status": code, "message": message}}
    return Response(orjson.dumps(nested), status, headers=headers, media_type=JSON)


def unexpected_response(exc: BaseException) -> Response:
    """Anything that is not a BurbleError: logged with its trace, answered without one."""
    log.exception("unexpected error", exc_info=exc)
    body = {
        "statusCode": 500,
        "body": {"status": "ERROR", "message": "The server could not complete the request"},
    }
    return Response(orjson.dumps(body), 500, media_type=JSON)
