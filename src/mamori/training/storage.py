"""The queries of training records: courses (``training_courses``) and completions
(``training_completions``). Every function runs on the caller's connection."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import tables

__all__ = [
    "CompletionRow",
    "CourseRow",
    "completions",
    "course",
    "courses",
    "insert_completion",
    "insert_course",
]

courses_t = tables.training_courses
completions_t = tables.training_completions


@dataclass(frozen=True)
class CourseRow:
    id: str
    title_ja: str
    title_en: str
    every_months: int
    roles: tuple[str, ...]
    actor: str
    created_at: dt.datetime

    def title(self, lang: str) -> str:
        return self.title_ja if lang == "ja" else self.title_en


@dataclass(frozen=True)
class CompletionRow:
    id: str
    course_id: str
    staff_id: str
    completed_on: dt.date
    recorded_by: str
    recorded_at: dt.datetime


def _course(row: sa.Row[tuple[object, ...]]) -> CourseRow:
    values = dict(row._mapping)
    values["roles"] = tuple(orjson.loads(str(values["roles"])))
    return CourseRow(**values)


def insert_course(conn: Connection, row: CourseRow) -> None:
    values = {k: getattr(row, k) for k in CourseRow.__dataclass_fields__}
    values["roles"] = orjson.dumps(list(row.roles)).decode()
    conn.execute(courses_t.insert().values(**values))


def courses(conn: Connection) -> list[CourseRow]:
    rows = conn.execute(sa.select(courses_t).order_by(courses_t.c.created_at, courses_t.c.id))
    return [_course(r) for r in rows]


def course(conn: Connection, course_id: str) -> CourseRow | None:
    row = conn.execute(sa.select(courses_t).where(courses_t.c.id == course_id)).first()
    return _course(row) if row is not None else None


def insert_completion(conn: Connection, row: CompletionRow) -> None:
    conn.execute(
        completions_t.insert().values(
            **{k: getattr(row, k) for k in CompletionRow.__dataclass_fields__}
        )
    )


def completions(conn: Connection) -> list[CompletionRow]:
    rows = conn.execute(sa.select(completions_t).order_by(completions_t.c.completed_on))
    return [CompletionRow(**dict(r._mapping)) for r in rows]
