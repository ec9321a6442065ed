"""The outbox: every email a workflow sends is a row here first, in the run's transaction.

`queue` writes the email with the caller's transaction, so a run that rolls back sends
nothing. After the commit, `deliver_pending` sends what is queued through a `Mailer`, one
email at a time, each claimed in its own short transaction (two processes never send the
same email) and sent outside any transaction (a slow mail server holds no database lock).
Without a mailer (no `BURBLE_SMTP_URL`) emails stay queued: nothing is dropped, and
`burble mail list` / `burble mail show` print them.

Statuses: `queued` → `sending` → `sent` or `failed` (the error is kept). An email left
`sending` for `CLAIM_MS` (its process died mid-send) is queued again, so delivery is at least
once. `requeue_failed` puts failed emails back in the queue.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson

from burble.mail.message import Mailer, Message, SendFailed
from burble.store.backend import Backend, Row, Tx
from burble.values import new_unique_id, now_ms

CLAIM_MS = 10 * 60 * 1000
DEFAULT_BATCH = 100

log = logging.getLogger("burble.mail")


class Status(enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutboxEmail:
    id: str
    created_at: int  # ms since the epoch
    run_id: str | None  # the workflow run that sent it (its server logs)
    message: Message
    status: Status
    attempts: int
    sent_at: int | None
    error: str | None  # why it failed; for a sent email, the recipients the server refused


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one `deliver_pending` did: ids of the emails sent and of those that failed."""

    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def sent_or_failed(self) -> bool:
        """Whether it handled any email (so there may be more to send)."""
        return bool(self.sent or self.failed)


_COLUMNS = (
    "id, created_at, run_id, to_addrs, cc_addrs, bcc_addrs, reply_to, sender_name, subject, "
    "body, html, status, attempts, sent_at, error"
)


def _table(backend: Backend) -> str:
    return backend.dialect.table("burble_outbox")


def _addresses(raw: object) -> tuple[str, ...]:
    return tuple(orjson.loads(raw)) if isinstance(raw, str | bytes) else ()


def _email(row: Row) -> OutboxEmail:
    message = Message(
        to=_addresses(row[3]),
        cc=_addresses(row[4]),
        bcc=_addresses(row[5]),
        reply_to=row[6],
        sender_name=row[7],
        subject=row[8],
        body=row[9],
        html=bool(row[10]),
    )
    return OutboxEmail(
        id=row[0],
        created_at=int(row[1]),
        run_id=row[2],
        message=message,
        status=Status(row[11]),
        attempts=int(row[12]),
        sent_at=None if row[13] is None else int(row[13]),
        error=row[14],
    )


def _json(addresses: tuple[str, ...]) -> str:
    return orjson.dumps(list(addresses)).decode()


def queue(
    tx: Tx, backend: Backend, message: Message, *, run_id: str | None = None, now: int | None = None
) -> str:
    """Record the email in `tx` (the run's transaction) and return its id. MailError when it
    has no recipient, more than 50, or an invalid address."""
    m = message.checked()
    created = now_ms() if now is None else now
    email_id = new_unique_id(created)
    tx.execute(
        f"INSERT INTO {_table(backend)} (id, created_at, run_id, to_addrs, cc_addrs, bcc_addrs, "
        "reply_to, sender_name, subject, body, html, status, attempts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        [
            email_id,
            created,
            run_id,
            _json(m.to),
            _json(m.cc),
            _json(m.bcc),
            m.reply_to,
            m.sender_name,
            m.subject,
            m.body,
            1 if m.html else 0,
            Status.QUEUED.value,
        ],
    )
    return email_id


_CLAIMABLE = "(status = ? OR (status = ? AND claimed_at <= ?))"


def deliver_pending(
    backend: Backend,
    mailer: Mailer,
    *,
    limit: int = DEFAULT_BATCH,
    clock: Callable[[], int] = now_ms,
) -> Delivery:
    """Send up to `limit` queued emails, oldest first. Call it after a run commits, never
    inside a transaction: it opens its own, and holds none while the mail server answers."""
    table = _table(backend)
    done = Delivery()
    with backend.read() as tx:
        rows = tx.fetchall(
            f"SELECT id FROM {table} WHERE {_CLAIMABLE} ORDER BY created_at, id LIMIT ?",
            [Status.QUEUED.value, Status.SENDING.value, clock() - CLAIM_MS, limit],
        )
    for (email_id,) in rows:
        now = clock()
        with backend.write() as tx:
            claimed = tx.execute(
                f"UPDATE {table} SET status = ?, claimed_at = ?, attempts = attempts + 1 "
                f"WHERE id = ? AND {_CLAIMABLE}",
                [
                    Status.SENDING.value,
                    now,
                    email_id,
                    Status.QUEUED.value,
                    Status.SENDING.value,
                    now - CLAIM_MS,
                ],
            )
            row = tx.fetchone(f"SELECT {_COLUMNS} FROM {table} WHERE id = ?", [email_id])
        if not claimed or row is None:
            continue  # another process has it
        status, error = _send(mailer, _email(row).message)
        with backend.write() as tx:
            tx.execute(
                f"UPDATE {table} SET status = ?, error = ?, sent_at = ? WHERE id = ?",
                [status.value, error, clock() if status is Status.SENT else None, email_id],
            )
        (done.sent if status is Status.SENT else done.failed).append(email_id)
    return done


def _send(mailer: Mailer, message: Message) -> tuple[Status, str | None]:
    try:
        refused = mailer.send(message)
    except SendFailed as exc:
        log.warning("email not sent: %s", exc.message)
        return Status.FAILED, exc.message
    except Exception as exc:  # a broken mailer: recorded, not retried forever
        log.exception("email not sent: the mailer failed")
        return Status.FAILED, f"internal error: {type(exc).__name__}: {exc}"
    if refused:
        return Status.SENT, "refused: " + "; ".join(f"{a}: {r}" for a, r in refused.items())
    return Status.SENT, None


def emails(backend: Backend, *, status: Status | None = None, limit: int = 50) -> list[OutboxEmail]:
    """The latest emails, newest first (of one status, when given)."""
    where, params = ("WHERE status = ?", [status.value]) if status else ("", [])
    with backend.read() as tx:
        rows = tx.fetchall(
            f"SELECT {_COLUMNS} FROM {_table(backend)} {where} "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            [*params, limit],
        )
    return [_email(r) for r in rows]


def email(backend: Backend, email_id: str) -> OutboxEmail | None:
    with backend.read() as tx:
        row = tx.fetchone(f"SELECT {_COLUMNS} FROM {_table(backend)} WHERE id = ?", [email_id])
    return None if row is None else _email(row)


def requeue_failed(backend: Backend, ids: Sequence[str] | None = None) -> int:
    """Queue failed emails again (all, or these ids); returns how many."""
    where, params = "status = ?", [Status.FAILED.value]
    if ids is not None:
        if not ids:
            return 0
        where += f" AND id IN ({', '.join('?' for _ in ids)})"
        params += list(ids)
    with backend.write() as tx:
        return tx.execute(
            f"UPDATE {_table(backend)} SET status = ?, error = NULL WHERE {where}",
            [Status.QUEUED.value, *params],
        )
