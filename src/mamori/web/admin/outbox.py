"""The admin console's outbox (/admin/outbox): the mail mamori sent, is sending or kept.

Any signed-in staff member may look (``require_staff``); the recipient and the subject are
decrypted for the page only, and each look is audited with the staff member as actor and the
mails' IDs as targets (``mail.outbox.view``, ``mail.view``). On the embedded default, with no
SMTP host, this is where mail goes: staff read it here and pass it on by hand.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mamori.app import Runtime
from mamori.errors import UserInputError
from mamori.mail.mailer import STATUSES
from mamori.store import db
from mamori.web import deps
from mamori.web.admin import nav
from mamori.web.admin.auth import StaffDep
from mamori.web.i18n import Lang
from mamori.web.rendering import request_lang

__all__ = ["router"]

router = APIRouter(prefix="/admin/outbox", include_in_schema=False)

PAGE = 25
"""Mails a page shows (their IDs are the targets of one audit entry: at most 32)."""

_WORDS: dict[str, dict[Lang, str]] = {
    "title": {"ja": "送信メール", "en": "Outbox"},
    "intro": {
        "ja": "mamori が送るメールの一覧です。宛先と件名は、このページを表示するときだけ復号し、"
        "表示したことは監査ログに記録されます。",
        "en": "The mail mamori sends. Recipients and subjects are decrypted for this page only, "
        "and every view is recorded in the audit log.",
    },
    "no_smtp": {
        "ja": "SMTP サーバーが設定されていないため(MAMORI_SMTP_HOST)、メールは送信されず、"
        "ここに保管されます。",
        "en": "No SMTP server is configured (MAMORI_SMTP_HOST): mail is not sent but kept here.",
    },
    "all": {"ja": "すべて", "en": "All"},
    "status": {"ja": "状態", "en": "Status"},
    "created": {"ja": "作成日時", "en": "Created"},
    "to": {"ja": "宛先", "en": "To"},
    "subject": {"ja": "件名", "en": "Subject"},
    "template": {"ja": "テンプレート", "en": "Template"},
    "attempts": {"ja": "送信試行", "en": "Attempts"},
    "last_error": {"ja": "直近のエラー", "en": "Last error"},
    "next_attempt": {"ja": "次の試行", "en": "Next attempt"},
    "finished": {"ja": "完了日時", "en": "Finished"},
    "marketing": {"ja": "案内メール", "en": "Marketing"},
    "person": {"ja": "本人 ID", "en": "Subject ID"},
    "none": {"ja": "メールはありません。", "en": "No mail."},
    "older": {"ja": "さらに古いメール", "en": "Older mail"},
    "back": {"ja": "一覧に戻る", "en": "Back to the list"},
    "body": {"ja": "本文", "en": "Body"},
    "unsubscribe": {"ja": "配信停止リンク", "en": "Unsubscribe link"},
    "skipped_note": {
        "ja": "配信停止済みの宛先への案内メールのため、送信せず、宛先も本文も保存していません。",
        "en": "Marketing mail to an address that opted out: not sent, and neither the address "
        "nor the content was kept.",
    },
    "status_queued": {"ja": "送信待ち", "en": "Queued"},
    "status_sent": {"ja": "送信済み", "en": "Sent"},
    "status_failed": {"ja": "送信失敗", "en": "Failed"},
    "status_outbox": {"ja": "保管(未送信)", "en": "Kept (not sent)"},
    "status_skipped": {"ja": "配信停止により送信せず", "en": "Skipped (opted out)"},
    "yes": {"ja": "はい", "en": "yes"},
}


def _words(lang: Lang) -> dict[str, str]:
    return {key: value[lang] for key, value in _WORDS.items()}


def _render(request: Request, **context: Any) -> HTMLResponse:
    lang = request_lang(request)
    runtime = deps.runtime(request)
    return nav.render(
        request,
        "admin/outbox.html",
        ow=_words(lang),
        statuses=STATUSES,
        smtp=bool(runtime.settings.smtp_host),
        **context,
    )


@router.get("", response_class=HTMLResponse)
def outbox(
    request: Request, user: StaffDep, status: str | None = None, page: int = 0
) -> HTMLResponse:
    """Mail, newest first, ``PAGE`` at a time; ``?status=`` filters."""
    if status == "":
        status = None
    if status is not None and status not in STATUSES:
        raise UserInputError(f"unknown mail status '{status}' (use {', '.join(STATUSES)})")
    if page < 0 or page > 10_000:
        raise UserInputError("page must be from 0 to 10000")
    runtime = deps.runtime(request)
    with db.write(runtime.engine) as conn:
        summaries = runtime.mail.summaries(conn, status=status, limit=PAGE + 1, offset=page * PAGE)
        more = len(summaries) > PAGE
        mails = runtime.mail.open_many(conn, summaries[:PAGE])
        counts = runtime.mail.counts(conn)
        runtime.audit.append(
            conn,
            actor=user.actor,
            action="mail.outbox.view",
            targets=[f"mail:{m.summary.id}" for m in mails],
            details={"status": status, "page": page, "shown": len(mails)},
        )
    return _render(
        request, mails=mails, counts=counts, status=status, page=page, more=more, mail=None
    )


@router.get("/{mail_id}", response_class=HTMLResponse)
def one_mail(request: Request, user: StaffDep, mail_id: str) -> HTMLResponse:
    """One mail with its body."""
    runtime = deps.runtime(request)
    with db.write(runtime.engine) as conn:
        mail = runtime.mail.open(conn, mail_id)
        runtime.audit.append(
            conn, actor=user.actor, action="mail.view", targets=[f"mail:{mail.summary.id}"]
        )
    return _render(request, mail=mail)


def _outbox_card(conn: Any, runtime: Runtime) -> nav.Card:
    counts = runtime.mail.counts(conn)
    if counts["failed"]:
        return nav.Card(
            "送信に失敗したメール",
            "Mail that failed",
            counts["failed"],
            "/admin/outbox?status=failed",
            attention=True,
        )
    waiting = counts["queued"] if runtime.settings.smtp_host else counts["outbox"]
    return nav.Card(
        "送信待ちのメール" if runtime.settings.smtp_host else "保管中のメール(未送信)",
        "Mail waiting to be sent" if runtime.settings.smtp_host else "Mail kept (not sent)",
        waiting,
        "/admin/outbox",
    )


nav.add("送信メール", "Outbox", "/admin/outbox", order=60)
nav.add_card("mail.outbox", _outbox_card, order=60)
