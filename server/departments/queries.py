"""What the console reads: finding students, a student's history, and who is still blocked per department."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from server.audit import AuditEntry
from server.clearance.models import ItemState, Student, Transition
from server.clearance.records import RecordRow
from server.clearance.rules import ItemResult, Judge, Status
from server.items import registry
from server.settings import Settings
from server.sources import DepartmentSource

PER_PAGE = 50


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_students(session: Session, query: str, *, college: str | None = None, page: int = 1,
                    per_page: int = PER_PAGE) -> tuple[list[Student], int]:
    """Students whose number starts with, or whose name contains, the query; a college viewer's are limited."""
    query = query.strip()[:64]
    conditions = []
    if query:
        conditions.append(or_(Student.student_no.like(f"{_like(query)}%", escape="\\"),
                              Student.name.like(f"%{_like(query)}%", escape="\\")))
    if college is not None:
        conditions.append(Student.college == college)
    total = session.scalar(select(func.count()).select_from(Student).where(*conditions)) or 0
    rows = session.scalars(select(Student).where(*conditions).order_by(Student.student_no)
                           .offset((max(page, 1) - 1) * per_page).limit(per_page))
    return list(rows), total


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a student's history: a status change or an audited change."""

    at: datetime
    kind: str  # transition | audit
    item: str
    summary: str
    actor: str = ""
    origin: str = ""
    before: Any = None
    after: Any = None


def student_history(session: Session, student: Student, keys: Sequence[str], *, every_item: bool = False,
                    limit: int = 100) -> list[HistoryEntry]:
    """Transitions of the given items (and of "all passed", for one who sees `every_item`) and audit rows about
    the student's records, newest first."""
    items = [*keys, "all"] if every_item else list(keys)
    transitions = session.scalars(select(Transition).where(Transition.student_id == student.id,
                                                           Transition.item.in_(items))
                                  .order_by(Transition.at.desc(), Transition.id.desc()).limit(limit))
    entities = [f"{k}_record:{student.student_no}" for k in keys] + [f"student:{student.student_no}"]
    audits = session.scalars(select(AuditEntry).where(AuditEntry.entity.in_(entities))
                             .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit))
    entries = [HistoryEntry(t.at, "transition", t.item, f"{t.from_status or '—'} → {t.to_status}", actor=t.cause)
               for t in transitions]
    entries += [HistoryEntry(a.at, "audit", a.entity.split(":", 1)[0].removesuffix("_record"), a.action,
                             actor=a.actor, origin=a.origin, before=a.before, after=a.after) for a in audits]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _blocked_conditions(key: str, college: str | None) -> list[Any]:
    conditions: list[Any] = [or_(ItemState.status.is_(None), ItemState.status != str(Status.PASSED))]
    if college:
        conditions.append(Student.college == college)
    return conditions


def _blocked_select(key: str, college: str | None) -> Any:
    return (select(Student, ItemState.status)
            .outerjoin(ItemState, and_(ItemState.student_id == Student.id, ItemState.item == key))
            .where(*_blocked_conditions(key, college)))


@dataclass(frozen=True)
class BlockedSummary:
    """How many students an item still blocks, by status and by college."""

    total: int
    by_status: dict[str, int]
    by_college: dict[str, int]


def blocked_summary(session: Session, key: str, college: str | None = None) -> BlockedSummary:
    """Counts of the students not passed on one item (a missing state counts as not yet computed)."""
    rows = session.execute(
        select(Student.college, ItemState.status, func.count())
        .select_from(Student)
        .outerjoin(ItemState, and_(ItemState.student_id == Student.id, ItemState.item == key))
        .where(*_blocked_conditions(key, college))
        .group_by(Student.college, ItemState.status)
    ).all()
    by_status: dict[str, int] = {}
    by_college: dict[str, int] = {}
    for college_name, status, n in rows:
        by_status[status or "unknown"] = by_status.get(status or "unknown", 0) + n
        by_college[college_name] = by_college.get(college_name, 0) + n
    return BlockedSummary(sum(by_status.values()), by_status, dict(sorted(by_college.items())))


@dataclass(frozen=True)
class BlockedRow:
    """A blocked student, with the first reason the item gives."""

    student: Student
    status: str
    item: ItemResult


def _results(session: Session, settings: Settings, sources: Mapping[str, DepartmentSource], key: str,
             pairs: Sequence[tuple[Student, str | None]], now: datetime) -> list[BlockedRow]:
    model = registry.get(key).record
    ids = [s.id for s, _ in pairs]
    records: dict[int, RecordRow] = {
        r.student_id: r for r in session.scalars(select(model).where(model.student_id.in_(ids)))
    } if ids else {}
    judge = Judge.of(settings, sources, now)
    return [BlockedRow(s, status or "unknown", judge.item(key, records.get(s.id), s)) for s, status in pairs]


def blocked_page(session: Session, settings: Settings, sources: Mapping[str, DepartmentSource], key: str, *,
                 college: str | None, page: int, now: datetime, per_page: int = PER_PAGE) -> list[BlockedRow]:
    """One page of the blocked list, ordered by college then student number."""
    pairs = session.execute(_blocked_select(key, college).order_by(Student.college, Student.student_no)
                            .offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
    return _results(session, settings, sources, key, [(s, st) for s, st in pairs], now)


def iter_blocked(sessions: sessionmaker[Session], settings: Settings, sources: Mapping[str, DepartmentSource],
                 key: str, *, college: str | None, now: datetime, chunk: int = 500) -> Iterator[BlockedRow]:
    """Every blocked student, a chunk per short transaction, so a long download neither holds locks nor memory."""
    last_id = 0
    while True:
        with sessions() as session:
            pairs = session.execute(_blocked_select(key, college).where(Student.id > last_id).order_by(Student.id)
                                    .limit(chunk)).all()
            rows = _results(session, settings, sources, key, [(s, st) for s, st in pairs], now)
        if not rows:
            return
        yield from rows
        last_id = rows[-1].student.id


def colleges(session: Session) -> list[str]:
    """Every college of the roster, for filters."""
    return list(session.scalars(select(Student.college).distinct().order_by(Student.college)))
