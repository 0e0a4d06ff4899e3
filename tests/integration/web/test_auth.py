"""API authentication: 401 with WWW-Authenticate, 403 naming the operation, the OpenAPI scheme."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.vault import service_keys
from mamori.vault.service_keys import ServiceAccount
from mamori.web.api.auth import Authenticated, require_operation
from mamori.web.app import create_app
from tests.helpers.runtime import open_test_runtime

probe = APIRouter(prefix="/api/v1/probe")


@probe.get("/whoami")
async def whoami(account: Authenticated) -> dict[str, str]:
    return {"id": account.id, "actor": account.actor_id}


@probe.post("/things")
def write_things(
    account: Annotated[ServiceAccount, Depends(require_operation("write"))],
) -> dict[str, str]:
    return {"written_by": account.id}


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime=runtime)
    app.include_router(probe)
    with TestClient(app) as client:
        yield client


def _key(runtime: Runtime, *operations: str) -> tuple[ServiceAccount, str]:
    return service_keys.create(
        runtime.engine,
        runtime.audit,
        name="probe",
        purposes=["shipping"],
        operations=operations or ("read",),
        actor="cli",
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_401(response: Any, message: str, secret: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["status"] == 401 and message in body["error"], body
    if secret:
        assert secret not in response.text and secret[:8] not in response.text


def test_missing_or_malformed_header_is_401(client: TestClient) -> None:
    _assert_401(client.get("/api/v1/probe/whoami"), "Authorization: Bearer <key>")
    for header in ("Basic dXNlcjpwdw==", "Bearer", "Bearer   ", "mamori_mk_"):
        response = client.get("/api/v1/probe/whoami", headers={"Authorization": header})
        _assert_401(response, "must be 'Bearer <key>'")
    # An HTML client asking for the API still gets JSON and the header.
    html = client.get("/api/v1/probe/whoami", headers={"Accept": "text/html"})
    _assert_401(html, "Authorization: Bearer <key>")


def test_malformed_unknown_wrong_and_revoked_keys_are_401(
    client: TestClient, runtime: Runtime
) -> None:
    account, token = _key(runtime)
    secret = token[-43:]
    _assert_401(client.get("/api/v1/probe/whoami", headers=_bearer("nope")), "not a mamori")
    unknown = "mamori_mk_aaaaaaaaaa_" + secret
    _assert_401(client.get("/api/v1/probe/whoami", headers=_bearer(unknown)), "not valid", secret)
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    _assert_401(client.get("/api/v1/probe/whoami", headers=_bearer(wrong)), "not valid", secret)

    assert client.get("/api/v1/probe/whoami", headers=_bearer(token)).json() == {
        "id": account.id,
        "actor": f"key:{account.id}",
    }
    service_keys.revoke(runtime.engine, runtime.audit, account.id, actor="cli")
    revoked = client.get("/api/v1/probe/whoami", headers=_bearer(token))
    _assert_401(revoked, "revoked", secret)


def test_operation_not_granted_is_403(client: TestClient, runtime: Runtime) -> None:
    reader, read_token = _key(runtime, "read")
    writer, write_token = _key(runtime, "write")
    denied = client.post("/api/v1/probe/things", headers=_bearer(read_token))
    assert denied.status_code == 403
    assert "www-authenticate" not in denied.headers
    assert f"key '{reader.id}' may not write" in denied.json()["error"]
    allowed = client.post("/api/v1/probe/things", headers=_bearer(write_token))
    assert allowed.status_code == 200 and allowed.json() == {"written_by": writer.id}
    # Authentication comes first: no key is a 401, not a 403.
    _assert_401(client.post("/api/v1/probe/things"), "Authorization: Bearer <key>")


def test_the_bearer_scheme_is_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["apiKey"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    for path, method in (("/api/v1/probe/whoami", "get"), ("/api/v1/probe/things", "post")):
        assert document["paths"][path][method]["security"] == [{"apiKey": []}]
