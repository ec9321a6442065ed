"""Account actions (bubble-semantics.md §6.3), free of HTTP and of the workflow engine.

Every function runs inside a transaction the caller gives (a workflow run's), so an account
change commits or rolls back with the rest of the run: a user signed up by a run that then
fails does not exist, nor does the token it was given. The caller builds one `Accounts` per
environment (its ThingStore and UserTokenStore) and passes it with the transaction.

Rules:
- Emails are trimmed, lower-cased, must look like `name@host.tld` and are unique.
- Passwords follow a `PasswordPolicy`: by default at least 8 characters (at most 1,024); a
  number, a capital and a symbol can be required, as in Bubble's settings.
- Logging in with an unknown email, a user without a password or a wrong password fails with
  one error and one message (`WrongCredentials`), and an unknown email costs the same argon2
  verification as a known one, so answers and timing do not tell which emails have accounts.
- A session is a user token (`burble.auth.user_tokens`): 24 hours, or 12 months when the
  user stays logged in; `Session.expires_seconds` is what Bubble returns as `expires`.
- Password reset tokens: 32 random bytes, stored as a SHA-256 hash, single use, valid
  `RESET_VALIDITY_MS` (24 hours, Bubble's). Resetting a password ends every session of the
  user and voids their other reset tokens.

A function that raises has written nothing (but for `reset_password` on a deleted user, which
uses up the token), so a run may carry on or stop after an account error either way. Errors
are `AccountError`s (so `BadRequest`s: a 400 until the API layer maps them) but for
`UserNotFound` (a `ThingNotFound`). Field values (`fields`) are in stored form, as
`ThingStore` takes them.

Token revocations clear the token cache inside the transaction; a request of this process
that resolves the same token before the commit may cache it as valid for up to 5 seconds
(`UserTokenStore.forget()` after the commit closes that window).
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from burble.appdef.model import DataType, Field
from burble.auth.passwords import hash_password, verify_password
from burble.auth.user_tokens import UserTokenStore, validity_ms
from burble.auth.users import normalize_email
from burble.errors import BadRequest, Conflict, ThingNotFound
from burble.store.backend import Tx
from burble.store.things import NewThing, ThingStore
from burble.values import new_unique_id, now_ms

HOUR_MS = 3600 * 1000
RESET_VALIDITY_MS = 24 * HOUR_MS  # Bubble: reset tokens "expire after 24 h", single use
RESET_TOKEN_BYTES = 32
GENERATED_PASSWORD_BYTES = 24  # `create_account_for` without a password
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # as the Data API (things.service)
_SYMBOL = re.compile(r"[^a-zA-Z\d\s:]")  # Bubble's "non-alphanumeric character"


# --- errors -------------------------------------------------------------------------------


class AccountError(BadRequest):
    """An account action refused its input (a 400 unless the API layer maps it otherwise)."""


class NoUserType(AccountError):
    def __init__(self) -> None:
        super().__init__("This app has no User type: users cannot sign up or log in")


class InvalidEmail(AccountError):
    def __init__(self) -> None:
        super().__init__("Please enter a valid email address")


class EmailTaken(AccountError):
    def __init__(self) -> None:
        super().__init__("An account with this email already exists")


class PasswordTooWeak(AccountError):
    """The password breaks the policy; the message says which rules, e.g. "The password must
    have at least 8 characters and a number"."""


class WrongCredentials(AccountError):
    """Log in failed: unknown email, no password, or a wrong one — deliberately one message."""

    def __init__(self) -> None:
        super().__init__("We didn't find an account with those login credentials")


class WrongPassword(AccountError):
    """`update_credentials` was given a current password that is not the user's."""

    def __init__(self) -> None:
        super().__init__("The current password is not correct")


class ResetTokenInvalid(AccountError):
    """Unknown, already used or expired reset token (one message for all three)."""

    def __init__(self) -> None:
        super().__init__("This password reset link is invalid or has expired")


class NotLoggedIn(AccountError):
    def __init__(self) -> None:
        super().__init__("No user is logged in")


class UserNotFound(ThingNotFound):
    """Message as the Data API's: "Missing object of type user: object with id ... does not
    exist"."""

    def __init__(self, user_id: str) -> None:
        super().__init__("user", user_id)


# --- the password policy ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Bubble's password policy settings. `max_length` is Burble's: hashing a megabyte-long
    password would cost every log-in attempt."""

    min_length: int = 8
    require_number: bool = False
    require_capital: bool = False
    require_symbol: bool = False  # a character outside letters, digits, spaces and ':'
    max_length: int = 1024

    def check(self, password: object) -> str:
        """The password, or PasswordTooWeak naming every rule it breaks."""
        if not isinstance(password, str) or not password:
            raise PasswordTooWeak("The password must not be empty")
        if len(password) > self.max_length:
            raise PasswordTooWeak(f"The password must have at most {self.max_length} characters")
        missing = []
        if len(password) < self.min_length:
            missing.append(f"at least {self.min_length} characters")
        if self.require_number and not any(c.isdigit() for c in password):
            missing.append("a number")
        if self.require_capital and not any(c.isupper() for c in password):
            missing.append("a capital letter")
        if self.require_symbol and not _SYMBOL.search(password):
            missing.append("a character that is not a letter, a digit, a space or ':'")
        if missing:
            rules = missing[0] if len(missing) == 1 else ", ".join(missing[:-1])
            if len(missing) > 1:
                rules += " and " + missing[-1]
            raise PasswordTooWeak(f"The password must have {rules}")
        return password


# --- sessions and the environment ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in client: what *Sign the user up* / *Log the user in* return."""

    user_id: str
    token: str  # shown once; only its hash is stored
    token_id: str
    expires_seconds: int  # 86400 (24 hours) or 31536000 (12 months)

    def response(self) -> dict[str, object]:
        """Bubble's response keys (bubble-wire.md §8.4)."""
        return {"token": self.token, "user_id": self.user_id, "expires": self.expires_seconds}


@dataclass(frozen=True)
class Accounts:
    """One environment's users: its things (the User type's table) and its user tokens."""

    things: ThingStore
    tokens: UserTokenStore
    policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    clock: Callable[[], int] = now_ms
    reset_validity_ms: int = RESET_VALIDITY_MS

    def __post_init__(self) -> None:
        _dummy_hash()  # made now, so the first log-in with an unknown email is not slower

    @property
    def user_type(self) -> DataType:
        for dtype in self.things.definition.types.values():
            if dtype.is_user:
                return dtype
        raise NoUserType()

    def _users(self) -> str:
        return self.things.backend.dialect.table(self.user_type.table)

    def _resets(self) -> str:
        return self.things.backend.dialect.table("burble_password_resets")


@functools.cache
def _dummy_hash() -> str:
    """What an unknown email's password is checked against, so it takes as long."""
    return hash_password(secrets.token_urlsafe(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _email(raw: object) -> str:
    if not isinstance(raw, str) or not _EMAIL.match(raw.strip()):
        raise InvalidEmail()
    return normalize_email(raw)


def _session(tx: Tx, accounts: Accounts, user_id: str, keep_logged_in: bool) -> Session:
    info, token = accounts.tokens.create_in(tx, user_id, keep_logged_in)
    return Session(user_id, token, info.id, validity_ms(keep_logged_in) // 1000)


def _user_by_email(tx: Tx, accounts: Accounts, email: str) -> tuple[str, str | None] | None:
    """(id, password hash) of the user with this (normalized) email."""
    row = tx.fetchone(
        f"SELECT _id, _password_hash FROM {accounts._users()} WHERE _email = ?", [email]
    )
    return None if row is None else (str(row[0]), row[1])


def _password_hash_of(tx: Tx, accounts: Accounts, user_id: str) -> str | None:
    row = tx.fetchone(f"SELECT _password_hash FROM {accounts._users()} WHERE _id = ?", [user_id])
    if row is None:
        raise UserNotFound(user_id)
    return None if row[0] is None else str(row[0])


def _check_fields(dtype: DataType, fields: Mapping[Field, object]) -> None:
    for f in fields:
        if dtype.by_name.get(f.name) != f:
            raise ValueError(f"field {f.name!r} is not a field of the {dtype.name} type")


def _insert_user(
    tx: Tx,
    accounts: Accounts,
    email: str,
    password_hash: str,
    fields: Mapping[Field, object],
    created_by: str | None,
) -> str:
    """A new user, as the Data API creates one: defaults for the fields not given."""
    dtype = accounts.user_type
    _check_fields(dtype, fields)
    if _user_by_email(tx, accounts, email) is not None:
        raise EmailTaken()  # checked first: on PostgreSQL a unique violation aborts `tx`
    vals = dict(fields)
    for f in dtype.fields:
        if f not in vals and f.default is not None:
            vals[f] = f.default
    now = accounts.clock()
    user_id = new_unique_id(now)
    thing = NewThing(
        id=user_id,
        created_date=now,
        created_by=user_id if created_by is None else created_by,
        values=vals,
        email=email,
        password_hash=password_hash,
    )
    try:
        accounts.things.insert_many(tx, dtype, [thing])
    except Conflict:
        raise EmailTaken() from None  # a concurrent sign-up took it
    return user_id


# --- the actions --------------------------------------------------------------------------


def sign_up(
    tx: Tx,
    accounts: Accounts,
    *,
    email: str,
    password: str,
    keep_logged_in: bool = False,
    fields: Mapping[Field, object] | None = None,
) -> Session:
    """*Sign the user up*: a new user (its `Created By` is itself), logged in at once.

    `fields`: values of the User type's fields, in stored form (as `ThingStore` takes them);
    the others get their defaults. Raises InvalidEmail, PasswordTooWeak, EmailTaken,
    NoUserType."""
    address = _email(email)
    accounts.policy.check(password)
    user_id = _insert_user(tx, accounts, address, hash_password(password), fields or {}, None)
    return _session(tx, accounts, user_id, keep_logged_in)


def log_in(
    tx: Tx, accounts: Accounts, *, email: str, password: str, keep_logged_in: bool = False
) -> Session:
    """*Log the user in*: a new session. WrongCredentials whatever was wrong."""
    found = None
    if isinstance(email, str) and _EMAIL.match(email.strip()):
        found = _user_by_email(tx, accounts, normalize_email(email))
    if found is None or found[1] is None:
        verify_password(_dummy_hash(), password if isinstance(password, str) else "")
        raise WrongCredentials()
    if not isinstance(password, str) or not verify_password(found[1], password):
        raise WrongCredentials()
    return _session(tx, accounts, found[0], keep_logged_in)


def log_out(tx: Tx, accounts: Accounts, token: str) -> bool:
    """*Log the user out*: revoke the token the client sent. False if it was not active."""
    return accounts.tokens.revoke_token_in(tx, token)


def log_out_other_sessions(
    tx: Tx,
    accounts: Accounts,
    user_id: str | None,
    *,
    keep_token_id: str | None = None,
    keep_token: str | None = None,
) -> int:
    """*Log out other user's sessions*: revoke every token of the user except the current
    one, named by its id or by the clear token the client sent (neither: revoke all).
    Returns how many were active. NotLoggedIn when `user_id` is None."""
    if user_id is None:
        raise NotLoggedIn()
    if keep_token_id is None and keep_token is not None:
        keep_token_id = accounts.tokens.token_id(tx, keep_token)
    return accounts.tokens.revoke_others_in(tx, user_id, keep_token_id)


def change_current_user(
    tx: Tx, accounts: Accounts, user_id: str | None, fields: Mapping[Field, object]
) -> None:
    """*Make changes to current user*: set these fields (stored form); the email and the
    password are not fields, so they cannot change here. NotLoggedIn, UserNotFound."""
    if user_id is None:
        raise NotLoggedIn()
    dtype = accounts.user_type
    _check_fields(dtype, fields)
    if not accounts.things.update(tx, dtype, user_id, fields, accounts.clock()):
        raise UserNotFound(user_id)


def create_account_for(
    tx: Tx,
    accounts: Accounts,
    *,
    email: str,
    password: str | None = None,
    fields: Mapping[Field, object] | None = None,
    created_by: str | None = None,
    return_existing: bool = False,
) -> str:
    """*Create an account for someone else*: a user who is not logged in; returns its id.

    Without a password the user gets a random one nobody knows (they log in after a password
    reset). `created_by`: who runs the action (None: the new user itself). An existing email
    raises EmailTaken, or with `return_existing` (Bubble's *Return the user if the account
    already exists*) returns that user, unchanged."""
    address = _email(email)
    if return_existing:
        found = _user_by_email(tx, accounts, address)
        if found is not None:
            return found[0]
    if password is None:
        password = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    else:
        accounts.policy.check(password)
    return _insert_user(tx, accounts, address, hash_password(password), fields or {}, created_by)


def update_credentials(
    tx: Tx,
    accounts: Accounts,
    user_id: str,
    *,
    email: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
) -> None:
    """*Update the user's credentials*: a new email and/or password.

    When `current_password` is given it must be the user's (WrongPassword otherwise): the
    engine passes it for *Update the user's credentials* and omits it for the admin actions
    (*Change the email for another user*, *Assign a temp password*). A changed email is
    unconfirmed again. Existing sessions stay. Raises UserNotFound, InvalidEmail,
    EmailTaken, PasswordTooWeak, WrongPassword."""
    current_hash = _password_hash_of(tx, accounts, user_id)
    if current_password is not None and (
        current_hash is None or not verify_password(current_hash, current_password)
    ):
        raise WrongPassword()
    sets: list[str] = []
    params: list[object] = []
    if email is not None:
        address = _email(email)
        owner = _user_by_email(tx, accounts, address)
        if owner is not None and owner[0] != user_id:
            raise EmailTaken()
        if owner is None:  # a new address: not confirmed yet
            sets += ["_email = ?", "_email_confirmed = ?"]
            params += [address, False]
    if password is not None:
        sets.append("_password_hash = ?")
        params.append(hash_password(accounts.policy.check(password)))
    if not sets:
        return
    sets.append("_modified_date = ?")
    params += [accounts.clock(), user_id]
    try:
        with accounts.things.watching(tx, accounts.user_type, user_id):  # database triggers
            tx.execute(f"UPDATE {accounts._users()} SET {', '.join(sets)} WHERE _id = ?", params)
    except Conflict:
        raise EmailTaken() from None


def password_reset_token(tx: Tx, accounts: Accounts, email: str) -> str | None:
    """*Send password reset email* (or *Generate reset token only*): a single-use token for
    the user with this email, valid `accounts.reset_validity_ms`; None when there is no such
    user (say nothing different to the client). Earlier tokens stay valid until used."""
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        return None
    found = _user_by_email(tx, accounts, normalize_email(email))
    if found is None:
        return None
    token = secrets.token_urlsafe(RESET_TOKEN_BYTES)
    now = accounts.clock()
    tx.execute(
        f"INSERT INTO {accounts._resets()} (id, user_id, token_hash, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [new_unique_id(now), found[0], _digest(token), now, now + accounts.reset_validity_ms],
    )
    return token


def reset_password(tx: Tx, accounts: Accounts, token: str, new_password: str) -> str:
    """*Reset password*: set the password of the token's user and return the user's id.

    The token is used up, the user's other reset tokens too, and every session of the user
    ends. ResetTokenInvalid (unknown, used, expired, or its user deleted), PasswordTooWeak
    (the token stays usable, so the user can try another password)."""
    now = accounts.clock()
    row = tx.fetchone(
        f"SELECT id, user_id FROM {accounts._resets()} "
        "WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        [_digest(token) if isinstance(token, str) else "", now],
    )
    if row is None:
        raise ResetTokenInvalid()
    reset_id, user_id = str(row[0]), str(row[1])
    accounts.policy.check(new_password)
    claimed = tx.execute(
        f"UPDATE {accounts._resets()} SET used_at = ? WHERE id = ? AND used_at IS NULL",
        [now, reset_id],
    )
    if claimed != 1:  # used meanwhile by a concurrent reset
        raise ResetTokenInvalid()
    with accounts.things.watching(tx, accounts.user_type, user_id):
        changed = tx.execute(
            f"UPDATE {accounts._users()} SET _password_hash = ?, _modified_date = ? WHERE _id = ?",
            [hash_password(new_password), now, user_id],
        )
    if changed != 1:  # the user was deleted: only the (now useless) token was used up
        raise ResetTokenInvalid()
    tx.execute(
        f"UPDATE {accounts._resets()} SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
        [now, user_id],
    )
    accounts.tokens.revoke_all_in(tx, user_id)
    return user_id
