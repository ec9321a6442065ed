"""Account actions (burble.auth.accounts) on every backend, each inside a transaction the
test opens — as a workflow run would — with an injected clock."""

from __future__ import annotations

import time

import pytest

from burble.appdef.load import parse_app
from burble.auth import accounts as acc
from burble.auth.accounts import (
    Accounts,
    EmailTaken,
    InvalidEmail,
    NotLoggedIn,
    PasswordPolicy,
    PasswordTooWeak,
    ResetTokenInvalid,
    Session,
    UserNotFound,
    WrongCredentials,
    WrongPassword,
)
from burble.auth.actor import ADMIN
from burble.auth.passwords import verify_password
from burble.auth.user_tokens import DAY_MS, HOUR_MS, UserTokenStore
from burble.errors import BadRequest
from burble.runtime import Databases, Environment, Version
from tests.auth.support import START, Clock, new_user

PASSWORD = "correct horse"


class Rollback(Exception):
    """Raised inside a transaction to roll it back."""


@pytest.fixture
def env(databases: Databases, example_text: str) -> Environment:
    return Environment.open(Version.TEST, databases.test, parse_app(example_text))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(env: Environment, clock: Clock) -> UserTokenStore:
    return UserTokenStore(env.backend, clock)


@pytest.fixture
def accounts(env: Environment, tokens: UserTokenStore, clock: Clock) -> Accounts:
    return Accounts(env.things.store, tokens, clock=clock)


def users_table(env: Environment) -> str:
    return env.definition.types["User"].table


def resolve(env: Environment, tokens: UserTokenStore, token: str) -> str | None:
    tokens.forget()
    return tokens.resolve(token, users_table(env))


def user_row(env: Environment, user_id: str) -> tuple[object, ...] | None:
    table = env.backend.dialect.table(users_table(env))
    with env.backend.read() as tx:
        return tx.fetchone(
            f"SELECT _email, _password_hash, _email_confirmed, _created_by, f_name_text, "
            f"_modified_date FROM {table} WHERE _id = ?",
            [user_id],
        )


def sign_up(
    env: Environment, accounts: Accounts, email: str = "Ann@Example.com", **kw: object
) -> Session:
    with env.backend.write() as tx:
        return acc.sign_up(tx, accounts, email=email, password=PASSWORD, **kw)  # type: ignore[arg-type]


def log_in(env: Environment, accounts: Accounts, email: str, password: str, **kw: bool) -> Session:
    with env.backend.write() as tx:
        return acc.log_in(tx, accounts, email=email, password=password, **kw)


def count(env: Environment, table: str) -> int:
    with env.backend.read() as tx:
        row = tx.fetchone(f"SELECT COUNT(*) FROM {env.backend.dialect.table(table)}")
    assert row is not None
    return int(row[0])


# --- sign up ------------------------------------------------------------------------------


def test_sign_up_creates_the_user_and_logs_them_in(
    env: Environment, accounts: Accounts, tokens: UserTokenStore
) -> None:
    name = env.definition.types["User"].by_name["name"]
    session = sign_up(env, accounts, fields={name: "Ann"})
    assert session.expires_seconds == 86400
    assert session.response() == {
        "token": session.token,
        "user_id": session.user_id,
        "expires": 86400,
    }
    assert resolve(env, tokens, session.token) == session.user_id
    row = user_row(env, session.user_id)
    assert row is not None
    email, password_hash, confirmed, created_by, stored_name, modified = row
    assert email == "ann@example.com" and not confirmed and stored_name == "Ann"
    assert isinstance(password_hash, str) and verify_password(password_hash, PASSWORD)
    assert created_by == session.user_id and modified == START
    assert PASSWORD not in repr(row)
    # The Data API sees the same user.
    user = env.things.get(ADMIN, env.definition.types["User"], session.user_id)
    assert user["authentication"]["email"]["email"] == "ann@example.com"


def test_keep_logged_in_gives_12_months(
    env: Environment, accounts: Accounts, tokens: UserTokenStore, clock: Clock
) -> None:
    short = sign_up(env, accounts)
    long = log_in(env, accounts, "ann@example.com", PASSWORD, keep_logged_in=True)
    assert (short.expires_seconds, long.expires_seconds) == (86400, 31536000)
    assert sorted(t.expires_at for t in tokens.of_user(short.user_id)) == [
        START + DAY_MS,
        START + 365 * DAY_MS,
    ]
    clock.advance(DAY_MS)
    assert resolve(env, tokens, short.token) is None
    assert resolve(env, tokens, long.token) == short.user_id


def test_emails_are_checked_and_unique_in_any_case(env: Environment, accounts: Accounts) -> None:
    sign_up(env, accounts, "ann@example.com")
    with pytest.raises(EmailTaken) as taken:
        sign_up(env, accounts, "  ANN@example.COM ")
    assert taken.value.message == "An account with this email already exists"
    for bad in ("ann", "ann@example", "a b@example.com", ""):
        with pytest.raises(InvalidEmail) as invalid:
            sign_up(env, accounts, bad)
        assert invalid.value.message == "Please enter a valid email address"
    assert count(env, users_table(env)) == 1
    assert isinstance(taken.value, BadRequest)  # a 400 until the API layer maps it


def test_the_password_policy(env: Environment, accounts: Accounts) -> None:
    with env.backend.write() as tx, pytest.raises(PasswordTooWeak) as short:
        acc.sign_up(tx, accounts, email="bo@example.com", password="short")
    assert short.value.message == "The password must have at least 8 characters"
    with env.backend.write() as tx, pytest.raises(PasswordTooWeak) as empty:
        acc.sign_up(tx, accounts, email="bo@example.com", password="")
    assert empty.value.message == "The password must not be empty"
    assert count(env, users_table(env)) == 0
    strict = PasswordPolicy(
        min_length=10, require_number=True, require_capital=True, require_symbol=True
    )
    with pytest.raises(PasswordTooWeak) as weak:
        strict.check("abc")
    assert weak.value.message == (
        "The password must have at least 10 characters, a number, a capital letter and a "
        "character that is not a letter, a digit, a space or ':'"
    )
    with pytest.raises(PasswordTooWeak, match="a number and a capital letter"):
        strict.check("abcdefghij!")
    with pytest.raises(PasswordTooWeak, match="is not a letter"):
        strict.check("Abcdefghij1: ")  # ':' and spaces are not symbols (Bubble's rule)
    assert strict.check("Abcdefghij1!") == "Abcdefghij1!"
    with pytest.raises(PasswordTooWeak, match="at most 1024"):
        PasswordPolicy().check("x" * 1025)


# --- log in / log out ---------------------------------------------------------------------


def test_log_in_right_and_wrong(
    env: Environment, accounts: Accounts, tokens: UserTokenStore
) -> None:
    ann = sign_up(env, accounts).user_id
    session = log_in(env, accounts, " ANN@example.com", PASSWORD)
    assert session.user_id == ann and session.expires_seconds == 86400
    assert resolve(env, tokens, session.token) == ann
    new_user(env, "nopass@example.com")  # created without a password: cannot log in
    messages = set()
    for email, password in [
        ("ann@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("nopass@example.com", ""),
        ("nopass@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ]:
        with pytest.raises(WrongCredentials) as failed:
            log_in(env, accounts, email, password)
        messages.add(failed.value.message)
    assert messages == {"We didn't find an account with those login credentials"}
    assert len(tokens.of_user(ann)) == 2  # the failures issued nothing


def test_unknown_emails_cost_a_password_check_too(env: Environment, accounts: Accounts) -> None:
    """No shortcut for an unknown email: it pays an argon2 verification like a known one
    (a lookup alone would take about a hundredth of that)."""
    sign_up(env, accounts)

    def fastest(email: str) -> float:
        times = []
        for _ in range(3):
            began = time.perf_counter()
            with pytest.raises(WrongCredentials):
                log_in(env, accounts, email, "wrong password")
            times.append(time.perf_counter() - began)
        return min(times)

    known, unknown = fastest("ann@example.com"), fastest("nobody@example.com")
    assert unknown > 0.2 * known, (unknown, known)


def test_log_out_revokes_the_token(
    env: Environment, accounts: Accounts, tokens: UserTokenStore
) -> None:
    first = sign_up(env, accounts)
    second = log_in(env, accounts, "ann@example.com", PASSWORD)
    with env.backend.write() as tx:
        assert acc.log_out(tx, accounts, first.token)
    assert resolve(env, tokens, first.token) is None
    assert resolve(env, tokens, second.token) == first.user_id
    with env.backend.write() as tx:
        assert not acc.log_out(tx, accounts, first.token)  # already out
        assert not acc.log_out(tx, accounts, "not a token")


def test_log_out_other_sessions(
    env: Environment, accounts: Accounts, tokens: UserTokenStore
) -> None:
    sessions = [sign_up(env, accounts)]
    sessions += [log_in(env, accounts, "ann@example.com", PASSWORD) for _ in range(3)]
    bo = sign_up(env, accounts, "bo@example.com")
    ann = sessions[0].user_id
    with env.backend.write() as tx:
        kept = sessions[1]
        assert acc.log_out_other_sessions(tx, accounts, ann, keep_token_id=kept.token_id) == 3
    assert [resolve(env, tokens, s.token) for s in sessions] == [None, ann, None, None]
    assert resolve(env, tokens, bo.token) == bo.user_id  # another user's sessions stay
    again = log_in(env, accounts, "ann@example.com", PASSWORD)
    with env.backend.write() as tx:  # the current session named by its clear token
        assert acc.log_out_other_sessions(tx, accounts, ann, keep_token=again.token) == 1
    assert resolve(env, tokens, again.token) == ann
    assert resolve(env, tokens, sessions[1].token) is None
    with env.backend.write() as tx, pytest.raises(NotLoggedIn):
        acc.log_out_other_sessions(tx, accounts, None)


# --- changing users -----------------------------------------------------------------------


def test_change_current_user(env: Environment, accounts: Accounts, clock: Clock) -> None:
    ann = sign_up(env, accounts).user_id
    user_type = env.definition.types["User"]
    clock.advance(5)
    with env.backend.write() as tx:
        acc.change_current_user(tx, accounts, ann, {user_type.by_name["name"]: "Ann B."})
    row = user_row(env, ann)
    assert row is not None and row[4] == "Ann B." and row[5] == START + 5
    with env.backend.write() as tx, pytest.raises(NotLoggedIn) as none:
        acc.change_current_user(tx, accounts, None, {})
    assert none.value.message == "No user is logged in"
    with env.backend.write() as tx, pytest.raises(UserNotFound) as missing:
        acc.change_current_user(tx, accounts, "1x2", {user_type.by_name["name"]: "X"})
    assert missing.value.message == (
        "Missing object of type user: object with id 1x2 does not exist"
    )
    other = env.definition.types["Booking"].by_name["nights"]
    with env.backend.write() as tx, pytest.raises(ValueError, match="not a field of the User"):
        acc.change_current_user(tx, accounts, ann, {other: 2})


def test_create_account_for_someone_else(
    env: Environment, accounts: Accounts, tokens: UserTokenStore
) -> None:
    admin = sign_up(env, accounts, "admin@example.com").user_id
    name = env.definition.types["User"].by_name["name"]
    with env.backend.write() as tx:
        bo = acc.create_account_for(
            tx, accounts, email="Bo@Example.com", fields={name: "Bo"}, created_by=admin
        )
        cy = acc.create_account_for(tx, accounts, email="cy@example.com", password=PASSWORD)
    assert tokens.of_user(bo) == []  # not logged in
    row = user_row(env, bo)
    assert row is not None and row[0] == "bo@example.com" and row[3] == admin and row[4] == "Bo"
    assert isinstance(row[1], str)  # a random password nobody knows
    assert log_in(env, accounts, "cy@example.com", PASSWORD).user_id == cy
    with env.backend.write() as tx, pytest.raises(EmailTaken):
        acc.create_account_for(tx, accounts, email="BO@example.com")
    with env.backend.write() as tx:
        again = acc.create_account_for(
            tx, accounts, email="bo@example.com", fields={name: "X"}, return_existing=True
        )
    assert again == bo and (user_row(env, bo) or ())[4] == "Bo"  # returned unchanged
    with env.backend.write() as tx, pytest.raises(PasswordTooWeak):
        acc.create_account_for(tx, accounts, email="dee@example.com", password="short")


def test_update_credentials(env: Environment, accounts: Accounts, clock: Clock) -> None:
    ann = sign_up(env, accounts).user_id
    sign_up(env, accounts, "bo@example.com")
    before = user_row(env, ann)
    for kw, error in [
        ({"password": "new password", "current_password": "wrong"}, WrongPassword),
        ({"email": "bo@EXAMPLE.com"}, EmailTaken),
        ({"email": "nope"}, InvalidEmail),
        ({"password": "short"}, PasswordTooWeak),
        ({"email": "ann2@example.com", "password": "short"}, PasswordTooWeak),
    ]:
        with env.backend.write() as tx, pytest.raises(error):
            acc.update_credentials(tx, accounts, ann, **kw)  # type: ignore[arg-type]
    assert user_row(env, ann) == before  # a refused change changes nothing
    with pytest.raises(WrongPassword) as wrong, env.backend.write() as tx:
        acc.update_credentials(tx, accounts, ann, email="x@example.com", current_password="")
    assert wrong.value.message == "The current password is not correct"

    with env.backend.write() as tx:  # confirm the email, to see a new one is unconfirmed
        table = env.backend.dialect.table(users_table(env))
        tx.execute(f"UPDATE {table} SET _email_confirmed = ? WHERE _id = ?", [True, ann])
    clock.advance(7)
    with env.backend.write() as tx:
        acc.update_credentials(
            tx,
            accounts,
            ann,
            email=" Ann.New@Example.com",
            password="new password",
            current_password=PASSWORD,
        )
    row = user_row(env, ann)
    assert row is not None and row[0] == "ann.new@example.com" and not row[2]
    assert row[5] == START + 7
    with pytest.raises(WrongCredentials):
        log_in(env, accounts, "ann.new@example.com", PASSWORD)
    assert log_in(env, accounts, "ann.new@example.com", "new password").user_id == ann
    # Without a current password (admin actions) no check; the same email is no change.
    with env.backend.write() as tx:
        acc.update_credentials(tx, accounts, ann, email="ANN.NEW@example.com", password="third one")
        acc.update_credentials(tx, accounts, ann)  # nothing to change
    assert log_in(env, accounts, "ann.new@example.com", "third one").user_id == ann
    with env.backend.write() as tx, pytest.raises(UserNotFound):
        acc.update_credentials(tx, accounts, "1x1", password="whatever1")


# --- password reset -----------------------------------------------------------------------


def reset_token(env: Environment, accounts: Accounts, email: str) -> str | None:
    with env.backend.write() as tx:
        return acc.password_reset_token(tx, accounts, email)


def reset(env: Environment, accounts: Accounts, token: str, password: str) -> str:
    with env.backend.write() as tx:
        return acc.reset_password(tx, accounts, token, password)


def test_reset_token_lifecycle(
    env: Environment, accounts: Accounts, tokens: UserTokenStore, clock: Clock
) -> None:
    session = sign_up(env, accounts)
    ann = session.user_id
    assert reset_token(env, accounts, "nobody@example.com") is None
    assert reset_token(env, accounts, "not an email") is None
    token = reset_token(env, accounts, " ANN@example.com")
    other = reset_token(env, accounts, "ann@example.com")
    assert token and other and token != other
    with env.backend.read() as tx:  # stored hashed only
        rows = tx.fetchall(f"SELECT * FROM {env.backend.dialect.table('burble_password_resets')}")
    assert len(rows) == 2 and token not in repr(rows)

    with pytest.raises(PasswordTooWeak):
        reset(env, accounts, token, "short")  # the token stays usable
    assert reset(env, accounts, token, "brand new password") == ann
    assert log_in(env, accounts, "ann@example.com", "brand new password").user_id == ann
    with pytest.raises(WrongCredentials):
        log_in(env, accounts, "ann@example.com", PASSWORD)
    assert resolve(env, tokens, session.token) is None  # every earlier session ended
    for used in (token, other, "not a token"):  # single use; the other token voided too
        with pytest.raises(ResetTokenInvalid) as invalid:
            reset(env, accounts, used, "another password")
    assert invalid.value.message == "This password reset link is invalid or has expired"


def test_reset_tokens_expire_after_24_hours(
    env: Environment, accounts: Accounts, clock: Clock
) -> None:
    sign_up(env, accounts)
    token = reset_token(env, accounts, "ann@example.com")
    late = reset_token(env, accounts, "ann@example.com")
    assert token and late
    clock.advance(24 * HOUR_MS - 1)
    assert reset(env, accounts, token, "in time password")
    clock.advance(1)
    with pytest.raises(ResetTokenInvalid):
        reset(env, accounts, late, "too late password")
    short = Accounts(accounts.things, accounts.tokens, clock=clock, reset_validity_ms=HOUR_MS)
    token = reset_token(env, short, "ann@example.com")
    assert token
    clock.advance(HOUR_MS)
    with pytest.raises(ResetTokenInvalid):
        reset(env, short, token, "too late password")


# --- everything rolls back with the run ---------------------------------------------------


def test_a_rolled_back_transaction_leaves_nothing(
    env: Environment, accounts: Accounts, tokens: UserTokenStore
) -> None:
    ann = sign_up(env, accounts)
    before = user_row(env, ann.user_id)
    counts = {t: count(env, t) for t in ("burble_user_tokens", "burble_password_resets")}
    with pytest.raises(Rollback), env.backend.write() as tx:
        bo = acc.sign_up(tx, accounts, email="bo@example.com", password=PASSWORD)
        acc.log_in(tx, accounts, email="ann@example.com", password=PASSWORD)
        acc.create_account_for(tx, accounts, email="cy@example.com")
        acc.log_out(tx, accounts, ann.token)
        acc.update_credentials(tx, accounts, ann.user_id, email="a2@example.com", password="x" * 9)
        token = acc.password_reset_token(tx, accounts, "bo@example.com")
        assert token is not None
        acc.reset_password(tx, accounts, token, "bo's new password")
        raise Rollback
    assert count(env, users_table(env)) == 1
    assert user_row(env, ann.user_id) == before
    assert {t: count(env, t) for t in counts} == counts
    assert resolve(env, tokens, ann.token) == ann.user_id  # the log out did not happen
    assert resolve(env, tokens, bo.token) is None
    with pytest.raises(WrongCredentials):
        log_in(env, accounts, "bo@example.com", PASSWORD)


def test_environments_without_a_user_type(databases: Databases) -> None:
    from burble.appdef.model import AppDefinition

    empty = Environment.open(Version.LIVE, databases.live, AppDefinition.empty())
    accounts = Accounts(empty.things.store, UserTokenStore(empty.backend))
    with empty.backend.write() as tx, pytest.raises(acc.NoUserType) as none:
        acc.sign_up(tx, accounts, email="a@example.com", password=PASSWORD)
    assert none.value.message == "This app has no User type: users cannot sign up or log in"
