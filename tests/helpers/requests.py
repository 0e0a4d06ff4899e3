"""Helpers of the request tests: a runtime, a person in the vault, mail read from the outbox."""

from __future__ import annotations

import re

from mamori.app import Runtime
from mamori.mail.mailer import Mail
from mamori.store import db
from mamori.vault.access import Caller

HOST = Caller(actor_id="service:test")
BASE = "http://mamori.test"


def person(runtime: Runtime, email: str = "hanako@example.jp", **items: object) -> str:
    return runtime.vault.create_subject(
        HOST, type="customer", items={"name": "山田 花子", "email": email, **items}
    )


def mails(runtime: Runtime, template: str | None = None) -> list[Mail]:
    """Every mail in the outbox (oldest first), optionally of one template, unmasked (as it
    is delivered: the codes the tests type)."""
    with db.read(runtime.engine) as conn:
        found = runtime.mail.open_many(conn, runtime.mail.summaries(conn, limit=1000), masked=False)
    found.reverse()
    return [m for m in found if template is None or m.summary.template == template]


def last_code(runtime: Runtime) -> str:
    body = mails(runtime, "request_code")[-1].body or ""
    match = re.search(r"(?:確認コード|Confirmation code): (\d{6})", body)
    assert match, body
    return match[1]


def grant_provision_stop(runtime: Runtime, subject: str, email: str, items: list[str]) -> None:
    """A provision stop of ``items`` that the person filed (signed in) and staff granted."""
    from mamori.requests import service
    from mamori.requests.intake import check_intake
    from mamori.requests.model import Outcome, Verification
    from mamori.requests.workflow import Decision

    intake = check_intake(
        runtime.vault.rules(),
        type="provision_stop",
        language="ja",
        email=email,
        items=items,
        ground="provision_without_consent",
    )
    request = service.file_request(
        runtime,
        intake,
        actor="subject:x",
        client="c",
        base_url=BASE,
        subject_id=subject,
        verified_by=Verification.session,
    )
    service.start_review(runtime, request.id, actor="staff:st_1")
    service.decide(
        runtime, request.id, Decision(Outcome.fulfilled), actor="staff:st_1", base_url=BASE
    )
