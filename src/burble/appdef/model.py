"""The app definition as the rest of Burble sees it: resolved, validated, immutable."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


class FieldKind(enum.Enum):
    """Bubble's field types. The value is the name used in the app definition."""

    TEXT = "text"
    NUMBER = "number"
    NUMBER_RANGE = "numeric range"
    DATE = "date"
    DATE_RANGE = "date range"
    YES_NO = "yes/no"
    ADDRESS = "geographic address"
    FILE = "file"
    IMAGE = "image"
    THING = "thing"  # a reference to a data type (or User); `FieldType.target` names it
    OPTION = "option"  # a value of an option set; `FieldType.target` names it


# Bubble's internal type ids, used to build "fieldname_fieldtype" id keys (bubble-wire.md §1.4).
_ID_SUFFIX = {
    FieldKind.TEXT: "text",
    FieldKind.NUMBER: "number",
    FieldKind.NUMBER_RANGE: "number_range",
    FieldKind.DATE: "date",
    FieldKind.DATE_RANGE: "date_range",
    FieldKind.YES_NO: "boolean",
    FieldKind.ADDRESS: "geographic_address",
    FieldKind.FILE: "file",
    FieldKind.IMAGE: "image",
}


def sanitize(name: str) -> str:
    """Lower-case; each character other than a letter or digit becomes `_` (`BA Ref #` → `ba_ref__`)."""
    return re.sub(r"[^a-z0-9]", "_", name.lower())


def api_name(name: str) -> str:
    """Bubble's typename/field-name rule: remove whitespace, lower-case (seed 004)."""
    return re.sub(r"\s+", "", name).lower()


@dataclass(frozen=True, slots=True)
class FieldType:
    kind: FieldKind
    is_list: bool = False
    target: str | None = None  # data type name (THING) or option set name (OPTION)

    def id_suffix(self) -> str:
        if self.kind is FieldKind.THING:
            assert self.target is not None
            base = "user" if self.target == "User" else "custom_" + sanitize(self.target)
        elif self.kind is FieldKind.OPTION:
            assert self.target is not None
            base = "option_" + sanitize(self.target)
        else:
            base = _ID_SUFFIX[self.kind]
        return "list_" + base if self.is_list else base

    def describe(self) -> str:
        """How the definition spells this type (`list of numbers`, `Rental Unit`)."""
        one = self.target if self.kind in (FieldKind.THING, FieldKind.OPTION) else self.kind.value
        assert one is not None
        return f"list of {one}" if self.is_list else one

    def item(self) -> FieldType:
        return FieldType(self.kind, False, self.target)

    def __hash__(self) -> int:
        # The generated hash calls the Enum's Python-level __hash__; this one does not.
        return hash((self.kind._name_, self.is_list, self.target))


@dataclass(frozen=True, slots=True)
class Field:
    """A field of a data type. `name` is the display name; `id_key` is Bubble's id-style key."""

    name: str
    id_key: str
    type: FieldType
    column: str
    default: object = None  # already coerced to the stored representation
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Fields key the values of every write: hash what tells them apart (equal fields have
        # equal names and columns) instead of every attribute, nested type and default, and
        # only once.
        object.__setattr__(self, "_hash", hash((self.name, self.column)))

    def __hash__(self) -> int:
        return self._hash


@dataclass(frozen=True, slots=True)
class DataType:
    name: str
    table: str
    fields: tuple[Field, ...]
    is_user: bool = False
    indexes: tuple[tuple[Field, ...], ...] = ()
    privacy: tuple[RuleSpec, ...] | None = None  # None: no rules (admin-only)
    auto_index: bool = True  # an index on every field (False: only `indexes`)
    by_name: Mapping[str, Field] = field(default_factory=dict)
    by_id_key: Mapping[str, Field] = field(default_factory=dict)
    by_loose: Mapping[str, Field] = field(default_factory=dict)

    @property
    def api_name(self) -> str:
        return api_name(self.name)

    @staticmethod
    def build(
        name: str,
        table: str,
        fields: tuple[Field, ...],
        is_user: bool = False,
        indexes: tuple[tuple[Field, ...], ...] = (),
        privacy: tuple[RuleSpec, ...] | None = None,
    ) -> DataType:
        by_loose: dict[str, Field] = {}
        for f in fields:
            by_loose.setdefault(api_name(f.name), f)
        return DataType(
            name=name,
            table=table,
            fields=fields,
            is_user=is_user,
            indexes=indexes,
            privacy=privacy,
            by_name=MappingProxyType({f.name: f for f in fields}),
            by_id_key=MappingProxyType({f.id_key: f for f in fields}),
            by_loose=MappingProxyType(by_loose),
        )


class Permission(enum.Enum):
    """What a privacy rule grants (Bubble's checkboxes). VIEW_FIELDS stands for a field list."""

    FIND = "find"
    VIEW_ALL = "view all fields"
    VIEW_FILES = "view attached files"
    CREATE = "create via API"
    MODIFY = "modify via API"
    DELETE = "delete via API"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A privacy rule as written: the condition is compiled by `burble.privacy`."""

    name: str
    when: str | None
    grants: frozenset[Permission]
    view_fields: tuple[Field, ...]  # fields visible without VIEW_ALL
    line: int | None = None  # where `when` is, for error messages
    path: str = ""


@dataclass(frozen=True, slots=True)
class OptionSet:
    name: str
    options: tuple[str, ...]


class KeyStyle(enum.Enum):
    """Bubble's "Use field display instead of ID for key names" setting."""

    DISPLAY = "display"
    ID = "id"


@dataclass(frozen=True, slots=True)
class PasswordRules:
    """The app's password policy; `burble.auth.accounts.PasswordPolicy` enforces it."""

    min_length: int = 8
    require_number: bool = False
    require_capital: bool = False
    require_symbol: bool = False


@dataclass(frozen=True, slots=True)
class AppSettings:
    data_api: bool = False
    exposed_types: frozenset[str] = frozenset()
    keys: KeyStyle = KeyStyle.DISPLAY
    workflow_api: bool = False
    max_list_length: int = 10_000
    max_search_offset: int = 50_000
    workflow_time_limit_seconds: float = 300.0
    password: PasswordRules = PasswordRules()
    timezone: str = "UTC"  # IANA name: the scheduler's calendar
    recursion_limit: int = 10  # scheduling depth a chain of scheduled runs may reach
    schedule_list_limit: int = 100_000  # most runs one schedule_on_list may create


# --- workflows (compiled by `burble.workflows`, like privacy rules by `burble.privacy`) ------

PathPart = str | int


def dotted_path(path: tuple[PathPart, ...]) -> str:
    """`("workflows", "x", "actions", 1)` → `workflows.x.actions[1]`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


@dataclass(frozen=True, slots=True)
class Source:
    """Where a part of the definition is written: its path, and the line of every node under
    it (by absolute path), so problems found later can be located like load-time ones."""

    path: tuple[PathPart, ...]
    lines: Mapping[tuple[PathPart, ...], int] = field(default_factory=dict)

    def at(self, *rel: PathPart) -> tuple[PathPart, ...]:
        return (*self.path, *rel)

    def line(self, path: tuple[PathPart, ...]) -> int | None:
        """The line of `path`, or of its deepest ancestor that has one."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


class WorkflowAuth(enum.Enum):
    """Who may run an API workflow (Bubble's "Authentication")."""

    NONE = "none"  # anyone
    USER = "user"  # a user token or an admin token
    ADMIN = "admin"  # an admin token only


class ResponseKind(enum.Enum):
    JSON = "json"
    TEXT = "text"
    CUSTOM = "custom"  # text with the workflow's own Content-Type
    REDIRECT = "redirect"  # 302 to a URL, the returned data in its query string


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    name: str
    type: FieldType
    optional: bool = False
    in_query: bool = False  # read from the query string only


@dataclass(frozen=True, slots=True)
class WorkflowSpec:
    """An API workflow as written; its condition and actions are compiled by
    `burble.workflows` (actions stay plain mappings here: action kinds are a registry)."""

    name: str
    expose: bool
    auth: WorkflowAuth
    method: str  # "POST" or "GET"
    ignore_privacy: bool
    parameters: tuple[ParameterSpec, ...]
    only_when: str | None
    return_200_if_not_run: bool
    response: ResponseKind
    content_type: str | None
    actions: tuple[Mapping[str, Any], ...]
    source: Source
    redirect: str | None = None  # ResponseKind.REDIRECT: where success goes
    redirect_on_error: str | None = None  # and where errors go (None: the usual error body)
    retry_attempts: int = 1  # runs of a scheduled run that fails, in all (1: no retry)
    retry_delay_ms: int = 0


class EventKind(enum.Enum):
    RECURRING = "recurring"  # runs on a thing on a calendar (`set_recurring`)
    TRIGGER = "trigger"  # runs when a thing of its type changes


class Change(enum.Enum):
    CREATE = "create"
    MODIFY = "modify"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class BackendEventSpec:
    """A recurring event or a database trigger event, as written."""

    name: str
    kind: EventKind
    type_name: str  # the type it runs on / watches
    ignore_privacy: bool  # recurring: run as admin; triggers always run as admin
    only_when: str | None  # triggers only
    on: frozenset[Change]  # triggers only
    actions: tuple[Mapping[str, Any], ...]
    source: Source

    @property
    def before_name(self) -> str:
        """A trigger's `<Type> before change` source (a parameter of its run)."""
        return f"{self.type_name} before change"

    @property
    def now_name(self) -> str:
        return f"{self.type_name} now"


@dataclass(frozen=True, slots=True)
class CustomEventSpec:
    name: str
    parameters: tuple[ParameterSpec, ...]
    returns: tuple[tuple[str, FieldType], ...]
    actions: tuple[Mapping[str, Any], ...]
    source: Source


@dataclass(frozen=True, slots=True)
class AppDefinition:
    name: str
    settings: AppSettings
    types: Mapping[str, DataType]
    option_sets: Mapping[str, OptionSet]
    source: str = ""  # the YAML text this was loaded from (stored with each deployed version)
    _by_api_name: Mapping[str, DataType] = field(default_factory=dict)
    workflows: Mapping[str, WorkflowSpec] = field(default_factory=dict)
    custom_events: Mapping[str, CustomEventSpec] = field(default_factory=dict)
    recurring_events: Mapping[str, BackendEventSpec] = field(default_factory=dict)
    triggers: Mapping[str, BackendEventSpec] = field(default_factory=dict)

    @staticmethod
    def build(
        name: str,
        settings: AppSettings,
        types: Mapping[str, DataType],
        option_sets: Mapping[str, OptionSet],
        source: str = "",
        workflows: Mapping[str, WorkflowSpec] | None = None,
        custom_events: Mapping[str, CustomEventSpec] | None = None,
        recurring_events: Mapping[str, BackendEventSpec] | None = None,
        triggers: Mapping[str, BackendEventSpec] | None = None,
    ) -> AppDefinition:
        by_api: dict[str, DataType] = {}
        for t in types.values():
            by_api.setdefault(t.api_name, t)  # "the first one that matches ... will be used"
        return AppDefinition(
            name=name,
            settings=settings,
            types=MappingProxyType(dict(types)),
            option_sets=MappingProxyType(dict(option_sets)),
            source=source,
            _by_api_name=MappingProxyType(by_api),
            workflows=MappingProxyType(dict(workflows or {})),
            custom_events=MappingProxyType(dict(custom_events or {})),
            recurring_events=MappingProxyType(dict(recurring_events or {})),
            triggers=MappingProxyType(dict(triggers or {})),
        )

    def type_for_path(self, segment: str) -> DataType | None:
        """The data type a URL segment names (case- and whitespace-insensitive)."""
        return self._by_api_name.get(api_name(segment))

    @staticmethod
    def empty() -> AppDefinition:
        """What Live serves before its first deploy: nothing."""
        return AppDefinition.build("", AppSettings(), {}, {})
