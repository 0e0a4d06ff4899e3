"""The request forms offer the items of the person's kind: a customer is never shown (nor may
file about) a business contact's items, signed in or not."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.center import access
from mamori.store import db
from mamori.web.app import create_app
from tests.helpers.requests import HOST, person

CUSTOMER_ONLY = ("content", "identity_document", "linked_service_id")
CONTACT_ONLY = ("contact_name", "contact_address", "contact_phone", "contact_email")


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime), follow_redirects=False) as client:
        client.headers["Accept"] = "text/html"
        yield client


def _offered(html: str) -> set[str]:
    return set(re.findall(r'name="items" value="([a-z_]+)"', html)) | set(
        re.findall(r'name="correction\.([a-z_]+)"', html)
    )


def _requests(runtime: Runtime) -> int:
    with db.read(runtime.engine) as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM data_requests")).scalar_one())


def test_a_person_not_signed_in_is_offered_a_customers_items_by_default(
    client: TestClient,
) -> None:
    for type in ("disclosure", "usage_stop", "correction"):
        for lang in ("ja", "en"):
            html = client.get(f"/center/requests/new/{type}?lang={lang}").text
            offered = _offered(html)
            assert offered, type
            assert not offered & set(CONTACT_ONLY), (type, lang)
            who = html.split('id="form-who"')[1].split("</nav>")[0]
            current = {"ja": "お客さま", "en": "Customers"}[lang]
            assert f'<strong aria-current="page">{current}</strong>' in who
            assert f"?lang={lang}&amp;who=business_contact" in who
    form = client.get("/center/requests/new/disclosure?lang=ja").text
    assert {"content", "email", "name"} <= _offered(form)
    assert "ご担当者" not in form or "contact_name" not in form


def test_a_business_contact_says_who_they_are_and_sees_their_items(client: TestClient) -> None:
    html = client.get("/center/requests/new/disclosure?lang=ja&who=business_contact").text
    assert _offered(html) == set(CONTACT_ONLY)
    assert 'action="/center/requests/new/disclosure?lang=ja&amp;who=business_contact"' in html
    fix = client.get("/center/requests/new/correction?lang=en&who=business_contact").text
    assert _offered(fix) and _offered(fix) <= set(CONTACT_ONLY)
    # An unknown choice falls back to the default (customers), never to every item.
    odd = client.get("/center/requests/new/disclosure?lang=ja&who=everyone").text
    assert not _offered(odd) & set(CONTACT_ONLY)


def _file(client: TestClient, who: str, items: list[str]) -> tuple[int, str]:
    page = client.get(f"/center/requests/new/usage_stop?lang=en&who={who}")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    response = client.post(
        f"/center/requests/new/usage_stop?lang=en&who={who}",
        data={
            "csrf_token": found[1],
            "email": "tanaka@partner.example.jp",
            "items": items,
            "ground": "no_longer_needed",
        },
    )
    return response.status_code, response.text


def test_filing_about_items_of_another_kind_of_person_is_refused(
    client: TestClient, runtime: Runtime
) -> None:
    status, text = _file(client, "customer", ["contact_email"])
    assert status == 400
    assert "item &#39;contact_email&#39; is not held for people of type &#39;customer&#39;" in text
    assert _requests(runtime) == 0
    status, _ = _file(client, "business_contact", ["contact_email", "contact_phone"])
    assert status == 303
    assert _requests(runtime) == 1


def test_a_signed_in_customer_sees_only_customer_items_and_no_choice(
    client: TestClient, runtime: Runtime
) -> None:
    link = access.issue_link(runtime.vault, HOST, person(runtime), minutes=10)
    assert client.get(f"/center/enter?token={link.token}").status_code == 303
    for type in ("disclosure", "erasure", "correction"):
        html = client.get(f"/center/requests/new/{type}?lang=ja&who=business_contact").text
        assert _offered(html) and not _offered(html) & set(CONTACT_ONLY), type
        assert 'id="form-who"' not in html
    assert set(CUSTOMER_ONLY) <= _offered(client.get("/center/requests/new/erasure").text)


def test_the_api_refuses_a_request_about_another_kind_of_persons_items(
    client: TestClient, runtime: Runtime
) -> None:
    from mamori.vault import service_keys

    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation"],
        operations=["read", "write"],
        actor="test",
    )
    body = {
        "subject_id": person(runtime),
        "type": "usage_stop",
        "email": "hanako@example.jp",
        "items": ["contact_email"],
        "ground": "no_longer_needed",
    }
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    refused = client.post("/api/v1/requests", json=body, headers=headers)
    assert refused.status_code == 400
    assert "not held for people of type 'customer'" in refused.json()["error"]
    assert _requests(runtime) == 0
    filed = client.post("/api/v1/requests", json={**body, "items": ["address"]}, headers=headers)
    assert filed.status_code == 201, filed.text
