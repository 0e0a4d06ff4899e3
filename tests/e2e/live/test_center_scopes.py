"""What a privacy-center link allows follows the key that asked for it (issue 10).

A `write` key could issue a link whose session offered withdrawal and filed requests that
counted as verified. Now a session allows the person, for their own data, what the issuing key
could do: usage stops with `write` (every link needs it), withdrawal only with `delete`, and a
request filed in the session is verified by it only when the key covers the request's type
(disclosure `read`, erasure `delete`, the others `write`); otherwise the person confirms by a
code like anyone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from mamori.client import Client
from mamori.vault import service_keys
from tests.helpers.server import LiveServer

MATRIX = [
    ("write",),
    ("read", "write"),
    ("write", "delete"),
    ("read", "write", "delete"),
]


def _client(server: LiveServer, operations: tuple[str, ...]) -> Client:
    runtime = server.runtime
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation"],
        operations=list(operations),
        actor="test",
    )
    return Client(server.url, token)


@pytest.fixture(params=MATRIX, ids=lambda ops: "+".join(ops))
def session(
    request: pytest.FixtureRequest, live_server: LiveServer
) -> Iterator[tuple[httpx.Client, str, tuple[str, ...]]]:
    operations: tuple[str, ...] = request.param
    with _client(live_server, ("read", "write", "delete")) as admin:
        person = admin.create_subject("customer", items={"email": "hanako@example.jp"})
    with _client(live_server, operations) as host:
        link = urlsplit(host.center_link(person))
    with httpx.Client(
        base_url=live_server.url, follow_redirects=False, headers={"Accept": "text/html"}
    ) as web:
        assert web.get(f"{link.path}?{link.query}").status_code == 303
        yield web, person, operations


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found[1]


def test_withdrawal_needs_a_key_that_may_delete(
    session: tuple[httpx.Client, str, tuple[str, ...]], live_server: LiveServer
) -> None:
    web, person, operations = session
    may = "delete" in operations
    home = web.get("/center").text
    assert ('href="/center/withdraw' in home.split('id="account"')[1]) == may
    page = web.get("/center/withdraw")
    assert page.status_code == 200
    assert ("withdraw-form" in page.text) == may
    answer = web.post("/center/withdraw", data={"csrf_token": _csrf(home), "confirm": "yes"})
    subject = live_server.runtime.vault.get_subject(person)
    if may:
        assert answer.status_code == 200 and subject.withdrawn
    else:
        assert answer.status_code == 403
        assert 'data-problem="not_allowed"' in answer.text or "できません" in answer.text
        assert not subject.withdrawn


@pytest.mark.parametrize(
    ("type", "needs", "extra"),
    [
        ("disclosure", "read", {"delivery": "electronic"}),
        ("erasure", "delete", {"ground": "no_longer_needed", "items": "email"}),
        ("usage_stop", "write", {"ground": "no_longer_needed", "items": "email"}),
        ("inquiry", None, {"message": "質問です"}),
    ],
)
def test_a_request_is_verified_by_the_session_only_within_the_keys_operations(
    session: tuple[httpx.Client, str, tuple[str, ...]],
    live_server: LiveServer,
    type: str,
    needs: str | None,
    extra: dict[str, str],
) -> None:
    web, person, operations = session
    form = web.get(f"/center/requests/new/{type}").text
    answer = web.post(
        f"/center/requests/new/{type}",
        data={"csrf_token": _csrf(form), "email": "hanako@example.jp", **extra},
    )
    assert answer.status_code == 303, answer.text
    vouched = needs is None or needs in operations
    location = answer.headers["location"]
    assert location.split("?")[0].endswith("/verify") != vouched
    request_id = re.search(r"/center/requests/([0-9a-f]{32})", location)
    assert request_id is not None
    from mamori.requests import service

    filed = service.get(live_server.runtime, request_id[1], actor="test")
    assert filed.verified == vouched
    assert filed.subject_id == (person if vouched else None)
