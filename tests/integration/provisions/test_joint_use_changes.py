"""Changes of a joint use told in advance (APPI 27(6)): published only with a revision date
after the day of publication (in the operator's zone), and until that day the joint users
receive data as declared before. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import Runtime
from mamori.errors import UserInputError
from mamori.policy.loader import read_policy
from mamori.provisions import gate
from mamori.publication import versions
from mamori.vault.access import Caller
from tests.helpers import edits
from tests.helpers.clock import ManualClock
from tests.helpers.requests import person
from tests.helpers.runtime import open_test_runtime

HOST = Caller("key:partners", None, frozenset({"read", "provide"}))
# 10:00 UTC on 2 December is 19:00 in Tokyo: the day of publication is 2 December there.
PUBLISHED = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
TOKYO_MIDNIGHT = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> ManualClock:
    clock = ManualClock()
    clock.freeze(PUBLISHED)
    return clock


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    yield runtime
    runtime.close()


def _publish(runtime: Runtime, tmp_path: Path, day: str) -> int:
    path = edits.write_edited(
        tmp_path / f"policy-{day}.yaml", edits.joint_user_shipping, edits.revision_on(day)
    )
    return runtime.publish_file(path, actor="test").version


def _shipping(runtime: Runtime, subject: str) -> gate.Provided:
    provision = gate.provide(
        runtime.vault,
        HOST,
        recipient="payment_processor",
        subjects_=[subject],
        items=["address"],
        purpose="shipping",
    )
    return provision.people[0]


def test_an_in_advance_change_dated_today_is_refused_and_nothing_is_published(
    runtime: Runtime, tmp_path: Path
) -> None:
    before = versions.current(runtime.engine)
    assert before is not None
    for day in ("2026-12-01", "2026-12-02"):
        with pytest.raises(UserInputError, match=r"27\(6\).*after 2026-12-02"):
            _publish(runtime, tmp_path, day)
    after = versions.current(runtime.engine)
    assert after is not None and after.version == before.version
    assert not [e for e in runtime.audit.tail(5) if e.action == "policy.publish"][1:]


def test_the_joint_use_goes_on_as_declared_before_until_the_revision_date(
    runtime: Runtime, tmp_path: Path, clock: ManualClock
) -> None:
    subject = person(runtime, "joint@example.jp", address="東京都港区1-1")
    refused = _shipping(runtime, subject)
    assert refused.refused == {"address": "not_declared"}
    version = _publish(runtime, tmp_path, "2026-12-03")
    assert runtime.published.current().version == version
    # Published as the advance notice; the joint user's new purpose waits for 3 December.
    assert _shipping(runtime, subject).refused == {"address": "not_declared"}
    clock.freeze(TOKYO_MIDNIGHT - dt.timedelta(seconds=1))
    assert _shipping(runtime, subject).refused == {"address": "not_declared"}
    clock.freeze(TOKYO_MIDNIGHT)
    allowed = _shipping(runtime, subject)
    assert allowed.items == {"address": "東京都港区1-1"} and allowed.record_id is not None
    # What did not change goes on throughout.
    clock.freeze(PUBLISHED)
    kept = gate.provide(
        runtime.vault,
        HOST,
        recipient="payment_processor",
        subjects_=[subject],
        items=["name"],
        purpose="service_operation",
    )
    assert kept.people[0].items == {"name": "山田 花子"}


def test_a_change_told_without_delay_applies_at_once(runtime: Runtime, tmp_path: Path) -> None:
    path = edits.write_edited(
        tmp_path / "moved.yaml", edits.joint_use_responsible_moved, edits.revision_on("2026-12-02")
    )
    published = runtime.publish(read_policy(path), actor="test")
    assert published.diff is not None
    assert [c.timing for c in published.diff.changes if c.timing] == ["without_delay"]
