"""Delivery by SMTP (`BURBLE_SMTP_URL`, `BURBLE_MAIL_FROM`), with the standard library.

`smtp://user:password@host:587` uses STARTTLS (required: a server that does not offer it is
an error, so a password never travels in clear by accident); `smtps://host:465` connects with
TLS from the start. `?security=none` sends in clear (a relay on the same machine, tests),
`?timeout=SECONDS` (default 10) bounds every network operation. User and password are
percent-decoded (`%40` for `@`). Certificates are verified against the system's trust store.
"""

from __future__ import annotations

import enum
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from burble.errors import BurbleError
from burble.mail.message import InvalidRecipient, Message, SendFailed, valid_address
from burble.settings import Settings

DEFAULT_TIMEOUT = 10.0


class Security(enum.Enum):
    NONE = "none"  # plain text: only for a relay on a trusted network
    STARTTLS = "starttls"  # connect in clear, upgrade before anything else (required)
    SSL = "ssl"  # TLS from the first byte (port 465)


_DEFAULTS = {"smtp": (Security.STARTTLS, 587), "smtps": (Security.SSL, 465)}


def _bad_url(reason: str) -> BurbleError:
    return BurbleError(
        f"BURBLE_SMTP_URL {reason}; expected smtp://user:password@host:587 or smtps://host:465 "
        "(options: ?security=starttls|ssl|none&timeout=SECONDS)"
    )


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: Security = Security.STARTTLS
    timeout: float = DEFAULT_TIMEOUT

    @staticmethod
    def from_url(url: str) -> SmtpConfig:
        """Parse `BURBLE_SMTP_URL`; a BurbleError (never quoting the password) if unusable."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise _bad_url("is not a valid URL") from None
        if parts.scheme not in _DEFAULTS:
            raise _bad_url(f"must start with smtp:// or smtps://, not {parts.scheme or '?'}://")
        if not parts.hostname:
            raise _bad_url("names no host")
        security, default_port = _DEFAULTS[parts.scheme]
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"security", "timeout"}
        if unknown:
            raise _bad_url(f"has unknown options {', '.join(sorted(unknown))}")
        if "security" in query:
            try:
                security = Security(query["security"].lower())
            except ValueError:
                raise _bad_url(f"has an unknown security {query['security']!r}") from None
        timeout = DEFAULT_TIMEOUT
        if "timeout" in query:
            try:
                timeout = float(query["timeout"])
            except ValueError:
                timeout = 0
            if not 0 < timeout <= 600:
                raise _bad_url("has a timeout that is not a number of seconds up to 600")
        return SmtpConfig(
            host=parts.hostname,
            port=port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            security=security,
            timeout=timeout,
        )

    def describe(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"SMTP {user}{self.host}:{self.port} ({self.security.value})"


def parse_sender(raw: str) -> tuple[str, str]:
    """`BURBLE_MAIL_FROM` ("Rentals <noreply@example.com>" or an address) → (name, address)."""
    name, address = parseaddr(raw)
    try:
        return name, valid_address(address)
    except InvalidRecipient:
        raise BurbleError(
            f"BURBLE_MAIL_FROM must be an address like 'Rentals <noreply@example.com>', not {raw!r}"
        ) from None


def mime(message: Message, sender: tuple[str, str], now: float | None = None) -> EmailMessage:
    """The message as sent: From is the sender's address under the message's sender name
    (else the sender's own); Bcc recipients are in the envelope only."""
    name, address = sender
    msg = EmailMessage()
    msg["From"] = formataddr((message.sender_name or name, address))
    msg["To"] = ", ".join(message.to)
    if message.cc:
        msg["Cc"] = ", ".join(message.cc)
    if message.reply_to:
        msg["Reply-To"] = message.reply_to
    msg["Subject"] = message.subject
    msg["Date"] = formatdate(now, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=address.rpartition("@")[2])
    msg.set_content(message.body, subtype="html" if message.html else "plain")
    return msg


class SmtpMailer:
    """Sends each email over its own SMTP connection (`Mailer`)."""

    def __init__(
        self,
        config: SmtpConfig,
        sender: str,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self.config = config
        self.sender = parse_sender(sender)
        self._context = ssl_context or ssl.create_default_context()
        self._local_hostname = local_hostname

    def describe(self) -> str:
        return f"{self.config.describe()} from {self.sender[1]}"

    def send(self, message: Message) -> dict[str, str]:
        """Deliver, or raise SendFailed with the server's (or the network's) reason. When
        the server accepts some recipients but not others, the email is sent: the refused
        ones are returned (address → the server's answer)."""
        c = self.config
        msg = mime(message, self.sender)
        try:
            smtp: smtplib.SMTP
            if c.security is Security.SSL:
                smtp = smtplib.SMTP_SSL(
                    c.host,
                    c.port,
                    local_hostname=self._local_hostname,
                    timeout=c.timeout,
                    context=self._context,
                )
            else:
                smtp = smtplib.SMTP(
                    c.host, c.port, local_hostname=self._local_hostname, timeout=c.timeout
                )
            with smtp:
                if c.security is Security.STARTTLS:
                    smtp.starttls(context=self._context)
                if c.username is not None:
                    smtp.login(c.username, c.password or "")
                refused = smtp.send_message(
                    msg, from_addr=self.sender[1], to_addrs=list(message.recipients)
                )
        except smtplib.SMTPNotSupportedError:
            raise SendFailed(f"{c.describe()}: the server does not offer STARTTLS") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(
                f"{c.describe()}: every recipient refused: {_refused(exc.recipients)}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise SendFailed(f"{c.describe()}: {exc.smtp_code} {text}") from None
        except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
            raise SendFailed(f"{c.describe()}: {type(exc).__name__}: {exc}") from None
        return _decoded(refused)


def _decoded(refused: dict[str, tuple[int, bytes]]) -> dict[str, str]:
    return {a: f"{code} {text.decode('utf-8', 'replace')}" for a, (code, text) in refused.items()}


def _refused(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{a}: {t}" for a, t in _decoded(recipients).items())


def mailer_from_settings(settings: Settings) -> SmtpMailer | None:
    """The mailer `BURBLE_SMTP_URL` and `BURBLE_MAIL_FROM` describe; None without an SMTP
    URL (emails then stay in the outbox). BurbleError when either is unusable."""
    if not settings.smtp_url:
        return None
    if not settings.mail_from:
        raise BurbleError("BURBLE_MAIL_FROM must be set when BURBLE_SMTP_URL is")
    return SmtpMailer(SmtpConfig.from_url(settings.smtp_url), settings.mail_from)
