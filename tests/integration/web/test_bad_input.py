"""A corpus of bad input for every form and every JSON body: one clear 4xx each, nothing stored,
the server healthy afterwards (issue 10).

The forms are not listed here: the test signs in as a person (privacy center) and as staff
(console), walks every page it can reach from the entry pages, and collects each ``<form
method="post">`` it finds, so a form someone adds later is attacked without touching this file.
Each form is sent two ways:

- **raw bodies** that no browser sends: bytes that are not UTF-8, a multipart body without its
  boundary or its end, a file where none is asked for, JSON, 3 MiB, 5,000 fields;
- **hostile values** in each of its own fields (the rest filled in as the page filled them):
  NUL, a character that is not UTF-8, 20,000 characters, a right-to-left override, markup,
  SQL, numbers no column holds.

The JSON bodies of the API get the same: raw bodies (not JSON, not UTF-8, nested 100,000 deep,
a 5,000-digit number, NaN, the wrong media type, the wrong top-level type) and hostile values in
every string of a valid body.

Every answer must be below 500; a 4xx must carry a message (the error page or ``{"error",
"status"}``) and leave every table as it was (audit entries, attempt counters and sessions
aside: counting a bad attempt is the point of them). After the corpus ``/healthz`` answers and
``mamori audit verify``'s check of the chain holds.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.center import access
from mamori.store import db
from mamori.vault import service_keys
from mamori.vault.access import Caller
from mamori.web.app import create_app
from tests.helpers.requests import person
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, admin_client, create_staff

Response = Any
"""What a TestClient answers (httpx's or httpx2's Response, by the Starlette installed)."""

BOOKKEEPING = frozenset(
    {
        "alembic_version",
        "audit_entries",
        "audit_nodes",
        "audit_checkpoints",
        "request_throttle",
        "request_codes",
        "staff_sign_in_failures",
        "staff_sessions",
        "center_sessions",
        "webhook_cursor",
        "job_runs",  # the periodic jobs' leases, taken by the server's scheduler
        # The alerts job follows the audit log (refusals are audited, and may raise an alert).
        "anomaly_cursor",
        "anomaly_clients",
        "anomaly_counts",
        "anomaly_alerts",
        "anomaly_people",
    }
)
"""Tables a refused request may change: the audit log (and the webhooks' position in it, which
the background job moves as the log grows), attempt counters, sessions."""

LAST = ("logout", "withdraw", "disable", "decide", "close")
"""Forms that end what the others need (a session, an account, an open request): sent last."""

HOSTILE_VALUES: dict[str, str] = {
    "nul": "a\x00b",
    "controls": "\x01\x02\x1b[31m\x7f",
    "long": "長" * 20_000,
    "rtl override": "\u202egnp.exe",
    "markup": '"><script>alert(1)</script>',
    "sql": "' OR 1=1; DROP TABLE subjects; --",
    "huge number": "9" * 400,
    "negative": "-1",
    "unicode noise": "Z\u0351\u0336\u0489 \U0001f600 \ufeff\u200b",
}

CHOICE_VALUES = {k: HOSTILE_VALUES[k] for k in ("nul", "long", "markup", "huge number")}
"""What is tried in a field a person does not type into."""


# -- the world the corpus is sent to ------------------------------------------------------------


@dataclass
class World:
    runtime: Runtime
    anonymous: TestClient
    person: TestClient
    staff: TestClient
    api: TestClient
    subject_id: str
    unsubscribe_path: str
    snapshot: Callable[[], dict[str, str]]
    problems: list[str] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)
    """The tables' digests after the last answer."""


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    runtime = open_test_runtime(tmp_path, database_url)
    app = create_app(runtime=runtime)
    host = Caller.system("test")
    subject_id = person(runtime, "hanako@example.jp", phone="090-1234-5678")
    create_staff(runtime, "admin", PASSWORD, "manager")
    create_staff(runtime, "other", PASSWORD, "viewer")
    _, key = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="corpus",
        purposes=["service_operation", "shipping", "promotion", "statistics"],
        operations=["read", "write", "delete"],
        actor="test",
    )
    anonymous, center, staff, api = (  # one client per role, their cookies apart
        TestClient(app, follow_redirects=False, raise_server_exceptions=False) for _ in range(4)
    )
    for client in (anonymous, center):
        client.headers.update({"Accept": "text/html", "Accept-Language": "ja"})
    link = access.issue_link(runtime.vault, host, subject_id, minutes=10)
    assert center.get(f"/center/enter?token={link.token}").status_code == 303
    admin_client(staff, "admin", PASSWORD)  # its forms carry their CSRF token, as a browser's do
    api.headers.update({"Authorization": f"Bearer {key}", "Accept": "application/json"})
    # a request of the person's for the console's and the center's request pages
    filed = api.post(
        "/api/v1/requests",
        json={
            "subject_id": subject_id,
            "type": "inquiry",
            "email": "hanako@example.jp",
            "message": "質問です",
        },
    )
    assert filed.status_code == 201, filed.text
    with db.write(runtime.engine) as conn:
        mail_id = runtime.mail.queue(
            conn,
            to="hanako@example.jp",
            template="news",
            language="ja",
            context={"body": "お知らせ"},
            marketing=True,
        )
    with db.read(runtime.engine) as conn:
        unsubscribe = runtime.mail.open(conn, mail_id, masked=False).unsubscribe_url
    assert unsubscribe is not None
    world = World(
        runtime=runtime,
        anonymous=anonymous,
        person=center,
        staff=staff,
        api=api,
        subject_id=subject_id,
        unsubscribe_path=urlsplit(unsubscribe).path,
        snapshot=lambda: _snapshot(runtime.engine),
    )
    with anonymous, center, staff, api:
        world.state = world.snapshot()
        yield world
    runtime.close()


def _snapshot(engine: sa.Engine) -> dict[str, str]:
    """A digest of every table but the bookkeeping ones."""
    found: dict[str, str] = {}
    with engine.connect() as conn:
        for name in sorted(sa.inspect(conn).get_table_names()):
            if name in BOOKKEEPING:
                continue
            rows = conn.execute(sa.text(f'SELECT * FROM "{name}"')).all()
            digest = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
            found[name] = digest
    return found


# -- forms found on the pages -------------------------------------------------------------------


@dataclass
class Form:
    action: str
    multipart: bool
    fields: list[tuple[str, str]]
    editable: list[str]
    """Fields a person types into: every hostile value is tried in each."""
    choices: list[str] = field(default_factory=list)
    """Hidden fields, radio buttons, boxes and lists: the values of CHOICE_VALUES."""


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._selected: bool = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            if a.get("method", "get").lower() == "post":
                multipart = a.get("enctype", "") == "multipart/form-data"
                self._form = Form(a.get("action", ""), multipart, [], [])
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset"}:
                return
            if kind in {"radio", "checkbox"}:
                names = [n for n, _ in self._form.fields]
                if kind == "radio" and a["name"] in names and "checked" not in a:
                    return
                if kind == "checkbox" and "checked" not in a and a["name"] in names:
                    return
            if kind == "file":
                self._form.multipart = True
            self._form.fields.append((a["name"], a.get("value", "")))
            if a["name"] == "csrf_token" or a["name"] in self._form.choices:
                pass
            elif kind in {"hidden", "radio", "checkbox"}:
                self._form.choices.append(a["name"])
            else:
                self._form.editable.append(a["name"])
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.fields.append((a["name"], ""))
            self._form.editable.append(a["name"])
        elif tag == "select":
            self._select, self._selected = a["name"], False
            self._form.choices.append(a["name"])
        elif tag == "option" and self._select and not self._selected:
            self._form.fields.append((self._select, a.get("value", "")))
            self._selected = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def _crawl(client: TestClient, starts: list[str], prefixes: tuple[str, ...]) -> list[Form]:
    """Every POST form on the pages reachable from ``starts`` under ``prefixes``."""
    seen: set[str] = set()
    queue = list(starts)
    forms: dict[str, Form] = {}
    while queue and len(seen) < 80:
        url = queue.pop(0)
        path = urlsplit(url).path
        if path in seen:
            continue
        seen.add(path)
        page = client.get(url)
        if page.status_code != 200 or "text/html" not in page.headers.get("content-type", ""):
            continue
        parser = _Forms()
        parser.feed(page.text)
        for form in parser.forms:
            form.action = form.action or url
            forms.setdefault(urlsplit(form.action).path, form)
        for href in parser.links:
            target = urlsplit(href)
            if not target.netloc and target.path.startswith(prefixes) and target.path not in seen:
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    ordered = sorted(forms.items(), key=lambda kv: any(w in kv[0] for w in LAST))
    return [form for _, form in ordered]


# -- what is sent -------------------------------------------------------------------------------

BOUNDARY = "----mamori-corpus"


def _multipart(fields: list[tuple[str, str]], *, close: bool = True) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields
    ]
    return ("".join(parts) + (f"--{BOUNDARY}--\r\n" if close else "")).encode()


def _raw_form_bodies(form: Form) -> dict[str, tuple[str, bytes]]:
    """Bodies no browser sends to ``form``: name -> (content type, bytes)."""
    noise = random.Random(10).randbytes(4096)
    fields = form.fields or [("x", "1")]
    multipart = f"multipart/form-data; boundary={BOUNDARY}"
    file_part = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="a.exe"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + noise
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return {
        "not utf-8": (
            "application/x-www-form-urlencoded",
            b"&".join(n.encode() + b"=\xff\xfe\xc3(" for n, _ in fields),
        ),
        "binary": ("application/octet-stream", noise),
        "multipart without a boundary": ("multipart/form-data", _multipart(fields)),
        "multipart cut short": (multipart, _multipart(fields, close=False)[:-7]),
        "multipart without its end": (multipart, _multipart(fields, close=False)),
        "an unasked-for file": (multipart, file_part),
        "multipart not utf-8": (
            multipart,
            _multipart([(n, "") for n, _ in fields]).replace(b"\r\n\r\n", b"\r\n\r\n\xff\xfe"),
        ),
        "json": ("application/json", json.dumps(dict(fields)).encode()),
        "3 MiB": ("application/x-www-form-urlencoded", b"x=" + b"a" * (3 * 1024 * 1024)),
        "5,000 fields": (
            "application/x-www-form-urlencoded",
            "&".join(f"f{i}={i}" for i in range(5000)).encode(),
        ),
    }


def _send_form(client: TestClient, form: Form, fields: list[tuple[str, str]]) -> Response:
    if form.multipart:
        return client.post(
            form.action,
            content=_multipart(fields),
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    return client.post(
        form.action,
        content=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def _check(world: World, what: str, response: Response) -> bool:
    """Record a problem with ``response`` to ``what``; whether it was a 4xx."""
    status = response.status_code
    before, after = world.state, world.snapshot()
    world.state = after
    if status >= 500:
        world.problems.append(f"{what}: {status}")
        return False
    if status < 400:
        return False
    body = response.text
    if "Traceback" in body or 'File "' in body:
        world.problems.append(f"{what}: {status} shows a traceback")
    if response.headers.get("content-type", "").startswith("application/json"):
        answer = response.json()
        if not (isinstance(answer, dict) and answer.get("error") and answer["status"] == status):
            world.problems.append(f"{what}: {status} without an error message")
    elif len(re.sub(r"<[^>]+>|\s", "", body)) < 10:
        world.problems.append(f"{what}: {status} with an empty page")
    changed = sorted(t for t in after if before.get(t) != after[t])
    if changed:
        world.problems.append(f"{what}: refused ({status}) but changed {', '.join(changed)}")
    return True


def _attack_forms(world: World, client: TestClient, forms: list[Form]) -> int:
    sent = 0
    for form in forms:
        for name, (content_type, body) in _raw_form_bodies(form).items():
            response = client.post(
                form.action, content=body, headers={"Content-Type": content_type}
            )
            sent += 1
            refused = _check(world, f"POST {form.action} [{name}]", response)
            if not refused and response.status_code < 500:
                world.problems.append(
                    f"POST {form.action} [{name}]: accepted ({response.status_code})"
                )
        tries = [(n, HOSTILE_VALUES) for n in form.editable]
        tries += [(n, CHOICE_VALUES) for n in form.choices]
        for target, values in tries:
            for label, value in values.items():
                fields = [(n, value if n == target else v) for n, v in form.fields]
                response = _send_form(client, form, fields)
                sent += 1
                _check(world, f"POST {form.action} {target}=[{label}]", response)
    return sent


def _healthy(world: World) -> None:
    assert world.anonymous.get("/healthz").status_code == 200
    assert world.runtime.audit.verify().mismatch is None


ROLES: dict[str, tuple[str, list[str], tuple[str, ...], tuple[str, ...]]] = {
    # role: (client, entry pages, prefixes followed, forms the crawl must reach)
    "person": (
        "person",
        ["/center", "/center/requests", "/center/cookies", "/consent", "{unsubscribe}"],
        ("/center", "/consent", "/mail"),
        (
            "/center/withdraw",
            "/center/settings",
            "/center/cookies",
            "/consent",
            "/center/requests/new/",
            "/mail/unsubscribe/",
        ),
    ),
    "staff": (
        "staff",
        ["/admin"],
        ("/admin",),
        ("/admin/requests/", "/admin/staff", "/admin/contractors/hosting/contracts"),
    ),
    "signed out": (
        "anonymous",
        ["/admin/login", "/center/requests"],
        ("/center",),
        ("/admin/login", "/center/requests/new/"),
    ),
}


@pytest.mark.parametrize("role", ROLES)
def test_every_form_refuses_bad_input_clearly_and_stores_nothing(world: World, role: str) -> None:
    name, starts, prefixes, expected = ROLES[role]
    client: TestClient = getattr(world, name)
    starts = [s.replace("{unsubscribe}", world.unsubscribe_path) for s in starts]
    forms = _crawl(client, starts, prefixes)
    actions = sorted(urlsplit(f.action).path for f in forms)
    for wanted in expected:  # the crawl reached the forms that matter: a broken one cannot pass
        assert any(a.startswith(wanted) for a in actions), (wanted, actions)
    world.state = world.snapshot()
    sent = _attack_forms(world, client, forms)
    assert sent > 100
    assert not world.problems, "\n".join(world.problems)
    _healthy(world)


# -- JSON bodies of the API ---------------------------------------------------------------------


def _api_bodies(subject_id: str) -> dict[tuple[str, str], Any]:
    """A valid body for every API operation that takes one."""
    at = f"/api/v1/subjects/{subject_id}"
    return {
        ("POST", "/api/v1/subjects"): {
            "type": "customer",
            "external_id": "ext-1",
            "items": {"name": "佐藤 太郎", "email": "taro@example.jp"},
        },
        ("PATCH", f"{at}/items"): {"name": "山田 花", "address": "東京都千代田区1-1"},
        ("PUT", f"{at}/restrictions"): {"stopped_items": [], "stopped_purposes": ["promotion"]},
        ("POST", f"{at}/events"): {
            "events": [
                {
                    "occurred_at": "2026-11-30T10:00:00+09:00",
                    "action": "invitation.create",
                    "device_model": "Pixel 9",
                    "os_version": "Android 15",
                    "ip_address": "192.0.2.1",
                    "advertising_id": "ad-1",
                    "cookie_id": "ck-1",
                }
            ]
        },
        ("POST", f"{at}/policy-consents"): {"version": 1},
        ("POST", "/api/v1/requests"): {
            "subject_id": subject_id,
            "type": "correction",
            "email": "hanako@example.jp",
            "language": "ja",
            "items": ["address"],
            "delivery": "electronic",
            "postal_address": "東京都港区1-1",
            "message": "住所を直してください",
            "corrections": {"address": "東京都港区2-2"},
        },
        ("POST", "/api/v1/acquisitions"): {
            "subject_id": subject_id,
            "provider": {
                "name": {"ja": "株式会社データ提供元", "en": "Data Source K.K."},
                "address": "大阪府大阪市北区梅田1-1",
                "representative": "代表取締役 鈴木 一郎",
            },
            "how_obtained": "本人から会員登録時に取得",
            "items": ["name", "email"],
            "received_at": "2026-11-30T10:00:00+09:00",
        },
        ("POST", "/api/v1/statistics"): {
            "purpose": "statistics",
            "measure": "people",
            "since": "2026-01-01",
        },
    }


def _raw_json_bodies() -> dict[str, tuple[str, bytes]]:
    return {
        "not json": ("application/json", b'{"type": '),
        "not json as text": ("text/plain", b'{"type": '),
        "not utf-8": ("application/json", b'{"type": "\xff\xfe"}'),
        "nested 100,000 deep": ("application/json", b"[" * 100_000 + b"]" * 100_000),
        "a 5,000-digit number": ("application/json", b'{"version": ' + b"9" * 5000 + b"}"),
        "NaN": ("application/json", b'{"version": NaN, "events": NaN}'),
        "wrong media type": ("text/plain", b'{"type": "customer", "items": {}}'),
        "form to json": ("application/x-www-form-urlencoded", b"type=customer"),
        "an array": ("application/json", b"[1, 2, 3]"),
        "a string": ("application/json", b'"customer"'),
        "null": ("application/json", b"null"),
        "empty": ("application/json", b""),
    }


def _string_leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _string_leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _string_leaves(value, (*path, index))
    elif isinstance(node, str):
        yield path


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(node))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


JSON_VALUES: dict[str, bytes] = {
    **{label: json.dumps(value).encode() for label, value in HOSTILE_VALUES.items()},
    "lone surrogate": b'"\\ud800"',
    "number for a string": b"1e400",
    "object for a string": b'{"$ne": null}',
}


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return True


def _attack_json(
    world: World,
    client: TestClient,
    method: str,
    path: str,
    body: Any,
    *,
    media_type: str = "application/json",
) -> int:
    sent = 0
    for name, (content_type, raw) in _raw_json_bodies().items():
        if content_type == media_type and _is_json(raw):  # a valid body, of the right type
            continue
        response = client.request(method, path, content=raw, headers={"Content-Type": content_type})
        sent += 1
        refused = _check(world, f"{method} {path} [{name}]", response)
        if not refused and response.status_code < 500:
            world.problems.append(f"{method} {path} [{name}]: {response.status_code}")
    marker = "\x00MARKER\x00"
    for leaf in _string_leaves(body):
        template = json.dumps(_replaced(body, leaf, marker)).encode()
        for label, value in JSON_VALUES.items():
            raw = template.replace(json.dumps(marker).encode(), value)
            response = client.request(
                method, path, content=raw, headers={"Content-Type": media_type}
            )
            sent += 1
            where = ".".join(map(str, leaf))
            _check(world, f"{method} {path} {where}=[{label}]", response)
    return sent


def test_every_json_body_refuses_bad_input_clearly_and_stores_nothing(world: World) -> None:
    sent = 0
    for (method, path), body in _api_bodies(world.subject_id).items():
        sent += _attack_json(world, world.api, method, path, body)
    config = world.anonymous.get("/consent/config?lang=ja").json()
    choice = {
        "version": config["version"],
        "lang": "ja",
        "hash": config["hash"],
        "gpc": False,
        "method": "custom",
        "categories": {"analytics": True},
        "services": {"youtube": True},
    }
    # the banner sends its receipts as text/plain, so that no preflight is needed
    sent += _attack_json(
        world, world.anonymous, "POST", "/consent/receipts", choice, media_type="text/plain"
    )
    assert sent > 300
    assert not world.problems, "\n".join(world.problems)
    _healthy(world)
