"""Applying one change to one student's departmental record, and recomputing their items in the same transaction.

The console, file imports and the departmental API all come through `apply_change`, so every write is audited
(`write_record`) and every status flip leaves a Transition (`sync_item_states`). Loading is done for many
students at once (`load_contexts`) so a file of 100,000 rows costs a handful of queries per thousand rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clearance import departments
from server.clearance.models import RECORD_MODELS, ItemState, Student
from server.clearance.records import RECORD_FIELDS, RecordRow, observe, sync_item_states, write_record
from server.clearance.rules import (
    ITEM_KEYS,
    ApartmentData,
    ArchivesData,
    FinanceData,
    ItemResult,
    LibraryData,
    evaluate,
)
from server.errors import ApiError, ErrorCode
from server.settings import Settings
from server.sources import DepartmentSource

CHUNK = 1000  # students per loading query; MySQL and SQLite take IN lists of this size comfortably


@dataclass
class StudentContext:
    """A student with their four records and stored item states, loaded together."""

    student: Student
    rows: dict[str, RecordRow | None]
    states: dict[str, ItemState] | None


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """Consecutive slices of at most `size`."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def load_contexts(session: Session, student_nos: Sequence[str], *, lock: bool = True) -> dict[str, StudentContext]:
    """The contexts of up to CHUNK students in six queries; `lock` takes the students' row locks (MySQL)."""
    stmt = select(Student).where(Student.student_no.in_(list(student_nos))).order_by(Student.id)
    students = list(session.scalars(stmt.with_for_update() if lock else stmt))
    by_id = {s.id: s for s in students}
    rows: dict[int, dict[str, RecordRow | None]] = {s.id: dict.fromkeys(ITEM_KEYS) for s in students}
    states: dict[int, dict[str, ItemState]] = {s.id: {} for s in students}
    if by_id:
        ids = list(by_id)
        for key, model in RECORD_MODELS.items():
            for row in session.scalars(select(model).where(model.student_id.in_(ids))):  # type: ignore[attr-defined]
                rows[row.student_id][key] = row  # type: ignore[assignment]
        for state in session.scalars(select(ItemState).where(ItemState.student_id.in_(ids))):
            states[state.student_id][state.item] = state
    return {s.student_no: StudentContext(s, rows[s.id], states[s.id]) for s in students}


def load_context(session: Session, student_no: str, *, lock: bool = True) -> StudentContext:
    """One student's context, or 404."""
    found = load_contexts(session, [student_no], lock=lock).get(student_no)
    if found is None:
        raise ApiError(404, ErrorCode.STUDENT_NOT_FOUND, f"未找到学号为 {student_no} 的学生",
                       f"No student with number {student_no}")
    return found


def evaluate_items(settings: Settings, sources: Mapping[str, DepartmentSource], student: Student,
                   rows: Mapping[str, RecordRow | None], now: datetime) -> list[ItemResult]:
    """The four items of a student from their records."""
    return [
        evaluate(key, observe(key, rows[key], student, sources[key].pulls), departments.office(settings, key),
                 departments.limits(settings, key), now)
        for key in ITEM_KEYS
    ]


def is_local(settings: Settings, key: str) -> bool:
    """Whether the department keeps its records in Lixiao (and so may change them here)."""
    return settings.department(key).source == "local"


def require_local(settings: Settings, key: str) -> None:
    """Refuse writes to a department whose records are read from elsewhere."""
    if not is_local(settings, key):
        name, name_en = departments.TITLES[key]
        raise ApiError(409, ErrorCode.DEPARTMENT_READ_ONLY,
                       f"{name}的数据来自其自有系统（{settings.department(key).source}），请在该系统中修改",
                       f"{name_en}'s records are read from its own system "
                       f"({settings.department(key).source}); change them there")


def record_defaults(key: str) -> dict[str, Any]:
    """The field values of a record nobody has set anything on (the rules' empty data)."""
    empty = {"library": LibraryData(), "archives": ArchivesData(), "apartment": ApartmentData(),
             "finance": FinanceData()}[key]
    return {name: list(value) if isinstance(value, tuple) else value
            for name, value in asdict(empty).items() if name in RECORD_FIELDS[key]}


def _unchanged(row: RecordRow | None, values: Mapping[str, Any]) -> bool:
    if row is None or not row.known or row.failed_at is not None:
        return False
    return all(getattr(row, name) == value for name, value in values.items())


def apply_change(
    session: Session,
    settings: Settings,
    sources: Mapping[str, DepartmentSource],
    ctx: StudentContext,
    key: str,
    values: Mapping[str, Any],
    *,
    source: str,
    actor: str,
    origin: str,
    cause: str,
    now: datetime,
) -> str:
    """Write checked values to one record and recompute; returns "created", "updated" or "unchanged".

    An unchanged record is not written at all (re-importing a file changes nothing), except that a
    department with a freshness limit gets its read time renewed: it has just confirmed the data.
    """
    existing = ctx.rows[key]
    if existing is None:
        values = {**record_defaults(key), **values}  # a new row gets every field, not only the ones sent
    elif _unchanged(existing, values):
        if settings.department(key).freshness_hours:
            existing.read_at = now
        return "unchanged"
    row, _changed = write_record(session, ctx.student, key, values, source=source, now=now, actor=actor,
                                 origin=origin, existing=existing, load=False)
    ctx.rows[key] = row
    recompute(session, settings, sources, ctx, cause=cause, now=now)
    return "created" if existing is None else "updated"


def recompute(session: Session, settings: Settings, sources: Mapping[str, DepartmentSource], ctx: StudentContext,
              *, cause: str, now: datetime, record_transitions: bool = True) -> list[ItemResult]:
    """Evaluate the student's items and store them, writing a Transition for each flip."""
    items = evaluate_items(settings, sources, ctx.student, ctx.rows, now)
    states = ctx.states
    sync_item_states(session, ctx.student, items, cause=cause, now=now, states=states,
                     record_transitions=record_transitions)
    if states is not None and any(i.key not in states for i in items):
        ctx.states = None  # new ItemState rows were added; load them by query next time
    return items
