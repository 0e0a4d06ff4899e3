"""The report draft of an incident (規則8's nine fields): as JSON, as a printable HTML document
and as PDF, under /admin/incidents/{id}/report.* (``registers.view``).

The document is in the reader's language: Japanese unless ``?lang=en`` (or the browser) asks
for English. The PDF is the same HTML laid out by WeasyPrint with the Noto CJK fonts, so that
Japanese renders; WeasyPrint fetches nothing (no URL is followed). When its system libraries
(pango) cannot be loaded, ``report.pdf`` answers 503 saying so; the HTML prints the same.
"""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.errors import ReportUnavailable
from mamori.incidents import register, report
from mamori.staff.permissions import Permission
from mamori.web import deps
from mamori.web.admin.auth import StaffUser, need
from mamori.web.rendering import request_lang, templates

__all__ = ["router", "to_pdf"]

router = APIRouter(prefix="/admin/incidents", include_in_schema=False)

ReadDep = Annotated[StaffUser, Depends(need(Permission.registers_view))]

FONTS = '"Noto Sans CJK JP", "Noto Serif CJK JP", "Noto Sans JP", sans-serif'
"""The fonts of the PDF (Debian's fonts-noto-cjk, /usr/share/fonts/opentype/noto)."""


def _draft(request: Request, incident_id: str) -> report.Draft:
    runtime = deps.runtime(request)
    found = register.get(runtime, incident_id)
    return report.draft(found, runtime.vault.rules(), request_lang(request, strict=False))


def _html(draft: report.Draft, *, for_pdf: bool) -> str:
    template = templates.env.get_template("admin/incidents/report.html")
    context: dict[str, Any] = {
        "lang": draft.lang,
        "d": draft,
        "i": draft.incident,
        "fonts": FONTS,
        "for_pdf": for_pdf,
    }
    return template.render(context)


def _refuse_fetch(url: str, *args: object, **kwargs: object) -> NoReturn:
    raise ValueError("the report draft loads nothing")


def to_pdf(html: str) -> bytes:
    """``html`` laid out as PDF; :class:`ReportUnavailable` when WeasyPrint cannot load."""
    try:
        import weasyprint
    except (ImportError, OSError):
        raise ReportUnavailable() from None
    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
    return pdf


@router.get("/{incident_id}/report.json")
def report_json(request: Request, incident_id: str, user: ReadDep) -> Response:
    draft = _draft(request, incident_id)
    return JSONResponse(
        draft.as_json(),
        headers={"Content-Language": draft.lang, "Cache-Control": "no-store"},
    )


@router.get("/{incident_id}/report.html", response_class=HTMLResponse)
def report_html(request: Request, incident_id: str, user: ReadDep) -> Response:
    draft = _draft(request, incident_id)
    return HTMLResponse(
        _html(draft, for_pdf=False),
        headers={"Content-Language": draft.lang, "Cache-Control": "no-store"},
    )


@router.get("/{incident_id}/report.pdf")
async def report_pdf(request: Request, incident_id: str, user: ReadDep) -> Response:
    draft = await run_in_threadpool(_draft, request, incident_id)
    pdf = await run_in_threadpool(to_pdf, _html(draft, for_pdf=True))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="report-{draft.incident.id}.pdf"',
            "Content-Language": draft.lang,
            "Cache-Control": "no-store",
        },
    )
