"""User tokens (burble.auth.user_tokens) on every backend: issue, resolve, expire, touch,
revoke, and the in-process cache's bound — with an injected clock, never sleeping."""

from __future__ import annotations

import hashlib
import re

import pytest

from burble.appdef.load import parse_app
from burble.auth.user_tokens import (
    CACHE_MS,
    DAY_MS,
    HOUR_MS,
    IDLE_MS,
    LONG_MS,
    SHORT_MS,
    TOUCH_MS,
    UserTokenStore,
)
from burble.errors import TokenNotFound
from burble.runtime import Databases, Environment, Version
from tests.auth.support import START, Clock, CountingBackend, new_user

USERS = "t_user"


@pytest.fixture
def env(databases: Databases, example_text: str) -> Environment:
    return Environment.open(Version.TEST, databases.test, parse_app(example_text))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend(env: Environment) -> CountingBackend:
    return CountingBackend(env.backend)


@pytest.fixture
def store(backend: CountingBackend, clock: Clock) -> UserTokenStore:
    return UserTokenStore(backend, clock)


@pytest.fixture
def ann(env: Environment) -> str:
    return new_user(env, "ann@example.com", "secret")


def stored_row(env: Environment, token_id: str) -> tuple[object, ...]:
    table = env.backend.dialect.table("burble_user_tokens")
    with env.backend.read() as tx:
        row = tx.fetchone(
            f"SELECT token_hash, last_used_at, revoked_at FROM {table} WHERE id = ?", [token_id]
        )
    assert row is not None
    return row


def test_a_token_is_random_opaque_and_stored_only_as_a_hash(
    env: Environment, store: UserTokenStore, ann: str
) -> None:
    info, token = store.create(ann)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", token)  # 32 random bytes, cookie-safe
    assert store.create(ann)[1] != token
    assert info.user_id == ann and info.created_at == START and info.revoked_at is None
    assert stored_row(env, info.id)[0] == hashlib.sha256(token.encode()).hexdigest()
    table = env.backend.dialect.table("burble_user_tokens")
    with env.backend.read() as tx:
        rows = tx.fetchall(f"SELECT * FROM {table}")
    assert token not in repr(rows)
    assert store.resolve(token, USERS) == ann


def test_unknown_tokens_and_environments_without_users(store: UserTokenStore, ann: str) -> None:
    _, token = store.create(ann)
    assert store.resolve("nope", USERS) is None
    assert store.resolve(token + "x", USERS) is None
    assert store.resolve(token, None) is None  # no User type: no users, no user tokens


def test_24_hours_without_keep_logged_in(store: UserTokenStore, clock: Clock, ann: str) -> None:
    info, token = store.create(ann)
    assert info.expires_at == START + SHORT_MS == START + 24 * HOUR_MS
    assert not info.keep_logged_in
    clock.advance(SHORT_MS - 1)
    assert store.resolve(token, USERS) == ann
    clock.advance(1)
    assert store.resolve(token, USERS) is None
    clock.advance(DAY_MS)
    assert store.resolve(token, USERS) is None


def test_12_months_with_keep_logged_in_if_used_every_month(
    store: UserTokenStore, clock: Clock, ann: str
) -> None:
    info, token = store.create(ann, keep_logged_in=True)
    assert info.keep_logged_in
    assert info.expires_at == START + LONG_MS == START + 365 * DAY_MS
    while clock.now + 29 * DAY_MS < START + LONG_MS:
        clock.advance(29 * DAY_MS)
        assert store.resolve(token, USERS) == ann, (clock.now - START) // DAY_MS
    clock.now = START + LONG_MS - 1
    assert store.resolve(token, USERS) == ann
    clock.advance(1)
    assert store.resolve(token, USERS) is None


def test_30_days_unused_expires_and_each_use_extends(
    env: Environment, store: UserTokenStore, clock: Clock, ann: str
) -> None:
    _, idle = store.create(ann, keep_logged_in=True)
    _, idle_too = store.create(ann, keep_logged_in=True)
    _, used = store.create(ann, keep_logged_in=True)
    clock.advance(20 * DAY_MS)
    assert store.resolve(used, USERS) == ann  # recorded: 30 more days from now
    clock.advance(10 * DAY_MS - 1)
    assert store.resolve(idle_too, USERS) == ann  # first use, just in time
    clock.advance(1)
    assert store.resolve(idle, USERS) is None  # 30 days since it was created, unused
    clock.now = START + 50 * DAY_MS - 1
    assert store.resolve(used, USERS) == ann  # 30 days after its last use, less 1 ms
    clock.now = START + 60 * DAY_MS - 1
    assert store.resolve(idle_too, USERS) is None  # 30 days after its only use
    assert store.resolve(used, USERS) == ann
    clock.now = START + 90 * DAY_MS - 1
    assert store.resolve(used, USERS) is None
    # 24-hour tokens reach their maximum first.
    _, short = store.create(ann)
    clock.advance(SHORT_MS)
    assert store.resolve(short, USERS) is None
    assert IDLE_MS == 30 * DAY_MS


def test_last_used_at_is_written_at_most_once_an_hour(
    env: Environment, store: UserTokenStore, backend: CountingBackend, clock: Clock, ann: str
) -> None:
    info, token = store.create(ann, keep_logged_in=True)
    writes = backend.writes
    for minutes in (10, 30, 59):
        clock.now = START + minutes * 60_000
        assert store.resolve(token, USERS) == ann
    assert backend.writes == writes
    assert stored_row(env, info.id)[1] == START
    clock.now = START + TOUCH_MS
    for _ in range(5):
        assert store.resolve(token, USERS) == ann
    assert backend.writes == writes + 1
    assert stored_row(env, info.id)[1] == START + TOUCH_MS
    clock.now = START + TOUCH_MS + 59 * 60_000
    assert store.resolve(token, USERS) == ann
    assert backend.writes == writes + 1
    clock.now = START + 2 * TOUCH_MS
    assert store.resolve(token, USERS) == ann
    assert backend.writes == writes + 2
    # Another process (its own cache) that saw an older row does not write again.
    other_clock = Clock(START + 2 * TOUCH_MS + 1)
    other = UserTokenStore(env.backend, other_clock)
    assert other.resolve(token, USERS) == ann
    assert stored_row(env, info.id)[1] == START + 2 * TOUCH_MS


def test_resolution_is_cached_for_a_bounded_time(
    env: Environment, store: UserTokenStore, backend: CountingBackend, clock: Clock, ann: str
) -> None:
    info, token = store.create(ann)
    reads = backend.reads
    for _ in range(10):
        assert store.resolve(token, USERS) == ann
        assert store.resolve("unknown", USERS) is None  # misses are cached too
    assert backend.reads == reads + 2
    # Revoked by another process: still accepted here until the cache entry ends.
    other = UserTokenStore(env.backend, clock)
    other.revoke(info.id)
    clock.advance(CACHE_MS - 1)
    assert store.resolve(token, USERS) == ann
    clock.advance(1)
    assert store.resolve(token, USERS) is None
    assert CACHE_MS == 5_000


def test_revoking_in_this_process_takes_effect_at_once(
    store: UserTokenStore, clock: Clock, ann: str
) -> None:
    first, one = store.create(ann)
    _, two = store.create(ann)
    assert store.resolve(one, USERS) == ann and store.resolve(two, USERS) == ann
    revoked = store.revoke(first.id)
    assert revoked.id == first.id and revoked.revoked_at == clock.now
    assert store.resolve(one, USERS) is None
    assert store.resolve(two, USERS) == ann
    with pytest.raises(TokenNotFound):
        store.revoke(first.id)  # no longer active
    assert store.revoke_token(two) is True  # log out, knowing only the token
    assert store.resolve(two, USERS) is None
    assert store.revoke_token(two) is False


def test_revoke_one_checks_the_owner(env: Environment, store: UserTokenStore, ann: str) -> None:
    bob = new_user(env, "bob@example.com")
    info, token = store.create(ann)
    with pytest.raises(TokenNotFound):
        store.revoke(info.id, user_id=bob)
    assert store.resolve(token, USERS) == ann
    store.revoke(info.id, user_id=ann)
    assert store.resolve(token, USERS) is None


def test_log_out_other_sessions_and_everything(
    env: Environment, store: UserTokenStore, ann: str
) -> None:
    bob = new_user(env, "bob@example.com")
    current, keep = store.create(ann)
    others = [store.create(ann)[1] for _ in range(3)]
    _, bobs = store.create(bob)
    for token in [keep, *others, bobs]:
        assert store.resolve(token, USERS) is not None
    assert store.revoke_others(ann, current.id) == 3
    assert store.resolve(keep, USERS) == ann
    assert all(store.resolve(t, USERS) is None for t in others)
    assert store.resolve(bobs, USERS) == bob
    assert store.revoke_all(ann) == 1
    assert store.resolve(keep, USERS) is None
    assert store.resolve(bobs, USERS) == bob
    assert store.revoke_all(ann) == 0
    listed = store.of_user(ann)
    assert current.id in {t.id for t in listed}
    assert len(listed) == 4 and all(t.revoked_at is not None for t in listed)
    assert stored_row(env, current.id)[2] is not None


def test_a_deleted_users_tokens_stop_working(
    env: Environment, store: UserTokenStore, clock: Clock, ann: str
) -> None:
    _, token = store.create(ann)
    assert store.resolve(token, USERS) == ann
    from burble.auth.actor import ADMIN

    env.things.delete(ADMIN, env.definition.types["User"], ann)
    clock.advance(CACHE_MS)
    assert store.resolve(token, USERS) is None
