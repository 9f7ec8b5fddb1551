"""Reading pulled records that are missing, stale or failed, without making a request wait past the limit."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from server.clearance.contexts import load_contexts, recompute
from server.clearance.models import Application, Student
from server.clearance.records import RecordRow, record_failure, write_record
from server.clearance.rules import ANSWERED
from server.db import chunks
from server.items import registry
from server.settings import Settings
from server.sources.base import DepartmentSource, SourceAnswerUnusable, SourceUnavailable

log = logging.getLogger(__name__)

# A failing source is not asked again for this long, so a dead system is not hammered at the peak.
RETRY_FAILED_AFTER = timedelta(seconds=30)
_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="source-fetch")


def is_due(row: RecordRow | None, freshness_hours: float, now: datetime) -> bool:
    """Whether a pulled record should be read again."""
    if row is None or row.read_at is None:
        return row is None or row.failed_at is None or now - row.failed_at > RETRY_FAILED_AFTER
    if row.failed_at is not None and row.failed_at >= row.read_at:
        return now - row.failed_at > RETRY_FAILED_AFTER
    return bool(freshness_hours) and now - row.read_at > timedelta(hours=freshness_hours)


def refresh_due(
    session: Session,
    settings: Settings,
    sources: Mapping[str, DepartmentSource],
    student: Student,
    rows: Mapping[str, RecordRow | None],
    now: datetime,
    *,
    ahead: float = 1.0,
    budget: float | None = None,
) -> dict[str, RecordRow]:
    """Fetch the due records in parallel; each source gets its own timeout and a late answer counts as failed.

    `ahead` < 1 counts records as due from that share of their freshness limit (the worker reads ahead).
    `budget` bounds the whole wait (a page's one budget for every source), whatever each source's timeout."""
    due = {
        key: source for key, source in sources.items()
        if source.pulls and is_due(rows.get(key), settings.department(key).freshness_hours * ahead, now)
    }
    if not due:
        return {}
    futures: dict[str, Future[Any]] = {
        key: _pool.submit(source.fetch, student.student_no) for key, source in due.items()
    }
    deadline = max(settings.department(key).timeout_seconds for key in due)
    if budget is not None:
        deadline = min(deadline, budget)
    wait(futures.values(), timeout=deadline)
    updated: dict[str, RecordRow] = {}
    for key, future in futures.items():
        row = rows.get(key)
        if not future.done():
            future.cancel()
            updated[key] = record_failure(session, student, key, row, "timeout", now)
            continue
        try:
            data = future.result()
        except SourceAnswerUnusable as exc:  # it answered: the student must not be told it cannot be reached
            updated[key] = record_failure(session, student, key, row, ANSWERED + (str(exc) or "unusable"), now)
            continue
        except SourceUnavailable as exc:
            updated[key] = record_failure(session, student, key, row, str(exc) or "unavailable", now)
            continue
        except Exception as exc:  # a broken source must not break the status page
            log.warning("source %s failed: %s", key, type(exc).__name__)
            updated[key] = record_failure(session, student, key, row, type(exc).__name__, now)
            continue
        updated[key], _ = write_record(session, student, key, data, source=due[key].kind, now=now,
                                       actor=f"system:{due[key].kind}-{key}", existing=row, load=False)
    session.flush()
    return updated


def _due_students(session: Session, key: str, freshness_hours: float, now: datetime, limit: int) -> list[int]:
    """Students (not yet submitted) whose record of a pulled department is missing, stale or failed long enough ago."""
    model = registry.get(key).record
    retry_before = now - RETRY_FAILED_AFTER
    never_read = and_(model.read_at.is_(None), or_(model.failed_at.is_(None), model.failed_at < retry_before))
    failed = and_(model.read_at.is_not(None), model.failed_at.is_not(None), model.failed_at >= model.read_at,
                  model.failed_at < retry_before)
    conditions = [model.id.is_(None), never_read, failed]
    if freshness_hours:
        answered = or_(model.failed_at.is_(None), model.failed_at < model.read_at)
        # from half the limit: the worker keeps records fresh before a page view has to wait for the source
        conditions.append(and_(model.read_at < now - timedelta(hours=freshness_hours / 2), answered))
    stmt = (
        select(Student.id)
        .outerjoin(model, model.student_id == Student.id)
        .outerjoin(Application, and_(Application.student_id == Student.id, Application.batch_id == Student.batch_id))
        .where(Application.id.is_(None), or_(*conditions))
        .order_by(model.read_at.is_not(None), model.read_at, Student.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def refresh_stale_records(session: Session, settings: Settings, sources: Mapping[str, DepartmentSource],
                          now: datetime, limit: int = 200) -> int:
    """Re-read up to `limit` students' due records from pulled sources and store their items (the worker calls this).

    Sources are read without holding row locks; each student costs at most the slowest source's timeout.
    Returns how many students were refreshed. The caller commits.
    """
    pulled = [key for key, source in sources.items() if source.pulls]
    ids: list[int] = []
    for key in pulled:
        for student_id in _due_students(session, key, settings.department(key).freshness_hours, now, limit):
            if student_id not in ids:
                ids.append(student_id)
    ids = ids[:limit]
    if not ids:
        return 0
    refreshed = 0
    for chunk in chunks(ids):
        numbers = list(session.scalars(select(Student.student_no).where(Student.id.in_(list(chunk)))))
        for ctx in load_contexts(session, numbers, keys=registry.active(settings).keys, lock=False).values():
            updated = refresh_due(session, settings, sources, ctx.student, ctx.rows, now, ahead=0.5)
            if updated:
                ctx.rows.update(updated)
                recompute(session, settings, sources, ctx, cause="refresh", now=now)
                refreshed += 1
        session.flush()
    return refreshed
