"""Receipts in the database: group commit, the hash chain, its audit anchors, tampering, export,
and the subject's receipts for the disclosure package."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.config import example_policy_path
from mamori.consent.choice import decode_cookie, encode_cookie
from mamori.consent.receipts import for_subject
from mamori.consent.service import Consent
from mamori.consent.storage import receipts_t, texts_t
from mamori.errors import ConsentChoiceInvalid, ConsentReceiptsTampered
from mamori.store import db
from tests.helpers.runtime import open_test_runtime


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


@pytest.fixture
def consent(runtime: Runtime) -> Consent:
    return Consent(runtime.engine, runtime.audit, runtime.published, days=180)


def _record(consent: Consent, method: str = "accept_all", **extra: object):
    current = consent.current()
    gpc = bool(extra.pop("shown_gpc", False))
    banner = consent.banner(current.version, "ja", gpc=gpc)
    options: dict[str, object] = {
        "consent_id": None,
        "version": current.version,
        "lang": "ja",
        "text_hash": banner.text_hash,
        "gpc": gpc,
        "method": method,
        "source": "banner",
    } | extra
    return consent.record(**options)  # type: ignore[arg-type]


def test_a_receipt_holds_what_was_shown_and_chosen(consent: Consent, runtime: Runtime) -> None:
    receipt, _ = _record(consent, "custom", categories={"analytics": True})
    assert receipt.seq == 1 and len(receipt.consent_id) == 22
    assert receipt.categories == {"necessary": True, "analytics": True, "advertising": False}
    assert receipt.services["google_analytics"] is True and receipt.services["youtube"] is False
    assert receipt.policy_version == consent.current().version
    assert receipt.section_hash == consent.current().section
    assert receipt.expires_at - receipt.created_at == dt.timedelta(days=180)
    assert receipt.subject_id is None and receipt.gpc is False
    # The exact text shown is kept, under its hash.
    text = consent.receipts.text(receipt.text_hash)
    assert text == consent.banner(receipt.policy_version, "ja", gpc=False).text
    entry = runtime.audit.tail(1)[0]
    assert entry.action == "consent.record"
    assert entry.details == {"count": 1, "first": 1, "last": 1, "head": receipt.receipt_hash.hex()}
    assert consent.receipts.verify().receipts == 1


def test_gpc_is_recorded_and_accept_leaves_advertising_off(consent: Consent) -> None:
    receipt, _ = _record(consent, "accept_all", shown_gpc=True)
    assert receipt.gpc is True
    assert receipt.categories["advertising"] is False and receipt.categories["analytics"] is True
    explicit, _ = _record(consent, "custom", shown_gpc=True, categories={"advertising": True})
    assert explicit.gpc is True and explicit.categories["advertising"] is True


def test_a_wrong_hash_version_or_id_is_refused_and_nothing_is_stored(consent: Consent) -> None:
    with pytest.raises(ConsentChoiceInvalid, match="text hash"):
        _record(consent, text_hash="0" * 64)
    with pytest.raises(ConsentChoiceInvalid, match="never published"):
        _record(consent, version=99)
    with pytest.raises(ConsentChoiceInvalid, match="consent_id"):
        _record(consent, consent_id="not-an-id")
    with pytest.raises(ConsentChoiceInvalid, match="method"):
        _record(consent, "maybe")
    assert consent.receipts.count() == 0


def test_concurrent_choices_share_commits_and_keep_one_chain(consent: Consent) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        receipts = list(pool.map(lambda n: _record(consent)[0], range(80)))
    assert sorted(r.seq for r in receipts) == list(range(1, 81))
    verified = consent.receipts.verify()
    assert verified.receipts == 80 and 1 <= verified.anchors <= 80


@pytest.mark.parametrize("attack", ["edit", "delete_middle", "delete_newest", "edit_text"])
def test_tampering_is_found(consent: Consent, runtime: Runtime, attack: str) -> None:
    for _ in range(3):
        _record(consent, "reject_all")
    with db.write(runtime.engine) as conn:
        if attack == "edit":
            conn.execute(
                receipts_t.update()
                .where(receipts_t.c.seq == 2)
                .values(categories='{"advertising":true,"analytics":true,"necessary":true}')
            )
        elif attack == "delete_middle":
            conn.execute(receipts_t.delete().where(receipts_t.c.seq == 2))
        elif attack == "delete_newest":
            conn.execute(receipts_t.delete().where(receipts_t.c.seq == 3))
        else:
            conn.execute(texts_t.update().values(text='{"title":"other"}'))
    expected = {
        "edit": "consent receipt 2 was changed",
        "delete_middle": "consent receipt 2 is missing",
        "delete_newest": "up to 3, but the receipts end at 2",
        "edit_text": "banner text",
    }[attack]
    with pytest.raises(ConsentReceiptsTampered, match=expected):
        consent.receipts.verify()


def test_export_is_audited_and_for_subject_returns_the_subjects_receipts(
    consent: Consent, runtime: Runtime
) -> None:
    _record(consent)
    mine, _ = _record(consent, "reject_all", subject_id="sub_1")
    exported = list(consent.receipts.export(actor="cli"))
    assert [r.seq for r in exported] == [1, 2]
    assert runtime.audit.tail(1)[0].action == "consent.export"
    assert [r.seq for r in consent.receipts.export(actor="cli", after=1)] == [2]
    with db.read(runtime.engine) as conn:
        rows = list(for_subject(conn, "sub_1"))
        assert list(for_subject(conn, "nobody")) == []
    assert len(rows) == 1
    assert rows[0]["consent_id"] == mine.consent_id
    assert rows[0]["method"] == "reject_all" and rows[0]["subject_id"] == "sub_1"
    assert rows[0]["receipt_hash"] == mine.receipt_hash.hex()
    # The disclosure package has them as a section of its own.
    from mamori.requests.package import ordered_sections

    with db.read(runtime.engine) as conn:
        section = list(ordered_sections(runtime.sections)["cookie_consent_receipts"](conn, "sub_1"))
    assert section == rows


def test_a_new_cookie_section_asks_again_and_old_pages_still_record(
    consent: Consent, runtime: Runtime, tmp_path: Path
) -> None:
    first = consent.current()
    old_banner = consent.banner(first.version, "ja", gpc=False)
    receipt, choice = _record(consent, "accept_all")
    cookie = encode_cookie(
        first.policy.cookies, receipt.consent_id, first.section, receipt.created_at, choice
    )
    source = example_policy_path().read_text(encoding="utf-8")
    assert source.count("opt_out: none # 提供なし") == 1
    changed = tmp_path / "policy.yaml"
    changed.write_text(
        source.replace("opt_out: none # 提供なし", "opt_out: https://www.fancs.com/optout"),
        encoding="utf-8",
    )
    runtime.publish_file(changed, actor="test")
    second = consent.current()
    assert second.version == first.version + 1 and second.section != first.section
    now = dt.datetime.now(dt.UTC)
    stored = decode_cookie(cookie, section=second.section, days=180, now=now)
    assert stored is not None and not stored.valid, "the banner asks again"
    # A page opened before the publication records the version and text it showed.
    late, _ = _record(consent, version=first.version, text_hash=old_banner.text_hash)
    assert late.policy_version == first.version and late.section_hash == first.section
    new, _ = _record(consent)
    assert new.policy_version == second.version and new.text_hash != old_banner.text_hash
    with db.read(runtime.engine) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(texts_t)).scalar() == 2
    assert consent.receipts.verify().texts == 2
