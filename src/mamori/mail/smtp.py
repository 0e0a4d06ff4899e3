"""One SMTP session with the configured server: TLS mode, certificate checks, AUTH.

Errors are sorted into *permanent* (the server refused the recipient or the message with a
5xx code: retrying cannot help) and *temporary* (everything else: connection refused, timeouts,
4xx codes, TLS failures). Only an error's type is ever recorded; its text may quote an address.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from email.message import EmailMessage

from mamori.config import Settings

__all__ = ["is_permanent", "send", "session"]


def _context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.smtp_ca_file is not None:
        context.load_verify_locations(cafile=str(settings.smtp_ca_file))
    return context


@contextmanager
def session(settings: Settings) -> Iterator[smtplib.SMTP]:
    """An open, authenticated SMTP connection to ``MAMORI_SMTP_HOST``; closed afterwards."""
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds
    client: smtplib.SMTP
    if settings.smtp_tls == "tls":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_context(settings))
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    try:
        client.ehlo()
        if settings.smtp_tls == "starttls":
            client.starttls(context=_context(settings))
            client.ehlo()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            client.login(settings.smtp_username, password)
        yield client
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def send(client: smtplib.SMTP, message: EmailMessage, sender: str, to: Sequence[str]) -> None:
    """Send ``message`` on ``client`` from ``sender`` (the envelope) to ``to``."""
    refused = client.send_message(message, from_addr=sender, to_addrs=list(to))
    if refused:  # some recipients refused, others accepted: with one recipient, never here
        raise smtplib.SMTPRecipientsRefused(refused)


def is_permanent(exc: BaseException) -> bool:
    """True for a refusal that a retry cannot change (a 5xx reply, or a refused recipient)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False  # a credentials problem the operator fixes; keep the mail queued
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False
