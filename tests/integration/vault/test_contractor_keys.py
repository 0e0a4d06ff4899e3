"""A contractor's API key (`mamori keys create --contractor`): it reads the vault only for the
items and purposes the policy entrusts to that contractor (``not_entrusted`` per item beyond
them), nothing while the register suspends the entrustment (``entrustment_suspended``), and it
gets 403 on every other API route. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.contractors import register
from mamori.errors import ContractorNotFound, UserInputError
from mamori.vault import service_keys
from mamori.web.app import create_app
from tests.helpers.cli import mamori
from tests.helpers.clock import ManualClock
from tests.helpers.requests import person
from tests.helpers.runtime import open_test_runtime


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    clock = ManualClock()
    clock.freeze(dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC))
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    yield runtime
    runtime.close()


def _key(runtime: Runtime, *purposes: str) -> tuple[service_keys.ServiceAccount, str]:
    return service_keys.create(
        runtime.engine,
        runtime.audit,
        name="hosting ops",
        purposes=list(purposes),
        actor="test",
        contractor="hosting",
    )


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    account, token = _key(runtime)
    assert account.purposes == {"service_operation", "shipping"}  # all it is entrusted with
    with TestClient(create_app(runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def _customer(runtime: Runtime) -> str:
    return person(runtime, "hanako@example.jp", phone="090-1234-5678", advertising_id="ad-1")


def test_reads_are_limited_to_what_the_policy_entrusts(
    client: TestClient, runtime: Runtime
) -> None:
    subject = _customer(runtime)
    answer = client.get(
        f"/api/v1/subjects/{subject}/items",
        params={"purpose": "service_operation", "items": "name,email,advertising_id"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["items"] == {"name": "山田 花子", "email": "hanako@example.jp"}
    assert body["refused"] == {"advertising_id": "not_entrusted"}
    other = client.get(
        f"/api/v1/subjects/{subject}/items", params={"purpose": "advertising", "items": "name"}
    )
    assert other.json()["refused"] == {"name": "not_entrusted"}
    found = client.get(
        "/api/v1/subjects/items",
        params={
            "item": "email",
            "value": "hanako@example.jp",
            "purpose": "service_operation",
            "items": "name,advertising_id",
        },
    )
    assert found.status_code == 200, found.text
    result = found.json()["subjects"][subject]
    assert result["items"] == {"name": "山田 花子"}
    assert result["refused"] == {"advertising_id": "not_entrusted"}
    lookup = client.get("/api/v1/subjects", params={"item": "email", "value": "hanako@example.jp"})
    assert lookup.json()["subjects"] == [subject]
    bulk = client.get("/api/v1/purposes/service_operation/items/email")
    assert bulk.status_code == 200 and subject in bulk.text
    assert client.get("/api/v1/purposes/advertising/items/advertising_id").status_code == 403
    entries = [e for e in runtime.audit.tail(20) if e.action == "subject.read"]
    assert entries[0].actor.startswith("key:mk_")
    assert entries[0].details["item.advertising_id"] == "not_entrusted"


def test_a_suspended_entrustment_blocks_the_keys_reads(
    client: TestClient, runtime: Runtime
) -> None:
    subject = _customer(runtime)
    contract = register.record_contract(
        runtime.vault,
        actor="staff:st_1",
        recipient_id="hosting",
        signed_on="2026-03-01",
        starts_on="2026-03-01",
        items=["name", "email"],
    )
    params = {"purpose": "service_operation", "items": "name,email"}
    assert client.get(f"/api/v1/subjects/{subject}/items", params=params).json()["items"]
    register.end_contract(
        runtime.vault, actor="staff:st_1", recipient_id="hosting", contract_id=contract.id
    )
    answer = client.get(f"/api/v1/subjects/{subject}/items", params=params).json()
    assert answer["items"] == {}
    assert answer["refused"] == {"name": "entrustment_suspended", "email": "entrustment_suspended"}
    lookup = client.get("/api/v1/subjects", params={"item": "email", "value": "hanako@example.jp"})
    assert lookup.status_code == 409 and "entrustment_suspended" in lookup.json()["error"]
    by = client.get("/api/v1/subjects/items", params={"item": "email", "value": "x@y.jp", **params})
    assert by.status_code == 409
    assert client.get("/api/v1/purposes/service_operation/items/email").status_code == 409


def _routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazily included routers
        return [(r.path, r.methods or set()) for r in app.routes if isinstance(r, APIRoute)]
    return [(c.path or "", c.methods or set()) for c in iter_route_contexts(app.routes)]


VAULT_READS = {
    ("GET", "/api/v1/subjects"),
    ("GET", "/api/v1/subjects/items"),
    ("GET", "/api/v1/subjects/{subject_id}/items"),
    ("GET", "/api/v1/purposes/{purpose}/items/{item}"),
}
"""What a contractor's key may call: the vault's purpose-gated reads."""


def test_every_other_api_route_refuses_a_contractors_key(
    client: TestClient, runtime: Runtime
) -> None:
    """The routes are read from the application, so a route added later is checked too."""
    subject = _customer(runtime)
    routes = sorted(
        (method, path)
        for path, methods in _routes(client.app)  # type: ignore[arg-type]
        if path.startswith("/api/v1/")
        and not path.startswith("/api/v1/policy")  # public: the published policy
        for method in methods
        if method != "HEAD"
    )
    assert len(routes) > 20
    problems = []
    for method, path in routes:
        if (method, path) in VAULT_READS:
            continue
        url = re.sub(r"\{subject_id\}", subject, path)
        url = re.sub(r"\{[^}]+\}", "x", url)
        answer = client.request(method, url, json={})
        if answer.status_code != 403 or "contractor 'hosting'" not in answer.json()["error"]:
            problems.append(f"{method} {path}: {answer.status_code}")
    assert not problems, problems


def test_keys_are_only_made_for_contractors_within_their_entrustment(runtime: Runtime) -> None:
    with pytest.raises(ContractorNotFound):
        service_keys.create(
            runtime.engine, runtime.audit, name="x", purposes=[], actor="t", contractor="a8net"
        )
    with pytest.raises(UserInputError, match="not entrusted with purpose 'advertising'"):
        _key(runtime, "advertising")
    with pytest.raises(UserInputError, match="may only read"):
        service_keys.create(
            runtime.engine,
            runtime.audit,
            name="x",
            purposes=["shipping"],
            operations=["read", "write"],
            actor="t",
            contractor="hosting",
        )
    account, _ = _key(runtime, "shipping")
    assert account.purposes == {"shipping"} and account.contractor_id == "hosting"
    [entry] = [e for e in runtime.audit.tail(5) if e.action == "service_key.create"]
    assert entry.details["contractor"] == "hosting"


def test_the_cli_makes_a_contractors_key_and_refuses_others(
    env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    open_test_runtime(tmp_path, database_url).close()
    made = mamori("keys", "create", "hosting ops", "--contractor", "hosting", env=env)
    assert made.stdout.startswith("mamori_mk_")
    assert "contractor: hosting" in made.stderr
    listed = mamori("keys", "list", env=env).stdout.splitlines()
    assert listed[1].split("\t")[6] == "hosting"
    bad = mamori("keys", "create", "x", "--contractor", "a8net", env=env, check=2)
    assert bad.stdout == ""
    assert bad.stderr == (
        "mamori: 'a8net' is not a contractor of the published policy (its contractors: hosting)\n"
    )
    odd = mamori("keys", "create", "x", "--contractor", "<b>", env=env, check=2)
    assert odd.stderr.count("\n") == 1 and "<b>" not in odd.stderr
    wide = mamori(
        "keys", "create", "x", "--contractor", "hosting", "-p", "advertising", env=env, check=2
    )
    assert "not entrusted with purpose 'advertising'" in wide.stderr
