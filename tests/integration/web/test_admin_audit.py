"""The audit log page: filters by person, staff member, key, action (or family) and days in
the operator's time zone; bad filters refused; the CSV export by role, audited; and a label in
both languages for every action mamori writes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import Runtime
from mamori.audit import labels
from mamori.i18n import t
from mamori.store import db
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, admin_client, create_staff

SRC = Path(__file__).parents[3] / "src" / "mamori"


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    clock = ManualClock()
    clock.freeze(dt.datetime(2026, 5, 1, 14, 30, tzinfo=dt.UTC))  # 23:30 in Tokyo
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    create_staff(runtime, "auditor", PASSWORD, "auditor")
    create_staff(runtime, "handler", PASSWORD, "handler")
    with db.write(runtime.engine) as conn:
        runtime.audit.append(
            conn, actor="key:k_web", action="subject.read", targets=["subject:sub_a"]
        )
        runtime.audit.append(
            conn, actor="key:k_web", action="subject.read", targets=["subject:sub_b"]
        )
        runtime.audit.append(
            conn, actor="key:k_ops", action="subject.write", targets=["subject:sub_a"]
        )
    clock.freeze(dt.datetime(2026, 5, 1, 15, 30, tzinfo=dt.UTC))  # 00:30 on 2 May in Tokyo
    with db.write(runtime.engine) as conn:
        runtime.audit.append(
            conn, actor="key:k_web", action="subject.read", targets=["subject:sub_a_1"]
        )
    yield runtime
    runtime.close()


def seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<tr id="entry-(\d+)">', html)]


def test_filters_select_the_entries_they_name(runtime: Runtime) -> None:
    client = admin_client(create_app(runtime=runtime), "auditor", PASSWORD)
    entries = {e.seq: e for e in runtime.audit.tail(20)}

    def by(**query: str) -> list[int]:
        return seqs(client.get("/admin/audit", params=query).text)

    person_a = by(person="sub_a")
    assert [entries[s].targets for s in person_a] == [("subject:sub_a",), ("subject:sub_a",)]
    assert by(person="subject:sub_a") == person_a  # the id as entries write it works too
    assert [entries[s].actor for s in by(key="k_ops")] == ["key:k_ops"]
    reads = by(action="subject.read")
    assert len(reads) == 3 and all(entries[s].action == "subject.read" for s in reads)
    assert len(by(action="subject.")) == 4
    # Days are Tokyo's: the read at 00:30 on 2 May is not on 1 May.
    assert len(by(action="subject.read", since="2026-05-01", until="2026-05-01")) == 2
    assert len(by(action="subject.read", since="2026-05-02")) == 1
    staff_entries = by(
        staff=next(e.actor for e in entries.values() if e.actor.startswith("staff:"))[6:]
    )
    assert staff_entries and all(entries[s].actor.startswith("staff:") for s in staff_entries)


@pytest.mark.parametrize(
    "query",
    [
        {"since": "yesterday"},
        {"action": "DROP TABLE"},
        {"person": "a b"},
        {"since": "2026-05-02", "until": "2026-05-01"},
    ],
)
def test_a_malformed_filter_is_refused_with_its_reason(
    runtime: Runtime, query: dict[str, str]
) -> None:
    client = admin_client(create_app(runtime=runtime), "auditor", PASSWORD)
    page = client.get("/admin/audit", params=query)
    assert page.status_code == 400
    assert next(iter(query)) in page.text


def test_the_export_is_for_roles_that_export_and_is_audited(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)
    assert admin_client(app, "handler", PASSWORD).get("/admin/audit/export.csv").status_code == 403
    client = admin_client(app, "auditor", PASSWORD)
    out = client.get("/admin/audit/export.csv", params={"person": "sub_a"})
    assert out.status_code == 200
    lines = out.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("番号,日時,")
    assert len(lines) == 3 and all("subject:sub_a" in line for line in lines[1:])
    assert "個人データの読み出し" in out.text and "JST" in out.text
    assert runtime.audit.tail(1)[0].action == "audit.export"


def test_every_action_mamori_writes_has_a_label_in_both_languages() -> None:
    written: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        written.update(re.findall(r'action="([a-z_]+(?:\.[a-z_]+)+)"', text))
        # Requests name their actions through mamori.requests.store.audit(..., "<action>").
        written.update(
            "request." + a
            for a in re.findall(r'store\.audit\(\s*[^,]+,\s*[^,]+,\s*[^,]+,\s*"([a-z_]+)"', text)
        )
    assert written, "the scan found no actions"
    missing = sorted(written - set(labels.ACTIONS))
    assert missing == [], f"actions without a label in mamori.audit.labels: {missing}"
    for action in labels.ACTIONS:
        assert labels.action_label(action, "ja") != action
        assert labels.action_label(action, "en") != labels.action_label(action, "ja")
    assert labels.action_label("made.up", "ja") == "made.up"
    assert t("ja", labels.ACTIONS["subject.read"]) == "個人データの読み出し"


def test_an_export_asks_a_member_who_signed_in_long_ago_to_prove_it_again(
    runtime: Runtime,
) -> None:
    client = admin_client(create_app(runtime=runtime), "auditor", PASSWORD)
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    clock.advance(minutes=runtime.settings.admin_reauth_minutes + 1)
    before = runtime.audit.size()
    for path in ("/admin/audit/export.csv", "/admin/requests/export.csv"):
        page = client.get(path)
        assert page.status_code == 303, path
        assert page.headers["location"].startswith("/admin/reauth?next="), path
    assert runtime.audit.size() == before  # nothing exported, nothing recorded
