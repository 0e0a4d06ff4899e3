"""The mailer: queue mail into the encrypted outbox, deliver it over SMTP, keep it for staff.

``queue`` runs inside the caller's write transaction and writes one ``mail_outbox`` row: the
recipient and the rendered subject and body encrypted (AES-256-GCM under the ``mail-outbox``
system key, bound to the mail's ID), a keyed hash of the address, and the delivery state in
clear. With ``MAMORI_SMTP_HOST`` empty (the embedded default) the mail is kept with status
``outbox`` for the admin console and never leaves the machine; otherwise it is ``queued``, and
once the transaction has committed the mailer tells its dispatchers (the task queue, see
:mod:`mamori.tasks`) so that a worker delivers it.

``deliver_pending`` claims due mail (a lease on ``next_attempt_at``, so that several workers
never send one mail twice at once), sends it in one SMTP session, and records each result in a
transaction of its own: ``sent``; a temporary failure retried after ``MAMORI_MAIL_RETRY_SECONDS``
doubling each time; ``failed`` after a permanent refusal or ``MAMORI_MAIL_MAX_ATTEMPTS``.
Only the type of an error is kept, never its text (it may quote an address).

Marketing mail carries a one-click unsubscribe link (RFC 8058) and a footer with it; marketing
mail to an address (or a person) that opted out is not sent: its row is ``skipped`` and holds
no address and no content. Every queue, skip and delivery attempt is audited with IDs only.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import smtplib
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Final

import orjson

from mamori.audit.log import AuditLog
from mamori.clock import SYSTEM, Clock
from mamori.config import Settings
from mamori.errors import DecryptionFailed, MailTemplateError, NotFound, UserInputError
from mamori.mail import optout, smtp, storage
from mamori.mail.message import build_message, sender_address
from mamori.mail.storage import Deliverable, MailSummary
from mamori.mail.templates import LANGUAGES, MailTemplates
from mamori.store import db
from mamori.store.db import Connection, Engine
from mamori.vault import crypto
from mamori.vault.addresses import KEY_NAME as ADDRESS_KEY
from mamori.vault.addresses import address_hash, normal_address
from mamori.vault.core import Erasure, Vault
from mamori.vault.restrictions import follow_mail_optout
from mamori.vault.system_keys import SystemKeys

__all__ = ["STATUSES", "Mail", "MailSummary", "Mailer"]

log = logging.getLogger("mamori.mail")

OUTBOX_KEY: Final = "mail-outbox"
STATUSES: Final = ("queued", "sent", "failed", "outbox", "skipped")
ACTOR: Final = "system:mail"
_MAX_DELAY: Final = 86400
_BATCH: Final = 50


@dataclass(frozen=True)
class Mail:
    """An outbox row decrypted (for staff, and for tests). ``to`` is None for a skipped mail."""

    summary: MailSummary
    to: str | None
    subject: str | None
    body: str | None
    unsubscribe_url: str | None


class Mailer:
    """``runtime.mail``. Thread-safe; one per process."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        audit: AuditLog,
        system_keys: SystemKeys,
        operator: Callable[[str], str],
        *,
        clock: Clock = SYSTEM,
        vault: Vault | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        # With the vault, a known person's opt-out stops their marketing purposes too (and an
        # opt-in resumes them): one marketing stop (a runtime's mailer always has it).
        self.vault = vault
        self.engine = engine
        self.audit = audit
        self.system_keys = system_keys
        self.operator = operator
        self.templates = MailTemplates(settings.mail_templates_dir)
        problems = self.templates.check()
        if problems:
            more = (
                f" (and {len(problems) - 1} more; run `mamori mail check`)"
                if len(problems) > 1
                else ""
            )
            raise MailTemplateError(f"{problems[0]}{more}; see `mamori mail check`")
        sender_address(settings.mail_from)
        self.skipped = 0
        """Marketing mails this process did not send because the address opted out."""
        self._dispatchers: list[Callable[[Sequence[str]], None]] = []
        self._lock = threading.Lock()
        # Loaded now: creating a system key takes a write transaction of its own, which would
        # wait for the caller's on SQLite if it happened inside queue().
        for name in (ADDRESS_KEY, OUTBOX_KEY, optout.KEY_NAME):
            system_keys.get(name)
        self._cipher = crypto.data_cipher(system_keys.get(OUTBOX_KEY))
        self._commits = storage.CommitWatch(engine, self._dispatch)

    def close(self) -> None:
        self._commits.close()

    # -- dispatch after commit -------------------------------------------------------------

    def add_dispatcher(self, fn: Callable[[Sequence[str]], None]) -> None:
        """Call ``fn(mail_ids)`` after each commit that queued mail for SMTP delivery."""
        with self._lock:
            self._dispatchers.append(fn)

    def remove_dispatcher(self, fn: Callable[[Sequence[str]], None]) -> None:
        with self._lock:
            if fn in self._dispatchers:
                self._dispatchers.remove(fn)

    def _dispatch(self, ids: Sequence[str]) -> None:
        # Called once the transaction that queued ``ids`` has committed and its connection is
        # back in the pool: the mail is in the database now, for any worker to see.
        with self._lock:
            dispatchers = list(self._dispatchers)
        for dispatch in dispatchers:
            try:
                dispatch(ids)
            except Exception as exc:  # the mail stays queued; the periodic delivery sends it
                log.error("mail dispatch failed: %s", type(exc).__name__)

    # -- queueing --------------------------------------------------------------------------

    @property
    def public_url(self) -> str:
        base = self.settings.public_url or f"http://{self.settings.host}:{self.settings.port}"
        return base.rstrip("/")

    def unsubscribe_url(self, to_hash: bytes, subject_id: str | None) -> str:
        token = optout.make_token(self.system_keys, to_hash, subject_id)
        return f"{self.public_url}/mail/unsubscribe/{token}"

    def queue(
        self,
        conn: Connection,
        *,
        to: str,
        template: str,
        language: str,
        context: Mapping[str, str],
        subject_id: str | None = None,
        marketing: bool = False,
        secret: Collection[str] = (),
    ) -> str:
        """Write one mail into the outbox inside ``conn``'s transaction; returns its ID.

        ``secret`` names the context values that grant access to whoever reads them (a one-time
        code): the mail carries them, but staff never see them in the outbox
        (:meth:`open` masks them, as it masks the token of a marketing mail's unsubscribe link).

        Raises :class:`~mamori.errors.InvalidValue` for a bad address,
        :class:`~mamori.errors.MailTemplateError` for an unknown template or a variable the
        template needs and ``context`` lacks; nothing is written then.
        """
        address = normal_address(to)
        if language not in LANGUAGES:
            raise UserInputError(f"mail language '{language}' is not ja or en")
        if template.startswith("_"):
            raise MailTemplateError(f"'{template}' is a part of other mail, not a mail template")
        self.templates.path(template, language)
        mail_id = "ml_" + secrets.token_hex(16)
        now = self.clock.now()
        to_hash = address_hash(self.system_keys, address)
        new = storage.NewMail(mail_id, template, language, subject_id, marketing, to_hash, now)
        targets = [f"mail:{mail_id}"] + ([f"subject:{subject_id}"] if subject_id else [])
        if marketing and storage.opted_out(conn, to_hash, subject_id):
            storage.insert_mail(
                conn,
                new,
                status="skipped",
                to_ciphertext=None,
                content_ciphertext=None,
                finished_at=now,
            )
            self.audit.append(
                conn,
                actor=ACTOR,
                action="mail.skip",
                targets=targets,
                details={"template": template, "reason": "opted_out"},
            )
            with self._lock:
                self.skipped += 1
            return mail_id
        full: dict[str, object] = {"operator": self.operator(language), **context}
        unsubscribe_url = None
        hidden = sorted({str(context[key]) for key in secret if context.get(key)}, key=len)
        if marketing:
            unsubscribe_url = self.unsubscribe_url(to_hash, subject_id)
            full["unsubscribe_url"] = unsubscribe_url
            hidden.append(unsubscribe_url.rsplit("/", 1)[-1])  # the token
        rendered = self.templates.render(template, language, full)
        body = rendered.body
        if marketing:
            body = (
                body.rstrip("\n")
                + "\n"
                + self.templates.render("_marketing_footer", language, full).body
            )
        content = orjson.dumps(
            {
                "subject": rendered.subject,
                "body": body,
                "unsubscribe_url": unsubscribe_url,
                "secrets": hidden,
            }
        )
        status = "queued" if self.settings.smtp_host else "outbox"
        storage.insert_mail(
            conn,
            new,
            status=status,
            to_ciphertext=self._encrypt(mail_id, "to", address.encode()),
            content_ciphertext=self._encrypt(mail_id, "content", content),
            finished_at=None,
        )
        self.audit.append(
            conn,
            actor=ACTOR,
            action="mail.queue",
            targets=targets,
            details={
                "template": template,
                "language": language,
                "marketing": marketing,
                "status": status,
            },
        )
        if status == "queued":
            storage.hold_until_commit(conn, mail_id)
        return mail_id

    def _encrypt(self, mail_id: str, part: str, plaintext: bytes) -> bytes:
        return crypto.encrypt(self._cipher, plaintext, subject_id=f"mail:{mail_id}", item_id=part)

    def _decrypt(self, mail_id: str, part: str, ciphertext: bytes) -> bytes:
        return crypto.decrypt(self._cipher, ciphertext, subject_id=f"mail:{mail_id}", item_id=part)

    # -- delivery --------------------------------------------------------------------------

    def deliver_pending(self) -> int:
        """Send every queued mail that is due, now, in this thread; returns how many were sent.

        With no SMTP host configured there is nothing to send (mail is kept in the outbox).
        """
        if not self.settings.smtp_host:
            return 0
        sent = 0
        seen: set[str] = set()
        while True:
            claimed = [m for m in self._claim() if m not in seen]
            if not claimed:
                return sent
            seen.update(claimed)
            sent += self._send(claimed)

    def deliver_when_visible(self, mail_ids: Iterable[str], *, wait_seconds: float = 5.0) -> int:
        """:meth:`deliver_pending`, once the given mail is visible to this process (a dispatch
        can reach a worker before the queueing transaction's commit is visible on a replica or
        another connection)."""
        wanted = set(mail_ids)
        deadline = time.monotonic() + wait_seconds
        while wanted:
            with db.read(self.engine) as conn:
                found = storage.existing_ids(conn, wanted)
            wanted -= found
            if not wanted or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return self.deliver_pending()

    def _claim(self) -> list[str]:
        now = self.clock.now()
        lease = now + dt.timedelta(seconds=self.settings.smtp_timeout_seconds * 3 + 60)
        with db.read(self.engine) as conn:
            due = storage.due(conn, now, _BATCH)
        if not due:
            return []
        claimed: list[str] = []
        with db.write(self.engine) as conn:
            for mail_id, at in due:
                if storage.claim(conn, mail_id, at, lease):
                    claimed.append(mail_id)
        return claimed

    def _send(self, mail_ids: list[str]) -> int:
        with db.read(self.engine) as conn:
            rows = storage.deliverable(conn, mail_ids)
        sender = sender_address(self.settings.mail_from)[1]
        sent = 0
        recorded: set[str] = set()
        try:
            with smtp.session(self.settings) as client:
                for row in rows:
                    try:
                        to, message = self._message(row)
                        smtp.send(client, message, sender, [to])
                    except Exception as exc:
                        if not _about_this_mail(exc):
                            raise  # the connection is gone: the rest wait for a retry
                        self._record(row.id, exc)
                    else:
                        self._record(row.id, None)
                        sent += 1
                    recorded.add(row.id)
        except Exception as exc:
            log.warning("mail delivery: the SMTP session failed: %s", type(exc).__name__)
            for row in rows:
                if row.id not in recorded:
                    self._record(row.id, exc)
        return sent

    def _message(self, row: Deliverable) -> tuple[str, EmailMessage]:
        to = self._decrypt(row.id, "to", row.to_ciphertext).decode()
        content = orjson.loads(self._decrypt(row.id, "content", row.content_ciphertext))
        message = build_message(
            mail_id=row.id,
            mail_from=self.settings.mail_from,
            to=to,
            subject=content["subject"],
            body=content["body"],
            created_at=row.created_at,
            unsubscribe_url=content.get("unsubscribe_url"),
        )
        return to, message

    def _record(self, mail_id: str, exc: BaseException | None) -> None:
        now = self.clock.now()
        with db.write(self.engine) as conn:
            attempts = storage.sent_attempts(conn, mail_id) + 1
            error = type(exc).__name__ if exc is not None else None
            if exc is None:
                result = "sent"
                storage.mark_sent(conn, mail_id, attempts=attempts, now=now)
            elif _permanent(exc) or attempts >= self.settings.mail_max_attempts:
                result = "failed"
                storage.mark_failed(conn, mail_id, attempts=attempts, now=now, error=error)
            else:
                result = "retry"
                delay = min(self.settings.mail_retry_seconds * 2 ** (attempts - 1), _MAX_DELAY)
                at = now + dt.timedelta(seconds=delay)
                storage.schedule_retry(conn, mail_id, attempts=attempts, at=at, error=error)
            self.audit.append(
                conn,
                actor=ACTOR,
                action="mail.send",
                targets=[f"mail:{mail_id}"],
                details={"result": result, "attempt": attempts, "error": error},
            )

    # -- opt-outs (seed §10(3)) -------------------------------------------------------------

    def read_unsubscribe(self, token: str) -> tuple[optout.Optout, bool]:
        """Whom an unsubscribe token names, and whether they opted out already."""
        who = optout.read_token(self.system_keys, token)
        with db.read(self.engine) as conn:
            return who, optout.is_opted_out(conn, who.address_hash)

    def unsubscribe(self, token: str, *, source: optout.Source) -> bool:
        """Opt out the address of ``token`` (no other credential: RFC 8058); False if it was."""
        who = optout.read_token(self.system_keys, token)
        with db.write(self.engine) as conn:
            done = optout.opt_out(
                conn, self.audit, who, source=source, actor=_actor(who), now=self.clock.now()
            )
            self._follow(conn, who, opted_out=True, actor=_actor(who))
            return done

    def resubscribe(self, token: str) -> bool:
        """Undo the opt-out of ``token``'s address; False if there was none."""
        who = optout.read_token(self.system_keys, token)
        with db.write(self.engine) as conn:
            done = optout.opt_in(conn, self.audit, who, actor=_actor(who))
            self._follow(conn, who, opted_out=False, actor=_actor(who))
            return done

    def opt_out_address(self, address: str, *, actor: str, subject_id: str | None = None) -> bool:
        """Opt out ``address`` on the person's word to staff (a call, a letter)."""
        who = optout.Optout(address_hash(self.system_keys, address), subject_id)
        with db.write(self.engine) as conn:
            done = optout.opt_out(
                conn, self.audit, who, source="staff", actor=actor, now=self.clock.now()
            )
            self._follow(conn, who, opted_out=True, actor=actor)
            return done

    def _follow(self, conn: Connection, who: optout.Optout, *, opted_out: bool, actor: str) -> None:
        if self.vault is not None and who.subject_id is not None:
            follow_mail_optout(self.vault, conn, who.subject_id, opted_out=opted_out, actor=actor)

    # -- housekeeping ----------------------------------------------------------------------

    def purge_finished(self) -> int:
        """Delete mail kept longer than ``MAMORI_MAIL_KEEP_DAYS`` (queued mail never)."""
        days = self.settings.mail_keep_days
        if not days:
            return 0
        cutoff = self.clock.now() - dt.timedelta(days=days)
        with db.write(self.engine) as conn:
            deleted = storage.purge_finished(conn, cutoff)
            if deleted:
                self.audit.append(
                    conn,
                    actor=ACTOR,
                    action="mail.purge",
                    details={"deleted": deleted, "keep_days": days},
                )
        return int(deleted)

    # -- reading the outbox ----------------------------------------------------------------

    def summaries(
        self, conn: Connection, *, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[MailSummary]:
        """Outbox rows, newest first, without decrypting anything."""
        if status is not None and status not in STATUSES:
            raise UserInputError(f"unknown mail status '{status}' (use {', '.join(STATUSES)})")
        return storage.summaries(conn, status=status, limit=limit, offset=offset)

    def summary(self, conn: Connection, mail_id: str) -> MailSummary:
        """One outbox row, without decrypting anything."""
        found = storage.find_summary(conn, mail_id)
        if found is None:
            raise NotFound(f"no mail '{mail_id}'")
        return found

    def counts(self, conn: Connection) -> dict[str, int]:
        found = storage.count_by_status(conn)
        return {status: found.get(status, 0) for status in STATUSES}

    def open(self, conn: Connection, mail_id: str, *, masked: bool = True) -> Mail:
        """One mail, decrypted, with what grants access masked (one-time codes, unsubscribe
        tokens) unless ``masked`` is False (delivery, tests). Not audited here: the caller
        audits who looked (staff)."""
        row = storage.find_mail(conn, mail_id)
        if row is None:
            raise NotFound(f"no mail '{mail_id}'")
        summary = row.summary
        if row.to_ciphertext is None or row.content_ciphertext is None:
            return Mail(summary, None, None, None, None)
        to = self._decrypt(mail_id, "to", row.to_ciphertext).decode()
        content = orjson.loads(self._decrypt(mail_id, "content", row.content_ciphertext))
        subject, body, url = content["subject"], content["body"], content["unsubscribe_url"]
        if masked:
            hidden = sorted(content.get("secrets", ()), key=len, reverse=True)
            subject, body, url = (_mask(v, hidden) for v in (subject, body, url))
        return Mail(summary, to, subject, body, url)

    def open_many(
        self, conn: Connection, summaries: Iterable[MailSummary], *, masked: bool = True
    ) -> list[Mail]:
        return [self.open(conn, s.id, masked=masked) for s in summaries]


ERASURES: Final = (
    Erasure("mails", storage.delete_mail_of),
    Erasure("optout_links", storage.unlink_optouts),
)
"""What withdrawal takes of the person's mail (listed in the built-in parts)."""

MASK: Final = "●●●●●●"
"""What staff see in place of a value that grants access."""


def _mask(text: str | None, hidden: Sequence[str]) -> str | None:
    if text is None:
        return None
    for value in hidden:
        if value:
            text = text.replace(value, MASK)
    return text


def _actor(who: optout.Optout) -> str:
    # Whoever holds the mail acts; the person when the mail named them.
    return f"subject:{who.subject_id}" if who.subject_id else "system:mail-link"


def _about_this_mail(exc: BaseException) -> bool:
    """True when ``exc`` concerns one mail (refused, undecryptable), not the connection."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException):
        return True
    if isinstance(exc, OSError):  # socket and TLS errors (ssl.SSLError is also a ValueError)
        return False
    return isinstance(exc, DecryptionFailed | ValueError)


def _permanent(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPException):
        return smtp.is_permanent(exc)
    if isinstance(exc, OSError):
        return False
    return isinstance(exc, DecryptionFailed | ValueError)
