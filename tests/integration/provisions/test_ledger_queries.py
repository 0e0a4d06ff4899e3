"""Reading the ledger for staff (mamori.provisions.ledger): each filter alone and together,
keyset pages that neither repeat nor skip a record among equal times, days bounded in the
operator's time zone (Asia/Tokyo), the export's audit entry and its bound, and the refusals of
a filter that does not hold. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import Runtime
from mamori.errors import NotFound, UserInputError
from mamori.provisions import ledger, storage
from mamori.provisions.ledger import Filter
from mamori.provisions.rules import retain_until
from mamori.provisions.storage import AcquisitionRow, RecordRow
from mamori.store import db
from tests.helpers.runtime import open_test_runtime

T0 = dt.datetime(2026, 4, 1, 3, 0, tzinfo=dt.UTC)
_ids = itertools.count()


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


def record(
    at: dt.datetime,
    *,
    recipient: str = "a8net",
    subject: str = "s1",
    basis: str = "consent",
    id_: str | None = None,
) -> RecordRow:
    n = next(_ids)
    return RecordRow(
        id=id_ or f"pr_{n:024d}",
        batch_id=f"pv_{n:024d}",
        provided_at=at,
        recipient_id=recipient,
        recipient={"name": {"ja": "提供先", "en": "Recipient"}, "address": None},
        subject_id=subject,
        items=("advertising_id",),
        purpose_id="advertising",
        basis=basis,
        consent_id="pc_1" if basis == "consent" else None,
        reason=None if basis == "consent" else "照会",
        policy_version=1,
        actor="key:test",
        contract=False,
        retain_until=retain_until(at, contract=False),
    )


def insert(runtime: Runtime, *rows: RecordRow) -> None:
    with db.write(runtime.engine) as conn:
        storage.insert_records(conn, rows)


def acquisition(at: dt.datetime, subject: str = "s1") -> AcquisitionRow:
    n = next(_ids)
    return AcquisitionRow(
        id=f"pa_{n:024d}",
        subject_id=subject,
        received_at=at,
        provider={
            "name": {"ja": "株式会社甲", "en": None},
            "address": "東京都",
            "how_obtained": "x",
        },
        items=("name",),
        contract=False,
        policy_version=1,
        actor="key:test",
        recorded_at=at,
        retain_until=retain_until(at, contract=False),
    )


def parse(runtime: Runtime, **given: str | bool) -> Filter:
    return ledger.parse_filter(runtime.vault, zone="Asia/Tokyo", **given)  # type: ignore[arg-type]


def ids(runtime: Runtime, filter_: Filter) -> list[str]:
    return [r.id for r in ledger.rows(runtime.vault, filter_, page_size=3)]


def test_each_filter_alone_and_combined(runtime: Runtime) -> None:
    a = record(T0, recipient="a8net", subject="s1", basis="consent")
    b = record(T0 + dt.timedelta(days=1), recipient="google", subject="s1", basis="consent")
    c = record(T0 + dt.timedelta(days=2), recipient="a8net", subject="s2", basis="public_authority")
    d = record(T0 + dt.timedelta(days=3), recipient="hosting", subject="s2", basis="entrustment")
    insert(runtime, a, b, c, d)
    assert ids(runtime, parse(runtime)) == [d.id, c.id, b.id, a.id]
    assert ids(runtime, parse(runtime, recipient="a8net")) == [c.id, a.id]
    assert ids(runtime, parse(runtime, subject="s2")) == [d.id, c.id]
    assert ids(runtime, parse(runtime, basis="consent")) == [b.id, a.id]
    assert ids(runtime, parse(runtime, since="2026-04-03")) == [d.id, c.id]
    assert ids(runtime, parse(runtime, until="2026-04-02")) == [b.id, a.id]
    both = parse(runtime, recipient="a8net", subject="s2", basis="public_authority")
    assert ids(runtime, both) == [c.id]
    period = parse(runtime, since="2026-04-02", until="2026-04-03", subject="s1")
    assert ids(runtime, period) == [b.id]
    assert ids(runtime, parse(runtime, recipient="google", basis="entrustment")) == []
    # blank fields, as an empty form sends them, filter nothing
    blank = parse(runtime, recipient="", subject=" ", since="", until="", basis="")
    assert blank == Filter()


def test_pages_neither_repeat_nor_skip_among_equal_times(runtime: Runtime) -> None:
    same = [record(T0, id_=f"pr_{i:02d}") for i in range(7)]
    older = record(T0 - dt.timedelta(microseconds=1), id_="pr_99")
    insert(runtime, *same, older)
    seen: list[str] = []
    page = ledger.page(runtime.vault, Filter(), limit=3)
    pages = [len(page.rows)]
    seen += [r.id for r in page.rows]
    # a record added between two pages, newer than all, does not shift the next page
    insert(runtime, record(T0 + dt.timedelta(seconds=1), id_="pr_new"))
    while page.older:
        page = ledger.page(runtime.vault, Filter(), before=page.older, limit=3)
        pages.append(len(page.rows))
        seen += [r.id for r in page.rows]
    assert pages == [3, 3, 2]
    assert seen == [f"pr_{i:02d}" for i in range(6, -1, -1)] + ["pr_99"]
    # exactly a page's worth: no empty last page
    exact = ledger.page(runtime.vault, parse(runtime, until="2026-04-01"), limit=9)
    assert len(exact.rows) == 9 and exact.older is None
    assert ids(runtime, Filter()) == ["pr_new", *seen]


def test_days_are_bounded_in_the_operators_zone(runtime: Runtime) -> None:
    last = record(dt.datetime(2026, 4, 1, 14, 59, 59, 999999, tzinfo=dt.UTC))  # 23:59:59 JST
    first = record(dt.datetime(2026, 4, 1, 15, 0, tzinfo=dt.UTC))  # 00:00 JST on the 2nd
    insert(runtime, last, first)
    assert ids(runtime, parse(runtime, since="2026-04-02", until="2026-04-02")) == [first.id]
    assert ids(runtime, parse(runtime, until="2026-04-01")) == [last.id]
    assert ids(runtime, parse(runtime, since="2026-04-01", until="2026-04-01")) == [last.id]
    utc = ledger.parse_filter(runtime.vault, zone="UTC", since="2026-04-01", until="2026-04-01")
    assert ids(runtime, utc) == [first.id, last.id]
    query = parse(runtime, since="2026-04-02", until="2026-04-02").query()
    assert query.start == dt.datetime(2026, 4, 1, 15, tzinfo=dt.UTC)
    assert query.end == dt.datetime(2026, 4, 2, 15, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("given", "error", "words"),
    [
        ({"basis": "consnt"}, UserInputError, ["did you mean 'consent'", "entrustment"]),
        ({"basis": "<b>"}, UserInputError, ["one of consent, entrustment"]),
        ({"recipient": "a8nett"}, NotFound, ["did you mean 'a8net'"]),
        ({"recipient": "ゼロ"}, NotFound, ["no recipient in the policy"]),
        ({"since": "2026-04-02", "until": "2026-04-01"}, UserInputError, ["since > until"]),
        ({"since": "2026-13-01"}, UserInputError, ["YYYY-MM-DD"]),
        ({"until": "2026/04/01"}, UserInputError, ["YYYY-MM-DD"]),
        ({"since": "yesterday"}, UserInputError, ["YYYY-MM-DD"]),
        ({"subject": "hanako@example.jp"}, UserInputError, ["person's ID"]),
        ({"receipts": True, "recipient": "a8net"}, UserInputError, ["no recipient or basis"]),
    ],
)
def test_a_filter_that_does_not_hold_is_refused_clearly(
    runtime: Runtime, given: dict[str, str | bool], error: type[Exception], words: list[str]
) -> None:
    with pytest.raises(error) as raised:
        parse(runtime, **given)
    message = str(raised.value)
    assert all(w in message for w in words), message
    assert "hanako" not in message and "yesterday" not in message  # never echoed


def test_a_recipient_only_records_name_can_be_filtered(runtime: Runtime) -> None:
    gone = record(T0, recipient="old_partner")
    insert(runtime, gone)
    assert "old_partner" in ledger.known_recipients(runtime.vault)
    assert ids(runtime, parse(runtime, recipient="old_partner")) == [gone.id]


def test_a_bad_cursor_is_refused(runtime: Runtime) -> None:
    with pytest.raises(UserInputError, match="before"):
        ledger.page(runtime.vault, Filter(), before="20260401T000000000000Z.pr_1' OR 1=1")
    with pytest.raises(UserInputError, match="before"):
        ledger.page(runtime.vault, Filter(), before="20261301T000000000000Z.pr_1")
    at, id_ = ledger.decode_cursor(ledger.encode_cursor(T0, "pr_1"))
    assert (at, id_) == (T0, "pr_1")


def test_an_export_is_audited_with_its_count_and_holds_exactly_those(runtime: Runtime) -> None:
    insert(runtime, *(record(T0 + dt.timedelta(minutes=i), subject="s9") for i in range(8)))
    insert(runtime, record(T0, subject="s8"))
    filter_ = parse(runtime, subject="s9", basis="consent", since="2026-04-01")
    begun = ledger.export(runtime.vault, filter_, actor="staff:st_1", format="csv")
    # written after the export began: newer, left out
    insert(runtime, record(T0 + dt.timedelta(hours=5), subject="s9"))
    exported = list(begun.rows)
    assert begun.count == len(exported) == 8
    [entry] = [e for e in runtime.audit.tail(5) if e.action == "provision.ledger_export"]
    assert entry.actor == "staff:st_1" and list(entry.targets) == ["subject:s9"]
    assert entry.details == {
        "direction": "provisions",
        "since": "2026-04-01",
        "until": None,
        "zone": "Asia/Tokyo",
        "basis": "consent",
        "format": "csv",
        "rows": 8,
    }
    empty = ledger.export(runtime.vault, parse(runtime, subject="nobody"), actor="t", format="json")
    assert empty.count == 0 and list(empty.rows) == []


def test_streaming_reads_page_by_page(runtime: Runtime) -> None:
    insert(runtime, *(record(T0 + dt.timedelta(seconds=i % 4)) for i in range(25)))
    streamed = [r.id for r in ledger.rows(runtime.vault, Filter(), page_size=4)]
    assert len(streamed) == len(set(streamed)) == 25
    assert streamed == [r.id for r in ledger.page(runtime.vault, Filter(), limit=100).rows]


def test_the_records_of_data_received_by_person_and_day(runtime: Runtime) -> None:
    a, b = acquisition(T0, "s1"), acquisition(T0 + dt.timedelta(days=1), "s2")
    with db.write(runtime.engine) as conn:
        storage.insert_acquisition(conn, a)
        storage.insert_acquisition(conn, b)
    assert ids(runtime, parse(runtime, receipts=True)) == [b.id, a.id]
    assert ids(runtime, parse(runtime, receipts=True, subject="s1")) == [a.id]
    assert ids(runtime, parse(runtime, receipts=True, since="2026-04-02")) == [b.id]
    page = ledger.page(runtime.vault, parse(runtime, receipts=True), limit=1)
    assert [r.id for r in page.rows] == [b.id] and page.older is not None


def test_activity_counts_live_consents_and_recent_records(runtime: Runtime) -> None:
    now = runtime.clock.now()
    insert(
        runtime,
        record(now - dt.timedelta(days=1)),
        record(now - dt.timedelta(days=40)),
        record(now, recipient="google"),
    )
    counts = ledger.activity(runtime.vault, now - dt.timedelta(days=30))
    assert counts.recent == {"a8net": 1, "google": 1}
    assert counts.consents == {}
