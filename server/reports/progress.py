"""Progress of a batch by college × item, who never logged in, and who is still blocked.

Every query takes an optional college: a college viewer's pages pass theirs, so the limit is in the SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from server.clearance.models import Application, Batch, ItemState, Student
from server.identity.models import ApiSession

# "none": the student has no computed status for the item yet (no record was ever evaluated).
STATUSES = ("passed", "not_passed", "unavailable", "none")
BLOCKED_STATUSES = ("not_passed", "unavailable", "none")
PER_PAGE = 50


@dataclass
class CollegeProgress:
    """One row of the progress table: a college (or the total) and its counts per item and status."""

    college: str
    keys: Sequence[str]
    students: int = 0
    submitted: int = 0
    never_logged_in: int = 0
    items: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.items = {k: dict.fromkeys(STATUSES, 0) for k in self.keys}


@dataclass
class Progress:
    """Every college's row, and the total."""

    colleges: list[CollegeProgress]
    total: CollegeProgress


@dataclass
class Page:
    """One page of a list."""

    rows: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        """Whether a later page exists."""
        return self.page < self.pages


def never_logged_in_clause() -> Any:
    """True for a student with no browser sign-in and no token ever issued."""
    return and_(Student.last_login_at.is_(None), ~exists().where(ApiSession.student_id == Student.id))


_Statement = TypeVar("_Statement", bound="Select[*tuple[Any, ...]]")


def _scoped(stmt: _Statement, batch_id: int | None, college: str | None) -> _Statement:
    if batch_id is not None:
        stmt = stmt.where(Student.batch_id == batch_id)
    if college is not None:
        stmt = stmt.where(Student.college == college)
    return stmt


def item_status_counts(session: Session, batch_id: int | None, college: str | None = None
                       ) -> list[tuple[str, str, str, int]]:
    """(college, item, status, count) from item_states, in one grouped query."""
    stmt = _scoped(
        select(Student.college, ItemState.item, ItemState.status, func.count())
        .join(ItemState, ItemState.student_id == Student.id)
        .group_by(Student.college, ItemState.item, ItemState.status),
        batch_id, college)
    return [(c, i, s, n) for c, i, s, n in session.execute(stmt)]


def college_counts(session: Session, batch_id: int | None, college: str | None = None
                   ) -> list[tuple[str, int, int, int]]:
    """(college, students, submitted, never logged in), in one grouped query."""
    stmt = _scoped(
        select(Student.college, func.count(Student.id), func.count(Application.id),
               func.coalesce(func.sum(case((never_logged_in_clause(), 1), else_=0)), 0))
        .outerjoin(Application, and_(Application.student_id == Student.id, Application.batch_id == Student.batch_id))
        .group_by(Student.college).order_by(Student.college),
        batch_id, college)
    return [(c, int(n), int(s), int(never)) for c, n, s, never in session.execute(stmt)]


def progress(session: Session, keys: Sequence[str], batch_id: int | None, college: str | None = None) -> Progress:
    """The progress table: per college, how many students are in each status of each of the items `keys`."""
    rows: dict[str, CollegeProgress] = {}
    total = CollegeProgress("", keys)
    for name, students, submitted, never in college_counts(session, batch_id, college):
        rows[name] = CollegeProgress(name, keys, students, submitted, never)
        total.students += students
        total.submitted += submitted
        total.never_logged_in += never
    for name, item, status, count in item_status_counts(session, batch_id, college):
        if name not in rows or item not in keys or status not in STATUSES:
            continue
        rows[name].items[item][status] += count
        total.items[item][status] += count
    for row in [*rows.values(), total]:
        for counts in row.items.values():
            counts["none"] = row.students - sum(counts[s] for s in STATUSES if s != "none")
    return Progress(colleges=list(rows.values()), total=total)


def _page_of(session: Session, stmt: Select[*tuple[Any, ...]], page: int, per_page: int) -> Page:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = max(1, page)
    rows = list(session.execute(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(rows=rows, page=page, per_page=per_page, total=int(total))


def blocked_students(session: Session, batch_id: int | None, item: str, *, college: str | None = None,
                     statuses: Sequence[str] = BLOCKED_STATUSES, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Students whose item is not passed (or has no status yet), by student number, one page at a time.

    Rows: (Student, status or None, changed_at or None).
    """
    state = and_(ItemState.student_id == Student.id, ItemState.item == item)
    wanted = [s for s in statuses if s != "none"]
    conditions = [ItemState.status.in_(wanted)] if wanted else []
    if "none" in statuses:
        conditions.append(ItemState.id.is_(None))
    stmt = _scoped(
        select(Student, ItemState.status, ItemState.changed_at).outerjoin(ItemState, state)
        .where(or_(*conditions)).order_by(Student.student_no),
        batch_id, college)
    return _page_of(session, stmt, page, per_page)


def never_logged_in(session: Session, batch_id: int | None, *, college: str | None = None, page: int = 1,
                    per_page: int = PER_PAGE) -> Page:
    """Students who never signed in on any channel, by student number. Rows: (Student,)."""
    stmt = _scoped(select(Student).where(never_logged_in_clause()).order_by(Student.student_no), batch_id, college)
    return _page_of(session, stmt, page, per_page)


def colleges(session: Session, batch_id: int | None = None) -> list[str]:
    """Every college with students (in the batch)."""
    return list(session.scalars(_scoped(select(Student.college).distinct().order_by(Student.college),
                                        batch_id, None)))


def batches(session: Session) -> list[Batch]:
    """Every batch, newest window first."""
    return list(session.scalars(select(Batch).order_by(Batch.opens_at.desc(), Batch.id.desc())))


def default_batch(session: Session, now: datetime) -> Batch | None:
    """The batch a dashboard shows first: the open one, else the newest."""
    listed = batches(session)
    open_now = [b for b in listed if b.is_open(now)]
    return (open_now or listed)[0] if listed else None
