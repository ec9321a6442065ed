"""The exception root and every domain error. Nothing here knows about HTTP.

`burble.api.errors` maps each class to Bubble's status code and body, in one table.
"""

from __future__ import annotations

from dataclasses import dataclass


class BurbleError(Exception):
    """Root of every error Burble raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the app definition -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in an app definition, located like an editor would show it."""

    message: str
    file: str = ""
    line: int | None = None
    path: str = ""

    def __str__(self) -> str:
        where = self.file or "<definition>"
        if self.line is not None:
            where += f":{self.line}"
        at = f" (at {self.path})" if self.path else ""
        return f"{where}: {self.message}{at}"


class AppDefError(BurbleError):
    """The app definition has problems; `problems` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems) or "invalid app definition")


class SchemaConflict(AppDefError):
    """The definition disagrees with the database it would run on (e.g. a changed field type)."""


# --- Data API: finding types and things ---------------------------------------------------


class DataApiDisabled(BurbleError):
    def __init__(self) -> None:
        super().__init__("This application does not expose a Data API")


class TypeNotFound(BurbleError):
    def __init__(self, typename: str) -> None:
        super().__init__(f"Type not found {typename}")
        self.typename = typename


class ThingNotFound(BurbleError):
    def __init__(self, typename: str, thing_id: str) -> None:
        super().__init__(
            f"Missing object of type {typename}: object with id {thing_id} does not exist"
        )


# --- Data API: bad input ------------------------------------------------------------------


class BadRequest(BurbleError):
    """A request Burble cannot read (malformed JSON, a bad query parameter, too many lines)."""


class UnrecognizedField(BurbleError):
    def __init__(self, key: str) -> None:
        super().__init__(f"Unrecognized field: {key}")
        self.key = key


class InvalidData(BurbleError):
    """A value that does not fit its field; the message names the field like Bubble's."""

    def __init__(self, field: str, expected: str) -> None:
        super().__init__(f"Invalid data for field {field}: could not parse this as a {expected}")
        self.field = field


class InvalidValue(BurbleError):
    """A value rejected for a reason other than its type (INVALID_DATA with a free message)."""


class MissingData(BurbleError):
    """A required value is missing."""


class ListTooLong(BurbleError):
    def __init__(self, field: str, limit: int) -> None:
        super().__init__(
            f"Invalid data for field {field}: array length exceeds the limit of {limit} entries."
        )


class TooLarge(BurbleError):
    """The request body is larger than the server accepts."""


# --- workflows ----------------------------------------------------------------------------


class WorkflowApiDisabled(BurbleError):
    def __init__(self) -> None:
        super().__init__("This application does not expose a Workflow API")


class WorkflowNotFound(BurbleError):
    """No exposed API workflow has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Workflow not found {name}")
        self.name = name


class WorkflowNotInitializing(BurbleError):
    """`/wf/<name>/initialize` outside Development, or for a workflow that is not exposed."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Workflow {name} not in initialization mode")


class InvalidParameter(BurbleError):
    """A workflow parameter's value does not fit its type (Bubble's INVALID)."""

    def __init__(self, name: str, expected: str) -> None:
        super().__init__(f"Invalid value for parameter {name} (must be {expected})")
        self.name = name


class ActionFailed(BurbleError):
    """A workflow action could not be carried out; the run's changes are undone."""


class WorkflowTimeout(BurbleError):
    """A run went past its time limit; it was stopped and its changes undone."""


# --- auth ---------------------------------------------------------------------------------


class InvalidToken(BurbleError):
    def __init__(self) -> None:
        super().__init__("Invalid or expired token")


class TokenNotFound(BurbleError):
    """No active token has this id or label."""


class PermissionDenied(BurbleError):
    """The caller is known but not allowed to do this."""


# --- routing ------------------------------------------------------------------------------


class RouteNotFound(BurbleError):
    """No endpoint answers this path."""


class MethodNotAllowed(BurbleError):
    def __init__(self, method: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"Method {method} is not allowed here")
        self.allowed = allowed


# --- storage ------------------------------------------------------------------------------


class StorageError(BurbleError):
    """The database failed in a way the caller did not cause. Logged; never shown in detail."""


class Conflict(BurbleError):
    """A uniqueness rule was broken (e.g. two users with one email)."""
