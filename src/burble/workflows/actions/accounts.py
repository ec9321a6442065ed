"""Account and email actions (bubble-semantics.md §6.3, §12): sign up, log in, log out, log
out other sessions, make changes to the current user, create an account for someone else,
update credentials, password reset tokens, reset password, and send email.

Each is written as its key with a mapping of options (`sign_up: {email: ..., password: ...}`)
or `true` when it takes none (`log_out: true`). They run in the run's transaction through
`burble.auth.accounts` (users and tokens) and `burble.mail.outbox` (emails are queued, then
delivered after the commit by `burble mail send-pending`), so a run that fails keeps no new
user, no session and no email."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from burble.appdef.model import DataType
from burble.auth import accounts as acc
from burble.auth.actor import Actor, ActorKind
from burble.errors import ActionFailed
from burble.expr import ValueType
from burble.expr import types as t
from burble.mail import outbox
from burble.mail.message import Message
from burble.things.references import check_references
from burble.workflows.changes import FieldChange, new_values
from burble.workflows.compile import Builder
from burble.workflows.dynamic import Value
from burble.workflows.engine import Frame, Run
from burble.workflows.model import Action
from burble.workflows.reads import Reader
from burble.workflows.registry import ActionKind

# --- shared -------------------------------------------------------------------------------


def _accounts(run: Run) -> acc.Accounts:
    accounts = run.engine.accounts
    if accounts is None:
        raise ActionFailed("this environment has no accounts (no user token store)")
    return accounts


def _user_type(b: Builder) -> DataType | None:
    for dtype in b.definition.types.values():
        if dtype.is_user:
            return dtype
    return None


def _options(
    options: Mapping[str, Any],
    key: str,
    b: Builder,
    allowed: tuple[str, ...],
    needed: tuple[str, ...],
) -> dict[str, Any] | None:
    raw = options[key]
    if raw is True and not needed:
        return {}
    if not isinstance(raw, dict):
        names = ", ".join(allowed)
        b.problem(f"{key} takes a mapping of options ({names})", key)
        return None
    ok = True
    for name in raw:
        if name not in allowed:
            b.problem(
                f"unknown option '{name}' of {key} (it takes {', '.join(allowed)})", key, name
            )
            ok = False
    for name in needed:
        if name not in raw:
            b.problem(f"{key} needs `{name}:`", key)
            ok = False
    return raw if ok else None


def _values(
    b: Builder, key: str, raw: Mapping[str, Any], types: Mapping[str, ValueType]
) -> dict[str, Value] | None:
    out: dict[str, Value] = {}
    ok = True
    for name, vt in types.items():
        if name not in raw:
            continue
        value = b.value(raw[name], vt, key, name)
        if value is None:
            ok = False
        else:
            out[name] = value
    return out if ok else None


def _text(frame: Frame, value: Value | None) -> str | None:
    got = None if value is None else frame.evaluate(value)
    return got if isinstance(got, str) and got != "" else None


def _yes(frame: Frame, value: Value | None) -> bool:
    return value is not None and frame.evaluate(value) is True


def _fields(frame: Frame, changes: tuple[FieldChange, ...]) -> dict[Any, object]:
    vals = new_values(frame.run.definition, changes, frame.evaluate, None)
    check_references(frame.run.tx, frame.run.things.backend, frame.run.definition, vals)
    return vals


def _user_fields(b: Builder, key: str, raw: Mapping[str, Any]) -> tuple[FieldChange, ...] | None:
    if "fields" not in raw:
        return ()
    dtype = _user_type(b)
    if dtype is None:
        b.problem("this app has no User type", key)
        return None
    return b.changes(dtype, raw["fields"], key, "fields")


def _user_result() -> ValueType:
    return t.thing("User")


def _begin_session(frame: Frame, session: acc.Session) -> None:
    """Answer the session's keys; the new user is the Current User of the later steps (as
    in Bubble) and reads follow their privacy rules."""
    run = frame.run
    run.response.update(session.response())
    run.actor = Actor(ActorKind.USER, session.user_id)
    run.reader = Reader(run.tx, run.things, run.actor, not run.reader.privacy)
    run.changed()


# --- Sign the user up / Log the user in ---------------------------------------------------


@dataclass(frozen=True, eq=False)
class SignUp(Action):
    email: Value
    password: Value
    keep_logged_in: Value | None
    fields: tuple[FieldChange, ...]

    def result_type(self) -> ValueType:
        return _user_result()


def parse_sign_up(options: Mapping[str, Any], b: Builder) -> SignUp | None:
    allowed = ("email", "password", "keep_logged_in", "fields")
    raw = _options(options, "sign_up", b, allowed, ("email", "password"))
    if raw is None:
        return None
    vals = _values(
        b, "sign_up", raw, {"email": t.TEXT, "password": t.TEXT, "keep_logged_in": t.YES_NO}
    )
    fields = _user_fields(b, "sign_up", raw)
    if vals is None or fields is None:
        return None
    return SignUp(vals["email"], vals["password"], vals.get("keep_logged_in"), fields)


def run_sign_up(action: SignUp, frame: Frame) -> object:
    run = frame.run
    session = acc.sign_up(
        run.tx,
        _accounts(run),
        email=_text(frame, action.email) or "",
        password=_text(frame, action.password) or "",
        keep_logged_in=_yes(frame, action.keep_logged_in),
        fields=_fields(frame, action.fields),
    )
    _begin_session(frame, session)
    return session.user_id


@dataclass(frozen=True, eq=False)
class LogIn(Action):
    email: Value
    password: Value
    keep_logged_in: Value | None

    def result_type(self) -> ValueType:
        return _user_result()


def parse_log_in(options: Mapping[str, Any], b: Builder) -> LogIn | None:
    allowed = ("email", "password", "keep_logged_in")
    raw = _options(options, "log_in", b, allowed, ("email", "password"))
    if raw is None:
        return None
    vals = _values(
        b, "log_in", raw, {"email": t.TEXT, "password": t.TEXT, "keep_logged_in": t.YES_NO}
    )
    if vals is None:
        return None
    return LogIn(vals["email"], vals["password"], vals.get("keep_logged_in"))


def run_log_in(action: LogIn, frame: Frame) -> object:
    run = frame.run
    session = acc.log_in(
        run.tx,
        _accounts(run),
        email=_text(frame, action.email) or "",
        password=_text(frame, action.password) or "",
        keep_logged_in=_yes(frame, action.keep_logged_in),
    )
    _begin_session(frame, session)
    return session.user_id


# --- Log the user out / Log out other user's sessions ------------------------------------


@dataclass(frozen=True, eq=False)
class LogOut(Action):
    pass


def _flag(options: Mapping[str, Any], key: str, b: Builder) -> bool:
    if options[key] is not True:
        b.problem(f"write `{key}: true`", key)
        return False
    return True


def parse_log_out(options: Mapping[str, Any], b: Builder) -> LogOut | None:
    return LogOut() if _flag(options, "log_out", b) else None


def run_log_out(action: LogOut, frame: Frame) -> object:
    """Revoke the bearer token the caller sent; a caller logged in otherwise (the session
    cookie) has every session of theirs ended. Nobody logged in: nothing happens."""
    run = frame.run
    accounts = _accounts(run)
    user_id = run.actor.user_id
    if run.token is not None:
        acc.log_out(run.tx, accounts, run.token)
    elif user_id is not None:
        accounts.tokens.revoke_all_in(run.tx, user_id)
    else:
        return None
    run.tokens_changed = True
    run.changed()
    return None


@dataclass(frozen=True, eq=False)
class LogOutOthers(Action):
    pass


def parse_log_out_others(options: Mapping[str, Any], b: Builder) -> LogOutOthers | None:
    return LogOutOthers() if _flag(options, "log_out_other_sessions", b) else None


def run_log_out_others(action: LogOutOthers, frame: Frame) -> object:
    run = frame.run
    acc.log_out_other_sessions(run.tx, _accounts(run), run.actor.user_id, keep_token=run.token)
    run.tokens_changed = True
    return None


# --- Make changes to current user / Create an account for someone else --------------------


@dataclass(frozen=True, eq=False)
class ChangeCurrentUser(Action):
    fields: tuple[FieldChange, ...]

    def result_type(self) -> ValueType:
        return _user_result()


def parse_change_current_user(options: Mapping[str, Any], b: Builder) -> ChangeCurrentUser | None:
    raw = _options(options, "change_current_user", b, ("fields",), ("fields",))
    if raw is None:
        return None
    fields = _user_fields(b, "change_current_user", raw)
    return None if fields is None else ChangeCurrentUser(fields)


def run_change_current_user(action: ChangeCurrentUser, frame: Frame) -> object:
    run = frame.run
    accounts = _accounts(run)
    user_id = run.actor.user_id
    if user_id is None:
        raise acc.NotLoggedIn()
    current = run.reader.fetch_raw(accounts.user_type, user_id)
    vals = new_values(run.definition, action.fields, frame.evaluate, current)
    check_references(run.tx, run.things.backend, run.definition, vals)
    acc.change_current_user(run.tx, accounts, user_id, vals)
    run.changed()
    return user_id


@dataclass(frozen=True, eq=False)
class CreateAccount(Action):
    email: Value
    password: Value | None
    return_existing: bool
    fields: tuple[FieldChange, ...]

    def result_type(self) -> ValueType:
        return _user_result()


def parse_create_account(options: Mapping[str, Any], b: Builder) -> CreateAccount | None:
    allowed = ("email", "password", "fields", "return_existing")
    raw = _options(options, "create_account", b, allowed, ("email",))
    if raw is None:
        return None
    vals = _values(b, "create_account", raw, {"email": t.TEXT, "password": t.TEXT})
    fields = _user_fields(b, "create_account", raw)
    existing = raw.get("return_existing", False)
    if not isinstance(existing, bool):
        b.problem("return_existing is yes or no (true/false)", "create_account", "return_existing")
        return None
    if vals is None or fields is None:
        return None
    return CreateAccount(vals["email"], vals.get("password"), existing, fields)


def run_create_account(action: CreateAccount, frame: Frame) -> object:
    run = frame.run
    user_id = acc.create_account_for(
        run.tx,
        _accounts(run),
        email=_text(frame, action.email) or "",
        password=_text(frame, action.password),
        fields=_fields(frame, action.fields),
        created_by=run.actor.user_id,
        return_existing=action.return_existing,
    )
    run.changed()
    return user_id


# --- Update the user's credentials --------------------------------------------------------


@dataclass(frozen=True, eq=False)
class UpdateCredentials(Action):
    email: Value | None
    password: Value | None
    current_password: Value | None


def parse_update_credentials(options: Mapping[str, Any], b: Builder) -> UpdateCredentials | None:
    allowed = ("email", "password", "current_password")
    raw = _options(options, "update_credentials", b, allowed, ())
    if raw is None:
        return None
    types = {"email": t.TEXT, "password": t.TEXT, "current_password": t.TEXT}
    vals = _values(b, "update_credentials", raw, types)
    if vals is None:
        return None
    if "email" not in vals and "password" not in vals:
        b.problem("update_credentials needs `email:` or `password:`", "update_credentials")
        return None
    return UpdateCredentials(vals.get("email"), vals.get("password"), vals.get("current_password"))


def run_update_credentials(action: UpdateCredentials, frame: Frame) -> object:
    run = frame.run
    user_id = run.actor.user_id
    if user_id is None:
        raise acc.NotLoggedIn()
    acc.update_credentials(
        run.tx,
        _accounts(run),
        user_id,
        email=_text(frame, action.email),
        password=_text(frame, action.password),
        current_password=None
        if action.current_password is None
        else (_text(frame, action.current_password) or ""),
    )
    run.changed()
    return None


# --- Password reset -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ResetPasswordToken(Action):
    email: Value

    def result_type(self) -> ValueType:
        return t.TEXT


def parse_reset_token(options: Mapping[str, Any], b: Builder) -> ResetPasswordToken | None:
    raw = _options(options, "reset_password_token", b, ("email",), ("email",))
    vals = None if raw is None else _values(b, "reset_password_token", raw, {"email": t.TEXT})
    return None if vals is None else ResetPasswordToken(vals["email"])


def run_reset_token(action: ResetPasswordToken, frame: Frame) -> object:
    """The token (to put in an email), or empty when no user has this email."""
    run = frame.run
    return acc.password_reset_token(run.tx, _accounts(run), _text(frame, action.email) or "")


@dataclass(frozen=True, eq=False)
class ResetPassword(Action):
    token: Value
    password: Value

    def result_type(self) -> ValueType:
        return _user_result()


def parse_reset_password(options: Mapping[str, Any], b: Builder) -> ResetPassword | None:
    raw = _options(options, "reset_password", b, ("token", "password"), ("token", "password"))
    if raw is None:
        return None
    vals = _values(b, "reset_password", raw, {"token": t.TEXT, "password": t.TEXT})
    return None if vals is None else ResetPassword(vals["token"], vals["password"])


def run_reset_password(action: ResetPassword, frame: Frame) -> object:
    run = frame.run
    user_id = acc.reset_password(
        run.tx,
        _accounts(run),
        _text(frame, action.token) or "",
        _text(frame, action.password) or "",
    )
    run.tokens_changed = True
    run.changed()
    return user_id


# --- Send email ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SendEmail(Action):
    to: Value
    subject: Value
    body: Value
    cc: Value | None
    bcc: Value | None
    reply_to: Value | None
    sender_name: Value | None
    html: bool


_ADDRESS_KEYS = ("to", "cc", "bcc")


def parse_send_email(options: Mapping[str, Any], b: Builder) -> SendEmail | None:
    allowed = ("to", "subject", "body", "cc", "bcc", "reply_to", "sender_name", "html")
    raw = _options(options, "send_email", b, allowed, ("to", "subject", "body"))
    if raw is None:
        return None
    vals: dict[str, Value] = {}
    ok = True
    for name in _ADDRESS_KEYS:  # a text (commas between addresses) or a list of texts
        if name not in raw:
            continue
        expected = t.TEXTS if isinstance(raw[name], list) else None
        value = b.value(raw[name], expected, "send_email", name)
        if value is not None and value.type.kind not in t.TEXT_LIKE:
            b.problem("an address is a text (or a list of texts)", "send_email", name)
            value = None
        if value is None:
            ok = False
        else:
            vals[name] = value
    texts = _values(
        b,
        "send_email",
        raw,
        {"subject": t.TEXT, "body": t.TEXT, "reply_to": t.TEXT, "sender_name": t.TEXT},
    )
    html = raw.get("html", False)
    if not isinstance(html, bool):
        b.problem("html is yes or no (true/false)", "send_email", "html")
        ok = False
    if texts is None or not ok:
        return None
    return SendEmail(
        vals["to"],
        texts["subject"],
        texts["body"],
        vals.get("cc"),
        vals.get("bcc"),
        texts.get("reply_to"),
        texts.get("sender_name"),
        html,
    )


def _addresses(frame: Frame, value: Value | None) -> tuple[str, ...]:
    got = None if value is None else frame.evaluate(value)
    items = got if isinstance(got, list) else [got]
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out += [a.strip() for a in item.split(",") if a.strip()]
    return tuple(out)


def run_send_email(action: SendEmail, frame: Frame) -> object:
    """Queue the email in the run's transaction; the outbox row's id is not a result."""
    run = frame.run
    message = Message(
        to=_addresses(frame, action.to),
        subject=_text(frame, action.subject) or "",
        body=_text(frame, action.body) or "",
        html=action.html,
        sender_name=_text(frame, action.sender_name),
        reply_to=_text(frame, action.reply_to),
        cc=_addresses(frame, action.cc),
        bcc=_addresses(frame, action.bcc),
    )
    run_id = None if run.log is None else run.log.run_id
    outbox.queue(run.tx, run.engine.backend, message, run_id=run_id, now=run.engine.clock_ms())
    run.emails_queued = True
    return None


KINDS: list[ActionKind[Any]] = [
    ActionKind("sign_up", "Sign the user up", SignUp, parse_sign_up, run_sign_up),
    ActionKind("log_in", "Log the user in", LogIn, parse_log_in, run_log_in),
    ActionKind("log_out", "Log the user out", LogOut, parse_log_out, run_log_out),
    ActionKind(
        "log_out_other_sessions",
        "Log out other user's sessions",
        LogOutOthers,
        parse_log_out_others,
        run_log_out_others,
    ),
    ActionKind(
        "change_current_user",
        "Make changes to current user",
        ChangeCurrentUser,
        parse_change_current_user,
        run_change_current_user,
    ),
    ActionKind(
        "create_account",
        "Create an account for someone else",
        CreateAccount,
        parse_create_account,
        run_create_account,
    ),
    ActionKind(
        "update_credentials",
        "Update the user's credentials",
        UpdateCredentials,
        parse_update_credentials,
        run_update_credentials,
    ),
    ActionKind(
        "reset_password_token",
        "Generate a password reset token",
        ResetPasswordToken,
        parse_reset_token,
        run_reset_token,
    ),
    ActionKind(
        "reset_password", "Reset password", ResetPassword, parse_reset_password, run_reset_password
    ),
    ActionKind("send_email", "Send email", SendEmail, parse_send_email, run_send_email),
]
