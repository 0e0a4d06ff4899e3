"""The vault API's items: values of several kinds (the example's ``content``: text, a video's
link, a document), each read back with its kind; reads of every item a purpose allows."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.store import db
from mamori.vault import crypto, service_keys
from mamori.vault.storage import subjects as storage
from mamori.web.app import create_app
from tests.helpers.runtime import open_test_runtime

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(32)).decode()
VIDEO = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


def _headers(runtime: Runtime, *purposes: str) -> dict[str, str]:
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=list(
            purposes or ("service_operation", "campaigns", "promotion", "business_communication")
        ),
        operations=["read", "write", "delete"],
        actor="test",
    )
    return {"Authorization": f"Bearer {token}"}


def _person(client: TestClient, headers: dict[str, str], **items: Any) -> str:
    answer = client.post(
        "/api/v1/subjects", json={"type": "customer", "items": items}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _read(client: TestClient, headers: dict[str, str], subject: str, **params: str) -> Any:
    answer = client.get(f"/api/v1/subjects/{subject}/items", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


CONTENTS = [
    ({"kind": "text", "value": "  ご招待\r\n二次会のご案内 "}, "text"),
    ({"kind": "url", "value": VIDEO}, "url"),
    ({"kind": "document", "value": {"content_type": "image/png", "data": PNG}}, "document"),
]
REFUSED: list[tuple[Any, list[str]]] = [
    (VIDEO, ["item 'content'", "several kinds (text, url, document)", '"kind"']),
    ({"kind": "email", "value": "a@example.jp"}, ["'email' is not allowed", "text, url, document"]),
    ({"kind": "url", "value": "javascript:alert(1)"}, ["item 'content'", "http://"]),
    ({"kind": "url", "value": "https://taro:pw@example.jp/"}, ["user name or password"]),
    ({"kind": "url", "value": "https://x.jp/" + "a" * 3000}, ["longer than 2048"]),
    ({"kind": "text", "value": "あ" * 20_001}, ["the limit is 20000"]),
    (
        {"kind": "document", "value": {"content_type": "image/gif", "data": PNG}},
        ["content_type must be one of"],
    ),
]


def test_content_holds_text_a_link_or_a_document_and_reads_back_its_kind(
    client: TestClient, runtime: Runtime
) -> None:
    headers = _headers(runtime)
    for sent, kind in CONTENTS:
        subject = _person(client, headers, email="hanako@example.jp", content=sent)
        body = _read(client, headers, subject, purpose="service_operation", items="content,email")
        assert body["kinds"] == {"content": kind, "email": "email"}
        assert body["items"]["content"]["kind"] == kind
        if kind == "text":
            assert body["items"]["content"]["value"] == "ご招待\n二次会のご案内"
        else:
            assert body["items"]["content"] == sent
        assert body["items"]["email"] == "hanako@example.jp"


def test_a_value_that_fits_none_of_the_kinds_is_a_clear_400(
    client: TestClient, runtime: Runtime
) -> None:
    headers = _headers(runtime)
    subject = _person(client, headers, email="hanako@example.jp")
    for value, words in REFUSED:
        answer = client.patch(
            f"/api/v1/subjects/{subject}/items", json={"content": value}, headers=headers
        )
        assert answer.status_code == 400, answer.text
        message = answer.json()["error"]
        for word in words:
            assert word in message, (value, message)
        assert "alert" not in message and ":pw@" not in message  # never the value
    body = _read(client, headers, subject, purpose="service_operation", items="content")
    assert body["missing"] == ["content"]  # nothing stored


def test_a_value_stored_before_the_item_had_several_kinds_reads_with_its_kind(
    client: TestClient, runtime: Runtime
) -> None:
    """The example's content held documents only: a value stored then (no kind with it) is
    read back as a document, with its kind, in a read and in a bulk read."""
    headers = _headers(runtime)
    subject = _person(client, headers, email="hanako@example.jp")
    legacy = {"content_type": "image/png", "data": PNG}
    vault = runtime.vault
    with db.write(vault.engine) as conn:  # as the vault stored it before: no envelope
        loaded = vault.load(conn, subject)
        key = vault.data_key(subject, loaded.wrapped_key)
        storage.upsert_item(
            conn,
            subject_id=subject,
            item_id="content",
            ciphertext=crypto.encrypt(
                key, orjson.dumps(legacy), subject_id=subject, item_id="content"
            ),
            source="provided",
            now=runtime.clock.now(),
            expires_at=None,
        )
    body = _read(client, headers, subject, purpose="service_operation", items="content")
    assert body["kinds"] == {"content": "document"}
    assert body["items"]["content"] == {"kind": "document", "value": legacy}
    lines = client.get("/api/v1/purposes/service_operation/items/content", headers=headers)
    assert [orjson.loads(x)["value"] for x in lines.text.splitlines()] == [
        {"kind": "document", "value": legacy}
    ]


def test_a_read_without_items_reads_every_item_the_purpose_allows(
    client: TestClient, runtime: Runtime
) -> None:
    headers = _headers(runtime)
    subject = _person(
        client,
        headers,
        email="hanako@example.jp",
        name="山田花子",
        content={"kind": "url", "value": VIDEO},
    )
    body = _read(client, headers, subject, purpose="campaigns")
    rules = runtime.published.current().rules
    campaigns = list(rules.purpose("campaigns").items)
    assert set(body["items"]) | set(body["missing"]) | set(body["refused"]) == set(campaigns)
    assert list(body["items"]) == ["name", "email", "content"]
    assert body["kinds"] == {"name": "name", "email": "email", "content": "url"}
    assert sorted(body["missing"]) == ["address", "phone"]
    # Audited as a read of each of those items, as if they had been named.
    (entry,) = [e for e in runtime.audit.tail(5) if e.action == "subject.read"][-1:]
    assert entry.details["purpose"] == "campaigns"
    assert {k for k in entry.details if k.startswith("item.")} == {f"item.{i}" for i in campaigns}
    assert entry.details["item.content"] == "released"
    assert entry.details["item.phone"] == "not_held"
    # Every item of service_operation but usage events (read as events), for a customer.
    every = _read(client, headers, subject, purpose="service_operation")
    named = set(every["items"]) | set(every["missing"]) | set(every["refused"])
    assert "usage_history" not in named and "content" in named


def test_a_read_without_items_keeps_the_usual_answers(client: TestClient, runtime: Runtime) -> None:
    headers = _headers(runtime)
    subject = _person(client, headers, email="hanako@example.jp")
    # A purpose that uses nothing held for a customer: nothing released, nothing refused.
    none = _read(client, headers, subject, purpose="business_communication")
    assert none == {"items": {}, "refused": {}, "missing": [], "kinds": {}}
    # A key not granted the purpose: each item refused as usual.
    other = _headers(runtime, "shipping")
    refused = _read(client, other, subject, purpose="campaigns")
    assert refused["items"] == {} and set(refused["refused"].values()) == {"key_not_granted"}
    # The person stopped the purpose: each refused as stopped.
    stop = client.put(
        f"/api/v1/subjects/{subject}/restrictions",
        json={"stopped_items": ["address"], "stopped_purposes": ["promotion"]},
        headers=headers,
    )
    assert stop.status_code == 200, stop.text
    stopped = _read(client, headers, subject, purpose="promotion")
    assert stopped["items"] == {} and list(stopped["refused"]) == ["name", "address", "email"]
    assert set(stopped["refused"].values()) == {"stopped_by_person"}
    campaigns = _read(client, headers, subject, purpose="campaigns")
    assert campaigns["refused"] == {"address": "stopped_by_person"}
    assert campaigns["items"] == {"email": "hanako@example.jp"}
    # An unknown purpose is a 400 naming the nearest; an empty items= still asks for one.
    unknown = client.get(
        f"/api/v1/subjects/{subject}/items", params={"purpose": "campaign"}, headers=headers
    )
    assert unknown.status_code == 400 and "campaigns" in unknown.json()["error"]
    empty = client.get(
        f"/api/v1/subjects/{subject}/items",
        params={"purpose": "campaigns", "items": ""},
        headers=headers,
    )
    assert empty.status_code == 400 and "leave out items=" in empty.json()["error"]
    # A withdrawn person: everything refused as withdrawn.
    assert client.post(f"/api/v1/subjects/{subject}/withdraw", headers=headers).status_code == 200
    gone = _read(client, headers, subject, purpose="shipping")
    assert gone["items"] == {} and set(gone["refused"].values()) == {"withdrawn"}


def test_the_openapi_document_shows_the_kinds_of_content(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    body = document["paths"]["/api/v1/subjects"]["post"]["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    content = document["components"]["schemas"][ref]["properties"]["items"]["properties"]["content"]
    assert [o["properties"]["kind"]["const"] for o in content["oneOf"]] == [
        "text",
        "url",
        "document",
    ]
    read = document["paths"]["/api/v1/subjects/{subject_id}/items"]["get"]["parameters"]
    assert {p["name"]: p["required"] for p in read if p["in"] == "query"} == {
        "purpose": True,
        "items": False,
    }


def test_my_data_shows_each_value_as_the_person_may_read_it(
    client: TestClient, runtime: Runtime
) -> None:
    from mamori.center import access
    from mamori.vault.access import Caller

    headers = _headers(runtime)
    subject = _person(
        client,
        headers,
        email="hanako@example.jp",
        address={"postal_code": "150-0001", "prefecture": "東京都", "city": "渋谷区"},
        content={"kind": "document", "value": {"content_type": "image/png", "data": PNG}},
    )
    link = access.issue_link(runtime.vault, Caller("service:test"), subject, minutes=10)
    client.headers["Accept"] = "text/html"
    assert (
        client.get(f"/center/enter?token={link.token}", follow_redirects=False).status_code == 303
    )
    page = client.get("/center/data?lang=ja").text
    assert '<td class="held-value">書類（PNG、1 KB）</td>' in page  # never the data itself
    assert PNG not in page
    assert "150-0001 東京都 渋谷区" in page
    client.patch(
        f"/api/v1/subjects/{subject}/items",
        json={"content": {"kind": "url", "value": "https://youtu.be/x?a=1&b='2'"}},
        headers=headers,
    )
    page = client.get("/center/data?lang=en").text
    # A link, escaped: the value cannot become markup.
    assert (
        '<a href="https://youtu.be/x?a=1&amp;b=&#39;2&#39;" rel="noopener noreferrer nofollow">'
        in page
    )
