"""Authentication of API calls: ``Authorization: Bearer <key>`` names a service account.

Use as FastAPI dependencies::

    @router.get("/things")
    def things(account: Authenticated) -> ...: ...

    @router.patch("/things/{id}")
    def change(account: Annotated[ServiceAccount, Depends(require_operation("write"))]) -> ...:

A missing, malformed, unknown or revoked key is a 401 with ``WWW-Authenticate: Bearer``; a key
without the operation is a 403 (see :mod:`mamori.web.errors`). A contractor's key (``mamori keys
create --contractor``) is refused with 403 by :func:`service_account`, so on every route but
the vault's reads, which take it through :func:`vault_reader` and limit it to what the policy
entrusts to the contractor. The scheme is declared with
:class:`fastapi.security.HTTPBearer`, so it appears in the OpenAPI document.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from mamori.app import Runtime
from mamori.errors import AuthenticationFailed, ContractorKeyRefused
from mamori.vault import service_keys
from mamori.vault.service_keys import Operation, ServiceAccount

__all__ = ["Authenticated", "bearer", "require_operation", "service_account", "vault_reader"]

bearer = HTTPBearer(
    auto_error=False,  # mamori raises its own errors: one JSON shape, a message that helps
    scheme_name="apiKey",
    bearerFormat="mamori_mk_<id>_<secret>",
    description="An API key of a service account, from `mamori keys create`.",
)


async def vault_reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> ServiceAccount:
    """The service account whose key the request carries, a contractor's too, or a 401: for
    the vault's reads, which limit a contractor's key themselves."""
    if credentials is None:
        if request.headers.get("authorization", "").strip():
            raise AuthenticationFailed(
                "the Authorization header must be 'Bearer <key>', with a key from "
                "`mamori keys create`"
            )
        raise AuthenticationFailed()
    runtime: Runtime = request.app.state.runtime
    token = credentials.credentials
    account = service_keys.cached(runtime.engine, token, clock=runtime.clock)
    if account is None:  # a database read: off the event loop
        account = await run_in_threadpool(
            functools.partial(service_keys.authenticate, clock=runtime.clock), runtime.engine, token
        )
    return account


async def service_account(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> ServiceAccount:
    """The service account whose key the request carries, or a 401; a contractor's key is a
    403 (it may only read the vault)."""
    account = await vault_reader(request, credentials)
    if account.contractor_id is not None:
        raise ContractorKeyRefused(
            f"key '{account.id}' is the key of contractor '{account.contractor_id}': it may only"
            " read the vault (GET /api/v1/subjects/...), for what the policy entrusts to it"
        )
    return account


Authenticated = Annotated[ServiceAccount, Depends(service_account)]
"""A route parameter of this type requires a valid key, whatever its operations."""


@functools.cache
def require_operation(operation: Operation) -> Callable[..., Awaitable[ServiceAccount]]:
    """A dependency: the request's service account, or a 403 unless it may do ``operation``."""

    async def dependency(account: Authenticated) -> ServiceAccount:
        account.require(operation)
        return account

    dependency.__name__ = f"require_{operation}"
    return dependency
