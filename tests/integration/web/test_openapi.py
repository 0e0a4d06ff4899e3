"""The OpenAPI document says what the API does: every status it answers, with the error body,
the policy's ids as enumerations, one id per operation, and a 405 naming every method.

The live probe (``python -m tests.probes.api_fuzz``, in CI) generates thousands of calls from
the document; these tests keep its parts true on every run of the suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.vault import service_keys
from mamori.web.app import create_app
from mamori.web.body_limit import api_body_limit
from tests.helpers.edits import revision, unrelated_purpose, write_edited
from tests.helpers.runtime import open_test_runtime

ALL_PURPOSES = ("service_operation", "shipping", "promotion", "statistics")


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


def _key(runtime: Runtime, *operations: str, purposes: tuple[str, ...] = ALL_PURPOSES) -> str:
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="doc",
        purposes=list(purposes),
        operations=list(operations or ("read", "write", "delete")),
        actor="test",
    )
    return token


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def _markers(node: Any) -> int:
    if isinstance(node, dict):
        return ("x-policy" in node) + sum(_markers(v) for v in node.values())
    if isinstance(node, list):
        return sum(_markers(v) for v in node)
    return 0


def test_every_error_is_documented_with_the_error_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error = document["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"error", "status"}
    for method, path, operation in _operations(document):
        errors = {s: r for s, r in operation["responses"].items() if not s.startswith("2")}
        assert "503" in errors, f"{method} {path}"
        for status, response in errors.items():
            ref = response["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorOut", f"{method} {path} {status}"
        if operation.get("security"):
            assert {"401", "403"} <= set(errors), f"{method} {path}"
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in errors, f"{method} {path}"
        if operation.get("requestBody"):
            assert "413" in errors, f"{method} {path}"


def test_operation_ids_are_the_route_names_and_unique(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(ids) == len(set(ids))
    assert {"read_items", "write_items", "file_request", "request_status"} <= set(ids)
    links = document["paths"]["/api/v1/subjects"]["post"]["responses"]["201"]["links"]
    assert all(link["operationId"] in ids for link in links.values())


def test_the_published_policy_fills_in_its_ids(
    client: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    document = client.get("/openapi.json").json()
    assert _markers(document) == 0
    policy = runtime.published.current().policy
    read = document["paths"]["/api/v1/subjects/{subject_id}/items"]["get"]
    params = {p["name"]: p["schema"] for p in read["parameters"]}
    assert params["purpose"]["enum"] == [p.id for p in policy.purposes]
    assert params["subject_id"]["pattern"] == "^[0-9a-f]{32}$"
    assert params["items"]["pattern"].startswith("^(name|")
    body = document["components"]["schemas"]["SubjectIn"]["properties"]
    assert body["type"]["enum"] == [s.id for s in policy.subjects]
    stored = [i.id for i in policy.items if i.kind.value != "events"]
    assert list(body["items"]["properties"]) == stored
    assert body["items"]["additionalProperties"] is False
    patch = document["paths"]["/api/v1/subjects/{subject_id}/items"]["patch"]["requestBody"]
    change = patch["content"]["application/json"]["schema"]["properties"]["email"]["anyOf"]
    assert change[1]["type"] == "null"  # null deletes the item
    request = document["components"]["schemas"]["RequestIn"]["properties"]
    assert "erasure" in request["type"]["enum"]

    runtime.publish_file(
        write_edited(tmp_path / "v2.yaml", unrelated_purpose, revision), actor="test"
    )
    again = client.get("/openapi.json").json()
    read = again["paths"]["/api/v1/subjects/{subject_id}/items"]["get"]
    purposes = {p["name"]: p["schema"] for p in read["parameters"]}["purpose"]["enum"]
    assert purposes[-1] == "partner_offers"


@pytest.mark.parametrize(
    ("call", "status"),
    [
        ("no key", 401),
        ("read-only key writes", 403),
        ("purpose the key lacks", 403),
        ("unknown person", 404),
        ("withdrawn person", 409),
        ("malformed id", 422),
        ("unknown purpose", 400),
        ("unknown request type", 422),
        ("unknown request", 404),
        ("body too large", 413),
    ],
)
def test_each_status_the_api_answers_is_in_the_document(
    client: TestClient, runtime: Runtime, call: str, status: int
) -> None:
    full = {"Authorization": f"Bearer {_key(runtime)}"}
    person = client.post("/api/v1/subjects", json={"type": "customer"}, headers=full).json()["id"]
    items = f"/api/v1/subjects/{person}/items"
    cases: dict[str, tuple[str, str, str, dict[str, Any]]] = {
        "no key": ("get", items, "/api/v1/subjects/{subject_id}/items", {}),
        "read-only key writes": (
            "patch",
            items,
            "/api/v1/subjects/{subject_id}/items",
            {"json": {"name": "x"}, "headers": {"Authorization": f"Bearer {_key(runtime)}"}},
        ),
        "purpose the key lacks": (
            "get",
            "/api/v1/purposes/campaigns/items/email",
            "/api/v1/purposes/{purpose}/items/{item}",
            {"headers": full},
        ),
        "unknown person": (
            "get",
            f"/api/v1/subjects/{'0' * 32}/restrictions",
            "/api/v1/subjects/{subject_id}/restrictions",
            {"headers": full},
        ),
        "withdrawn person": (
            "post",
            f"/api/v1/subjects/{person}/withdraw",
            "/api/v1/subjects/{subject_id}/withdraw",
            {"headers": full},
        ),
        "malformed id": (
            "get",
            "/api/v1/subjects/not-an-id/restrictions",
            "/api/v1/subjects/{subject_id}/restrictions",
            {"headers": full},
        ),
        "unknown purpose": (
            "get",
            f"{items}?purpose=nope&items=email",
            "/api/v1/subjects/{subject_id}/items",
            {"headers": full},
        ),
        "unknown request type": (
            "post",
            "/api/v1/requests",
            "/api/v1/requests",
            {
                "headers": full,
                "json": {"subject_id": person, "type": "nope", "email": "a@example.com"},
            },
        ),
        "unknown request": (
            "get",
            f"/api/v1/requests/{'0' * 32}",
            "/api/v1/requests/{request_id}",
            {"headers": full},
        ),
        "body too large": (
            "patch",
            items,
            "/api/v1/subjects/{subject_id}/items",
            {
                "headers": {**full, "Content-Type": "application/json"},
                "content": b"{" + b" " * (api_body_limit(runtime.settings.max_document_bytes)),
            },
        ),
    }
    if call == "withdrawn person":
        client.post(f"/api/v1/subjects/{person}/withdraw", headers=full)
    if call == "read-only key writes":
        cases[call][3]["headers"] = {"Authorization": f"Bearer {_key(runtime, 'read')}"}
    method, url, template, kwargs = cases[call]
    answer = client.request(method, url, **kwargs)
    assert answer.status_code == status, answer.text
    assert answer.json() == {"error": answer.json()["error"], "status": status}
    document = client.get("/openapi.json").json()
    assert str(status) in document["paths"][template][method]["responses"]


def test_a_chunked_body_past_the_limit_is_refused_as_it_arrives(
    client: TestClient, runtime: Runtime
) -> None:
    full = {"Authorization": f"Bearer {_key(runtime)}", "Content-Type": "application/json"}
    limit = api_body_limit(runtime.settings.max_document_bytes)
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"type": "customer", "items": {"name": "'
        while sent <= limit + 2 * 65536:
            sent += 65536
            yield b"x" * 65536
        yield b'"}}'

    answer = client.post("/api/v1/subjects", content=chunks(), headers=full)
    assert answer.status_code == 413
    assert "limit" in answer.json()["error"]
    assert client.get("/api/v1/subjects?type=customer&external_id=x", headers=full).json() == {
        "subjects": []
    }


def test_a_405_names_every_method_of_the_path(client: TestClient, runtime: Runtime) -> None:
    full = {"Authorization": f"Bearer {_key(runtime)}"}
    answer = client.delete(f"/api/v1/subjects/{'a' * 32}/items", headers=full)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, PATCH"
    assert answer.json()["status"] == 405
    assert client.delete("/api/v1/subjects", headers=full).headers["allow"] == "GET, POST"
