"""A realistic schema of the example service for discovery's tests: accounts, RSVPs, orders,
mail logs and business partners, filled from the labelled corpus's generators (seeded)."""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa
from benchmarks.discovery_corpus import negatives, positive
from sqlalchemy.engine import Engine

from mamori.datasets.discovery import Kind

__all__ = ["EXPECTED", "ROWS", "create_schema"]

ROWS = 60

EXPECTED: dict[tuple[str, str], tuple[Kind | None, str | None]] = {
    ("accounts", "email"): (Kind.email, "email"),
    ("accounts", "name"): (Kind.person_name, "name"),
    ("accounts", "phone"): (Kind.phone, "phone"),
    ("accounts", "zip"): (Kind.postal_code, "address"),
    ("accounts", "address"): (Kind.address, "address"),
    ("accounts", "birthday"): (Kind.birth_date, None),
    ("accounts", "created_at"): (None, None),
    ("accounts", "plan"): (None, None),
    ("rsvps", "guest_name"): (Kind.person_name, "name"),
    ("rsvps", "guest_email"): (Kind.email, "email"),
    ("rsvps", "attendance"): (None, None),
    ("rsvps", "message"): (None, None),
    ("orders", "order_no"): (None, None),
    ("orders", "total_yen"): (None, None),
    ("orders", "card_number"): (Kind.card_number, None),
    ("orders", "tracking_no"): (None, None),
    ("orders", "jan_code"): (None, None),
    ("orders", "shipping_zip"): (Kind.postal_code, "address"),
    ("orders", "shipping_address"): (Kind.address, "address"),
    ("orders", "ordered_at"): (None, None),
    ("mail_logs", "to_address"): (Kind.email, "email"),
    ("mail_logs", "subject"): (None, None),
    ("mail_logs", "body"): (None, None),
    ("mail_logs", "sent_at"): (None, None),
    ("partners", "company"): (None, None),
    ("partners", "corporate_number"): (Kind.corporate_number, None),
    ("partners", "contact_name"): (Kind.person_name, "contact_name"),
    ("partners", "contact_email"): (Kind.email, "contact_email"),
    ("partners", "contact_phone"): (Kind.phone, "contact_phone"),
}
"""Per column: the kind discovery must find and the kokochie policy's item it must propose."""

_MESSAGES = ["おめでとうございます!", "楽しみにしています", "当日は遅れて伺います"]
_BODIES = [
    "ご予約ありがとうございます。変更は {phone} までお電話ください。",
    "招待状が届きました。ご不明点は {phone} へ。",
    "パスワードを再設定しました。",
]


def create_schema(engine: Engine, seed: int = 15) -> None:
    """Create the five tables (foreign keys included) and fill each with ``ROWS`` rows."""
    rng = random.Random(seed)
    metadata = sa.MetaData()
    accounts = sa.Table(
        "accounts", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100)),
        sa.Column("phone", sa.String(40)),
        sa.Column("zip", sa.String(20)),
        sa.Column("address", sa.String(300)),
        sa.Column("birthday", sa.Date),
        sa.Column("created_at", sa.DateTime),
        sa.Column("plan", sa.String(20)),
        sa.Column("newsletter", sa.Boolean),
    )  # fmt: skip
    rsvps = sa.Table(
        "rsvps", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("guest_name", sa.String(100)),
        sa.Column("guest_email", sa.String(200)),
        sa.Column("attendance", sa.String(10)),
        sa.Column("message", sa.Text),
    )  # fmt: skip
    orders = sa.Table(
        "orders", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("order_no", sa.String(30)),
        sa.Column("total_yen", sa.Integer),
        sa.Column("card_number", sa.String(30)),
        sa.Column("tracking_no", sa.String(20)),
        sa.Column("jan_code", sa.String(13)),
        sa.Column("shipping_zip", sa.String(20)),
        sa.Column("shipping_address", sa.String(300)),
        sa.Column("ordered_at", sa.DateTime),
    )  # fmt: skip
    mail_logs = sa.Table(
        "mail_logs", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("to_address", sa.String(200)),
        sa.Column("subject", sa.String(200)),
        sa.Column("body", sa.Text),
        sa.Column("sent_at", sa.DateTime),
    )  # fmt: skip
    partners = sa.Table(
        "partners", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("company", sa.String(100)),
        sa.Column("corporate_number", sa.String(13)),
        sa.Column("contact_name", sa.String(100)),
        sa.Column("contact_email", sa.String(200)),
        sa.Column("contact_phone", sa.String(40)),
    )  # fmt: skip
    metadata.create_all(engine)

    def when() -> dt.datetime:
        return dt.datetime(2024, 1, 1) + dt.timedelta(minutes=rng.randint(0, 900_000))

    def birthday() -> dt.date:
        return dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 45))

    ids = range(1, ROWS + 1)
    with engine.begin() as conn:
        conn.execute(accounts.insert(), [
            {"id": i, "email": positive(Kind.email, rng), "name": positive(Kind.person_name, rng),
             "phone": positive(Kind.phone, rng),
             "zip": f"{rng.randint(100, 999)}{rng.randint(0, 9999):04d}",
             "address": positive(Kind.address, rng), "birthday": birthday(), "created_at": when(),
             "plan": rng.choice(["free", "basic", "premium"]), "newsletter": rng.random() < 0.5}
            for i in ids
        ])  # fmt: skip
        conn.execute(rsvps.insert(), [
            {"id": i, "account_id": rng.choice(ids), "guest_name": positive(Kind.person_name, rng),
             "guest_email": positive(Kind.email, rng), "attendance": rng.choice(["出席", "欠席"]),
             "message": rng.choice(_MESSAGES)}
            for i in ids
        ])  # fmt: skip
        conn.execute(orders.insert(), [
            {"id": i, "account_id": rng.choice(ids), "order_no": negatives("order_number", rng),
             "total_yen": rng.randint(1000, 80000), "card_number": positive(Kind.card_number, rng),
             "tracking_no": negatives("tracking_yamato", rng), "jan_code": negatives("jan", rng),
             "shipping_zip": f"〒{rng.randint(100, 999)}-{rng.randint(0, 9999):04d}",
             "shipping_address": positive(Kind.address, rng), "ordered_at": when()}
            for i in ids
        ])  # fmt: skip
        conn.execute(mail_logs.insert(), [
            {"id": i, "to_address": positive(Kind.email, rng),
             "subject": rng.choice(["ご予約の確認", "招待状が届きました", "パスワード再設定"]),
             "body": rng.choice(_BODIES).format(phone=positive(Kind.phone, rng)), "sent_at": when()}
            for i in ids
        ])  # fmt: skip
        conn.execute(partners.insert(), [
            {"id": i, "company": negatives("company", rng),
             "corporate_number": positive(Kind.corporate_number, rng),
             "contact_name": positive(Kind.person_name, rng),
             "contact_email": positive(Kind.email, rng), "contact_phone": positive(Kind.phone, rng)}
            for i in ids
        ])  # fmt: skip
