"""Reading pulled records that are missing, stale or failed, without making a request wait past the limit."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from server.clearance.models import Student
from server.clearance.records import RecordRow, record_failure, write_record
from server.clearance.rules import DepartmentData
from server.settings import Settings
from server.sources.base import DepartmentSource, SourceUnavailable

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
) -> dict[str, RecordRow]:
    """Fetch the due records in parallel; each source gets its own timeout and a late answer counts as failed."""
    due = {
        key: source for key, source in sources.items()
        if source.pulls and is_due(rows.get(key), settings.department(key).freshness_hours, now)
    }
    if not due:
        return {}
    futures: dict[str, Future[DepartmentData | None]] = {
        key: _pool.submit(source.fetch, student.student_no) for key, source in due.items()
    }
    deadline = max(settings.department(key).timeout_seconds for key in due)
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
