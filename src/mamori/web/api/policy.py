"""The REST API under /api/v1."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Request

from mamori.errors import PolicyNotPublished
from mamori.publication import versions
from mamori.web import deps
from mamori.web.api.document import errors
from mamori.web.api.schemas import PolicyOut, PolicyVersionOut

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["policy"], responses=errors(503))


@router.get(
    "/policy",
    response_model=PolicyOut,
    summary="The current published policy",
    responses=errors(404),
)
def current_policy(request: Request) -> PolicyOut:
    version = versions.current(deps.runtime(request).engine)
    if version is None:
        raise PolicyNotPublished()
    return _published(version)


@router.get(
    "/policy/versions",
    response_model=list[PolicyVersionOut],
    summary="Every published version, oldest first",
)
def policy_versions(request: Request) -> list[PolicyVersionOut]:
    return [
        PolicyVersionOut(
            version=v.version,
            content_hash=v.content_hash,
            effective_date=v.effective_date,
            published_at=v.published_at,
        )
        for v in versions.versions(deps.runtime(request).engine)
    ]


@router.get(
    "/policy/versions/{version}",
    response_model=PolicyOut,
    summary="One published version",
    responses=errors(404, 422),
)
def policy_version(
    request: Request, version: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> PolicyOut:
    return _published(versions.get(deps.runtime(request).engine, version))


def _published(version: versions.PolicyVersion) -> PolicyOut:
    return PolicyOut(
        version=version.version,
        policy_id=version.policy_id,
        content_hash=version.content_hash,
        effective_date=version.effective_date,
        published_at=version.published_at,
        policy=orjson.loads(version.canonical_json),
    )
