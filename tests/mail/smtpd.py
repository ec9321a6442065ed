"""A real SMTP server on a loopback port for the mail tests (aiosmtpd, in its own thread):
it keeps what it receives, can require STARTTLS, TLS and a login, and refuses recipients
whose address starts with `refuse`."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message as Parsed
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "mailer@example.com", "s3cret pass"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Parsed


@dataclass
class Inbox:
    """The aiosmtpd handler: records every accepted email."""

    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("refuse"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)
            )
        )
        return "250 Message accepted"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (openssl's command line)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


class SmtpServer:
    """A running server; `stop()` it. `mode`: "plain", "starttls" (required, with a login
    required) or "ssl" (TLS from the start, a login accepted)."""

    def __init__(self, mode: str = "plain", certificate: Certificate | None = None) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.mode = mode
        kwargs: dict[str, Any] = {}
        if mode == "starttls":
            assert certificate is not None
            kwargs = {
                "tls_context": certificate.server_context(),
                "require_starttls": True,
                "auth_required": True,
                "authenticator": self.inbox.authenticate,
            }
        elif mode == "ssl":
            assert certificate is not None
            kwargs = {
                "ssl_context": certificate.server_context(),
                # AUTH offered, not required: aiosmtpd would ask for STARTTLS on top of TLS.
                "auth_require_tls": False,
                "authenticator": self.inbox.authenticate,
            }
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()

    @property
    def received(self) -> list[Received]:
        return self.inbox.received

    def stop(self) -> None:
        self._controller.stop()
