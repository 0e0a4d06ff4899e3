"""The MIME message of one mail: UTF-8 text, encoded headers, RFC 8058 one-click unsubscribe."""

from __future__ import annotations

import datetime as dt
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from mamori.errors import ConfigError

__all__ = ["build_message", "sender_address"]


def sender_address(mail_from: str) -> tuple[str, str]:
    """(display name, address) of ``MAMORI_MAIL_FROM``."""
    name, address = parseaddr(mail_from)
    if "@" not in address:
        raise ConfigError("MAMORI_MAIL_FROM: not an e-mail address ('Name <addr@example.jp>')")
    return name, address


def build_message(
    *,
    mail_id: str,
    mail_from: str,
    to: str,
    subject: str,
    body: str,
    created_at: dt.datetime,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    """One ``text/plain; charset=utf-8`` message.

    Non-ASCII headers (a Japanese subject or sender name) are RFC 2047 encoded by the ``SMTP``
    policy; ``Message-ID`` is derived from the mail's ID so that a retried delivery carries the
    same one. With ``unsubscribe_url`` (marketing mail), ``List-Unsubscribe`` and
    ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058) are set.
    """
    name, address = sender_address(mail_from)
    local, _, domain = address.rpartition("@")
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(display_name=name, username=local, domain=domain)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(created_at.astimezone(dt.UTC))
    message["Message-ID"] = f"<{mail_id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body, subtype="plain", charset="utf-8", cte="base64")
    return message
