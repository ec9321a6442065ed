"""Helpers for the auth tests: a settable clock, a backend that counts transactions, users."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

from burble.auth.actor import ADMIN
from burble.runtime import Environment
from burble.store.backend import Backend, Dialect, Tx

START = 1_767_225_600_000  # 2026-01-01T00:00:00Z


class Clock:
    """Milliseconds since the epoch, moved by hand: expiry tests never sleep."""

    def __init__(self, now: int = START) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


class CountingBackend:
    """A real backend that counts its read and write transactions."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.reads = 0
        self.writes = 0

    @property
    def dialect(self) -> Dialect:
        return self.inner.dialect

    def read(self) -> AbstractContextManager[Tx]:
        self.reads += 1
        return self.inner.read()

    def write(self) -> AbstractContextManager[Tx]:
        self.writes += 1
        return self.inner.write()

    def write_statement(self, sql: str, params: Sequence[object]) -> int:
        self.writes += 1
        return self.inner.write_statement(sql, params)

    def close(self) -> None:
        self.inner.close()

    def describe(self) -> str:
        return self.inner.describe()


def new_user(env: Environment, email: str, password: str | None = None) -> str:
    """A user created the way the Data API creates one."""
    body = {"email": email} if password is None else {"email": email, "password": password}
    return env.things.create(ADMIN, env.definition.types["User"], body)
