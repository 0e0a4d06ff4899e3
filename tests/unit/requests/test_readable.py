"""What the disclosure package shows for codes: the policy's words, the catalogs' words, or the
code's words; never a bare code where a label exists."""

from __future__ import annotations

import datetime as dt

import pytest

from mamori.config import example_policy_path
from mamori.policy.loader import load_policy
from mamori.policy.model import Retention, Text
from mamori.policy.rules import compile_rules
from mamori.requests.readable import Words, policy_facts


@pytest.fixture(scope="module")
def ja() -> Words:
    policy = load_policy(example_policy_path())
    return Words(compile_rules(policy), policy, "ja", "Asia/Tokyo")


def test_actions_are_the_policys_words_or_the_codes_words(ja: Words) -> None:
    assert ja.action("invitation.create") == "招待状の作成"
    assert ja.action("photo.upload") == "photo upload"
    assert ja.action("login") == "ログイン"


def test_section_cells_are_words(ja: Words) -> None:
    assert ja.cell("items", "email,name") == "メールアドレス、氏名"
    assert ja.cell("basis", "consent") == "本人の同意"
    assert ja.cell("channel", "center") == "プライバシーセンターで"
    assert ja.cell("method", "reject_all") == "すべて拒否"
    assert ja.cell("source", "banner") == "クッキーのバナー"
    assert ja.cell("source", "provided") == "ご本人からご提供"
    assert ja.cell("recipient", "google") == "Google LLC"
    assert ja.cell("recipient_country", "US") == "アメリカ合衆国"
    assert ja.cell("categories", {"necessary": True, "analytics": False}).endswith(": 同意しない")
    assert "analytics" not in ja.cell("categories", {"analytics": False})
    assert ja.cell("gpc", True) == "はい"
    assert ja.cell("consented_at", "2026-01-05T01:30:00+00:00") == "2026-01-05 10:30 JST"
    assert ja.cell("provided_at", "2026-01-05") == "2026-01-05"  # a date stays a date
    assert ja.cell("revoked_at", "") == ""


def test_headers_are_words_and_an_unknown_column_its_words(ja: Words) -> None:
    assert ja.column("collected_at") == "取得日時"
    assert ja.column("ip_address") == "IPアドレス"  # an event field, named for its item
    assert ja.column("some_new_column") == "some new column"


def test_retention_in_words(ja: Words) -> None:
    assert ja.retention(Retention(days=30)) == "取得から30日間"
    assert ja.retention(Retention(until_withdrawal=True)) == "退会まで"
    note = Text(ja="法令の定めにより", en="As the law requires")
    assert ja.retention(Retention(days=7, note=note)) == "取得から7日間(法令の定めにより)"


def test_document_files_are_named_for_their_item_and_numbered(ja: Words) -> None:
    first = ja.document("identity_document", "image/jpeg")
    second = ja.document("identity_document", "application/pdf")
    assert (first.path, second.path) == ("files/本人確認書類_1.jpeg", "files/本人確認書類_2.pdf")
    assert first.image and not second.image
    assert first.href == "files/%E6%9C%AC%E4%BA%BA%E7%A2%BA%E8%AA%8D%E6%9B%B8%E9%A1%9E_1.jpeg"


def test_policy_facts_hold_joint_use_recipients_and_the_desk(ja: Words) -> None:
    facts = policy_facts(ja)
    assert facts.joint_use[0].responsible[0] == "株式会社ココチエ"
    assert "氏名" in facts.joint_use[0].items
    assert any(r.relationship == "委託先" for r in facts.recipients)
    assert facts.event_retention == "取得から730日間"
    assert facts.contact.url == "https://kokochie.co.jp/contact/"


def test_times_are_local(ja: Words) -> None:
    assert ja.when(dt.datetime(2026, 1, 1, 15, 0, tzinfo=dt.UTC)) == "2026-01-02 00:00 JST"
