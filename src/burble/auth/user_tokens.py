"""User tokens: what a client sends to act as one user (bubble-semantics.md §6.2).

A token is 32 random bytes (43 URL-safe characters, usable as a cookie value), shown once and
stored only as a SHA-256 hash in the environment's own `burble_user_tokens` table: Live and
Development each have their users, so each has their tokens.

Validity (without two-factor authentication, which Burble does not have yet):
- 24 hours, or 12 months (365 days) when the user asked to stay logged in;
- and 30 days after the token was last used (each use extends it, up to that maximum).

`last_used_at` is written at most once per `TOUCH_MS` (an hour) per token, so a busy client
does not cost a write per request; the 30 days are therefore counted from a use recorded to
within the hour.

Resolution is cached in-process for `CACHE_MS` (5 seconds), hits and misses, so a request
usually does not reach the database. Expiry is checked on every use, cached or not; a
revocation made by this process clears the cache at once, one made by another process (or a
deleted user) takes effect within `CACHE_MS`.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from burble.errors import TokenNotFound
from burble.store.backend import Backend, Row, Tx
from burble.values import new_unique_id, now_ms

TOKEN_BYTES = 32
HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
SHORT_MS = DAY_MS  # keep_logged_in: no
LONG_MS = 365 * DAY_MS  # keep_logged_in: yes ("12 months")
IDLE_MS = 30 * DAY_MS  # unused for this long: expired
TOUCH_MS = HOUR_MS  # last_used_at is written at most this often per token
CACHE_MS = 5_000
_CACHE_MAX = 10_000

_COLUMNS = "id, user_id, created_at, expires_at, last_used_at, keep_logged_in, revoked_at"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validity_ms(keep_logged_in: bool) -> int:
    """How long a new token lives at most (Bubble: 12 months or 24 hours)."""
    return LONG_MS if keep_logged_in else SHORT_MS


@dataclass(frozen=True, slots=True)
class UserTokenInfo:
    """One token, never its secret. Times are ms since the epoch."""

    id: str
    user_id: str
    created_at: int
    expires_at: int  # the maximum lifetime; see `ends_at` for idle expiry
    last_used_at: int
    keep_logged_in: bool
    revoked_at: int | None

    @property
    def ends_at(self) -> int:
        """When the token stops working if it is not used again."""
        return min(self.expires_at, self.last_used_at + IDLE_MS)

    def is_valid(self, now: int) -> bool:
        return self.revoked_at is None and now < self.ends_at


def _info(row: Row) -> UserTokenInfo:
    return UserTokenInfo(
        id=row[0],
        user_id=row[1],
        created_at=int(row[2]),
        expires_at=int(row[3]),
        last_used_at=int(row[4]),
        keep_logged_in=bool(row[5]),
        revoked_at=None if row[6] is None else int(row[6]),
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    until: int  # cache entry lifetime (clock ms)
    info: UserTokenInfo | None  # None: not a usable token (unknown, revoked, user gone)


class UserTokenStore:
    """One environment's user tokens. `clock` (ms since the epoch) is injectable for tests."""

    def __init__(self, backend: Backend, clock: Callable[[], int] = now_ms) -> None:
        self._backend = backend
        self._table = backend.dialect.table("burble_user_tokens")
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._clock = clock

    # --- issuing and listing --------------------------------------------------------------

    def create(self, user_id: str, keep_logged_in: bool = False) -> tuple[UserTokenInfo, str]:
        """A new token for this user; the clear token is returned here and never again.

        The caller vouches that the user exists (a token of a missing user never resolves)."""
        with self._backend.write() as tx:
            return self.create_in(tx, user_id, keep_logged_in)

    def create_in(
        self, tx: Tx, user_id: str, keep_logged_in: bool = False
    ) -> tuple[UserTokenInfo, str]:
        """`create` inside the caller's transaction (a workflow run's): the token exists only
        if that transaction commits."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self._clock()
        info = UserTokenInfo(
            id=new_unique_id(now),
            user_id=user_id,
            created_at=now,
            expires_at=now + validity_ms(keep_logged_in),
            last_used_at=now,
            keep_logged_in=keep_logged_in,
            revoked_at=None,
        )
        tx.execute(
            f"INSERT INTO {self._table} (id, user_id, token_hash, created_at, expires_at, "
            "last_used_at, keep_logged_in, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            [
                info.id,
                user_id,
                digest(token),
                now,
                info.expires_at,
                now,
                1 if keep_logged_in else 0,
            ],
        )
        return info, token

    def of_user(self, user_id: str) -> list[UserTokenInfo]:
        """Every token of a user, revoked and expired ones included, oldest first."""
        with self._backend.read() as tx:
            rows = tx.fetchall(
                f"SELECT {_COLUMNS} FROM {self._table} WHERE user_id = ? ORDER BY created_at, id",
                [user_id],
            )
        return [_info(r) for r in rows]

    # --- resolving ------------------------------------------------------------------------

    def resolve(self, token: str, users_table: str | None) -> str | None:
        """The id of the user this token stands for, or None when it is not valid (unknown,
        revoked, expired, or its user no longer exists in `users_table`, the User type's
        table; None when the environment has no User type)."""
        if users_table is None:
            return None
        key = digest(token)
        now = self._clock()
        entry = self._cache.get(key)
        if entry is None or entry.until <= now:
            entry = _Entry(now + CACHE_MS, self._load(key, users_table))
            self._remember(key, entry)
        info = entry.info
        if info is None or not info.is_valid(now):
            return None
        if now - info.last_used_at >= TOUCH_MS:
            self._touch(key, entry, now)
        return info.user_id

    def _load(self, key: str, users_table: str) -> UserTokenInfo | None:
        users = self._backend.dialect.table(users_table)
        with self._backend.read() as tx:
            row = tx.fetchone(
                f"SELECT {_COLUMNS} FROM {self._table} t WHERE t.token_hash = ? "
                f"AND t.revoked_at IS NULL AND EXISTS (SELECT 1 FROM {users} u "
                "WHERE u._id = t.user_id)",
                [key],
            )
        return None if row is None else _info(row)

    def _touch(self, key: str, entry: _Entry, now: int) -> None:
        """Record a use (extending the idle expiry); the condition keeps it to one write per
        `TOUCH_MS` even when several threads or processes see the token at once."""
        assert entry.info is not None
        with self._backend.write() as tx:
            tx.execute(
                f"UPDATE {self._table} SET last_used_at = ? WHERE id = ? AND last_used_at <= ?",
                [now, entry.info.id, now - TOUCH_MS],
            )
        self._remember(key, _Entry(entry.until, replace(entry.info, last_used_at=now)))

    def _remember(self, key: str, entry: _Entry) -> None:
        with self._lock:
            if len(self._cache) >= _CACHE_MAX and key not in self._cache:
                self._cache.clear()
            self._cache[key] = entry

    def forget(self) -> None:
        """Drop every cached resolution (done by every revocation)."""
        with self._lock:
            self._cache.clear()

    # --- revoking -------------------------------------------------------------------------

    def revoke_token(self, token: str) -> bool:
        """Log out: revoke the token itself (what *Log the user out* does for the client
        that sends it). False when it was not an active token."""
        return self._revoke("token_hash = ?", [digest(token)]) > 0

    def revoke_token_in(self, tx: Tx, token: str) -> bool:
        """`revoke_token` inside the caller's transaction."""
        return self._revoke_in(tx, "token_hash = ?", [digest(token)]) > 0

    def token_id(self, tx: Tx, token: str) -> str | None:
        """The id of this clear token (active or not), or None when it is not a token."""
        row = tx.fetchone(f"SELECT id FROM {self._table} WHERE token_hash = ?", [digest(token)])
        return None if row is None else str(row[0])

    def revoke(self, token_id: str, user_id: str | None = None) -> UserTokenInfo:
        """Revoke one token by id (of this user, when given); TokenNotFound if none is active."""
        where, params = "id = ?", [token_id]
        if user_id is not None:
            where, params = "id = ? AND user_id = ?", [token_id, user_id]
        now = self._clock()
        with self._backend.write() as tx:
            row = tx.fetchone(
                f"SELECT {_COLUMNS} FROM {self._table} WHERE {where} AND revoked_at IS NULL",
                params,
            )
            if row is not None:
                tx.execute(f"UPDATE {self._table} SET revoked_at = ? WHERE id = ?", [now, row[0]])
        if row is None:
            raise TokenNotFound(f"no active user token with id '{token_id}'")
        self.forget()
        return replace(_info(row), revoked_at=now)

    def revoke_others(self, user_id: str, keep_token_id: str) -> int:
        """Log out every other session: revoke all of the user's tokens but one."""
        return self._revoke("user_id = ? AND id <> ?", [user_id, keep_token_id])

    def revoke_others_in(self, tx: Tx, user_id: str, keep_token_id: str | None) -> int:
        """`revoke_others` inside the caller's transaction (None: keep none)."""
        if keep_token_id is None:
            return self._revoke_in(tx, "user_id = ?", [user_id])
        return self._revoke_in(tx, "user_id = ? AND id <> ?", [user_id, keep_token_id])

    def revoke_all(self, user_id: str) -> int:
        """Revoke every token of the user; returns how many were active."""
        return self._revoke("user_id = ?", [user_id])

    def revoke_all_in(self, tx: Tx, user_id: str) -> int:
        """`revoke_all` inside the caller's transaction."""
        return self._revoke_in(tx, "user_id = ?", [user_id])

    def _revoke(self, where: str, params: list[object]) -> int:
        with self._backend.write() as tx:
            count = self._revoke_in(tx, where, params)
        self.forget()  # again, now that it is committed: no thread can have re-cached it
        return count

    def _revoke_in(self, tx: Tx, where: str, params: list[object]) -> int:
        """Revoke in `tx`. The cache is cleared now; a thread of this process resolving the
        token again before `tx` commits may cache it as valid: it is then refused within
        `CACHE_MS`, as for another process (call `forget()` after the commit to close that)."""
        count = tx.execute(
            f"UPDATE {self._table} SET revoked_at = ? WHERE {where} AND revoked_at IS NULL",
            [self._clock(), *params],
        )
        self.forget()
        return count
