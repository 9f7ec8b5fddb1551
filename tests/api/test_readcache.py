"""The read cache's lease (server/readcache/): renewed without making the page again while the rows under it are
the same; a page made again when they changed outside Lixiao."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from server.app import create_app
from server.student import service
from tests.conftest import Api, LiveServer
from tests.factories import cleared_student, make_batch, student_token

STATUS = "/api/v1/me/clearance"


@pytest.fixture
def short_lease(settings, app):
    """An app whose pages live one second (the `app` fixture wipes the database afterwards)."""
    application = create_app(settings.with_overrides(read_cache_seconds=1))
    server = LiveServer(application)
    yield server
    server.stop()
    application.extensions["lixiao"].engine.dispose()


def test_a_lease_is_renewed_by_the_digest_and_a_raw_change_makes_the_page_again(short_lease, session, settings,
                                                                                monkeypatch):
    made: list[int] = []
    read = service.read_clearance
    monkeypatch.setattr(service, "read_clearance", lambda *a, **kw: made.append(1) or read(*a, **kw))
    student = cleared_student(session, make_batch(session))
    session.commit()
    api = Api(short_lease.url, student_token(session, settings, student))
    first = api.get(STATUS).json()
    assert api.get(STATUS).json() == first and len(made) == 1
    time.sleep(1.1)  # the lease ended; the rows did not change
    assert api.get(STATUS).json() == first and len(made) == 1
    session.execute(text("UPDATE library_records SET owed_books = 5 WHERE student_id = :s"), {"s": student.id})
    session.commit()
    time.sleep(1.1)
    library = next(i for i in api.get(STATUS).json()["items"] if i["key"] == "library")
    assert library["status"] == "not_passed" and len(made) == 2
