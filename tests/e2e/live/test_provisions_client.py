"""The provision gate through the typed client, against a live server: consent, provide,
revoke, and a clear error for a key that may not provide."""

from __future__ import annotations

import datetime as dt

import pytest

from mamori.client import Client
from mamori.errors import ApiError
from tests.e2e.live.test_vault_api import key
from tests.helpers.cookies import cookie_choice
from tests.helpers.server import LiveServer


def test_consent_provide_and_revoke_through_the_client(live_server: LiveServer) -> None:
    token = key(live_server, ["advertising"], ("read", "write", "provide"))
    with Client(live_server.url, token) as mamori:
        subject = mamori.create_subject("customer", items={"cookie_id": "ck-77"})
        linked = mamori.link_cookie_consent(subject, cookie_choice(live_server.runtime, None))
        assert linked.created and linked.subject == subject
        refused = mamori.provide(
            "a8net", subjects=[subject], items=["cookie_id"], purpose="advertising"
        )
        assert refused.people[0].refused == {"cookie_id": "no_consent"}
        consent = mamori.give_provision_consent(subject, recipient="a8net", purpose="advertising")
        provided = mamori.provide(
            "a8net", subjects=[subject], items=["cookie_id"], purpose="advertising"
        )
        assert provided.people[0].items == {"cookie_id": "ck-77"}
        assert provided.people[0].record_id is not None and provided.basis == "consent"
        mamori.revoke_provision_consent(subject, consent.id)
        [listed] = mamori.provision_consents(subject)
        assert listed.revoked_at is not None
    reader = key(live_server, ["advertising"], ("read", "write"))
    with Client(live_server.url, reader) as mamori, pytest.raises(ApiError) as caught:
        mamori.provide("a8net", subjects=[subject], items=["cookie_id"], purpose="advertising")
    assert caught.value.status == 403 and "provide" in str(caught.value)


def test_a_streamed_provision_through_the_client(live_server: LiveServer) -> None:
    token = key(live_server, ["advertising"], ("read", "write", "provide"))
    with Client(live_server.url, token) as mamori:
        people = [
            mamori.create_subject("customer", items={"cookie_id": f"ck-{n}"}) for n in range(3)
        ]
        for subject in people[:2]:
            mamori.give_provision_consent(subject, recipient="a8net", purpose="advertising")
            mamori.link_cookie_consent(subject, cookie_choice(live_server.runtime, None))
        lines = list(mamori.provide_everyone("a8net", item="cookie_id", purpose="advertising"))
        assert sorted((s, v) for s, v, _ in lines) == sorted(
            (s, f"ck-{n}") for n, s in enumerate(people[:2])
        )
        assert all(record.startswith("pr_") for _, _, record in lines)
        with pytest.raises(ApiError) as caught:
            next(mamori.provide_everyone("a8net", item="email", purpose="advertising"))
        assert caught.value.status == 400 and "not_declared" in str(caught.value)


def test_a_receipt_is_recorded_and_listed_through_the_client(live_server: LiveServer) -> None:
    token = key(live_server, ["service_operation"], ("read", "write"))
    provider = {
        "name": {"ja": "株式会社データ提供元"},
        "address": "大阪府大阪市北区梅田1-1",
        "representative": "代表取締役 鈴木 一郎",
    }
    received = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=3)
    with Client(live_server.url, token) as mamori:
        subject = mamori.create_subject("customer", items={"email": "p@example.jp"})
        made = mamori.record_acquisition(
            subject,
            provider=provider,
            how_obtained="本人から会員登録時に取得",
            items=["email"],
            received_at=received,
            contract=True,
        )
        assert made.received_at == received and made.contract
        assert made.retain_until == received + dt.timedelta(days=366)
        assert made.provider.name.ja == "株式会社データ提供元" and made.provider.name.en is None
        [listed] = mamori.acquisitions(subject)
        assert listed == made
        with pytest.raises(ApiError) as caught:
            mamori.record_acquisition(subject, provider=provider, how_obtained="x", items=["emial"])
        assert caught.value.status == 400 and "did you mean 'email'" in str(caught.value)
    reader = key(live_server, ["service_operation"], ("read",))
    with Client(live_server.url, reader) as mamori, pytest.raises(ApiError) as caught:
        mamori.record_acquisition(subject, provider=provider, how_obtained="x", items=["email"])
    assert caught.value.status == 403 and "write" in str(caught.value)
