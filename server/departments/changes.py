"""Applying one change to one student's departmental record, and recomputing their items in the same transaction.

The console and the departmental API's single-record call come through `apply_change`, so every write is audited
(`write_record`) and every status flip leaves a Transition (`sync_item_states`). File imports and the API's batch
call write many records at once through `server.departments.bulk.write_many`, which keeps the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.clearance.contexts import StudentContext, complete_contexts, load_contexts, recompute
from server.clearance.records import RecordRow, write_record
from server.clearance.rules import Judge
from server.clearance.versions import touch_student
from server.errors import ApiError, ErrorCode
from server.items import registry
from server.settings import Settings
from server.sources import DepartmentSource


def load_context(session: Session, settings: Settings, student_no: str, *, lock: bool = True) -> StudentContext:
    """One student's context with every active item's record, or 404."""
    found = load_contexts(session, [student_no], keys=registry.active(settings).keys, lock=lock).get(student_no)
    if found is None:
        raise ApiError(404, ErrorCode.STUDENT_NOT_FOUND, f"未找到学号为 {student_no} 的学生",
                       f"No student with number {student_no}")
    return found


def is_local(settings: Settings, key: str) -> bool:
    """Whether the department keeps its records in Lixiao (and so may change them here)."""
    return settings.department(key).source == "local"


def require_local(settings: Settings, key: str) -> None:
    """Refuse writes to a department whose records are read from elsewhere."""
    if not is_local(settings, key):
        name, name_en = registry.get(key).title
        # Not the source's code ("http"): whoever reads this needs the department's system, not our setting.
        raise ApiError(409, ErrorCode.DEPARTMENT_READ_ONLY, f"{name}的数据来自其自有系统，请在该系统中修改",
                       f"{name_en}'s records are read from its own system; change them there")


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
) -> str:
    """Write checked values to one record and recompute; returns "created", "updated" or "unchanged".

    An unchanged record is not written at all (re-importing a file changes nothing), except that a
    department with a freshness limit gets its read time renewed: it has just confirmed the data.
    When the item keeps its stored status nothing else needs recomputing; when it flips, every item is
    recomputed and the transitions written. Many records at once go through `bulk.write_many`, which does the same.
    """
    if key not in ctx.rows:
        complete_contexts(session, [ctx], keys=[key], with_states=False)
    existing = ctx.rows[key]
    if existing is None:
        values = {**registry.get(key).defaults(), **values}  # a new row gets every field, not only the ones sent
    elif is_unchanged(existing, values):
        if settings.department(key).freshness_hours:
            existing.read_at = now
            touch_student(session, ctx.student)
        return "unchanged"
    row, _changed = write_record(session, ctx.student, key, values, source=source, now=now, actor=actor,
                                 origin=origin, existing=existing, load=False)
    ctx.rows[key] = row
    judge = Judge.of(settings, sources, now)
    if _keeps_status(judge, ctx, key):
        return "created" if existing is None else "updated"
    complete_contexts(session, [ctx], keys=judge.keys)
    recompute(session, settings, sources, ctx, cause=cause, now=now)
    return "created" if existing is None else "updated"


def _keeps_status(judge: Judge, ctx: StudentContext, key: str) -> bool:
    """Whether the changed item still has the status stored for it (then no item, nor "all passed", flips)."""
    state = (ctx.states or {}).get(key)
    if state is None:
        return False
    return str(judge.status(key, ctx.rows[key], ctx.student)) == state.status
