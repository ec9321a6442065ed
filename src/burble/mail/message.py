"""An email as a workflow sends it (Bubble's *Send email* action), its limits, and the
`Mailer` seam that delivers it.

Limits (bubble-semantics.md §12): at most `MAX_RECIPIENTS` (50) recipients, counting To, Cc
and Bcc. Every address must look like `name@host.tld`; a subject or sender name loses its line
breaks (they would start new headers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Protocol

from burble.errors import BadRequest, BurbleError

MAX_RECIPIENTS = 50
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\]+$")
_LINE_BREAKS = re.compile(r"[\r\n]+")


class MailError(BadRequest):
    """An email that cannot be sent as given (a 400 unless the API layer maps it)."""


class NoRecipient(MailError):
    def __init__(self) -> None:
        super().__init__("An email needs at least one recipient")


class TooManyRecipients(MailError):
    def __init__(self, count: int) -> None:
        super().__init__(
            f"An email may have at most {MAX_RECIPIENTS} recipients (To, Cc and Bcc "
            f"together), not {count}"
        )


class InvalidRecipient(MailError):
    def __init__(self, address: str) -> None:
        super().__init__(f"Not a valid email address: {address!r}")


class SendFailed(BurbleError):
    """The mail server refused or could not be reached; recorded in the outbox as the
    email's error, never shown to the client that ran the workflow."""


def valid_address(raw: str) -> str:
    """A trimmed address, or InvalidRecipient."""
    address = raw.strip() if isinstance(raw, str) else ""
    if not _ADDRESS.match(address):
        raise InvalidRecipient(str(raw))
    return address


def _one_line(text: str | None) -> str | None:
    return None if text is None else _LINE_BREAKS.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Message:
    """One email. `body` is plain text, or HTML when `html`."""

    to: tuple[str, ...]
    subject: str
    body: str
    html: bool = False
    sender_name: str | None = None  # shown as the From name; the address is the server's
    reply_to: str | None = None
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every address the email goes to (the SMTP envelope)."""
        return (*self.to, *self.cc, *self.bcc)

    def checked(self) -> Message:
        """This email with trimmed addresses and one-line headers, or a MailError."""
        count = len(self.to) + len(self.cc) + len(self.bcc)
        if not self.to:
            raise NoRecipient()
        if count > MAX_RECIPIENTS:
            raise TooManyRecipients(count)
        return replace(
            self,
            to=tuple(valid_address(a) for a in self.to),
            cc=tuple(valid_address(a) for a in self.cc),
            bcc=tuple(valid_address(a) for a in self.bcc),
            reply_to=None if not self.reply_to else valid_address(self.reply_to),
            subject=_one_line(self.subject) or "",
            sender_name=_one_line(self.sender_name) or None,
        )


class Mailer(Protocol):
    """Delivers one email now, or raises SendFailed. The real one is `SmtpMailer`."""

    def send(self, message: Message) -> dict[str, str]:
        """Deliver; returns the recipients the server refused (address → its answer) when it
        accepted the others."""

    def describe(self) -> str:
        """Where emails go, for logs and the CLI (never a password)."""
