"""The app-definition file format as written by hand: the source of the published JSON Schema.

These pydantic models check the *shape* of `app.yaml`; `burble.appdef.load` then checks
meaning (that names refer to things that exist) and builds the immutable model.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RawField(_Strict):
    """A field in long form. The short form is just the type: `price: number`."""

    type: str = Field(
        description="text, number, numeric range, date, date range, yes/no, geographic address, "
        "file, image, the name of a data type or of User, the name of an option set, "
        "or `list of <any of these>` (plural accepted: `list of images`)."
    )
    default: Any = Field(
        default=None, description="Value a new thing gets when the field is not sent."
    )
    description: str | None = None


class RawViewFields(_Strict):
    view: list[str] = Field(description="View only these fields.")


PERMISSIONS = (
    "find",
    "view all fields",
    "view attached files",
    "create via API",
    "modify via API",
    "delete via API",
)


class RawPrivacyRule(_Strict):
    """A privacy rule: when its condition holds for a thing and the current user, it grants
    its permissions. Rules add up: anything any matching rule grants is granted."""

    name: str = Field(
        min_length=1, description='The rule\'s name ("Everyone else" for the baseline).'
    )
    when: str | None = Field(
        default=None,
        description="A condition (a Bubble expression without brackets) on `This <Type>` and "
        '`Current User`. Omitted: the rule applies to everyone (Bubble\'s "Everyone else").',
    )
    allow: list[str | RawViewFields] = Field(
        default_factory=list,
        description="What the rule grants: " + ", ".join(PERMISSIONS) + ", or {view: [fields]}.",
    )


class RawType(_Strict):
    """A data type ("thing" type): its fields, by display name."""

    fields: dict[str, str | RawField] = Field(default_factory=dict)
    indexes: list[list[str]] = Field(
        default_factory=list,
        description="Extra indexes, e.g. `[[city, price]]` for searches that constrain city "
        "and sort by price (every field already has its own index, unless `auto_index` is "
        "false).",
    )
    auto_index: bool = Field(
        default=True,
        description="Index every field (the default: any search is quick). False: only "
        "the indexes listed in `indexes` (and Created Date's, for the default order), so "
        "that writes maintain fewer indexes; searches on other fields still work, by "
        "reading the table.",
    )
    privacy: list[RawPrivacyRule] | None = Field(
        default=None,
        description="Privacy rules. Without any, only admin tokens see or change this type's "
        "things (a deliberate, safe difference from Bubble).",
    )
    description: str | None = None


class RawOptionSet(_Strict):
    options: list[str] = Field(description="The options' display texts, in order.")
    description: str | None = None


class RawDataApi(_Strict):
    enabled: bool = Field(default=True, description="This app exposes a Data API.")
    expose: list[str] = Field(
        default_factory=list,
        description="Data types reachable through /obj (by name, `User` included). None by default.",
    )


class RawPasswordPolicy(_Strict):
    """Bubble's password policy (Settings → General), checked on sign-up, account creation,
    credential updates and password resets."""

    min_length: int = Field(default=8, ge=1, le=1024, description="Fewest characters.")
    require_number: bool = Field(default=False, description="At least one digit.")
    require_capital: bool = Field(default=False, description="At least one capital letter.")
    require_symbol: bool = Field(
        default=False,
        description="At least one character that is not a letter, a digit, a space or ':'.",
    )


class RawSettings(_Strict):
    data_api: bool | RawDataApi = Field(
        default=False,
        description="The Data API: `false` (default, off), or `{expose: [Type, ...]}`.",
    )
    workflow_api: bool = Field(
        default=False, description="Enable the Workflow API and backend workflows."
    )
    keys: Literal["display", "id"] = Field(
        default="display",
        description="Key names in the Data API: the fields' display names (`display`, Bubble's "
        '"Use field display instead of ID for key names") or id keys like `price_number` (`id`).',
    )
    max_search_offset: int = Field(
        default=50_000,
        ge=100,
        le=100_000_000,
        description="Deepest a search may page (cursor + limit), as Bubble's 50,000 cap: "
        "beyond it a search returns no things but still counts the remaining ones.",
    )
    max_list_length: int = Field(
        default=10_000,
        ge=1,
        le=100_000,
        description="Most items a list field may hold; longer lists are refused (LIST_TOO_LONG).",
    )
    workflow_time_limit_seconds: float = Field(
        default=300,
        gt=0,
        le=86_400,
        description="Longest a workflow run may take (Bubble: 300 s). A run past it is stopped "
        "before its next action and everything it changed is undone.",
    )
    timezone: str = Field(
        default="UTC",
        description="The IANA time zone of the scheduler's calendar (recurring events), "
        "like `Europe/Paris`.",
    )
    recursion_limit: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="How deep scheduled workflows may schedule each other (Bubble: 10). A run "
        "beyond it is not executed and is logged as a workflow error.",
    )
    schedule_list_limit: int = Field(
        default=100_000,
        ge=1,
        le=1_000_000,
        description="Most items `schedule_on_list` schedules at once (Bubble: 100,000); a "
        "longer list fails the run instead of being cut.",
    )
    password_policy: RawPasswordPolicy = Field(
        default_factory=RawPasswordPolicy,
        description="The rules a new password must meet (default: at least 8 characters).",
    )


class RawParameter(_Strict):
    """A workflow or custom event parameter in long form. The short form is just the type."""

    type: str = Field(description="Any field type, `list of ...` included (see `fields`).")
    optional: bool = Field(default=False, description="The parameter may be left out.")
    in_: Literal["body", "query"] = Field(
        default="body",
        alias="in",
        description="`query`: read from the URL's query string only (Bubble's \"querystring\" "
        "flag). `body` (default): from the JSON or form-encoded body, else the query string.",
    )
    description: str | None = None


class RawContentType(_Strict):
    content_type: str = Field(
        min_length=1, description="The Content-Type of a response that is not JSON."
    )


class RawRedirect(_Strict):
    redirect: str = Field(
        description="Where a successful run sends the caller (302): an https:// or http:// URL, "
        "or a path of this server (`/page`); the returned data is added to its query string."
    )
    on_error: str | None = Field(
        default=None,
        description="Where a failed run sends the caller, with `statusCode` and `message` in "
        "the query string. Without it errors answer their usual JSON body.",
    )


class RawRetry(_Strict):
    attempts: int = Field(ge=1, le=100, description="Runs in all, the first one included.")
    delay_seconds: float = Field(
        default=60, ge=0, le=86_400, description="Wait between a failure and the next run."
    )


class RawWorkflow(_Strict):
    """An API workflow: `POST /api/1.1/wf/<name>` (`/version-test/...` on Development)."""

    expose: bool = Field(
        default=False,
        description="Reachable through the Workflow API (Bubble's \"Expose as a "
        'public API workflow"). Default false: the endpoint answers 404.',
    )
    auth: Literal["none", "user", "admin"] = Field(
        default="user",
        description="Who may run it: `none` (anyone), `user` (a user token or an admin token; "
        "the default), `admin` (an admin token only).",
    )
    method: Literal["POST", "GET"] = Field(
        default="POST", description="`POST` (default) or `GET` (parameters in the query string)."
    )
    ignore_privacy: bool = Field(
        default=False,
        description="Searches and reads inside the run ignore privacy rules (Bubble's \"Ignore "
        'privacy rules when running the workflow").',
    )
    parameters: dict[str, str | RawParameter] = Field(
        default_factory=dict, description="Parameters by name: a type, or {type, optional, in}."
    )
    only_when: str | None = Field(
        default=None,
        description="A condition (an expression without brackets): when it is not yes, "
        "the workflow does not run.",
    )
    return_200_if_not_run: bool = Field(
        default=False,
        description="Answer 200 instead of 400 NOT_RUN when `only_when` is not yes (webhooks).",
    )
    response: Literal["json", "text"] | RawContentType | RawRedirect = Field(
        default="json",
        description="What Return data answers: `json` (default), `text`, `{content_type: ...}`, "
        "or `{redirect: URL, on_error: URL}`.",
    )
    actions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The actions, in order; each a mapping with one action key (`create`, "
        "`change`, `return`, ...) and its options (docs/workflows.md).",
    )
    retry: RawRetry | None = Field(
        default=None,
        description="Retry a scheduled run of it that fails (default: no retry, as Bubble).",
    )
    description: str | None = None


class RawCustomEvent(_Strict):
    """A custom event: actions any workflow can run with `trigger: <name>`."""

    parameters: dict[str, str | RawParameter] = Field(
        default_factory=dict, description="Parameters by name: a type, or {type, optional}."
    )
    returns: dict[str, str] = Field(
        default_factory=dict,
        alias="return",
        description="The values the event returns (with a `return:` action), by name: a type.",
    )
    actions: list[dict[str, Any]] = Field(default_factory=list, description="The actions.")
    description: str | None = None


class RawRecurringEvent(_Strict):
    """A recurring event: actions run on one thing of `type` every day, week, month, quarter
    or year, started and stopped by the `set_recurring` action."""

    type: str = Field(description="The type of thing it runs on (`This <Type>` in its actions).")
    ignore_privacy: bool = Field(
        default=False,
        description="Run as admin instead of as the user who set the recurring event.",
    )
    actions: list[dict[str, Any]] = Field(default_factory=list, description="The actions.")
    description: str | None = None


ChangeName = Literal["create", "modify", "delete"]
_ALL_CHANGES: tuple[ChangeName, ...] = ("create", "modify", "delete")


class RawTrigger(_Strict):
    """A database trigger event: runs when a thing of `type` is created, modified or deleted
    (from any source), with `<Type> before change` and `<Type> now`."""

    type: str = Field(description="The data type it watches.")
    on: list[ChangeName] = Field(
        default_factory=lambda: list(_ALL_CHANGES),
        description="Which changes it watches (default: all three).",
    )
    only_when: str | None = Field(
        default=None,
        description="A condition that may use only `<Type> before change` and `<Type> now`.",
    )
    actions: list[dict[str, Any]] = Field(default_factory=list, description="The actions.")
    description: str | None = None


class RawAppDef(_Strict):
    """A Burble app definition (`app.yaml`)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
        title="Burble app definition",
    )

    name: str = Field(min_length=1, description="The app's name.")
    settings: RawSettings = Field(default_factory=RawSettings)
    option_sets: dict[str, list[str] | RawOptionSet] = Field(default_factory=dict)
    types: dict[str, RawType] = Field(
        default_factory=dict,
        description="Data types by name. `User` always exists; list it here to add fields to it.",
    )
    workflows: dict[str, RawWorkflow] = Field(
        default_factory=dict,
        description="API workflows by name (URL-safe: letters, digits, `-`, `_`).",
    )
    custom_events: dict[str, RawCustomEvent] = Field(
        default_factory=dict, description="Custom events by name."
    )
    recurring_events: dict[str, RawRecurringEvent] = Field(
        default_factory=dict, description="Recurring events by name (docs/scheduling.md)."
    )
    triggers: dict[str, RawTrigger] = Field(
        default_factory=dict, description="Database trigger events by name (docs/triggers.md)."
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema published in docs/app-definition.schema.json."""
    return RawAppDef.model_json_schema()
