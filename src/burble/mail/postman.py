"""Delivery right after the commit: a background thread that sends what the outbox holds.

A workflow run queues its emails in its own transaction (`outbox.queue`); once it has
committed, the engine calls `Postman.poke()`, which wakes the thread and returns at once, so
the HTTP answer never waits for the mail server. The thread also looks at the outbox every
`sweep_seconds`, which picks up emails another process queued or left half-sent when it died
(`outbox.CLAIM_MS`). Several processes may run a postman on one database: each email is
claimed before it is sent (`outbox.deliver_pending`).
"""

from __future__ import annotations

import logging
import threading

from burble.mail.message import Mailer
from burble.mail.outbox import deliver_pending
from burble.store.backend import Backend

log = logging.getLogger("burble.mail")

SWEEP_SECONDS = 60.0


class Postman:
    """Sends an environment's queued emails through `mailer`, in its own daemon thread."""

    def __init__(
        self, backend: Backend, mailer: Mailer, name: str, sweep_seconds: float = SWEEP_SECONDS
    ) -> None:
        self.backend = backend
        self.mailer = mailer
        self.sweep_seconds = sweep_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._wake.set()  # a first look at once: emails queued while no server ran
        self._thread = threading.Thread(target=self._loop, name=f"burble-mail-{name}", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Deliver soon: called after a run that queued an email has committed."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the email being sent, if any."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.sweep_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                while deliver_pending(self.backend, self.mailer).sent_or_failed():
                    if self._stop.is_set():
                        return
            except Exception:  # the database is away: try again at the next poke or sweep
                log.exception("could not deliver the outbox")
