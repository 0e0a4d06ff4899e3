"""The vault's REST API under /api/v1 (Bearer service keys, each call one transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator

from mamori.center import access
from mamori.errors import UserInputError
from mamori.vault import events as vault_events
from mamori.vault import restrictions as vault_restrictions
from mamori.vault.access import Caller, ReadResult
from mamori.vault.core import Vault
from mamori.vault.service_keys import ServiceAccount
from mamori.web import deps
from mamori.web.api.auth import service_account, vault_reader
from mamori.web.api.document import errors, policy_ids
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
    valid_unicode,
)
from mamori.web.metrics import count_refusals

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["vault"], responses=errors(401, 403, 422, 503))


# The dependencies are ``async`` although they do no I/O: FastAPI runs a plain ``def``
# dependency in the threadpool, two thread hand-offs per request for nothing.


async def _vault(request: Request) -> Vault:
    return deps.runtime(request).vault


async def _caller(account: Annotated[ServiceAccount, Depends(service_account)]) -> Caller:
    return Caller.of_key(account)


async def _reader(account: Annotated[ServiceAccount, Depends(vault_reader)]) -> Caller:
    """The caller of a purpose-gated read: a contractor's key too (the vault limits it)."""
    return Caller.of_key(account)


def _json(content: Any, status_code: int = 200) -> Response:
    """A JSON response serialised once by orjson (``response_model`` stays for the docs only:
    FastAPI does not validate a returned Response again)."""
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


def _read_json(result: ReadResult) -> dict[str, Any]:
    if result.refused:
        count_refusals("vault_read", result.refused.values())
    return {
        "items": result.items,
        "refused": {k: v.value for k, v in result.refused.items()},
        "missing": list(result.missing),
        "kinds": dict(result.kinds),
    }


_BULK_LINE: dict[str, Any] = {
    "type": "object",
    "required": ["subject", "value"],
    "properties": {"subject": {"type": "string"}, "value": {}},
}

_SUBJECT_LINKS: dict[str, Any] = {
    name: {
        "operationId": name,
        "parameters": {"subject_id": "$response.body#/id"},
        "description": "The person just stored.",
    }
    for name in (
        "read_items",
        "write_items",
        "get_restrictions",
        "put_restrictions",
        "post_events",
        "center_link",
        "person_consents",
        "record_consent",
        "withdraw",
    )
}
"""OpenAPI links: what a client can do next with the id a new person gets."""

CallerDep = Annotated[Caller, Depends(_caller)]
ReaderDep = Annotated[Caller, Depends(_reader)]
VaultDep = Annotated[Vault, Depends(_vault)]
SubjectId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The person's id.")]
PurposeParam = Annotated[
    str, Query(description="The purpose of this read.", json_schema_extra=policy_ids("purposes"))
]
ItemsParam = Annotated[
    str,
    Query(
        description="Comma-separated item ids.",
        max_length=4096,
        json_schema_extra=policy_ids("item-list"),
    ),
]
OptionalItemsParam = Annotated[
    str | None,
    Query(
        description="Comma-separated item ids; without it, every item the purpose allows for"
        " the person's type.",
        max_length=4096,
        json_schema_extra=policy_ids("item-list"),
    ),
]
IndexedItem = Annotated[
    str,
    Query(
        description="An item found by value (e-mail, phone).",
        json_schema_extra=policy_ids("indexed-items"),
    ),
]
ItemValues = Annotated[
    dict[str, Any],
    AfterValidator(valid_unicode),
    Body(
        description="item id -> new value, or null to delete the item",
        min_length=1,
        json_schema_extra=policy_ids("item-changes"),
    ),
]


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


@router.post(
    "/subjects",
    status_code=201,
    response_model=CreatedOut,
    summary="Store a new person",
    responses={201: {"links": _SUBJECT_LINKS}, **errors(400, 409, 413)},
)
def create_subject(body: SubjectIn, caller: CallerDep, vault: VaultDep) -> CreatedOut:
    subject_id = vault.create_subject(
        caller, type=body.type, external_id=body.external_id, items=body.items
    )
    return CreatedOut(id=subject_id)


@router.get(
    "/subjects",
    response_model=MatchesOut,
    summary="Find people by e-mail, phone or host ID",
    responses=errors(400),
)
def find_subjects(
    caller: ReaderDep,
    vault: VaultDep,
    item: Annotated[
        str | None,
        Query(
            description="An item found by value (e-mail, phone), with value=.",
            json_schema_extra=policy_ids("indexed-items"),
        ),
    ] = None,
    value: Annotated[str | None, Query(max_length=1024)] = None,
    external_id: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    type: Annotated[
        str | None,
        Query(
            description="Subject type, with external_id=.",
            json_schema_extra=policy_ids("subject-types"),
        ),
    ] = None,
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
    responses=errors(400),
)
def read_by(
    caller: ReaderDep,
    vault: VaultDep,
    item: IndexedItem,
    value: Annotated[str, Query(max_length=1024)],
    purpose: PurposeParam,
    items: ItemsParam,
) -> Response:
    wanted = [i.strip() for i in items.split(",") if i.strip()]
    results = vault.read_by(caller, item, value, purpose, wanted)
    return _json({"subjects": {s: _read_json(r) for s, r in results.items()}})


@router.patch(
    "/subjects/{subject_id}/items",
    status_code=204,
    summary="Write items",
    responses=errors(400, 404, 409, 413),
)
def write_items(
    subject_id: SubjectId, body: ItemValues, caller: CallerDep, vault: VaultDep
) -> Response:
    if not body:
        raise UserInputError("send at least one item")
    vault.write_items(caller, subject_id, body)
    return Response(status_code=204)


@router.get(
    "/subjects/{subject_id}/items",
    response_model=ReadOut,
    summary="Read items for a purpose",
    responses=errors(400, 404, 409),
)
def read_items(
    subject_id: SubjectId,
    caller: ReaderDep,
    vault: VaultDep,
    purpose: PurposeParam,
    items: OptionalItemsParam = None,
) -> Response:
    wanted = None if items is None else [i.strip() for i in items.split(",") if i.strip()]
    return _json(_read_json(vault.read(caller, subject_id, purpose, wanted)))


@router.get(
    "/subjects/{subject_id}/restrictions",
    response_model=UsageSettingsOut,
    summary="Usage-stop settings",
    responses=errors(404, 409),
)
def get_restrictions(subject_id: SubjectId, caller: CallerDep, vault: VaultDep) -> UsageSettingsOut:
    caller.require("read")
    return _settings(vault_restrictions.usage_settings(vault, subject_id))


@router.put(
    "/subjects/{subject_id}/restrictions",
    response_model=UsageSettingsOut,
    summary="Replace usage stops",
    responses=errors(400, 404, 409, 413),
)
def put_restrictions(
    subject_id: SubjectId, body: StopsIn, caller: CallerDep, vault: VaultDep
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
    responses=errors(400, 404, 409, 413),
)
def post_events(
    subject_id: SubjectId, body: EventsIn, caller: CallerDep, vault: VaultDep
) -> EventsOut:
    events = [e.model_dump(exclude_none=True) for e in body.events]
    result = vault_events.add_events(vault, caller, subject_id, events)
    return EventsOut(stored=result.stored, dropped=result.dropped, reason=result.reason)


@router.post(
    "/subjects/{subject_id}/withdraw",
    response_model=WithdrawnOut,
    summary="Withdrawal: delete everything and shred the data key",
    responses=errors(404, 409),
)
def withdraw(subject_id: SubjectId, caller: CallerDep, vault: VaultDep) -> WithdrawnOut:
    vault.withdraw(caller, subject_id)
    return WithdrawnOut(id=subject_id, status="withdrawn")


@router.get(
    "/purposes/{purpose}/items/{item}",
    summary="Every value of one item usable for a purpose (NDJSON stream)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One JSON object per line: `{subject, value}`.",
            "content": {"application/x-ndjson": {"schema": _BULK_LINE}},
        },
        **errors(400),
    },
)
def bulk_read(
    purpose: Annotated[str, Path(json_schema_extra=policy_ids("purposes"))],
    item: Annotated[str, Path(json_schema_extra=policy_ids("items"))],
    caller: ReaderDep,
    vault: VaultDep,
) -> StreamingResponse:
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
    responses=errors(404, 409),
)
def center_link(
    subject_id: SubjectId, request: Request, caller: CallerDep, vault: VaultDep
) -> CenterLinkOut:
    minutes = deps.runtime(request).settings.center_link_minutes
    link = access.issue_link(vault, caller, subject_id, minutes=minutes)
    public = deps.runtime(request).settings.public_url
    base = public.rstrip("/") if public else str(request.base_url).rstrip("/")
    return CenterLinkOut(url=f"{base}/center/enter?token={link.token}", expires_at=link.expires_at)
