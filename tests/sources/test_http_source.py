"""A live departmental HTTP service that is slow, then down, then back; the breaker; the worker's refresh."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.app import create_app
from server.clearance.models import Transition
from server.items.library import LibraryRecord
from server.settings import DepartmentSettings
from server.sources import refresh
from server.sources.base import SourceUnavailable
from server.sources.breaker import CircuitBreaker
from server.sources.http import HttpJsonSource
from server.timeutil import utcnow
from tests.conftest import Api, LiveServer
from tests.factories import ALL_PASSED, make_batch, make_student, set_records, student_token
from tests.sources.department_service import DepartmentService

TIMEOUT = 1.0
MARGIN = 1.2  # scheduling, the database and JSON on a busy 2-core machine; the slow service takes 4 s
PASSING = {"owed_books": 0, "owed_fees_cents": 0, "violations": 0, "card_status": "cancelled",
           "thesis_status": "approved"}
OTHERS = {k: ALL_PASSED[k] for k in ("archives", "apartment", "finance")}


@pytest.fixture
def library_service():
    service = DepartmentService()
    service.start()
    yield service
    service.stop()


def http_settings(settings, url: str, **kw):
    departments = dict(settings.departments)
    departments["library"] = replace(settings.department("library"), source="http", url=url,
                                     timeout_seconds=TIMEOUT, **kw)
    return settings.with_overrides(departments=departments)


@pytest.fixture
def http_app(app, settings, library_service, monkeypatch):
    """The service with the library read from `library_service` (the `app` fixture wipes the data after)."""
    monkeypatch.setattr(refresh, "RETRY_FAILED_AFTER", timedelta(0))  # re-ask a failed source on every request
    # A freshness limit of a few hundredths of a second: every status request reads the library again.
    application = create_app(http_settings(settings, library_service.url, freshness_hours=1e-5))
    application.extensions["lixiao"].sources["library"].breaker.reset_seconds = 0.2
    server = LiveServer(application)
    yield application, server
    server.stop()
    application.extensions["lixiao"].engine.dispose()


def library_item(client: Api) -> tuple[dict, float]:
    time.sleep(0.05)  # past the freshness limit of the previous read
    started = time.monotonic()
    response = client.get("/api/v1/me/clearance")
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    return next(i for i in response.json()["items"] if i["key"] == "library"), elapsed


def read_at(session, student_id):
    session.commit()
    return session.scalars(select(LibraryRecord.read_at).where(LibraryRecord.student_id == student_id)).one()


def test_slow_then_down_then_back(session, settings, http_app, library_service):
    _app, server = http_app
    student = make_student(session, make_batch(session), student_no="HTTP000001")
    set_records(session, student, OTHERS)
    library_service.records["HTTP000001"] = dict(PASSING)
    client = Api(server.url, student_token(session, settings, student))

    item, _ = library_item(client)
    assert item["status"] == "passed" and item["source"] == "http"
    first_read = read_at(session, student.id)
    assert item["updated_at"] is not None

    library_service.delay_seconds = 4 * TIMEOUT
    item, elapsed = library_item(client)
    assert elapsed < TIMEOUT + MARGIN, f"the status request waited {elapsed:.2f} s"
    assert item["status"] == "unavailable" and item["reasons"][0]["code"] == "SOURCE_FAILED"
    assert item["updated_at"] is not None and read_at(session, student.id) == first_read  # when it was last read

    library_service.delay_seconds = 0
    library_service.stop()
    item, elapsed = library_item(client)
    assert elapsed < TIMEOUT + MARGIN
    assert item["status"] == "unavailable"

    library_service.start()
    time.sleep(0.25)  # past the breaker's trial delay
    item, _ = library_item(client)
    assert item["status"] == "passed"
    assert read_at(session, student.id) > first_read
    flips = session.scalars(select(Transition).where(Transition.item == "library").order_by(Transition.id)).all()
    assert [(t.from_status, t.to_status) for t in flips][-2:] == [("passed", "unavailable"), ("unavailable", "passed")]


def test_unknown_student_and_nonsense_answers_are_unavailable(session, settings, http_app, library_service):
    _app, server = http_app
    student = make_student(session, make_batch(session), student_no="HTTP000002")
    set_records(session, student, OTHERS)
    client = Api(server.url, student_token(session, settings, student))
    item, _ = library_item(client)
    assert item["status"] == "unavailable" and item["reasons"][0]["code"] == "UNKNOWN_TO_SOURCE"
    library_service.records["HTTP000002"] = {"owed_books": "many"}
    item, _ = library_item(client)
    assert item["status"] == "unavailable" and item["reasons"][0]["code"] == "SOURCE_ANSWER_UNUSABLE"


def relaxed(application, settings, library_service) -> None:
    """An hour's freshness: the card is cancelled against the record the status request just read."""
    application.extensions["lixiao"].settings = http_settings(settings, library_service.url, freshness_hours=1.0)


def test_card_cancellation_goes_to_the_library(session, settings, http_app, library_service):
    application, server = http_app
    relaxed(application, settings, library_service)
    student = make_student(session, make_batch(session), student_no="HTTP000003")
    set_records(session, student, OTHERS)
    library_service.records["HTTP000003"] = {**PASSING, "card_status": "active"}
    client = Api(server.url, student_token(session, settings, student))
    assert library_item(client)[0]["status"] == "not_passed"
    response = client.post("/api/v1/me/library-card/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "passed"
    assert "CANCEL HTTP000003" in library_service.calls
    assert library_service.records["HTTP000003"]["card_status"] == "cancelled"


def test_refused_card_cancellation(session, settings, http_app, library_service):
    application, server = http_app
    relaxed(application, settings, library_service)
    student = make_student(session, make_batch(session), student_no="HTTP000004")
    library_service.records["HTTP000004"] = {**PASSING, "card_status": "active"}
    library_service.refuse_cancel = True
    client = Api(server.url, student_token(session, settings, student))
    library_item(client)
    response = client.post("/api/v1/me/library-card/cancel")
    assert response.status_code == 422 and response.json()["error"]["code"] == "LIBRARY_REFUSED"


def test_breaker_opens_after_failures_and_tries_again_later():
    now = [0.0]
    breaker = CircuitBreaker("t", failure_threshold=2, reset_seconds=10, clock=lambda: now[0])
    source = HttpJsonSource("library", DepartmentSettings(source="http", url="http://127.0.0.1:9", timeout_seconds=0.2),
                            breaker=breaker)
    for _ in range(2):
        with pytest.raises(SourceUnavailable, match="cannot connect"):
            source.fetch("X1")
    assert breaker.state == "open"
    with pytest.raises(SourceUnavailable, match="circuit open"):
        source.fetch("X1")
    now[0] = 11
    assert breaker.state == "half_open"
    breaker.before_call()
    with pytest.raises(Exception, match="circuit open"):
        breaker.before_call()  # only one trial at a time
    breaker.success()
    assert breaker.state == "closed"


def test_refresh_stale_records(session, settings, app, library_service):
    """The worker's job: stale and missing records are re-read; a failing source makes the item unavailable."""
    source_settings = http_settings(settings, library_service.url, freshness_hours=1.0)
    from server.sources import build_sources

    sources = build_sources(source_settings)
    batch = make_batch(session)
    stale = make_student(session, batch, student_no="HTTP000010")
    missing = make_student(session, batch, student_no="HTTP000011")
    fresh = make_student(session, batch, student_no="HTTP000012")
    long_ago = utcnow() - timedelta(hours=5)
    set_records(session, stale, {"library": {**PASSING, "owed_books": 1}}, now=long_ago, source="http")
    set_records(session, fresh, {"library": PASSING}, source="http")
    session.commit()
    library_service.records.update({"HTTP000010": dict(PASSING), "HTTP000011": dict(PASSING)})
    now = utcnow()
    assert refresh.refresh_stale_records(session, source_settings, sources, now, limit=50) == 2
    session.commit()
    rows = {r.student_id: r for r in session.scalars(select(LibraryRecord))}
    assert rows[stale.id].owed_books == 0 and abs(rows[stale.id].read_at - now) < timedelta(seconds=1)
    assert rows[missing.id].known and rows[fresh.id].read_at < now
    assert sorted(c for c in library_service.calls) == ["GET HTTP000010", "GET HTTP000011"]
    library_service.stop()
    later = now + timedelta(hours=2)
    assert refresh.refresh_stale_records(session, source_settings, sources, later, limit=50) == 3
    session.commit()
    session.expire_all()
    failed = session.scalars(select(LibraryRecord)).all()
    assert len(failed) == 3 and all(abs(r.failed_at - later) < timedelta(seconds=1) for r in failed)
