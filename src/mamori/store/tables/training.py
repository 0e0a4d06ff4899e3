"""Training records (社員教育, :mod:`mamori.training`): the courses staff must take and who
completed which when. Course titles are not personal data; staff are named by id only."""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, String, Table, Text

from mamori.store.tables.base import UTCDateTime, metadata

__all__ = ["training_completions", "training_courses"]

training_courses = Table(
    "training_courses",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("title_ja", String(200), nullable=False),
    Column("title_en", String(200), nullable=False),
    # Months after a completion that the course must be taken again (0: once is enough).
    Column("every_months", Integer, nullable=False),
    # JSON list of the roles that must take it.
    Column("roles", Text, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
"""A course: its title in both languages, how often it is retaken, who must take it."""

training_completions = Table(
    "training_completions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("course_id", String(40), nullable=False),
    Column("staff_id", String(40), nullable=False),
    Column("completed_on", Date, nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_training_completions_course_id", "course_id", "staff_id"),
)
"""That a staff member completed a course on a day, and who recorded it."""
