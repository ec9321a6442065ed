"""Read `app.yaml`, check its shape and meaning, and build the immutable `AppDefinition`.

Every problem is collected (not just the first) and located: file, line and the path inside
the definition, like `types.Rental Unit.fields.price`.
"""

from __future__ import annotations

import hashlib
import re
import zoneinfo
from dataclasses import replace
from pathlib import Path
from typing import Any

import pydantic
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from burble.appdef.coerce import coerce_value
from burble.appdef.model import (
    AppDefinition,
    AppSettings,
    BackendEventSpec,
    Change,
    CustomEventSpec,
    DataType,
    EventKind,
    Field,
    FieldKind,
    FieldType,
    KeyStyle,
    OptionSet,
    ParameterSpec,
    PasswordRules,
    PathPart,
    Permission,
    ResponseKind,
    RuleSpec,
    Source,
    WorkflowAuth,
    WorkflowSpec,
    api_name,
    dotted_path,
    sanitize,
)
from burble.appdef.raw import (
    RawAppDef,
    RawContentType,
    RawDataApi,
    RawField,
    RawParameter,
    RawPrivacyRule,
    RawRecurringEvent,
    RawRedirect,
    RawTrigger,
    RawViewFields,
)
from burble.errors import AppDefError, BurbleError, Problem

DEFINITION_FILE = "app.yaml"

# Keys every thing has (bubble-wire.md §6); a field may not take one of these names.
BUILTIN_KEYS = ("_id", "Created Date", "Modified Date", "Created By", "Slug")
USER_RESERVED = ("email", "password", "authentication", "user_signed_up")

_SCALAR_KINDS = {
    "text": FieldKind.TEXT,
    "number": FieldKind.NUMBER,
    "numeric range": FieldKind.NUMBER_RANGE,
    "date": FieldKind.DATE,
    "date range": FieldKind.DATE_RANGE,
    "yes/no": FieldKind.YES_NO,
    "geographic address": FieldKind.ADDRESS,
    "file": FieldKind.FILE,
    "image": FieldKind.IMAGE,
}

MAX_IDENTIFIER = 63  # PostgreSQL's limit; SQLite has none, we keep one rule for both


def identifier(prefix: str, name: str) -> str:
    """A column/table name from a sanitized name, shortened with a hash when too long."""
    ident = prefix + name
    if len(ident) <= MAX_IDENTIFIER:
        return ident
    digest = hashlib.sha1(ident.encode()).hexdigest()[:10]
    return ident[: MAX_IDENTIFIER - 11] + "_" + digest


def load_app(directory: str | Path) -> AppDefinition:
    """Load `<directory>/app.yaml`; raise `AppDefError` listing every problem."""
    path = Path(directory) / DEFINITION_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AppDefError(
            [Problem(f"no {DEFINITION_FILE} in {directory}", file=str(path))]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AppDefError([Problem(f"cannot read the definition: {exc}", file=str(path))]) from None
    return parse_app(text, str(path))


def parse_app(text: str, filename: str = DEFINITION_FILE) -> AppDefinition:
    definition, problems = _parse(text, filename)
    if problems or definition is None:
        raise AppDefError(problems)
    return definition


def check_app(text: str, filename: str = DEFINITION_FILE) -> list[Problem]:
    """Every problem in the definition (empty when it is clean)."""
    return _parse(text, filename)[1]


def _parse(text: str, filename: str) -> tuple[AppDefinition | None, list[Problem]]:
    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        return None, [Problem(f"not valid YAML: {exc.problem}", file=filename, line=line)]
    if not isinstance(tree, CommentedMap):
        return None, [Problem("the definition must be a YAML mapping", file=filename, line=1)]
    plain = _plain(tree)
    try:
        raw = RawAppDef.model_validate(plain)
    except pydantic.ValidationError as exc:
        return None, _pydantic_problems(exc.errors(), tree, filename)
    resolver = _Resolver(tree, filename, text)
    definition = resolver.resolve(raw)
    return (None if resolver.problems else definition), resolver.problems


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    return node


def locate(tree: Any, path: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the deepest node of `path` found in the YAML tree."""
    line: int | None = None
    node = tree
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _dotted(path: tuple[str | int, ...]) -> str:
    return dotted_path(path)


def _lines(tree: Any, path: tuple[PathPart, ...]) -> dict[tuple[PathPart, ...], int]:
    """The line of every node under `path` in the YAML tree, by absolute path."""
    out: dict[tuple[PathPart, ...], int] = {}
    node = tree
    for part in path:
        in_map = isinstance(node, CommentedMap) and part in node
        in_seq = isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_map or in_seq):
            return out
        node = node[part]
    line = locate(tree, path)
    if line is not None:
        out[path] = line

    def walk(n: Any, at: tuple[PathPart, ...]) -> None:
        if isinstance(n, CommentedMap):
            for key, value in n.items():
                out[(*at, str(key))] = n.lc.key(key)[0] + 1
                walk(value, (*at, str(key)))
        elif isinstance(n, CommentedSeq):
            for i, value in enumerate(n):
                out[(*at, i)] = n.lc.item(i)[0] + 1
                walk(value, (*at, i))

    walk(node, path)
    return out


WORKFLOW_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
# A redirect: an absolute http(s) URL, or a path of this server ("//host" is another host).
_REDIRECT = re.compile(r"^(https?://[^\s/?#]+[^\s]*|/(?!/)[^\s]*)$", re.IGNORECASE)


def _strip(text: str | None) -> str | None:
    return None if text is None else text.strip()


_UNION_TAGS = {
    "str",
    "bool",
    "int",
    "list[str]",
    "RawField",
    "RawDataApi",
    "RawOptionSet",
    "RawViewFields",
    "list[RawPrivacyRule]",
    "RawParameter",
    "RawContentType",
    "RawRedirect",
    "RawRetry",
    "literal['json','text']",
}


def _pydantic_problems(errors: list[Any], tree: Any, filename: str) -> list[Problem]:
    """One problem per location; a union's alternatives are joined with "or"."""
    by_path: dict[tuple[str | int, ...], list[str]] = {}
    for err in errors:
        loc = tuple(p for p in err["loc"] if p not in _UNION_TAGS)
        message = f"unknown key '{loc[-1]}'" if err["type"] == "extra_forbidden" else err["msg"]
        messages = by_path.setdefault(loc, [])
        if message not in messages:
            messages.append(message)
    # A union alternative's complaint is noise when a deeper error explains the same value
    # (`{type: text, defualt: x}`: "unknown key 'defualt'", not also "should be a string").
    deepest = [
        loc for loc in by_path if not any(o != loc and o[: len(loc)] == loc for o in by_path)
    ]
    return [
        Problem(
            " or ".join(by_path[loc]), file=filename, line=locate(tree, loc) or 1, path=_dotted(loc)
        )
        for loc in deepest
    ]


class _Resolver:
    def __init__(self, tree: Any, filename: str, text: str) -> None:
        self.tree = tree
        self.filename = filename
        self.text = text
        self.problems: list[Problem] = []

    def problem(self, message: str, *path: str | int) -> None:
        self.problems.append(
            Problem(message, file=self.filename, line=locate(self.tree, path), path=_dotted(path))
        )

    def resolve(self, raw: RawAppDef) -> AppDefinition:
        option_sets = self._option_sets(raw)
        type_names = set(raw.types) | {"User"}
        reserved = {k.lower() for k in _SCALAR_KINDS}
        for name in raw.types:
            if name.strip().lower() in reserved:
                self.problem(f"'{name}' is the name of a field type; choose another", "types", name)
            if name in option_sets:
                self.problem(f"'{name}' is both a data type and an option set", "types", name)
            if not name.strip():
                self.problem("a data type needs a name", "types", name)
        stub = AppDefinition.build(raw.name, AppSettings(), {}, option_sets)
        types: dict[str, DataType] = {}
        seen_api: dict[str, str] = {}
        seen_tables: dict[str, str] = {}
        ordered = ["User", *[n for n in raw.types if n != "User"]]
        for name in ordered:
            raw_type = raw.types.get(name)
            fields = raw_type.fields if raw_type is not None else {}
            dtype = self._data_type(name, fields, type_names, option_sets, stub)
            if raw_type is not None and raw_type.indexes:
                dtype = self._with_indexes(dtype, raw_type.indexes)
            if raw_type is not None and not raw_type.auto_index:
                dtype = replace(dtype, auto_index=False)
            if raw_type is not None and raw_type.privacy is not None:
                dtype = replace(dtype, privacy=self._rules(dtype, raw_type.privacy))
            other = seen_api.setdefault(dtype.api_name, name)
            if other != name:
                self.problem(
                    f"'{name}' and '{other}' have the same API name '{dtype.api_name}'",
                    "types",
                    name,
                )
            other = seen_tables.setdefault(dtype.table, name)
            if other != name and seen_api[dtype.api_name] == name:
                self.problem(f"'{name}' and '{other}' would share a table", "types", name)
            types[name] = dtype
        settings = self._settings(raw, types)
        workflows = {
            name: self._workflow(name, raw, type_names, option_sets) for name in raw.workflows
        }
        events = {
            name: self._custom_event(name, raw, type_names, option_sets)
            for name in raw.custom_events
        }
        recurring = {
            name: self._backend_event(name, ev, EventKind.RECURRING, type_names)
            for name, ev in raw.recurring_events.items()
        }
        triggers = {
            name: self._backend_event(name, ev, EventKind.TRIGGER, type_names)
            for name, ev in raw.triggers.items()
        }
        return AppDefinition.build(
            raw.name,
            settings,
            types,
            option_sets,
            self.text,
            workflows,
            events,
            recurring,
            triggers,
        )

    def _backend_event(
        self,
        name: str,
        raw: RawRecurringEvent | RawTrigger,
        kind: EventKind,
        type_names: set[str],
    ) -> BackendEventSpec:
        section = "recurring_events" if kind is EventKind.RECURRING else "triggers"
        path: tuple[PathPart, ...] = (section, name)
        if not name.strip():
            self.problem("an event needs a name", *path)
        if raw.type not in type_names:
            self.problem(f"unknown data type '{raw.type}'", *path, "type")
        trigger = raw if isinstance(raw, RawTrigger) else None
        return BackendEventSpec(
            name=name,
            kind=kind,
            type_name=raw.type,
            ignore_privacy=raw.ignore_privacy if isinstance(raw, RawRecurringEvent) else True,
            only_when=trigger.only_when if trigger else None,
            on=frozenset(Change(c) for c in trigger.on) if trigger else frozenset(),
            actions=tuple(raw.actions),
            source=Source(path, _lines(self.tree, path)),
        )

    # --- workflows (their expressions and actions are compiled by burble.workflows) -------

    def _parameters(
        self,
        raw: dict[str, str | RawParameter],
        path: tuple[PathPart, ...],
        type_names: set[str],
        option_sets: dict[str, OptionSet],
    ) -> tuple[ParameterSpec, ...]:
        out: list[ParameterSpec] = []
        for name, spec in raw.items():
            long = spec if isinstance(spec, RawParameter) else RawParameter(type=spec)
            at = (*path, name)
            if not name.strip():
                self.problem("a parameter needs a name", *at)
                continue
            if name == "api_token":
                self.problem(
                    "'api_token' is the query parameter for tokens; choose another name", *at
                )
                continue
            ftype = self._field_type(long.type, type_names, option_sets)
            if ftype is None:
                self.problem(
                    f"unknown parameter type '{long.type}': use a Bubble field type, "
                    "a data type, an option set, or 'list of ...'",
                    *at,
                )
                continue
            out.append(ParameterSpec(name, ftype, long.optional, long.in_ == "query"))
        return tuple(out)

    def _workflow(
        self,
        name: str,
        raw: RawAppDef,
        type_names: set[str],
        option_sets: dict[str, OptionSet],
    ) -> WorkflowSpec:
        wf = raw.workflows[name]
        path: tuple[PathPart, ...] = ("workflows", name)
        if not WORKFLOW_NAME.match(name):
            self.problem(
                f"'{name}' cannot be part of a URL: use letters, digits, '-' and '_'", *path
            )
        content_type: str | None = None
        redirect: tuple[str | None, str | None] = (None, None)
        if isinstance(wf.response, RawRedirect):
            response = ResponseKind.REDIRECT
            redirect = (wf.response.redirect.strip(), _strip(wf.response.on_error))
            for key, url in zip(("redirect", "on_error"), redirect, strict=True):
                if url is not None and not _REDIRECT.match(url):
                    self.problem(
                        "a redirect is an https:// or http:// URL or a path starting with one "
                        f"'/' (not {url!r})",
                        *path,
                        "response",
                        key,
                    )
        elif isinstance(wf.response, RawContentType):
            response = ResponseKind.CUSTOM
            content_type = wf.response.content_type.strip()
            if not content_type or "\n" in content_type or "\r" in content_type:
                self.problem("a content type is one line of text", *path, "response")
        else:
            response = ResponseKind(wf.response)
        return WorkflowSpec(
            name=name,
            expose=wf.expose,
            auth=WorkflowAuth(wf.auth),
            method=wf.method,
            ignore_privacy=wf.ignore_privacy,
            parameters=self._parameters(
                wf.parameters, (*path, "parameters"), type_names, option_sets
            ),
            only_when=wf.only_when,
            return_200_if_not_run=wf.return_200_if_not_run,
            response=response,
            content_type=content_type,
            actions=tuple(wf.actions),
            source=Source(path, _lines(self.tree, path)),
            redirect=redirect[0],
            redirect_on_error=redirect[1],
            retry_attempts=wf.retry.attempts if wf.retry else 1,
            retry_delay_ms=round(wf.retry.delay_seconds * 1000) if wf.retry else 0,
        )

    def _custom_event(
        self,
        name: str,
        raw: RawAppDef,
        type_names: set[str],
        option_sets: dict[str, OptionSet],
    ) -> CustomEventSpec:
        event = raw.custom_events[name]
        path: tuple[PathPart, ...] = ("custom_events", name)
        if not name.strip():
            self.problem("a custom event needs a name", *path)
        params = self._parameters(event.parameters, (*path, "parameters"), type_names, option_sets)
        for p in params:
            if p.in_query:
                self.problem(
                    "a custom event's parameters come from its trigger, not a query string",
                    *path,
                    "parameters",
                    p.name,
                )
        returns: list[tuple[str, FieldType]] = []
        for key, spelled in event.returns.items():
            ftype = self._field_type(spelled, type_names, option_sets)
            if ftype is None:
                self.problem(f"unknown type '{spelled}'", *path, "return", key)
            else:
                returns.append((key, ftype))
        return CustomEventSpec(
            name=name,
            parameters=params,
            returns=tuple(returns),
            actions=tuple(event.actions),
            source=Source(path, _lines(self.tree, path)),
        )

    def _option_sets(self, raw: RawAppDef) -> dict[str, OptionSet]:
        sets: dict[str, OptionSet] = {}
        for name, value in raw.option_sets.items():
            options = value if isinstance(value, list) else value.options
            path = (
                ("option_sets", name)
                if isinstance(value, list)
                else ("option_sets", name, "options")
            )
            if not options:
                self.problem("an option set needs at least one option", *path)
            seen: set[str] = set()
            for i, option in enumerate(options):
                if not option.strip():
                    self.problem("an option needs a display text", *path, i)
                if option in seen:
                    self.problem(f"option '{option}' is listed twice", *path, i)
                seen.add(option)
            if name == "User" or name.strip().lower() in _SCALAR_KINDS:
                self.problem(f"'{name}' cannot be an option set's name", "option_sets", name)
            sets[name] = OptionSet(name, tuple(options))
        return sets

    def _field_type(
        self, spelled: str, type_names: set[str], option_sets: dict[str, OptionSet]
    ) -> FieldType | None:
        text = " ".join(spelled.split())
        is_list = False
        if text.lower().startswith("list of "):
            is_list = True
            text = text[len("list of ") :]
        candidates = [text]
        if is_list:
            candidates += [text[:-1]] if text.endswith("s") else []
            candidates += [text[:-2]] if text.endswith("es") else []
        for candidate in candidates:
            kind = _SCALAR_KINDS.get(candidate.lower())
            if kind is not None:
                return FieldType(kind, is_list)
            if candidate in type_names:
                return FieldType(FieldKind.THING, is_list, candidate)
            if candidate in option_sets:
                return FieldType(FieldKind.OPTION, is_list, candidate)
        return None

    def _data_type(
        self,
        name: str,
        raw_fields: dict[str, str | RawField],
        type_names: set[str],
        option_sets: dict[str, OptionSet],
        stub: AppDefinition,
    ) -> DataType:
        is_user = name == "User"
        reserved = BUILTIN_KEYS + (USER_RESERVED if is_user else ())
        fields: list[Field] = []
        id_keys: dict[str, str] = {}
        columns: dict[str, str] = {}
        for field_name, spec in raw_fields.items():
            path = ("types", name, "fields", field_name)
            long = spec if isinstance(spec, RawField) else RawField(type=spec)
            if not field_name.strip():
                self.problem("a field needs a name", *path)
                continue
            if field_name in reserved:
                self.problem(f"'{field_name}' is a built-in field of every {name}", *path)
                continue
            ftype = self._field_type(long.type, type_names, option_sets)
            if ftype is None:
                self.problem(
                    f"unknown field type '{long.type}': use a Bubble field type, "
                    "a data type, an option set, or 'list of ...'",
                    *path,
                )
                continue
            id_key = sanitize(field_name) + "_" + ftype.id_suffix()
            column = identifier("f_", id_key)
            other = id_keys.setdefault(id_key, field_name)
            if other == field_name:
                other = columns.setdefault(column, field_name)
            if other != field_name:
                self.problem(
                    f"fields '{field_name}' and '{other}' have the same key '{id_key}'", *path
                )
            default: object = None
            if long.default is not None:
                probe = Field(field_name, id_key, ftype, column)
                try:
                    default = coerce_value(probe, long.default, stub)
                except BurbleError as exc:
                    self.problem(f"default value: {exc.message}", *path, "default")
            fields.append(Field(field_name, id_key, ftype, column, default))
        table = "t_user" if is_user else identifier("t_", sanitize(name))
        return DataType.build(name, table, tuple(fields), is_user=is_user)

    def _with_indexes(self, dtype: DataType, indexes: list[list[str]]) -> DataType:
        built: list[tuple[Field, ...]] = []
        for i, names in enumerate(indexes):
            path = ("types", dtype.name, "indexes", i)
            fields = []
            for j, name in enumerate(names):
                field = dtype.by_name.get(name)
                if field is None:
                    self.problem(f"unknown field '{name}'", *path, j)
                elif field.type.is_list:
                    self.problem(f"list field '{name}' cannot be in a multi-field index", *path, j)
                else:
                    fields.append(field)
            if not names:
                self.problem("an index needs at least one field", *path)
            built.append(tuple(fields))
        return DataType.build(dtype.name, dtype.table, dtype.fields, dtype.is_user, tuple(built))

    def _rules(self, dtype: DataType, rules: list[RawPrivacyRule]) -> tuple[RuleSpec, ...]:
        built: list[RuleSpec] = []
        names: set[str] = set()
        unconditional = 0
        for i, rule in enumerate(rules):
            path = ("types", dtype.name, "privacy", i)
            if rule.name in names:
                self.problem(f"two privacy rules are named '{rule.name}'", *path, "name")
            names.add(rule.name)
            if rule.when is None:
                unconditional += 1
                if unconditional == 2:
                    self.problem(
                        "only one rule may apply to everyone (no `when`): merge them", *path
                    )
            grants: set[Permission] = set()
            view: list[Field] = []
            for j, item in enumerate(rule.allow):
                if isinstance(item, RawViewFields):
                    for k, name in enumerate(item.view):
                        field = dtype.by_name.get(name)
                        if field is None:
                            self.problem(f"unknown field '{name}'", *path, "allow", j, "view", k)
                        else:
                            view.append(field)
                    continue
                try:
                    grants.add(Permission(" ".join(item.split())))
                except ValueError:
                    known = ", ".join(p.value for p in Permission)
                    self.problem(f"unknown permission '{item}': use {known}", *path, "allow", j)
            when_path = (*path, "when") if rule.when is not None else path
            built.append(
                RuleSpec(
                    rule.name,
                    rule.when,
                    frozenset(grants),
                    tuple(view),
                    locate(self.tree, when_path),
                    _dotted(when_path),
                )
            )
        return tuple(built)

    def _settings(self, raw: RawAppDef, types: dict[str, DataType]) -> AppSettings:
        data_api = raw.settings.data_api
        if isinstance(data_api, RawDataApi):
            enabled, expose = data_api.enabled, data_api.expose
        else:
            enabled, expose = data_api, []
        for i, name in enumerate(expose):
            if name not in types:
                self.problem(f"unknown data type '{name}'", "settings", "data_api", "expose", i)
        return AppSettings(
            data_api=enabled,
            exposed_types=frozenset(n for n in expose if n in types),
            keys=KeyStyle(raw.settings.keys),
            workflow_api=raw.settings.workflow_api,
            max_list_length=raw.settings.max_list_length,
            max_search_offset=raw.settings.max_search_offset,
            workflow_time_limit_seconds=raw.settings.workflow_time_limit_seconds,
            password=PasswordRules(**raw.settings.password_policy.model_dump()),
            timezone=self._timezone(raw.settings.timezone),
            recursion_limit=raw.settings.recursion_limit,
            schedule_list_limit=raw.settings.schedule_list_limit,
        )

    def _timezone(self, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.problem(
                f"unknown time zone '{name}' (use an IANA name like Europe/Paris)",
                "settings",
                "timezone",
            )
            return "UTC"
        return name


__all__ = ["DEFINITION_FILE", "api_name", "check_app", "load_app", "parse_app"]
