"""The audit log in the admin console, under /admin/audit.

The newest entries first, a page at a time, with each action's label in the reader's language
beside its code, staff named by their display names, and filters (a person, a staff member, a
service key, an action or a family of actions, a range of days in the operator's time zone);
the whole chain verified on request; the filtered entries exported as CSV (audited). Reading
needs ``audit_view``; exporting ``registers_export``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from mamori.app import Runtime
from mamori.audit import labels as audit_labels
from mamori.audit import queries as audit_queries
from mamori.audit import search as audit_search
from mamori.audit.search import AuditFilter
from mamori.clock import local_date, local_text
from mamori.i18n import N_, t
from mamori.staff.permissions import Permission
from mamori.store import db
from mamori.store.db import Connection
from mamori.web import deps
from mamori.web.admin import auth, nav
from mamori.web.admin.auth import StaffUser, need, need_recent
from mamori.web.rendering import request_lang

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)

AuditDep = Annotated[StaffUser, Depends(need(Permission.audit_view))]
AuditExportDep = Annotated[StaffUser, Depends(need_recent(Permission.registers_export))]
AUDIT_PAGE = 50


def _card(conn: Connection, runtime: Runtime) -> nav.Card:
    size = audit_queries.size(conn)
    return nav.Card(N_("admin.card_audit"), size, "/admin/audit")


nav.add(N_("admin.nav_audit"), "/admin/audit", order=90, permission=Permission.audit_view)
nav.add_card("audit", _card, order=90, permission=Permission.audit_view)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request, user: AuditDep, before: int | None = None, verify: bool = False
) -> HTMLResponse:
    """The latest entries (``?before=SEQ`` for older ones), narrowed by the filters of
    :class:`~mamori.audit.search.AuditFilter`; ``?verify=1`` checks the whole log."""
    runtime = deps.runtime(request)
    filt = AuditFilter.parse(dict(request.query_params))
    zone = runtime.settings.time_zone
    report = None
    if verify:
        report = runtime.audit.verify()
        with db.write(runtime.engine) as conn:
            runtime.audit.append(
                conn,
                actor=user.actor,
                action="audit.verify",
                details={"result": "intact" if report.ok else "broken", "entries": report.entries},
            )
    with db.read(runtime.engine) as conn:
        entries = audit_search.find(conn, filt, zone=zone, limit=AUDIT_PAGE, before=before)
        size = audit_queries.size(conn)
    older = entries[-1].seq if len(entries) == AUDIT_PAGE and entries[-1].seq > 1 else None
    query = {k: v for k, v in request.query_params.items() if k not in ("lang", "before", "verify")}
    lang = request_lang(request, strict=False)
    return nav.render(
        request,
        "admin/audit.html",
        entries=entries,
        older=older,
        report=report,
        size=size,
        filt=filt,
        query=query,
        action_label=lambda a: audit_labels.action_label(a, lang),
        actions=sorted(audit_labels.ACTIONS),
        staff_names=_staff_names(request),
        older_url=nav.lang_url(request, "/admin/audit", **query, before=str(older)),
        export_url=nav.lang_url(request, "/admin/audit/export.csv", **query),
        may_export=user.may(Permission.registers_export),
    )


def _staff_names(request: Request) -> dict[str, str]:
    return {a.actor: a.display_name for a in auth.directory(request).list()}


_AUDIT_CSV = (
    N_("admin.seq"),
    N_("admin.time"),
    N_("admin.actor"),
    N_("admin.action"),
    N_("admin.audit_action_code"),
    N_("admin.targets"),
    N_("admin.details"),
)


@router.get("/audit/export.csv")
def audit_export(request: Request, user: AuditExportDep) -> Response:
    """The entries the filters select, oldest first, as CSV (ids and codes only, as stored)."""
    runtime = deps.runtime(request)
    filt = AuditFilter.parse(dict(request.query_params))
    zone = runtime.settings.time_zone
    lang = request_lang(request, strict=False)
    with db.write(runtime.engine) as conn:
        runtime.audit.append(
            conn, actor=user.actor, action="audit.export", details={"format": "csv"}
        )

    def lines() -> Iterator[bytes]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([t(lang, key) for key in _AUDIT_CSV])
        yield ("\ufeff" + out.getvalue()).encode()
        with db.read(runtime.engine) as conn:
            for e in audit_search.stream(conn, filt, zone=zone):
                out.seek(0)
                out.truncate()
                writer.writerow(
                    [
                        e.seq,
                        local_text(e.at, zone),
                        e.actor,
                        audit_labels.action_label(e.action, lang),
                        e.action,
                        " ".join(e.targets),
                        " ".join(f"{k}={v}" for k, v in sorted(e.details.items())),
                    ]
                )
                yield out.getvalue().encode()

    stamp = local_date(runtime.clock.now(), zone).strftime("%Y%m%d")
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
