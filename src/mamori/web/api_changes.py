"""Policy changes over the REST API: what each version changed, and people's consents.

``GET /api/v1/policy/changes`` is public, like the policy itself. The host service records a
consent it obtained from the person (in its own sign-up or settings flow) with
``POST /api/v1/subjects/{id}/policy-consents`` and a service key allowed to write.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from mamori.app import Runtime
from mamori.changes import consents
from mamori.publication import records
from mamori.publication.records import ChangeRecord
from mamori.vault.access import Caller
from mamori.vault.service_keys import ServiceAccount
from mamori.web.auth import service_account

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["policy changes"])


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _caller(account: Annotated[ServiceAccount, Depends(service_account)]) -> Caller:
    return Caller.of_key(account)


CallerDep = Annotated[Caller, Depends(_caller)]


class ChangeText(BaseModel):
    kind: str
    level: str
    ja: str
    en: str


class PolicyChange(BaseModel):
    version: int
    previous_version: int
    level: str = Field(description="`cosmetic`, `notify` or `consent_required`.")
    published_at: dt.datetime
    changes: list[ChangeText]
    consent_uses: list[tuple[str, str]] = Field(description="(item, purpose) needing consent.")
    consent_recipients: list[str]


class NewConsent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=2**31 - 1, description="The version whose change needs it.")


class Consent(BaseModel):
    version: int
    consented_at: dt.datetime
    channel: str = Field(description="`center` (the person) or `api` (the host service).")


class PersonConsents(BaseModel):
    pending: list[PolicyChange] = Field(description="Changes waiting for this person's consent.")
    given: list[Consent]


def _change(record: ChangeRecord) -> PolicyChange:
    return PolicyChange(
        version=record.version,
        previous_version=record.previous_version,
        level=record.level.value,
        published_at=record.published_at,
        changes=[ChangeText(**c.to_json()) for c in record.changes],
        consent_uses=sorted(record.consent_uses),
        consent_recipients=list(record.consent_recipients),
    )


@router.get(
    "/policy/changes",
    response_model=list[PolicyChange],
    summary="What each published version changed, oldest first",
)
def policy_changes(request: Request) -> list[PolicyChange]:
    return [_change(r) for r in records.records(_runtime(request).engine)]


@router.get(
    "/subjects/{subject_id}/policy-consents",
    response_model=PersonConsents,
    summary="A person's pending and given consents to policy changes",
)
def person_consents(subject_id: str, request: Request, caller: CallerDep) -> PersonConsents:
    caller.require("read")
    person = consents.person_changes(_runtime(request).vault, subject_id)
    _runtime(request).vault.committer.append(
        actor=caller.actor_id,
        action="policy_change.consents_read",
        targets=[f"subject:{subject_id}"],
        details={"pending": len(person.pending), "given": len(person.given)},
    )
    return PersonConsents(
        pending=[_change(c) for c in person.pending],
        given=[
            Consent(version=g.version, consented_at=g.consented_at, channel=g.channel)
            for g in person.given
        ],
    )


@router.post(
    "/subjects/{subject_id}/policy-consents",
    response_model=Consent,
    status_code=201,
    summary="Record the person's consent to a policy change",
)
def record_consent(
    subject_id: str, body: NewConsent, request: Request, caller: CallerDep
) -> Consent:
    given = consents.consent(
        _runtime(request).vault, caller, subject_id, body.version, channel="api"
    )
    return Consent(version=given.version, consented_at=given.consented_at, channel=given.channel)
