"""From findings to the draft: the policy's items by kind and by the names around them."""

from __future__ import annotations

import datetime as dt

import yaml

from mamori.config import example_policy_path
from mamori.datasets.discovery import Kind, judge_column, propose, render_yaml
from mamori.datasets.discovery.columns import ColumnFinding
from mamori.policy.loader import read_policy

TODAY = dt.date(2026, 12, 1)
POLICY = read_policy(example_policy_path()).policy


def finding(table: str, column: str, kind: Kind | None) -> ColumnFinding:
    return ColumnFinding(table, column, 10, 10, kind, 0.9, matched=9)


def test_items_by_kind_then_by_the_names_around_them() -> None:
    proposals = propose(
        POLICY,
        [
            finding("accounts", "email", Kind.email),
            finding("business_contacts", "email", Kind.email),
            finding("accounts", "zip", Kind.postal_code),
            finding("accounts", "dob", Kind.birth_date),
            finding("accounts", "memo", None),
        ],
    )
    assert [(p.finding.table, p.item) for p in proposals] == [
        ("accounts", "email"),
        ("business_contacts", "contact_email"),
        ("accounts", "address"),
        ("accounts", None),
    ]
    assert proposals[0].alternatives == ("contact_email",)
    assert proposals[3].note is not None and "dates of birth" in proposals[3].note


def test_the_draft_is_yaml_with_confidences_as_comments() -> None:
    findings = [
        judge_column(
            "accounts", "email", ["a@example.jp", "b@example.jp"], today=TODAY, analyser=None
        ),
        judge_column("accounts", "my_number", ["621498320257"], today=TODAY, analyser=None),
        judge_column(
            "logs", "body", ["連絡は a@example.jp まで", "ok"], today=TODAY, analyser=None
        ),
        judge_column("logs", "id", ["1", "2"], today=TODAY, analyser=None),
    ]
    text = render_yaml(
        dataset_id="shop", connection="SHOP_DATABASE_URL", proposals=propose(POLICY, findings),
        findings=findings, rows=100, names=None,
    )  # fmt: skip
    draft = yaml.safe_load(text)
    assert draft == {
        "schema": "mamori-dataset/1",
        "id": "shop",
        "connection": "SHOP_DATABASE_URL",
        "tables": {
            "accounts": {"columns": {"email": {"item": "email"}}, "identities": {"email": "email"}},
            "logs": {},
        },
    }
    assert "# email: 2/2 sampled values, confidence 0.99 (high), name agrees" in text
    assert "# my_number: my_number: 1/1 sampled values" in text
    assert "check digit holds for 1, fails for 0" in text
    assert "# body: free text that mentions email in 1 of 2 values" in text
    assert "NLP off" in text
    assert "a@example.jp" not in text and "621498320257" not in text


def test_order_numbers_are_not_my_numbers() -> None:
    import random

    rng = random.Random(3)
    values = [str(rng.randint(10**11, 10**12 - 1)) for _ in range(100)]
    found = judge_column("orders", "order_id", values, today=TODAY, analyser=None)
    assert found.kind is None
