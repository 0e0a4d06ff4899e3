"""What every table is declared on: the one ``MetaData`` with its naming convention, and the
column types all backends share (UTC timestamps, sequence numbers)."""

from __future__ import annotations

__all__ = ["NAMING", "Seq", "UTCDateTime", "metadata", "subject_fk"]

import datetime as dt

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
)
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite makes an ``INTEGER PRIMARY KEY`` column an alias of the row id (fast appends, ordered
# scans); ``BIGINT PRIMARY KEY`` would be a separate index.
Seq = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it as naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


metadata = MetaData(naming_convention=NAMING)
"""Every table of mamori (what the migrations create and ``tests/store`` compares them with)."""


def subject_fk() -> ForeignKey:
    return ForeignKey("subjects.id", ondelete="CASCADE")
