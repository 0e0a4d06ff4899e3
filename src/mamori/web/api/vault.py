"""The vault's REST API under /api/v1 (Bearer service keys, each call one transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field

from mamori.center import access
from mamori.errors import UserInputError
from mamori.vault import events as vault_events
from mamori.vault import restrictions as vault_restrictions
from mamori.vault.access import Caller, ReadResult
from mamori.vault.core import Vault
from mamori.vault.service_keys import ServiceAccount
from mamori.web import deps
from mamori.web.api.auth import service_account
from mamori.web.api.schemas import (
    CenterLinkOut,
    CreatedOut,
    EventsIn,
    EventsOut,
    ItemSettingOut,
    LabelOut,
    MatchesOut,
    PurposeSettingOut,
    ReadByOut,
    ReadOut,
    StopsIn,
    SubjectIn,
    UsageSettingsOut,
    WithdrawnOut,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["vault"])


# The dependencies are ``async`` although they do no I/O: FastAPI runs a plain ``def``
# dependency in the threadpool, two thread hand-offs per request for nothing.


async def _vault(request: Request) -> Vault:
    return deps.runtime(request).vault


async def _caller(account: Annotated[ServiceAccount, Depends(service_account)]) -> Caller:
    return Caller.of_key(account)


def _json(content: Any, status_code: int = 200) -> Response:
    """A JSON response serialised once by orjson (``response_model`` stays for the docs only:
    FastAPI does not validate a returned Response again)."""
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


def _read_json(result: ReadResult) -> dict[str, Any]:
    return {
        "items": result.items,
        "refused": {k: v.value for k, v in result.refused.items()},
        "missing": list(result.missing),
    }


CallerDep = Annotated[Caller, Depends(_caller)]
VaultDep = Annotated[Vault, Depends(_vault)]
SubjectId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


def _settings(view: vault_restrictions.UsageSettings) -> UsageSettingsOut:
    return UsageSettingsOut(
        subject_id=view.subject_id,
        withdrawn=view.withdrawn,
        items=[
            ItemSettingOut(
                id=i.id,
                label=LabelOut(ja=i.label.ja, en=i.label.en),
                essential=i.essential,
                stopped=i.stopped,
                purposes=list(i.purposes),
            )
            for i in view.items
        ],
        purposes=[
            PurposeSettingOut(
                id=p.id,
                label=LabelOut(ja=p.label.ja, en=p.label.en),
                group=p.group.value,
                stoppable=p.stoppable,
                stopped=p.stopped,
                items=list(p.items),
            )
            for p in view.purposes
        ],
    )


@router.post("/subjects", status_code=201, response_model=CreatedOut, summary="Store a new person")
def create_subject(body: SubjectIn, caller: CallerDep, vault: VaultDep) -> CreatedOut:
    subject_id = vault.create_subject(
        caller, type=body.type, external_id=body.external_id, items=body.items
    )
    return CreatedOut(id=subject_id)


@router.get(
    "/subjects", response_model=MatchesOut, summary="Find people by e-mail, phone or host ID"
)
def find_subjects(
    caller: CallerDep,
    vault: VaultDep,
    item: Annotated[str | None, Query(description="An indexed item (e-mail, phone).")] = None,
    value: Annotated[str | None, Query(max_length=1024)] = None,
    external_id: Annotated[str | None, Query(max_length=256)] = None,
    type: Annotated[str | None, Query(description="Subject type, with external_id.")] = None,
) -> MatchesOut:
    if external_id is not None:
        if type is None:
            raise UserInputError("give type= with external_id=")
        found = vault.find_external(caller, type, external_id)
        return MatchesOut(subjects=[found] if found else [])
    if item is None or value is None:
        raise UserInputError("give item= and value=, or type= and external_id=")
    return MatchesOut(subjects=vault.lookup(caller, item, value))


@router.get(
    "/subjects/items",
    response_model=ReadByOut,
    summary="Find people by e-mail or phone and read items of each for a purpose",
)
def read_by(
    caller: CallerDep,
    vault: VaultDep,
    item: Annotated[str, Query(description="The indexed item to search by (e-mail, phone).")],
    value: Annotated[str, Query(max_length=1024)],
    purpose: Annotated[str, Query(description="The purpose of this read.")],
    items: Annotated[str, Query(description="Comma-separated item ids to read.")],
) -> Response:
    wanted = [i.strip() for i in items.split(",") if i.strip()]
    results = vault.read_by(caller, item, value, purpose, wanted)
    return _json({"subjects": {s: _read_json(r) for s, r in results.items()}})


@router.patch("/subjects/{subject_id}/items", status_code=204, summary="Write items")
def write_items(
    subject_id: str, body: dict[str, Any], caller: CallerDep, vault: VaultDep
) -> Response:
    if not body:
        raise UserInputError("send at least one item")
    vault.write_items(caller, subject_id, body)
    return Response(status_code=204)


@router.get(
    "/subjects/{subject_id}/items",
    response_model=ReadOut,
    summary="Read items for a purpose",
)
def read_items(
    subject_id: str,
    caller: CallerDep,
    vault: VaultDep,
    purpose: Annotated[str, Query(description="The purpose of this read.")],
    items: Annotated[str, Query(description="Comma-separated item ids.")],
) -> Response:
    wanted = [i.strip() for i in items.split(",") if i.strip()]
    return _json(_read_json(vault.read(caller, subject_id, purpose, wanted)))


@router.get(
    "/subjects/{subject_id}/restrictions",
    response_model=UsageSettingsOut,
    summary="Usage-stop settings",
)
def get_restrictions(subject_id: str, caller: CallerDep, vault: VaultDep) -> UsageSettingsOut:
    caller.require("read")
    return _settings(vault_restrictions.usage_settings(vault, subject_id))


@router.put(
    "/subjects/{subject_id}/restrictions",
    response_model=UsageSettingsOut,
    summary="Replace usage stops",
)
def put_restrictions(
    subject_id: str, body: StopsIn, caller: CallerDep, vault: VaultDep
) -> UsageSettingsOut:
    view = vault_restrictions.set_stops(
        vault,
        caller,
        subject_id,
        stopped_items=body.stopped_items,
        stopped_purposes=body.stopped_purposes,
    )
    return _settings(view)


@router.post(
    "/subjects/{subject_id}/events",
    response_model=EventsOut,
    status_code=202,
    summary="Record device and usage events",
)
def post_events(subject_id: str, body: EventsIn, caller: CallerDep, vault: VaultDep) -> EventsOut:
    result = vault_events.add_events(vault, caller, subject_id, body.events)
    return EventsOut(stored=result.stored, dropped=result.dropped, reason=result.reason)


@router.post(
    "/subjects/{subject_id}/withdraw",
    response_model=WithdrawnOut,
    summary="Withdrawal: delete everything and shred the data key",
)
def withdraw(subject_id: str, caller: CallerDep, vault: VaultDep) -> WithdrawnOut:
    vault.withdraw(caller, subject_id)
    return WithdrawnOut(id=subject_id, status="withdrawn")


@router.get(
    "/purposes/{purpose}/items/{item}",
    summary="Every value of one item usable for a purpose (NDJSON stream)",
    response_class=StreamingResponse,
)
def bulk_read(purpose: str, item: str, caller: CallerDep, vault: VaultDep) -> StreamingResponse:
    rows = vault.bulk_read(caller, purpose, item)
    first = next(rows, None)  # errors (unknown purpose, not granted) surface before streaming

    def lines() -> Iterator[bytes]:
        try:
            if first is not None:
                yield orjson.dumps({"subject": first[0], "value": first[1]}) + b"\n"
                for subject_id, value in rows:
                    yield orjson.dumps({"subject": subject_id, "value": value}) + b"\n"
        finally:
            rows.close()

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.post(
    "/subjects/{subject_id}/center-link",
    response_model=CenterLinkOut,
    status_code=201,
    summary="A single-use signed link into the privacy center",
)
def center_link(
    subject_id: str, request: Request, caller: CallerDep, vault: VaultDep
) -> CenterLinkOut:
    minutes = deps.runtime(request).settings.center_link_minutes
    link = access.issue_link(vault, caller, subject_id, minutes=minutes)
    public = deps.runtime(request).settings.public_url
    base = public.rstrip("/") if public else str(request.base_url).rstrip("/")
    return CenterLinkOut(url=f"{base}/center/enter?token={link.token}", expires_at=link.expires_at)
