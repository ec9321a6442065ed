"""Admin API tokens: 32 random bytes, shown once, stored only as a SHA-256 hash, revocable.

A token carries 256 bits of entropy, so a fast hash is enough (a slow password hash would only
slow every request); see docs/design/0003-admin-token-hashing.md. Lookups are cached for a
few seconds so a request does not pay a database round trip; a revocation made by this
process takes effect at once, one made by another process within `CACHE_SECONDS`.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from burble.auth.actor import ADMIN, Actor
from burble.errors import TokenNotFound
from burble.store.backend import Backend
from burble.values import new_unique_id, now_ms

TOKEN_BYTES = 32
CACHE_SECONDS = 5.0
_CACHE_MAX = 10_000


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: str
    label: str
    created_at: int
    revoked_at: int | None


class TokenStore:
    def __init__(self, backend: Backend, clock: Callable[[], float] = time.monotonic) -> None:
        self._backend = backend
        self._table = backend.dialect.table("burble_tokens")
        self._cache: dict[str, tuple[float, Actor | None]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def create(self, label: str) -> tuple[TokenInfo, str]:
        """A new admin token; the clear token is returned here and never again."""
        token = secrets.token_hex(TOKEN_BYTES)
        info = TokenInfo(new_unique_id(), label, now_ms(), None)
        with self._backend.write() as tx:
            tx.execute(
                f"INSERT INTO {self._table} (id, label, token_hash, created_at) VALUES (?, ?, ?, ?)",
                [info.id, label, _digest(token), info.created_at],
            )
        return info, token

    def all(self) -> list[TokenInfo]:
        with self._backend.read() as tx:
            rows = tx.fetchall(
                f"SELECT id, label, created_at, revoked_at FROM {self._table} ORDER BY created_at, id"
            )
        return [TokenInfo(r[0], r[1], int(r[2]), None if r[3] is None else int(r[3])) for r in rows]

    def revoke(self, id_or_label: str) -> list[TokenInfo]:
        """Revoke the token with this id, or every active token with this label."""
        with self._backend.write() as tx:
            rows = tx.fetchall(
                f"SELECT id, label, created_at FROM {self._table} "
                "WHERE (id = ? OR label = ?) AND revoked_at IS NULL",
                [id_or_label, id_or_label],
            )
            if not rows:
                raise TokenNotFound(f"no active token with id or label '{id_or_label}'")
            when = now_ms()
            for r in rows:
                tx.execute(f"UPDATE {self._table} SET revoked_at = ? WHERE id = ?", [when, r[0]])
        with self._lock:
            self._cache.clear()
        return [TokenInfo(r[0], r[1], int(r[2]), when) for r in rows]

    def resolve(self, token: str) -> Actor | None:
        """The actor a bearer token stands for, or None when it is not a valid token."""
        now = self._clock()
        hit = self._cache.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self._backend.read() as tx:
            row = tx.fetchone(
                f"SELECT 1 FROM {self._table} WHERE token_hash = ? AND revoked_at IS NULL",
                [_digest(token)],
            )
        actor = ADMIN if row is not None else None
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[token] = (now + CACHE_SECONDS, actor)
        return actor
