"""Periodic jobs: one worker at a time, once per interval; reminders and stale-record refresh."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from server.clearance.events import OutboxEvent
from server.clearance.models import Application
from server.items.library import LibraryData
from server.messaging import jobs
from server.messaging.models import JobRun
from server.messaging.worker import Worker
from server.sources.fake import FakeDepartmentSource
from server.timeutil import utcnow
from tests.factories import make_batch, set_records
from tests.messaging.pushes import reachable_student


def test_a_job_runs_in_one_worker_once_per_interval(app, session) -> None:
    now = utcnow()
    assert jobs.try_start(session, "demo_job", "worker-a", now, 60)
    assert not jobs.try_start(session, "demo_job", "worker-b", now, 60)  # a runs it
    jobs.finish_job(session, "demo_job", "worker-a", now, "done")
    assert not jobs.try_start(session, "demo_job", "worker-b", now + timedelta(seconds=30), 60)  # not due yet
    assert jobs.try_start(session, "demo_job", "worker-b", now + timedelta(seconds=61), 60)


def test_a_dead_workers_job_lease_expires(app, session) -> None:
    now = utcnow()
    assert jobs.try_start(session, "demo_job", "worker-a", now, 60)  # …and worker-a is SIGKILLed
    later = now + timedelta(seconds=jobs.JOB_LEASE_SECONDS - 1)
    assert not jobs.try_start(session, "demo_job", "worker-b", later, 60)
    assert jobs.try_start(session, "demo_job", "worker-b", later + timedelta(seconds=2), 60)
    assert session.get(JobRun, "demo_job").owner == "worker-b"


def test_two_workers_run_due_jobs_once(app, session, settings) -> None:
    state = app.extensions["lixiao"]
    workers = [Worker(settings, engine=state.engine, redis_client=state.redis, sources=state.sources)
               for _ in range(2)]
    first, second = (w.run_jobs(force=True) for w in workers)
    assert first == {"refresh_stale_records": "refreshed 0 students",
                     "batch_closing_reminders": "offered 0 reminders"}
    assert second == {"refresh_stale_records": None, "batch_closing_reminders": None}


def test_reminders_go_to_students_who_have_not_submitted(app, session, settings) -> None:
    now = utcnow()
    closing = make_batch(session, now=now)
    closing.closes_at = now + timedelta(days=2, hours=1)
    far = make_batch(session, now=now)  # closes in 29 days: nobody is reminded yet
    waiting = reachable_student(session, closing)
    done = reachable_student(session, closing)
    reachable_student(session, far)
    session.add(Application(student_id=done.id, batch_id=closing.id, snapshot={}))
    session.commit()
    settings = settings.with_overrides(reminder_days="3,1")
    assert jobs.enqueue_reminders(session, settings, now) == 1
    assert jobs.enqueue_reminders(session, settings, now + timedelta(hours=1)) == 1  # offered again…
    session.commit()
    rows = session.scalars(select(OutboxEvent)).all()
    assert [(r.student_id, r.event_key) for r in rows] == [(waiting.id, f"reminder:{closing.id}:3")]  # …kept once
    jobs.enqueue_reminders(session, settings, now + timedelta(days=1, hours=2))  # less than a day left
    session.commit()
    keys = sorted(r.event_key for r in session.scalars(select(OutboxEvent)))
    assert keys == [f"reminder:{closing.id}:1", f"reminder:{closing.id}:3"]
    assert rows[0].payload["closes_at"] == closing.closes_at.isoformat()


def test_stale_pulled_records_are_refreshed_and_turns_to_green_queued(app, session, settings) -> None:
    now = utcnow()
    library = FakeDepartmentSource("library")
    state = app.extensions["lixiao"]
    sources = {**state.sources, "library": library}
    departments = dict(settings.departments)
    departments["library"] = replace(settings.department("library"), source="fake", freshness_hours=1.0)
    settings = settings.with_overrides(departments=departments)
    batch = make_batch(session)
    student = reachable_student(session, batch)
    owing = {"owed_books": 1, "owed_fees_cents": 0, "violations": 0, "card_status": "active",
             "thesis_status": "approved"}
    set_records(session, student, {"library": owing}, now=now - timedelta(hours=2), source="fake")
    session.commit()
    library.records[student.student_no] = LibraryData(0, 0, 0, "cancelled", "approved")
    assert jobs.stale_student_ids(session, settings, sources, now, 10) == [student.id]
    assert jobs.refresh_stale_records(session, settings, sources, now, 10) == 1
    session.commit()
    keys = {r.event_key for r in session.scalars(select(OutboxEvent).where(OutboxEvent.student_id == student.id))}
    assert f"item_passed:{batch.id}:library" in keys
    assert jobs.stale_student_ids(session, settings, sources, now, 10) == []
