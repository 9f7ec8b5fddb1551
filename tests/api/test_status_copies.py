"""Each worker's copies of rendered status pages: used only while the rows and the clock would give the same page."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest

from server.app import create_app
from server.cache import unregister
from server.clearance import service
from server.clearance.models import LibraryRecord
from server.clearance.service import Clearance
from server.timeutil import utcnow
from tests.conftest import Api, LiveServer
from tests.factories import ALL_PASSED, cleared_student, make_batch, make_student, set_records, student_token

STATUS = "/api/v1/me/clearance"


@pytest.fixture
def reads(monkeypatch) -> list[int]:
    """The students whose clearance was read (the page made afresh), in order."""
    seen: list[int] = []
    real = service.read_clearance

    def counting(session, deps, student_id, **kw):
        seen.append(student_id)
        return real(session, deps, student_id, **kw)

    monkeypatch.setattr(service, "read_clearance", counting)
    return seen


def test_a_returning_student_gets_the_same_page_without_it_being_made_again(session, settings, api, reads):
    student = cleared_student(session, make_batch(session))
    client = api(student_token(session, settings, student))
    first = client.get(STATUS)
    assert first.status_code == 200
    again = client.get(STATUS)
    assert again.status_code == 200
    assert reads == [student.id]
    assert again.content == first.content
    assert again.headers["Content-Type"] == "application/json"
    assert again.headers["Cache-Control"] == "no-store"


def test_another_student_never_gets_someone_elses_copy(session, settings, api):
    batch = make_batch(session)
    one, two = cleared_student(session, batch), make_student(session, batch)
    first = api(student_token(session, settings, one)).get(STATUS).json()
    second = api(student_token(session, settings, two)).get(STATUS).json()
    assert first["student"]["student_no"] == one.student_no
    assert second["student"]["student_no"] == two.student_no
    assert (first["can_submit"], second["can_submit"]) == (True, False)


def test_a_record_change_replaces_the_copy(session, settings, api):
    student = cleared_student(session, make_batch(session))
    client = api(student_token(session, settings, student))
    for _ in range(2):
        assert client.get(STATUS).json()["items"][0]["status"] == "passed"
    set_records(session, student, {"library": {**ALL_PASSED["library"], "owed_books": 2}})
    session.commit()
    assert client.get(STATUS).json()["items"][0]["status"] == "not_passed"


def test_the_copy_is_not_used_once_the_batch_closes(session, settings, api):
    batch = make_batch(session)
    batch.closes_at = utcnow() + timedelta(seconds=1.5)
    student = cleared_student(session, batch)
    client = api(student_token(session, settings, student))
    for _ in range(2):
        assert client.get(STATUS).json()["can_submit"] is True
    time.sleep(max(0.0, (batch.closes_at - utcnow()).total_seconds()) + 0.1)
    after = client.get(STATUS).json()
    assert after["can_submit"] is False
    assert after["batch"]["is_open"] is False
    assert [b["code"] for b in after["submit_blockers"]] == ["BATCH_CLOSED"]


def test_a_submitted_students_page_is_never_copied(session, settings, api, reads):
    """It shows the certificate, whose revocation the read cache does not watch."""
    student = cleared_student(session, make_batch(session))
    client = api(student_token(session, settings, student))
    assert client.post("/api/v1/me/application", json={}).status_code == 201
    for _ in range(2):
        assert client.get(STATUS).json()["application"] is not None
    assert reads == [student.id, student.id]


def test_without_the_read_cache_every_page_is_made_afresh(session, settings, reads):
    app = create_app(settings.with_overrides(read_cache_seconds=0))
    server = LiveServer(app)
    try:
        student = cleared_student(session, make_batch(session))
        client = Api(server.url, student_token(session, settings, student))
        for _ in range(2):
            assert client.get(STATUS).status_code == 200
        assert reads == [student.id, student.id]
    finally:
        server.stop()
        unregister(app.extensions["lixiao.read_cache"])
        app.extensions["lixiao"].engine.dispose()


# --- When the clock alone changes a page --------------------------------------------------------------------


def _clearance(session, batch, rows) -> Clearance:
    student = make_student(session, batch)
    return Clearance(student, batch, [], None, rows)


def test_changes_at_is_the_next_edge_of_the_batch_window(session, settings):
    now = utcnow()
    batch = make_batch(session, open_now=False, now=now)  # opens in ten days
    clearance = _clearance(session, batch, {})
    assert clearance.changes_at(settings, now) == batch.opens_at
    assert clearance.changes_at(settings, batch.opens_at) == batch.closes_at
    assert clearance.changes_at(settings, batch.closes_at) is None
    assert _clearance(session, None, {}).changes_at(settings, now) is None


def test_changes_at_sees_records_growing_stale_and_failed_reads_due_again(session, settings):
    now = utcnow()
    limited = settings.with_overrides(departments={**settings.departments, "library": replace(
        settings.departments["library"], freshness_hours=2)})
    read = LibraryRecord(read_at=now - timedelta(hours=1), failed_at=None)
    assert _clearance(session, None, {"library": read}).changes_at(limited, now) == read.read_at + timedelta(hours=2)
    assert _clearance(session, None, {"library": read}).changes_at(settings, now) is None  # no freshness limit
    failed = LibraryRecord(read_at=None, failed_at=now - timedelta(seconds=10))
    assert _clearance(session, None, {"library": failed}).changes_at(settings, now) == now + timedelta(seconds=20)


def test_another_worker_takes_the_page_from_redis_instead_of_making_it(app, session, settings, api, reads):
    student = cleared_student(session, make_batch(session))
    token = student_token(session, settings, student)
    first = api(token).get(STATUS)
    assert reads == [student.id]
    other = create_app(settings, redis_client=app.extensions["lixiao"].redis)  # a second worker, same Redis
    server = LiveServer(other)
    try:
        for _ in range(2):
            again = Api(server.url, token).get(STATUS)
            assert again.status_code == 200 and again.content == first.content
        assert reads == [student.id]
        set_records(session, student, {"library": {**ALL_PASSED["library"], "owed_books": 1}})
        session.commit()
        assert Api(server.url, token).get(STATUS).json()["items"][0]["status"] == "not_passed"
        assert api(token).get(STATUS).json()["items"][0]["status"] == "not_passed"
    finally:
        server.stop()
        unregister(other.extensions["lixiao.read_cache"])
        other.extensions["lixiao"].engine.dispose()
