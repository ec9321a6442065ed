"""Reading the server log back: `search` (the filters of Bubble's Logs tab) and `prune`."""

from __future__ import annotations

import re

import orjson

from burble.errors import BurbleError
from burble.logs.runlog import LogEntry, LogKind
from burble.store.backend import Backend, Row
from burble.values import NotParseable, parse_date

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_COLUMNS = "id, run_id, seq, at, workflow, user_id, kind, step, message, data, duration_ms"


class BadTime(BurbleError):
    def __init__(self, raw: str) -> None:
        super().__init__(
            f"Not a time: {raw!r} (expected an ISO date like 2026-01-31T09:00:00Z, or an age "
            "like 30m, 1h, 2d)"
        )


def parse_since(raw: str, now: int) -> int:
    """A moment (ms since the epoch) from an ISO date or an age before `now`: `90s`, `30m`,
    `1h`, `2d`, `1w`."""
    relative = _RELATIVE.match(raw)
    if relative:
        return now - int(relative.group(1)) * _UNIT_MS[relative.group(2).lower()]
    try:
        return parse_date(raw.strip())
    except (NotParseable, ValueError):
        raise BadTime(raw) from None


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _entry(row: Row) -> LogEntry:
    return LogEntry(
        id=row[0],
        run_id=row[1],
        seq=int(row[2]),
        at=int(row[3]),
        workflow=row[4],
        user_id=row[5],
        kind=LogKind(row[6]),
        step=None if row[7] is None else int(row[7]),
        message=row[8],
        data=None if row[9] is None else orjson.loads(row[9]),
        duration_ms=None if row[10] is None else float(row[10]),
    )


def search(
    backend: Backend,
    *,
    workflow: str | None = None,
    since: int | None = None,
    until: int | None = None,
    user: str | None = None,
    run_id: str | None = None,
    text: str | None = None,
    errors_only: bool = False,
    limit: int = DEFAULT_LIMIT,
) -> list[LogEntry]:
    """The latest `limit` entries that match, oldest first (as they happened). `user` is a
    user's unique id (the CLI turns an email into one)."""
    where: list[str] = []
    params: list[object] = []
    for column, value in (("workflow", workflow), ("user_id", user), ("run_id", run_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        where.append("at >= ?")
        params.append(since)
    if until is not None:
        where.append("at < ?")
        params.append(until)
    if errors_only:
        where.append("kind = ?")
        params.append(LogKind.ERROR.value)
    if text:
        where.append("(LOWER(message) LIKE ? ESCAPE '\\' OR LOWER(data) LIKE ? ESCAPE '\\')")
        params += [_like(text), _like(text)]
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    table = backend.dialect.table("burble_logs")
    with backend.read() as tx:
        rows = tx.fetchall(
            f"SELECT {_COLUMNS} FROM {table} {condition} "
            "ORDER BY at DESC, run_id DESC, seq DESC LIMIT ?",
            [*params, max(1, min(limit, MAX_LIMIT))],
        )
    return [_entry(r) for r in reversed(rows)]


def prune(backend: Backend, before: int) -> int:
    """Delete the entries older than `before` (ms since the epoch); returns how many."""
    with backend.write() as tx:
        return tx.execute(
            f"DELETE FROM {backend.dialect.table('burble_logs')} WHERE at < ?", [before]
        )
