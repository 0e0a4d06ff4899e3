"""Third-party provision over the REST API: the gate, people's consents to recipients, and
the records of data received from other businesses.

``POST /api/v1/provisions`` takes a recipient, a purpose, items, people and the basis claimed,
and answers per person what was provided and what was refused, with the record of each
provision the law asks to be recorded. It needs a key with the ``provide`` operation, granted
the purpose. The host records a consent it obtained from the person with
``POST /api/v1/subjects/{id}/provision-consents`` (``write``) and revokes it with ``DELETE``,
and what it received about a person from another business with ``POST /api/v1/acquisitions``
(``write``: it records a fact about the person, as a consent does; APPI 30).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from mamori.consent import links
from mamori.provisions import acquisitions, consents, gate, stream
from mamori.provisions.storage import AcquisitionRow, ConsentRow
from mamori.vault.access import Caller
from mamori.vault.service_keys import ServiceAccount
from mamori.web import deps
from mamori.web.api.auth import require_operation, service_account
from mamori.web.api.document import errors
from mamori.web.api.schemas import (
    AcquisitionIn,
    AcquisitionOut,
    CookieConsentLinkIn,
    CookieConsentLinkOut,
    ProvidedOut,
    ProvisionConsentIn,
    ProvisionConsentOut,
    ProvisionIn,
    ProvisionOut,
    ProvisionStreamIn,
)
from mamori.web.metrics import count_refusals

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1", tags=["third-party provision"], responses=errors(401, 403, 422, 503)
)

ProvideKey = Annotated[ServiceAccount, Depends(require_operation("provide"))]
AnyKey = Annotated[ServiceAccount, Depends(service_account)]
SubjectId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The person's id.")]
ConsentId = Annotated[str, Path(pattern=r"^pc_[0-9a-f]{24}$", description="The consent's id.")]


def _consent(row: ConsentRow) -> ProvisionConsentOut:
    return ProvisionConsentOut(
        id=row.id,
        recipient=row.recipient_id,
        purpose=row.purpose_id,
        policy_version=row.policy_version,
        consented_at=row.consented_at,
        revoked_at=row.revoked_at,
        channel=row.channel,
    )


@router.post(
    "/provisions",
    response_model=ProvisionOut,
    summary="Provide items of people to a recipient, decided per person and item",
    responses=errors(400, 404, 413),
)
async def provide(body: ProvisionIn, account: ProvideKey, request: Request) -> ProvisionOut:
    vault = deps.runtime(request).vault
    result = await run_in_threadpool(
        lambda: gate.provide(
            vault,
            Caller.of_key(account),
            recipient=body.recipient,
            subjects_=body.subjects,
            items=body.items,
            purpose=body.purpose,
            basis=body.basis,
            reason=body.reason,
            contract=body.contract,
        )
    )
    for person in result.people:
        if person.refused:
            count_refusals("provision", person.refused.values())
    return ProvisionOut(
        id=result.id,
        recipient=result.recipient_id,
        purpose=result.purpose,
        basis=result.basis.value,
        provided_at=result.provided_at,
        people=[
            ProvidedOut(
                subject_id=p.subject_id,
                items=dict(p.items),
                refused=dict(p.refused),
                missing=list(p.missing),
                record_id=p.record_id,
            )
            for p in result.people
        ],
    )


_STREAM_LINE = {
    "type": "object",
    "properties": {
        "subject": {"type": "string"},
        "value": {},
        "record_id": {"type": "string"},
    },
    "required": ["subject", "value", "record_id"],
}


@router.post(
    "/provisions/stream",
    summary="Provide one item of everyone a purpose may use to a recipient (NDJSON stream)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One JSON object per line, for each person provided: "
            "`{subject, value, record_id}`. The provision's id is in the `X-Mamori-Provision` "
            "header. People refused (no consent, a provision stop, a usage stop, withdrawal) "
            "are left out.",
            "content": {"application/x-ndjson": {"schema": _STREAM_LINE}},
        },
        **errors(400, 404, 409, 413),
    },
)
def provide_stream(
    body: ProvisionStreamIn, account: ProvideKey, request: Request
) -> StreamingResponse:
    streamed = stream.provide_everyone(
        deps.runtime(request).vault,
        Caller.of_key(account),
        recipient=body.recipient,
        item=body.item,
        purpose=body.purpose,
        basis=body.basis,
        reason=body.reason,
        contract=body.contract,
    )
    lines = streamed.lines
    first = next(lines, None)  # errors of the read surface before the answer starts

    def out() -> Iterator[bytes]:
        try:
            if first is not None:
                for line in itertools.chain((first,), lines):
                    yield (
                        orjson.dumps(
                            {
                                "subject": line.subject_id,
                                "value": line.value,
                                "record_id": line.record_id,
                            }
                        )
                        + b"\n"
                    )
        finally:
            lines.close()

    return StreamingResponse(
        out(), media_type="application/x-ndjson", headers={"X-Mamori-Provision": streamed.id}
    )


@router.get(
    "/subjects/{subject_id}/provision-consents",
    response_model=list[ProvisionConsentOut],
    summary="A person's consents to recipients, revoked ones too, newest first",
    responses=errors(404),
)
def list_consents(
    subject_id: SubjectId, account: AnyKey, request: Request
) -> list[ProvisionConsentOut]:
    Caller.of_key(account).require("read")
    vault = deps.runtime(request).vault
    found = consents.of_subject(vault, subject_id)
    vault.committer.append(
        actor=account.actor_id,
        action="provision_consent.list",
        targets=[f"subject:{subject_id}"],
        details={"consents": len(found)},
    )
    return [_consent(c) for c in found]


@router.post(
    "/subjects/{subject_id}/provision-consents",
    response_model=ProvisionConsentOut,
    status_code=201,
    summary="Record the person's consent to a recipient for a purpose (idempotent)",
    responses=errors(400, 404, 409, 413),
)
def give_consent(
    subject_id: SubjectId, body: ProvisionConsentIn, account: AnyKey, request: Request
) -> ProvisionConsentOut:
    row = consents.give(
        deps.runtime(request).vault,
        Caller.of_key(account),
        subject_id,
        body.recipient,
        body.purpose,
        channel="api",
    )
    return _consent(row)


@router.delete(
    "/subjects/{subject_id}/provision-consents/{consent_id}",
    status_code=204,
    summary="Revoke a consent of the person",
    responses=errors(404, 409),
)
def revoke_consent(
    subject_id: SubjectId, consent_id: ConsentId, account: AnyKey, request: Request
) -> Response:
    consents.revoke(
        deps.runtime(request).vault, Caller.of_key(account), subject_id, consent_id, channel="api"
    )
    return Response(status_code=204)


@router.post(
    "/subjects/{subject_id}/cookie-consents",
    response_model=CookieConsentLinkOut,
    status_code=201,
    summary="Tie the cookie choices of a consent ID to the person (APPI 31; idempotent)",
    responses=errors(400, 404, 409, 413),
)
def link_cookie_consent(
    subject_id: SubjectId, body: CookieConsentLinkIn, account: AnyKey, request: Request
) -> CookieConsentLinkOut:
    """The host says the person made the cookie choices recorded under ``consent_id`` (the
    ``mamori_consent`` cookie of their browser): a provision to a recipient that links
    person-related information then confirms their newest choice (``write``)."""
    linked = links.link(
        deps.runtime(request).vault, Caller.of_key(account), subject_id, body.consent_id
    )
    return CookieConsentLinkOut(
        subject=linked.subject_id,
        consent_id=linked.consent_id,
        receipt=linked.receipt,
        created=linked.created,
    )


def _acquisition(row: AcquisitionRow) -> AcquisitionOut:
    return AcquisitionOut.model_validate(
        {
            **row.__dict__,
            "provider": row.provider,
            "how_obtained": row.provider.get("how_obtained"),
            "items": list(row.items),
        }
    )


@router.post(
    "/acquisitions",
    response_model=AcquisitionOut,
    status_code=201,
    summary="Record data about a person received from another business (APPI 30)",
    responses=errors(400, 404, 409, 413),
)
def record_acquisition(body: AcquisitionIn, account: AnyKey, request: Request) -> AcquisitionOut:
    provider = body.provider
    row = acquisitions.record(
        deps.runtime(request).vault,
        Caller.of_key(account),
        body.subject_id,
        provider=acquisitions.Provider(
            name=provider.name.ja,
            name_en=provider.name.en,
            address=provider.address,
            representative=provider.representative,
            individual=provider.individual,
            keeps_records=provider.keeps_records,
        ),
        how_obtained=body.how_obtained,
        items=body.items,
        received_at=body.received_at,
        contract=body.contract,
    )
    return _acquisition(row)


@router.get(
    "/subjects/{subject_id}/acquisitions",
    response_model=list[AcquisitionOut],
    summary="The records of data received about a person, oldest first",
    responses=errors(404),
)
def list_acquisitions(
    subject_id: SubjectId, account: AnyKey, request: Request
) -> list[AcquisitionOut]:
    Caller.of_key(account).require("read")
    vault = deps.runtime(request).vault
    found = acquisitions.of_subject(vault, subject_id)
    vault.committer.append(
        actor=account.actor_id,
        action="provision.acquisition_list",
        targets=[f"subject:{subject_id}"],
        details={"acquisitions": len(found)},
    )
    return [_acquisition(a) for a in found]
