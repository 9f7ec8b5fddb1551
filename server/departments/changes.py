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


def load_contexts(session: Session, student_nos: Sequence[str], *, lock: bool = True,
                  keys: Sequence[str] = ITEM_KEYS, with_states: bool = True) -> dict[str, StudentContext]:
    """The contexts of up to CHUNK students in at most six queries; `lock` takes the students' row locks (MySQL).

    With fewer `keys` or without states the contexts are partial; `complete_contexts` loads the rest.
    """
    stmt = select(Student).where(Student.student_no.in_(list(student_nos))).order_by(Student.id)
    students = list(session.scalars(stmt.with_for_update() if lock else stmt))
    contexts = {s.student_no: StudentContext(s, {}, None) for s in students}
    complete_contexts(session, list(contexts.values()), keys=keys, with_states=with_states)
    return contexts


def complete_contexts(session: Session, contexts: Sequence[StudentContext], *, keys: Sequence[str] = ITEM_KEYS,
                      with_states: bool = True) -> None:
    """Load the records of `keys` (and the item states) that the contexts do not have yet."""
    by_id = {c.student.id: c for c in contexts}
    if not by_id:
        return
    ids = list(by_id)
    for key in keys:
        missing = [i for i in ids if key not in by_id[i].rows]
        if not missing:
            continue
        for i in missing:
            by_id[i].rows[key] = None
        model = RECORD_MODELS[key]
        for row in session.scalars(select(model).where(model.student_id.in_(missing))):  # type: ignore[attr-defined]
            by_id[row.student_id].rows[key] = row  # type: ignore[attr-defined]
    if with_states:
        missing = [i for i in ids if by_id[i].states is None]
        for i in missing:
            by_id[i].states = {}
        for state in session.scalars(select(ItemState).where(ItemState.student_id.in_(missing))) if missing else ():
            by_id[state.student_id].states[state.item] = state  # type: ignore[index]


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


def is_unchanged(row: RecordRow | None, values: Mapping[str, Any]) -> bool:
    """Whether writing `values` would change nothing on a known, readable record."""
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
    flipped: list[StudentContext] | None = None,
) -> str:
    """Write checked values to one record and recompute; returns "created", "updated" or "unchanged".

    An unchanged record is not written at all (re-importing a file changes nothing), except that a
    department with a freshness limit gets its read time renewed: it has just confirmed the data.
    When the item keeps its stored status nothing else needs recomputing; when it flips, all four items are
    recomputed and the transitions written — at once, or by the caller if it passes a `flipped` list to
    collect the students in (so a file's flips load their other records together).
    """
    if key not in ctx.rows:
        complete_contexts(session, [ctx], keys=[key], with_states=False)
    existing = ctx.rows[key]
    if existing is None:
        values = {**record_defaults(key), **values}  # a new row gets every field, not only the ones sent
    elif is_unchanged(existing, values):
        if settings.department(key).freshness_hours:
            existing.read_at = now
        return "unchanged"
    row, _changed = write_record(session, ctx.student, key, values, source=source, now=now, actor=actor,
                                 origin=origin, existing=existing, load=False)
    ctx.rows[key] = row
    if _keeps_status(settings, sources, ctx, key, now):
        return "created" if existing is None else "updated"
    if flipped is not None:
        flipped.append(ctx)
    else:
        complete_contexts(session, [ctx])
        recompute(session, settings, sources, ctx, cause=cause, now=now)
    return "created" if existing is None else "updated"


def _keeps_status(settings: Settings, sources: Mapping[str, DepartmentSource], ctx: StudentContext, key: str,
                  now: datetime) -> bool:
    """Whether the changed item still has the status stored for it (then no item, nor "all four", flips)."""
    state = (ctx.states or {}).get(key)
    if state is None:
        return False
    item = evaluate(key, observe(key, ctx.rows[key], ctx.student, sources[key].pulls),
                    departments.office(settings, key), departments.limits(settings, key), now)
    return str(item.status) == state.status


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
