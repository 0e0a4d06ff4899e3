"""The register of training (社員教育): courses, completions, and who is overdue.

A course has a title in Japanese and English, the months after which it must be taken again
(0: once is enough) and the roles that must take it. A staff member whose role must take a
course is **overdue** on a day when they never completed it, or their last completion plus
the course's months is on or before that day ("today" is the operator's calendar day,
MAMORI_TIME_ZONE). Disabled accounts are never overdue. Every change is one transaction with
its audit entry (``training.course_add``, ``training.complete``: ids, dates and codes only).
"""

from __future__ import annotations

import calendar
import datetime as dt
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from mamori.errors import InvalidValue, NotFound
from mamori.staff import StaffAccount
from mamori.staff.permissions import Role
from mamori.store import db
from mamori.training import storage
from mamori.training.storage import CompletionRow, CourseRow
from mamori.vault.core import Vault

__all__ = [
    "TITLE_MAX",
    "Cell",
    "CompletionRow",
    "CourseRow",
    "Matrix",
    "State",
    "add_course",
    "due_after",
    "matrix",
    "record_completion",
    "state",
]

TITLE_MAX: Final = 200


class State(StrEnum):
    """A member's standing for one course on a day."""

    done = "done"
    overdue = "overdue"
    not_required = "not_required"


@dataclass(frozen=True)
class Cell:
    state: State
    last: dt.date | None
    due: dt.date | None


@dataclass(frozen=True)
class Matrix:
    courses: tuple[CourseRow, ...]
    staff: tuple[StaffAccount, ...]
    cells: dict[tuple[str, str], Cell]
    today: dt.date

    def overdue_staff(self) -> list[str]:
        return sorted({s for (s, _c), cell in self.cells.items() if cell.state is State.overdue})


def due_after(completed: dt.date, months: int) -> dt.date | None:
    """The day a completion stops counting (None: it counts for good)."""
    if months == 0:
        return None
    month = completed.month - 1 + months
    year, month = completed.year + month // 12, month % 12 + 1
    day = min(completed.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def state(
    course: CourseRow, account: StaffAccount, done_on: Iterable[dt.date], today: dt.date
) -> Cell:
    """``account``'s standing for ``course`` on ``today`` given the days they completed it."""
    last = max(done_on, default=None)
    due = due_after(last, course.every_months) if last is not None else None
    if not account.active or account.role.value not in course.roles:
        return Cell(State.not_required, last, due)
    if last is None or (due is not None and due <= today):
        return Cell(State.overdue, last, due)
    return Cell(State.done, last, due)


def matrix(vault: Vault, accounts: Sequence[StaffAccount]) -> Matrix:
    """Every course against every member, on the operator's today."""
    today = vault.today()
    with db.read(vault.engine) as conn:
        courses = storage.courses(conn)
        done = storage.completions(conn)
    days: dict[tuple[str, str], list[dt.date]] = {}
    for row in done:
        days.setdefault((row.staff_id, row.course_id), []).append(row.completed_on)
    cells = {
        (a.id, c.id): state(c, a, days.get((a.id, c.id), []), today)
        for a in accounts
        for c in courses
    }
    return Matrix(tuple(courses), tuple(accounts), cells, today)


def _title(field: str, text: str | None) -> str:
    value = unicodedata.normalize("NFC", text or "").strip()
    if not value:
        raise InvalidValue(f"{field}: give a title")
    if len(value) > TITLE_MAX or any(unicodedata.category(ch).startswith("C") for ch in value):
        raise InvalidValue(f"{field}: one line of at most {TITLE_MAX} characters")
    return value


def add_course(
    vault: Vault,
    *,
    actor: str,
    title_ja: str | None,
    title_en: str | None,
    every_months: str | int | None,
    roles: Iterable[str],
) -> CourseRow:
    """Add a course; audited as ``training.course_add``. :class:`InvalidValue` naming the
    field for a missing title, months that are not 0-120, or an unknown role."""
    ja, en = _title("title_ja", title_ja), _title("title_en", title_en)
    try:
        months = int(every_months if every_months not in (None, "") else "x")
    except ValueError:
        raise InvalidValue("every_months: give a whole number of months (0: once)") from None
    if not 0 <= months <= 120:
        raise InvalidValue("every_months: give 0 to 120 months")
    chosen = list(dict.fromkeys(roles))
    if not chosen or any(r not in {x.value for x in Role} for r in chosen):
        raise InvalidValue(f"roles: choose one or more of {', '.join(Role)}")
    ordered = tuple(r.value for r in Role if r.value in chosen)
    row = CourseRow(
        id=f"tc_{secrets.token_hex(12)}",
        title_ja=ja,
        title_en=en,
        every_months=months,
        roles=ordered,
        actor=actor,
        created_at=vault.clock.now(),
    )
    with db.write(vault.engine) as conn:
        storage.insert_course(conn, row)
        vault.audit.append(
            conn,
            actor=actor,
            action="training.course_add",
            targets=[f"course:{row.id}"],
            details={"every_months": months, "roles": "/".join(ordered)},
        )
    return row


def record_completion(
    vault: Vault,
    *,
    actor: str,
    course_id: str,
    staff_id: str,
    completed_on: str | dt.date | None,
    known_staff: Iterable[str],
) -> CompletionRow:
    """Record that ``staff_id`` completed ``course_id`` on ``completed_on`` (not in the
    future); audited as ``training.complete``."""
    if staff_id not in set(known_staff):
        raise InvalidValue("staff_id: choose a staff member from the list")
    if isinstance(completed_on, dt.date):
        day = completed_on
    else:
        try:
            day = dt.date.fromisoformat((completed_on or "").strip())
        except ValueError:
            raise InvalidValue("completed_on: give a day as YYYY-MM-DD") from None
    if day > vault.today():
        raise InvalidValue("completed_on: the day is in the future")
    row = CompletionRow(
        id=f"tr_{secrets.token_hex(12)}",
        course_id=course_id,
        staff_id=staff_id,
        completed_on=day,
        recorded_by=actor,
        recorded_at=vault.clock.now(),
    )
    with db.write(vault.engine) as conn:
        if storage.course(conn, course_id) is None:
            raise NotFound("no such course")
        storage.insert_completion(conn, row)
        vault.audit.append(
            conn,
            actor=actor,
            action="training.complete",
            targets=[f"course:{course_id}", f"staff:{staff_id}"],
            details={"completed_on": day.isoformat()},
        )
    return row
