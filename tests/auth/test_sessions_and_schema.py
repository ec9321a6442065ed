"""The session cookie's `Set-Cookie` headers, and the User type's `_email_confirmed` column
arriving in databases created before it existed."""

from __future__ import annotations

from burble.appdef.load import parse_app
from burble.auth.sessions import (
    DEVELOPMENT_COOKIE,
    LIVE_COOKIE,
    clear_session_cookie,
    cookie_name,
    session_cookie_headers,
)
from burble.runtime import Databases
from burble.store import schema
from tests.api.support import BASE, create, get
from tests.conftest import make_api

EXPIRES = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def test_session_cookie_attributes() -> None:
    assert cookie_name(development=False) == LIVE_COOKIE == "burble_session"
    assert cookie_name(development=True) == DEVELOPMENT_COOKIE == "burble_session_test"
    [(name, value)] = session_cookie_headers("tok-EN_1", EXPIRES, False, development=False)
    assert name == "set-cookie"
    assert value == (
        "burble_session=tok-EN_1; Expires=Thu, 01 Jan 2026 00:00:00 GMT; Path=/; HttpOnly; "
        "SameSite=Lax"
    )
    [(_, secure)] = session_cookie_headers("t", EXPIRES, True, development=True)
    assert secure.startswith("burble_session_test=t; ")
    assert secure.endswith("; Secure")


def test_clearing_the_session_cookie() -> None:
    [(name, value)] = clear_session_cookie(True, development=True)
    assert name == "set-cookie"
    assert value == (
        "burble_session_test=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; "
        "HttpOnly; SameSite=Lax; Secure"
    )
    [(_, live)] = clear_session_cookie(False, development=False)
    assert live.startswith("burble_session=; ") and "Secure" not in live


def test_schema_sync_adds_email_confirmed_to_an_existing_user_table(
    databases: Databases, example_text: str
) -> None:
    api = make_api(databases, example_text)
    uid = create(api, "user", {"email": "old@example.com"})
    backend = databases.test
    d = backend.dialect
    with backend.write() as tx:  # as a database made before the column existed
        tx.execute(f"ALTER TABLE {d.table('t_user')} DROP COLUMN {d.quote('_email_confirmed')}")
    with backend.read() as tx:
        assert "_email_confirmed" not in d.columns(tx, "t_user")
    schema.sync(backend, parse_app(example_text))
    with backend.read() as tx:
        assert "_email_confirmed" in d.columns(tx, "t_user")
    schema.sync(backend, parse_app(example_text))  # idempotent
    api = make_api(databases, example_text)
    assert get(api, "user", uid, base=BASE)["authentication"]["email"] == {
        "email": "old@example.com",
        "email_confirmed": False,
    }
