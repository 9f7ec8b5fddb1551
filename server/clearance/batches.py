"""Batches: create one, set its window, close it early or reopen it; every change audited. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit import record_audit
from server.clearance.models import Application, Batch, Student
from server.clearance.versions import touch_batch
from server.errors import ApiError, ErrorCode
from server.timeutil import iso


def _snapshot(batch: Batch) -> dict[str, Any]:
    return {"name": batch.name, "opens_at": iso(batch.opens_at), "closes_at": iso(batch.closes_at),
            "closed_early_at": iso(batch.closed_early_at)}


def _check(session: Session, name: str, opens_at: datetime, closes_at: datetime, batch_id: int | None) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, "请填写批次名称（1–100 字）",
                       "Give the batch a name (1–100 characters)")
    if closes_at <= opens_at:
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, "结束时间必须晚于开始时间",
                       "The window must close after it opens")
    clash = session.scalar(select(Batch.id).where(Batch.name == name, Batch.id != (batch_id or 0)))
    if clash is not None:
        raise ApiError(409, ErrorCode.CONFLICT, f"已有名为“{name}”的批次", f"A batch named “{name}” already exists")
    return name


def create_batch(session: Session, *, name: str, opens_at: datetime, closes_at: datetime, actor: str,
                 origin: str = "") -> Batch:
    """A new batch with its submission window."""
    name = _check(session, name, opens_at, closes_at, None)
    batch = Batch(name=name, opens_at=opens_at, closes_at=closes_at)
    session.add(batch)
    session.flush()
    record_audit(session, actor=actor, action="batch.create", entity=f"batch:{batch.id}", before=None,
                 after=_snapshot(batch), origin=origin)
    return batch


def _get(session: Session, batch_id: int) -> Batch:
    batch = session.scalars(select(Batch).where(Batch.id == batch_id).with_for_update()).one_or_none()
    if batch is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "未找到该批次", "Batch not found")
    return batch


def set_window(session: Session, batch_id: int, *, name: str, opens_at: datetime, closes_at: datetime, actor: str,
               origin: str = "") -> Batch:
    """Rename a batch or move its window."""
    batch = _get(session, batch_id)
    name = _check(session, name, opens_at, closes_at, batch.id)
    before = _snapshot(batch)
    batch.name, batch.opens_at, batch.closes_at = name, opens_at, closes_at
    after = _snapshot(batch)
    if after != before:
        touch_batch(batch)
        session.flush()
        record_audit(session, actor=actor, action="batch.update", entity=f"batch:{batch.id}", before=before,
                     after=after, origin=origin)
    return batch


def close_early(session: Session, batch_id: int, *, now: datetime, actor: str, origin: str = "") -> Batch:
    """Stop submissions now, before the window ends; closing a closed batch changes nothing."""
    return _set_closed_early(session, batch_id, now, "batch.close", actor=actor, origin=origin)


def reopen(session: Session, batch_id: int, *, actor: str, origin: str = "") -> Batch:
    """Undo an early close: the window applies again."""
    return _set_closed_early(session, batch_id, None, "batch.reopen", actor=actor, origin=origin)


def _set_closed_early(session: Session, batch_id: int, closed_at: datetime | None, action: str, *, actor: str,
                      origin: str) -> Batch:
    """Close early (a time) or reopen (None), audited; a batch already in that state is left as it is."""
    batch = _get(session, batch_id)
    if (batch.closed_early_at is None) != (closed_at is None):
        before = _snapshot(batch)
        batch.closed_early_at = closed_at
        touch_batch(batch)
        session.flush()
        record_audit(session, actor=actor, action=action, entity=f"batch:{batch.id}", before=before,
                     after=_snapshot(batch), origin=origin)
    return batch


def batch_counts(session: Session) -> dict[int, tuple[int, int]]:
    """{batch id: (students, submitted)} in one grouped query."""
    rows = session.execute(
        select(Student.batch_id, func.count(Student.id), func.count(Application.id))
        .outerjoin(Application, (Application.student_id == Student.id) & (Application.batch_id == Student.batch_id))
        .where(Student.batch_id.isnot(None)).group_by(Student.batch_id)
    )
    return {b: (int(n), int(s)) for b, n, s in rows if b is not None}
