"""Statistics in the admin console, under /admin/statistics (issue 16, part 4).

The statistics-only purposes with their dimensions and k, a form to run a query, the query log
of each purpose with a button to run a logged query again (a saved query), and the answer: a
table whose suppressed cells are marked (primary: fewer than k people; secondary: would give a
suppressed one back), with a CSV download of the same answer. ``/admin/statistics/exports``
lists every pseudonymised export, makes a new one (a CSV or Parquet download, written to a
temporary file and sent from it) and replaces or destroys a purpose's pseudonym key. Reading
needs ``registers.view``; running ``statistics.run``; exports and keys ``statistics.export``
with a recent sign-in. A refused query shows the page again with the reason (400 or 409),
nothing logged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from typing import IO, Annotated, Any, Final

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from mamori.errors import NotFound, UserInputError
from mamori.i18n import N_
from mamori.policy.rules import Rules
from mamori.staff.permissions import Permission
from mamori.statistics import exports, pseudonyms, queries, storage
from mamori.statistics.disclosure import Entry
from mamori.store import db
from mamori.vault.access import Caller
from mamori.web import deps
from mamori.web.admin import nav
from mamori.web.admin.auth import StaffUser, need, need_recent
from mamori.web.errors import status_for
from mamori.web.forms import read_form

__all__ = ["router"]

router = APIRouter(prefix="/admin/statistics", include_in_schema=False)

ReadDep = Annotated[StaffUser, Depends(need(Permission.registers_view))]
RunDep = Annotated[StaffUser, Depends(need(Permission.statistics_run))]
ExportDep = Annotated[StaffUser, Depends(need_recent(Permission.statistics_export))]

_CHUNK: Final = 64 * 1024

_WORDS = (
    N_("statistics.suppressed_primary"),
    N_("statistics.suppressed_secondary"),
    N_("statistics.done_replaced"),
    N_("statistics.done_destroyed"),
    N_("statistics.measure_people"),
    N_("statistics.measure_events"),
    N_("statistics.measure_age"),
)

nav.add(
    N_("admin.nav_statistics"), "/admin/statistics", order=72, permission=Permission.registers_view
)


def _purposes(rules: Rules, *, pseudonymised: bool = False) -> list[Any]:
    return [
        p
        for p in rules.purposes.values()
        if (p.pseudonymised is not None if pseudonymised else p.statistics_only)
    ]


def _page(
    request: Request,
    user: StaffUser,
    *,
    status_code: int = 200,
    error: str = "",
    answer: queries.Answer | None = None,
) -> Response:
    runtime = deps.runtime(request)
    rules = runtime.vault.rules()
    with db.read(runtime.engine) as conn:
        log = storage.logged_queries(conn, limit=50)
    return nav.render(
        request,
        "admin/statistics.html",
        status_code=status_code,
        purposes=_purposes(rules),
        k={p.id: queries.min_cell(rules, p.id) for p in _purposes(rules)},
        log=[(q, orjson.loads(q.shape)) for q in log],
        may_run=user.may(Permission.statistics_run),
        measures=queries.MEASURES,
        error=error,
        answer=answer,
    )


@router.get("", response_class=HTMLResponse)
def listing(request: Request, user: ReadDep) -> Response:
    return _page(request, user)


def _csv(answer: queries.Answer) -> Response:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    by = list(answer.query.by)
    age = answer.query.measure == "age"
    out.writerow([*by, "value", *(["mean"] if age else []), "suppressed"])
    rows: list[Entry] = [*answer.table.cells, *answer.table.totals]
    for entry in rows:
        groups = [
            ("" if entry.groups[d] is None else entry.groups[d]) if d in entry.groups else "*"
            for d in by
        ]
        value = "" if entry.suppressed else str(entry.value)
        mean = "" if entry.suppressed or entry.mean is None else str(entry.mean)
        out.writerow([*groups, value, *([mean] if age else []), entry.suppressed or ""])
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="statistics-{answer.id}.csv"',
        },
    )


@router.post("/run")
async def run(request: Request, user: RunDep) -> Response:
    data = await read_form(request, max_fields=20)
    fields = {k: v for k, v in data.multi_items() if isinstance(v, str)}
    runtime = deps.runtime(request)
    vault = runtime.vault

    def answer() -> queries.Answer:
        logged_id = fields.get("query", "")
        if logged_id:
            with db.read(runtime.engine) as conn:
                logged = storage.logged_query(conn, logged_id)
            if logged is None:
                raise NotFound(f"no logged query '{logged_id[:40]}'")
            shape = orjson.loads(logged.shape)
            purpose, measure, by = logged.purpose_id, shape["measure"], shape["by"]
            since, until = shape["since"], shape["until"]
        else:
            purpose, measure = fields.get("purpose", ""), fields.get("measure", "people")
            by = [v for v in data.getlist("by") if isinstance(v, str) and v]
            since, until = fields.get("since") or None, fields.get("until") or None
        query = queries.parse(
            vault.rules(), purpose, measure=measure, by=by, since=since, until=until
        )
        return queries.run(vault, Caller(user.actor), query)

    try:
        found = await run_in_threadpool(answer)
    except UserInputError as exc:
        if isinstance(exc, NotFound):
            raise
        status, message = status_for(exc), exc.message
        return await run_in_threadpool(
            lambda: _page(request, user, status_code=status, error=message)
        )
    if fields.get("format") == "csv":
        return _csv(found)
    return await run_in_threadpool(lambda: _page(request, user, answer=found))


# -- pseudonymised exports ------------------------------------------------------------------------


@router.get("/exports", response_class=HTMLResponse)
def export_list(request: Request, user: ReadDep) -> Response:
    runtime = deps.runtime(request)
    rules = runtime.vault.rules()
    with db.read(runtime.engine) as conn:
        rows = storage.export_rows(conn)
    done = request.query_params.get("done", "")
    return nav.render(
        request,
        "admin/statistics_exports.html",
        purposes=[(p, exports.plan(rules, p.id)) for p in _purposes(rules, pseudonymised=True)],
        rows=[(r, orjson.loads(r.columns)) for r in rows],
        may_export=user.may(Permission.statistics_export),
        done=done if done in ("replaced", "destroyed") else "",
    )


def _pseudonymised(request: Request, purpose: str) -> str:
    rules = deps.runtime(request).vault.rules()
    if purpose not in {p.id for p in _purposes(rules, pseudonymised=True)}:
        raise NotFound(f"no pseudonymised purpose '{purpose[:64]}'")
    return purpose


_MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


@router.post("/exports")
async def make_export(request: Request, user: ExportDep) -> Response:
    data = await read_form(request, max_fields=10)
    purpose = _pseudonymised(request, str(data.get("purpose", "")))
    format_ = str(data.get("format", "") or "csv")
    exports.check_format(format_)
    vault = deps.runtime(request).vault

    def made() -> tuple[IO[bytes], str]:
        # Written to a temporary file and sent from it: memory holds one page of people.
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed after the response is sent)
        try:
            record = exports.export(vault, Caller(user.actor), purpose, spool, format=format_)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool, record.id

    spool, record_id = await run_in_threadpool(made)
    today = dt.date.today().isoformat()
    return StreamingResponse(
        iter(lambda: spool.read(_CHUNK), b""),
        media_type=_MEDIA[format_],
        headers={
            "Content-Disposition": (
                f'attachment; filename="{purpose}-{today}-{record_id}.{format_}"'
            )
        },
        background=BackgroundTask(spool.close),
    )


@router.post("/keys")
async def key_action(request: Request, user: ExportDep) -> Response:
    data = await read_form(request, max_fields=10)
    purpose = _pseudonymised(request, str(data.get("purpose", "")))
    action = str(data.get("action", ""))
    vault = deps.runtime(request).vault
    if action == "replace":
        await run_in_threadpool(lambda: pseudonyms.replace(vault, purpose, user.actor))
        done = "replaced"
    elif action == "destroy":
        await run_in_threadpool(lambda: pseudonyms.destroy(vault, purpose, user.actor))
        done = "destroyed"
    else:
        raise UserInputError("action: use replace or destroy")
    return RedirectResponse(
        nav.lang_url(request, "/admin/statistics/exports", done=done), status_code=303
    )
