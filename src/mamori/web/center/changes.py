"""The privacy center's pages about policy changes: notices, consent, and the policy history.

``/center/policy-changes`` lists what changed since the person arrived: changes that need their
consent (each with a consent form) and notices they have not read (each with a "read" button).
``/center/policy-history`` lists every published version with what changed, linking to each
version's full text. Forms carry the session's CSRF token; pages work without JavaScript.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.center import access
from mamori.changes import consents
from mamori.publication import records, versions
from mamori.vault.access import Caller
from mamori.web import deps
from mamori.web.center import common
from mamori.web.center.common import FormDep, SessionDep
from mamori.web.i18n import Lang
from mamori.web.rendering import request_lang

__all__ = ["WORDS", "router", "words"]

router = common.router()

WORDS: dict[str, dict[Lang, str]] = {
    "changes_title": {"ja": "プライバシーポリシーの変更", "en": "Changes to the privacy policy"},
    "changes_attention": {
        "ja": "プライバシーポリシーが変更されました。変更の内容をご確認ください。",
        "en": "Our privacy policy has changed. Please review the changes.",
    },
    "changes_go": {"ja": "変更の内容を見る", "en": "See what changed"},
    "changes_none": {
        "ja": "お知らせする変更はありません。",
        "en": "There are no changes to tell you about.",
    },
    "changes_consent_heading": {
        "ja": "同意をお願いしている変更",
        "en": "Changes that need your consent",
    },
    "changes_consent_help": {
        "ja": "次の変更は、お客さまの同意をいただくまで、お客さまの情報には適用しません。",
        "en": "The following changes do not apply to your information until you consent.",
    },
    "changes_consent_button": {"ja": "この変更に同意する", "en": "I consent to this change"},
    "changes_consent_given": {
        "ja": "同意を記録しました。ありがとうございました。",
        "en": "Your consent is recorded. Thank you.",
    },
    "changes_notices_heading": {"ja": "お知らせ", "en": "Notices"},
    "changes_read_button": {"ja": "確認しました", "en": "Mark as read"},
    "changes_read_done": {"ja": "お知らせを確認済みにしました。", "en": "Notice marked as read."},
    "changes_given_heading": {"ja": "これまでの同意", "en": "Your consents so far"},
    "changes_version": {"ja": "第{n}版({date}公開)", "en": "Version {n} (published {date})"},
    "changes_full_text": {"ja": "この版の全文", "en": "Full text of this version"},
    "changes_consented_on": {
        "ja": "第{n}版の変更に{date}に同意({channel})",
        "en": "Consented to the change of version {n} on {date} ({channel})",
    },
    "channel_center": {"ja": "プライバシーセンター", "en": "privacy center"},
    "channel_api": {"ja": "サービス経由", "en": "through the service"},
    "history_title": {"ja": "プライバシーポリシーの改訂履歴", "en": "Privacy policy history"},
    "history_help": {
        "ja": "公開したすべての版と、それぞれの変更の内容です。",
        "en": "Every published version, and what each one changed.",
    },
    "history_first": {"ja": "最初に公開した版", "en": "The first published version"},
    "history_current": {"ja": "現行版", "en": "current"},
    "history_go": {"ja": "改訂履歴", "en": "Policy history"},
}


def words(lang: Lang) -> dict[str, str]:
    return {key: value[lang] for key, value in WORDS.items()}


Version = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _changes_page(
    request: Request, session: access.Session, *, done: str | None = None
) -> HTMLResponse:
    lang = request_lang(request)
    person = consents.person_changes(deps.runtime(request).vault, session.subject_id)
    return common.page(
        request,
        "center/changes.html",
        lang,
        w=words(lang),
        csrf_token=session.csrf_token,
        person=person,
        done=done,
    )


@router.get("/policy-changes", response_class=HTMLResponse)
def changes_page(request: Request, session: SessionDep) -> HTMLResponse:
    return _changes_page(request, session)


@router.post("/policy-changes/{version}/consent", response_class=HTMLResponse)
def consent(request: Request, version: Version, session: SessionDep, form: FormDep) -> HTMLResponse:
    access.check_csrf(session, form.get("csrf_token"))
    subject_id = session.subject_id
    consents.consent(
        deps.runtime(request).vault,
        Caller.person(subject_id),
        subject_id,
        version,
        channel="center",
    )
    return _changes_page(request, session, done="consent")


@router.post("/policy-changes/{version}/read", response_class=HTMLResponse)
def mark_read(
    request: Request, version: Version, session: SessionDep, form: FormDep
) -> HTMLResponse:
    access.check_csrf(session, form.get("csrf_token"))
    subject_id = session.subject_id
    vault = deps.runtime(request).vault
    consents.mark_read(vault, Caller.person(subject_id), subject_id, version)
    return _changes_page(request, session, done="read")


@router.get("/policy-changes/{version}/consent")
@router.get("/policy-changes/{version}/read")
def changes_get(request: Request, version: Version) -> Response:
    """The addresses the forms answer at; a GET (a language switch) goes to the list."""
    return RedirectResponse(common.url(request, "/center/policy-changes"), status_code=303)


@router.get("/policy-history", response_class=HTMLResponse)
def history(request: Request, session: SessionDep) -> HTMLResponse:
    lang = request_lang(request)
    engine = deps.runtime(request).engine
    published = versions.versions(engine)
    changes = {r.version: r for r in records.records(engine)}
    return common.page(
        request,
        "center/history.html",
        lang,
        w=words(lang),
        versions=list(reversed(published)),
        changes=changes,
        current=published[-1].version if published else None,
    )
