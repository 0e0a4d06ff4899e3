"""A real SMTP server for the tests (aiosmtpd), on a free loopback port.

It keeps every message it accepts, parsed (``email.policy.default``), with its envelope. A
recipient in ``refuse`` gets that reply to RCPT (``"550 5.1.1 no such user"``); ``down`` makes
it answer 421 to every DATA, as a server that is overloaded does.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    down: bool = False
    logins: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    def wait_for(self, n: int, timeout: float = 5) -> list[EmailMessage]:
        """The messages once at least ``n`` arrived; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the SMTP server received {len(self.received)} messages, not {n}"
                    )
                self._changed.wait(left)
        return self.messages

    # -- aiosmtpd handler hooks --------------------------------------------------------------

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        reply = self.refuse.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.down:
            return "421 4.3.2 service not available, try later"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._changed:
            self.received.append(Received(parsed, envelope.mail_from, list(envelope.rcpt_tos)))
            self._changed.notify_all()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def run_smtp_server(
    *,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    credentials: tuple[str, str] | None = None,
) -> Iterator[SmtpServer]:
    """Start a server; STARTTLS with ``tls_context``, or implicit TLS with ``implicit_tls``;
    AUTH required with ``credentials``."""
    server = SmtpServer("127.0.0.1", free_port())
    kwargs: dict[str, Any] = {}
    if credentials is not None:

        def authenticate(
            _server: Any, _session: Any, _envelope: Any, mechanism: str, auth_data: Any
        ) -> AuthResult:
            ok = (
                isinstance(auth_data, LoginPassword)
                and (
                    auth_data.login.decode(),
                    auth_data.password.decode(),
                )
                == credentials
            )
            if ok:
                server.logins.append(auth_data.login.decode())
            return AuthResult(success=ok)

        kwargs.update(authenticator=authenticate, auth_required=True)
    if implicit_tls:
        assert tls_context is not None
        kwargs["ssl_context"] = tls_context
    elif tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    controller = Controller(server, hostname="127.0.0.1", port=server.port, **kwargs)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
