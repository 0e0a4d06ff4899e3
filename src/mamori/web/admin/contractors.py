"""Contractors (委託先) in the admin console, under /admin/contractors (APPI 25).

The list: every contractor the published policy declares, with its contract on file (or the
lack of one, highlighted), its next supervision check and any overdue one. A contractor's page:
what the policy declares (items, purposes, country), the contracts and checks on file, and the
forms of a handler: record a contract, end one, schedule a check, record a check's result.
Viewers read only. Actions answer 303 back to the page with a notice (post/redirect/get); a
refused entry shows the page again with the reason in the reader's language (400; 409 for a
check completed or a contract ended before), nothing stored. The dashboard's card counts the
overdue checks and the contractors without a contract on file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.app import Runtime
from mamori.contractors import register
from mamori.errors import Conflict, ContractorEntryInvalid, ContractorNotFound, UserInputError
from mamori.i18n import N_, t
from mamori.staff.permissions import Permission
from mamori.store.db import Connection
from mamori.web import deps
from mamori.web.admin import nav
from mamori.web.admin.auth import StaffUser, need
from mamori.web.errors import status_for
from mamori.web.forms import read_form
from mamori.web.i18n import Lang
from mamori.web.rendering import request_lang

__all__ = ["router"]

router = APIRouter(prefix="/admin/contractors", include_in_schema=False)

RegisterDep = Annotated[StaffUser, Depends(need(Permission.registers_view))]
ManageDep = Annotated[StaffUser, Depends(need(Permission.contractors_manage))]

_DONE = {"contract", "ended", "scheduled", "completed"}
_WORDS = (  # keys the templates and the refusals build from codes
    N_("contractor.done_contract"),
    N_("contractor.done_ended"),
    N_("contractor.done_scheduled"),
    N_("contractor.done_completed"),
    N_("contractor.standing_no_contract"),
    N_("contractor.standing_in_force"),
    N_("contractor.standing_not_started"),
    N_("contractor.standing_ended"),
    N_("contractor.standing_check_failed"),
    N_("contractor.status_in_force"),
    N_("contractor.status_not_started"),
    N_("contractor.status_expired"),
    N_("contractor.status_terminated"),
    N_("contractor.result_passed"),
    N_("contractor.result_issues_found"),
    N_("contractor.result_failed"),
    N_("contractor.bad_missing"),
    N_("contractor.bad_not_a_date"),
    N_("contractor.bad_future"),
    N_("contractor.bad_before_start"),
    N_("contractor.bad_not_declared"),
    N_("contractor.bad_too_long"),
    N_("contractor.bad_not_plain"),
    N_("contractor.bad_unknown"),
    N_("contractor.signed_on"),
    N_("contractor.starts_on"),
    N_("contractor.ends_on"),
    N_("contractor.items_entrusted"),
    N_("contractor.note"),
    N_("contractor.due_on"),
    N_("contractor.done_on"),
    N_("contractor.result"),
)
_FIELD_WORDS = {"items": "contractor.items_entrusted"}


def _card(conn: Connection, runtime: Runtime) -> nav.Card | None:
    rules = runtime.vault.rules()
    if not any(rules.contractor(r) for r in rules.recipients):
        return None
    overdue, missing = register.attention(conn, rules, runtime.vault.today())
    return nav.Card(
        N_("contractor.card"),
        overdue + missing,
        "/admin/contractors",
        note_key=N_("contractor.card_note"),
        note_params={"overdue": overdue, "missing": missing},
        attention=overdue + missing > 0,
    )


nav.add(
    N_("admin.nav_contractors"),
    "/admin/contractors",
    order=40,
    permission=Permission.registers_view,
)
nav.add_card("contractors", _card, order=30, permission=Permission.registers_view)


def _lang(request: Request) -> Lang:
    return request_lang(request, strict=False)


def _labels(runtime: Runtime, lang: Lang) -> dict[str, Any]:
    rules = runtime.vault.rules()

    def item(i: str) -> str:
        return rules.items[i].label.get(lang) if i in rules.items else i

    def purpose(p: str) -> str:
        return rules.purposes[p].label.get(lang) if p in rules.purposes else p

    return {"item_label": item, "purpose_label": purpose}


@router.get("", response_class=HTMLResponse)
def listing(request: Request, user: RegisterDep) -> Response:
    runtime = deps.runtime(request)
    found = register.contractors(runtime.vault)
    return nav.render(
        request,
        "admin/contractors/list.html",
        contractors=found,
        today=runtime.vault.today(),
    )


def _message(lang: Lang, exc: UserInputError, conflict_key: str | None) -> str:
    if isinstance(exc, ContractorEntryInvalid) and exc.problem:
        field = t(lang, _FIELD_WORDS.get(exc.field, f"contractor.{exc.field}"))
        return t(lang, f"contractor.bad_{exc.problem}", field=field)
    if isinstance(exc, Conflict) and conflict_key is not None:
        return t(lang, conflict_key)
    return exc.message


def _detail(
    request: Request,
    user: StaffUser,
    recipient_id: str,
    *,
    status_code: int = 200,
    error: str = "",
    form: str = "",
    submitted: Mapping[str, Any] | None = None,
) -> Response:
    runtime = deps.runtime(request)
    found = register.contractor(runtime.vault, recipient_id)
    done = request.query_params.get("done", "")
    return nav.render(
        request,
        "admin/contractors/detail.html",
        status_code=status_code,
        c=found,
        today=found.today,
        may_act=user.may(Permission.contractors_manage),
        error=error,
        form=form,
        done=done if done in _DONE else "",
        submitted=submitted or {},
        results=list(register.CheckResult),
        **_labels(runtime, _lang(request)),
    )


@router.get("/{recipient_id}", response_class=HTMLResponse)
def detail(request: Request, recipient_id: str, user: RegisterDep) -> Response:
    return _detail(request, user, recipient_id)


def _back(request: Request, recipient_id: str, done: str) -> Response:
    url = nav.lang_url(request, f"/admin/contractors/{recipient_id}", done=done)
    return RedirectResponse(url, status_code=303)


async def _fields(request: Request) -> tuple[dict[str, str], list[str]]:
    form = await read_form(request, max_fields=100)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    items = [v for v in form.getlist("items") if isinstance(v, str)]
    return fields, items


async def _act(
    request: Request,
    user: StaffUser,
    recipient_id: str,
    *,
    form: str,
    done: str,
    action: Callable[[], object],
    submitted: Mapping[str, Any],
    conflict_key: str | None = None,
) -> Response:
    try:
        await run_in_threadpool(action)
    except UserInputError as exc:
        if isinstance(exc, ContractorNotFound):
            raise
        message = _message(_lang(request), exc, conflict_key)
        status = status_for(exc)
        return await run_in_threadpool(
            lambda: _detail(
                request,
                user,
                recipient_id,
                status_code=status,
                error=message,
                form=form,
                submitted=submitted,
            )
        )
    return _back(request, recipient_id, done)


@router.post("/{recipient_id}/contracts")
async def record_contract(request: Request, recipient_id: str, user: ManageDep) -> Response:
    fields, items = await _fields(request)
    vault = deps.runtime(request).vault
    return await _act(
        request,
        user,
        recipient_id,
        form="contract",
        done="contract",
        action=lambda: register.record_contract(
            vault,
            actor=user.actor,
            recipient_id=recipient_id,
            signed_on=fields.get("signed_on"),
            starts_on=fields.get("starts_on"),
            ends_on=fields.get("ends_on"),
            items=items,
            note=fields.get("note"),
        ),
        submitted={**fields, "items": items},
    )


@router.post("/{recipient_id}/contracts/{contract_id}/end")
async def end_contract(
    request: Request, recipient_id: str, contract_id: str, user: ManageDep
) -> Response:
    vault = deps.runtime(request).vault
    return await _act(
        request,
        user,
        recipient_id,
        form="end",
        done="ended",
        action=lambda: register.end_contract(
            vault, actor=user.actor, recipient_id=recipient_id, contract_id=contract_id
        ),
        submitted={},
        conflict_key=N_("contractor.already_ended"),
    )


@router.post("/{recipient_id}/checks")
async def schedule_check(request: Request, recipient_id: str, user: ManageDep) -> Response:
    fields, _ = await _fields(request)
    vault = deps.runtime(request).vault
    return await _act(
        request,
        user,
        recipient_id,
        form="check",
        done="scheduled",
        action=lambda: register.schedule_check(
            vault, actor=user.actor, recipient_id=recipient_id, due_on=fields.get("due_on")
        ),
        submitted=fields,
    )


@router.post("/{recipient_id}/checks/{check_id}/complete")
async def complete_check(
    request: Request, recipient_id: str, check_id: str, user: ManageDep
) -> Response:
    fields, _ = await _fields(request)
    vault = deps.runtime(request).vault
    return await _act(
        request,
        user,
        recipient_id,
        form=f"complete-{check_id}",
        done="completed",
        action=lambda: register.complete_check(
            vault,
            actor=user.actor,
            recipient_id=recipient_id,
            check_id=check_id,
            done_on=fields.get("done_on"),
            result=fields.get("result", ""),
            note=fields.get("note"),
        ),
        submitted=fields,
        conflict_key=N_("contractor.already_completed"),
    )
