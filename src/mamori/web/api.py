"""The REST API under /api/v1."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel

from mamori.app import Runtime
from mamori.errors import PolicyNotPublished
from mamori.publication import versions

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["api"])


class PublishedPolicy(BaseModel):
    """The published policy: its version, content hash, effective date and declaration."""

    version: int
    policy_id: str
    content_hash: str
    effective_date: dt.date
    published_at: dt.datetime
    policy: dict[str, Any]


class PolicyVersionSummary(BaseModel):
    version: int
    content_hash: str
    effective_date: dt.date
    published_at: dt.datetime


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/policy", response_model=PublishedPolicy, summary="The current published policy")
def current_policy(request: Request) -> PublishedPolicy:
    version = versions.current(_runtime(request).engine)
    if version is None:
        raise PolicyNotPublished()
    return _published(version)


@router.get(
    "/policy/versions",
    response_model=list[PolicyVersionSummary],
    summary="Every published version, oldest first",
)
def policy_versions(request: Request) -> list[PolicyVersionSummary]:
    return [
        PolicyVersionSummary(
            version=v.version,
            content_hash=v.content_hash,
            effective_date=v.effective_date,
            published_at=v.published_at,
        )
        for v in versions.versions(_runtime(request).engine)
    ]


@router.get(
    "/policy/versions/{version}",
    response_model=PublishedPolicy,
    summary="One published version",
)
def policy_version(request: Request, version: int) -> PublishedPolicy:
    return _published(versions.get(_runtime(request).engine, version))


def _published(version: versions.PolicyVersion) -> PublishedPolicy:
    return PublishedPolicy(
        version=version.version,
        policy_id=version.policy_id,
        content_hash=version.content_hash,
        effective_date=version.effective_date,
        published_at=version.published_at,
        policy=orjson.loads(version.canonical_json),
    )
