"""Policy changes over the REST API: what each version changed, and people's consents.

``GET /api/v1/policy/changes`` is public, like the policy itself. The host service records a
consent it obtained from the person (in its own sign-up or settings flow) with
``POST /api/v1/subjects/{id}/policy-consents`` and a service key allowed to write.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from mamori.changes import consents
from mamori.publication import records
from mamori.publication.records import ChangeRecord
from mamori.vault.access import Caller
from mamori.vault.service_keys import ServiceAccount
from mamori.web import deps
from mamori.web.api.auth import service_account
from mamori.web.api.document import errors
from mamori.web.api.schemas import (
    ChangeTextOut,
    ConsentIn,
    ConsentOut,
    PersonConsentsOut,
    PolicyChangeOut,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["policy changes"], responses=errors(503))


def _caller(account: Annotated[ServiceAccount, Depends(service_account)]) -> Caller:
    return Caller.of_key(account)


CallerDep = Annotated[Caller, Depends(_caller)]
SubjectId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The person's id.")]


def _change(record: ChangeRecord) -> PolicyChangeOut:
    return PolicyChangeOut(
        version=record.version,
        previous_version=record.previous_version,
        level=record.level.value,
        published_at=record.published_at,
        changes=[ChangeTextOut(**c.to_json()) for c in record.changes],
        consent_uses=sorted(record.consent_uses),
        consent_recipients=list(record.consent_recipients),
    )


@router.get(
    "/policy/changes",
    response_model=list[PolicyChangeOut],
    summary="What each published version changed, oldest first",
)
def policy_changes(request: Request) -> list[PolicyChangeOut]:
    return [_change(r) for r in records.records(deps.runtime(request).engine)]


@router.get(
    "/subjects/{subject_id}/policy-consents",
    response_model=PersonConsentsOut,
    summary="A person's pending and given consents to policy changes",
    responses=errors(401, 403, 404, 409, 422),
)
def person_consents(
    subject_id: SubjectId, request: Request, caller: CallerDep
) -> PersonConsentsOut:
    caller.require("read")
    person = consents.person_changes(deps.runtime(request).vault, subject_id)
    deps.runtime(request).vault.committer.append(
        actor=caller.actor_id,
        action="policy_change.consents_read",
        targets=[f"subject:{subject_id}"],
        details={"pending": len(person.pending), "given": len(person.given)},
    )
    return PersonConsentsOut(
        pending=[_change(c) for c in person.pending],
        given=[
            ConsentOut(version=g.version, consented_at=g.consented_at, channel=g.channel)
            for g in person.given
        ],
    )


@router.post(
    "/subjects/{subject_id}/policy-consents",
    response_model=ConsentOut,
    status_code=201,
    summary="Record the person's consent to a policy change",
    responses=errors(400, 401, 403, 404, 409, 413, 422),
)
def record_consent(
    subject_id: SubjectId, body: ConsentIn, request: Request, caller: CallerDep
) -> ConsentOut:
    given = consents.consent(
        deps.runtime(request).vault, caller, subject_id, body.version, channel="api"
    )
    return ConsentOut(version=given.version, consented_at=given.consented_at, channel=given.channel)
