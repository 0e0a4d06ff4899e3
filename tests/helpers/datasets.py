"""Connected databases for the dataset tests: scratch databases made on the local PostgreSQL and
MariaDB servers (and dropped after), the example service's schema (accounts, invitations,
RSVPs, orders, mail logs, access logs, with foreign keys), people's rows in it, and the dataset
declaration that describes it.

The servers: ``MAMORI_TEST_POSTGRES_SERVER`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``)
and ``MAMORI_TEST_MARIADB_SERVER`` (default ``mysql+pymysql://root@127.0.0.1:3306/test``). A
server that does not answer skips its tests with the reason, unless ``MAMORI_TEST_REQUIRE_DATASETS``
is set (CI sets it), when it fails them.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

SERVERS = {
    "postgresql": os.environ.get(
        "MAMORI_TEST_POSTGRES_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get(
        "MAMORI_TEST_MARIADB_SERVER", "mysql+pymysql://root@127.0.0.1:3306/test"
    ),
}
REQUIRED = bool(os.environ.get("MAMORI_TEST_REQUIRE_DATASETS"))

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(254), nullable=False, index=True),
    sa.Column("phone", sa.String(32), nullable=True, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("host_account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("starts_at", sa.DateTime, nullable=False),
)
rsvps = sa.Table(
    "rsvps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column(
        "invitation_id",
        sa.Integer,
        sa.ForeignKey("invitations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=True),
    sa.Column("guest_email", sa.String(254), nullable=False, index=True),
    sa.Column("guest_name", sa.String(100), nullable=False),
    sa.Column("answer", sa.String(8), nullable=False),
)
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=True, index=True),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("shipping_address", sa.String(300), nullable=True),
)
mail_logs = sa.Table(
    "mail_logs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column(
        "account_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    sa.Column("to_address", sa.String(254), nullable=False, index=True),
    sa.Column("template", sa.String(40), nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=False),
)
# No foreign key: a log table often has none; the dataset declares the reference.
access_logs = sa.Table(
    "access_logs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.Integer, nullable=True, index=True),
    sa.Column("ip_address", sa.String(45), nullable=False),
    sa.Column("path", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)

DATASET = """\
id: {id}
connection: {setting}
tables:
  accounts:
    identities:
      email: email
      phone: phone
    columns:
      email: {{item: email, erase: delete}}
      phone: {{item: phone, erase: delete}}
      name: {{item: name, erase: delete}}
  invitations:
    columns:
      title: {{item: content, erase: delete}}
  rsvps:
    identities:
      guest_email: email
    not_through: [invitations]
    columns:
      guest_email: {{item: email, erase: delete}}
      guest_name: {{item: name, erase: delete}}
  orders:
    columns:
      account_id: {{item: linked_service_id, erase: set_null}}
      shipping_address: {{item: address, erase: rewrite, value: "(erased)"}}
      total: {{item: usage_history, erase: keep, reason: "法人税法 126条: 帳簿書類の保存 (7 年)"}}
  mail_logs:
    identities:
      to_address: email
    columns:
      to_address: {{item: email, erase: hash}}
  access_logs:
    references:
      - {{columns: [account_id], table: accounts, to: [id]}}
    columns:
      ip_address: {{item: ip_address, erase: delete}}
"""


def dataset_yaml(dataset_id: str, setting: str) -> str:
    return DATASET.format(id=dataset_id, setting=setting)


def write_policy_folder(tmp_path: Path, datasets: dict[str, str]) -> Path:
    """A policy file (the worked example) with ``datasets/<name>.yaml`` beside it."""
    from mamori.config import example_policy_path

    folder = tmp_path / "policy"
    (folder / "datasets").mkdir(parents=True)
    policy = folder / "policy.yaml"
    policy.write_text(example_policy_path().read_text(encoding="utf-8"), encoding="utf-8")
    for name, text in datasets.items():
        (folder / "datasets" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return policy


def _reachable(url: str) -> str | None:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # the reason a test is skipped
        return f"{type(exc).__name__}"
    finally:
        engine.dispose()
    return None


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A new empty database on ``backend``'s server, its URL; dropped afterwards."""
    server = SERVERS[backend]
    problem = _reachable(server)
    if problem is not None:
        message = f"{backend} server {make_url(server).host} not reachable ({problem})"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    name = f"mamori_ds_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    quote = '"' if backend == "postgresql" else "`"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {quote}{name}{quote}")
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


NOW = dt.datetime(2026, 11, 1, 9, 0)


def seed(url: str, people: int = 3, *, extra: int = 0) -> None:
    """The schema and ``people`` accounts (ids 1..people; person n: ``p{n}@example.jp``,
    ``090-1234-567{n}``), each with an invitation, an RSVP to the next person's invitation,
    two orders, two mail logs and three access logs; plus an RSVP of a guest without an
    account (``guest@example.jp``) to person 1's invitation. ``extra``: rows of other people
    in every table, to make the tables bigger."""
    engine = sa.create_engine(url, poolclass=NullPool)
    metadata.create_all(engine)
    acc: list[dict[str, object]] = []
    inv: list[dict[str, object]] = []
    rsv: list[dict[str, object]] = []
    ords: list[dict[str, object]] = []
    mails: list[dict[str, object]] = []
    access: list[dict[str, object]] = []
    for n in range(1, people + 1):
        email = f"p{n}@example.jp"
        acc.append(
            dict(id=n, email=email, phone=f"090-1234-567{n}", name=f"利用者 {n}", created_at=NOW)
        )
        inv.append(dict(id=n, host_account_id=n, title=f"会 {n}", starts_at=NOW))
        for k in range(2):
            i = n * 10 + k
            address = f"東京都 {n}-{k}"
            ords.append(dict(id=i, account_id=n, total=1000 * (k + 1), shipping_address=address))
            owner = n if k == 0 else None  # a mail log without the account: found by address
            mails.append(
                dict(id=i, account_id=owner, to_address=email, template="notice", sent_at=NOW)
            )
        for k in range(3):
            access.append(
                dict(id=n * 10 + k, account_id=n, ip_address=f"192.0.2.{n}", path="/", at=NOW)
            )
        rsv.append(
            dict(
                id=n,
                invitation_id=n % people + 1,
                account_id=n,
                guest_email=email,
                guest_name=f"利用者 {n}",
                answer="yes",
            )
        )
    rsv.append(
        dict(
            id=1000,
            invitation_id=1,
            account_id=None,
            guest_email="guest@example.jp",
            guest_name="ゲスト",
            answer="no",
        )
    )
    for k in range(extra):
        i = 100_000 + k
        other = f"x{i}@example.jp"
        acc.append(dict(id=i, email=other, phone=None, name="他", created_at=NOW))
        ords.append(dict(id=i, account_id=i, total=1, shipping_address="x"))
        mails.append(dict(id=i, account_id=i, to_address=other, template="t", sent_at=NOW))
        access.append(dict(id=i, account_id=i, ip_address="198.51.100.1", path="/", at=NOW))
    with engine.begin() as conn:
        for table, rows in (
            (accounts, acc),
            (invitations, inv),
            (rsvps, rsv),
            (orders, ords),
            (mail_logs, mails),
            (access_logs, access),
        ):
            if rows:
                conn.execute(table.insert(), rows)
    engine.dispose()


def counts(url: str, email: str, account_id: int) -> dict[str, int]:
    """Rows of each table still holding the person (by e-mail or account id)."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:

            def n(query: sa.Select[int]) -> int:
                return int(conn.execute(query).scalar_one())

            c = sa.func.count()
            mine = f"%{account_id}-%"
            return {
                "accounts": n(
                    sa.select(c).where(
                        sa.or_(accounts.c.email == email, accounts.c.id == account_id)
                    )
                ),
                "invitations": n(sa.select(c).where(invitations.c.host_account_id == account_id)),
                "rsvps": n(
                    sa.select(c).where(
                        sa.or_(rsvps.c.guest_email == email, rsvps.c.account_id == account_id)
                    )
                ),
                "orders": n(
                    sa.select(c).where(
                        sa.or_(
                            orders.c.account_id == account_id,
                            orders.c.shipping_address.like(mine),
                        )
                    )
                ),
                "mail_logs": n(sa.select(c).where(mail_logs.c.to_address == email)),
                "access_logs": n(sa.select(c).where(access_logs.c.account_id == account_id)),
            }
    finally:
        engine.dispose()
