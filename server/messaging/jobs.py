"""Periodic jobs the push worker runs: re-reading stale departmental records and batch-closing reminders.

Each job is guarded by a lease row in `job_runs`, taken with a conditional UPDATE: it works the same on
SQLite and MariaDB (no Redis needed, so the embedded defaults are covered too), only one worker runs a
job at a time, a job runs at most once per interval across all workers, and a worker that dies while
running a job holds it only until the lease expires.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.clearance.events import insert_events, reminder_rows
from server.clearance.models import Application, Batch, Student
from server.db import rows_matched
from server.items import registry
from server.messaging.models import JobRun
from server.settings import Settings, reminder_days
from server.sources import DepartmentSource
from server.sources.refresh import refresh_stale_records

__all__ = ["refresh_stale_records"]  # the worker's periodic refresh job is the departments' own

log = logging.getLogger(__name__)

JOB_LEASE_SECONDS = 600


def try_start(session: Session, name: str, owner: str, now: datetime, interval_seconds: float) -> bool:
    """Take the job's lease if nobody holds it and it has not run within the interval. Commits."""
    if session.get(JobRun, name) is None:
        try:
            with session.begin_nested():
                session.add(JobRun(name=name))
        except IntegrityError:
            pass  # another worker created it first
    due_before = now - timedelta(seconds=interval_seconds)
    taken = rows_matched(session.execute(
        update(JobRun)
        .where(JobRun.name == name,
               or_(JobRun.lease_until.is_(None), JobRun.lease_until < now),
               or_(JobRun.last_finished_at.is_(None), JobRun.last_finished_at <= due_before))
        .values(owner=owner, lease_until=now + timedelta(seconds=JOB_LEASE_SECONDS), last_started_at=now)
        .execution_options(synchronize_session=False)
    ))
    session.commit()
    return bool(taken)


def finish_job(session: Session, name: str, owner: str, now: datetime, result: str) -> None:
    """Give the lease back and note when and how the job ended. Commits."""
    session.execute(
        update(JobRun).where(JobRun.name == name, JobRun.owner == owner)
        .values(owner=None, lease_until=None, last_finished_at=now, last_result=result[:200])
        .execution_options(synchronize_session=False)
    )
    session.commit()


def run_guarded(session: Session, name: str, owner: str, now: datetime, interval_seconds: float,
                job: Callable[[], str]) -> str | None:
    """Run `job` if this worker wins its lease; returns the job's summary, or None when it did not run."""
    if not try_start(session, name, owner, now, interval_seconds):
        return None
    try:
        result = job()
    except Exception as exc:
        session.rollback()
        log.exception("job %s failed", name)
        finish_job(session, name, owner, now, f"failed: {type(exc).__name__}: {exc}")
        return None
    finish_job(session, name, owner, now, result)
    return result


def enqueue_reminders(session: Session, settings: Settings, now: datetime) -> int:
    """Queue a reminder to every student of a closing batch who has not submitted; returns rows offered.

    Of the configured days (e.g. 3 and 1) only the nearest one that has been reached applies, so a
    worker that was down does not send two reminders at once. Does not commit.
    """
    days = reminder_days(settings)
    offered = 0
    batches = session.scalars(
        select(Batch).where(Batch.closed_early_at.is_(None), Batch.opens_at <= now, Batch.closes_at > now)
    ).all()
    for batch in batches:
        left = batch.closes_at - now
        reached = [d for d in days if left <= timedelta(days=d)]
        if not reached:
            continue
        day = min(reached)
        submitted = exists().where(Application.student_id == Student.id, Application.batch_id == batch.id)
        ids = list(session.scalars(select(Student.id).where(Student.batch_id == batch.id, ~submitted)))
        for start in range(0, len(ids), 500):
            rows = reminder_rows(ids[start:start + 500], batch.id, day, batch.closes_at, now)
            insert_events(session, rows)
            offered += len(rows)
    return offered


def stale_student_ids(session: Session, settings: Settings, sources: Mapping[str, DepartmentSource],
                      now: datetime, limit: int) -> list[int]:
    """Students in an open batch, not yet submitted, with a pulled record that is missing or stale."""
    conditions = []
    for key, source in sources.items():
        freshness = settings.department(key).freshness_hours
        if not source.pulls:
            continue
        model = registry.get(key).record
        fresh = exists().where(model.student_id == Student.id, model.read_at.is_not(None))
        if freshness:
            cutoff = now - timedelta(hours=freshness)
            fresh = fresh.where(model.read_at >= cutoff)
        conditions.append(~fresh)
    if not conditions:
        return []
    submitted = exists().where(Application.student_id == Student.id, Application.batch_id == Student.batch_id)
    query = (
        select(Student.id).join(Batch, Batch.id == Student.batch_id)
        .where(and_(Batch.closed_early_at.is_(None), Batch.opens_at <= now, Batch.closes_at > now),
               ~submitted, or_(*conditions))
        .order_by(Student.id).limit(limit)
    )
    return list(session.scalars(query))
