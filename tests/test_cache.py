"""The read cache never shows what a write changed: ORM, Core and textual writes, revocations, and a racing reader."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text, update

from server import cache as read_cache
from server.app import create_app
from server.cache import CLEARANCE, SESSIONS, kinds_written
from server.clearance.models import Batch, FinanceRecord
from server.identity.tokens import revoke_sessions
from server.timeutil import utcnow
from tests.factories import cleared_student, make_batch, set_records, student_token

STATUS = "/api/v1/me/clearance"


@pytest.mark.parametrize(("statement", "kinds"), [
    ("SELECT * FROM students", set()),
    ("UPDATE finance_records SET arrears_cents=%s WHERE finance_records.id = %s", {CLEARANCE}),
    ("  update students set name = 'x'", {CLEARANCE}),
    ("DELETE FROM applications WHERE id = 1", {CLEARANCE}),
    ("INSERT INTO students (id) VALUES (1)", set()),  # a new student has nothing cached yet
    ("INSERT INTO students (id) VALUES (1) ON DUPLICATE KEY UPDATE name = 'x'", {CLEARANCE}),
    ("INSERT INTO library_records (student_id) VALUES (1)", {CLEARANCE}),  # a missing record was cached as missing
    ("INSERT INTO audit_log (actor) SELECT name FROM students", set()),
    ("INSERT OR REPLACE INTO students (id) VALUES (1)", {CLEARANCE}),
    ("REPLACE INTO api_sessions (id) VALUES ('x')", {SESSIONS}),
    ("UPDATE api_sessions SET revoked_at = now()", {SESSIONS}),
    ("UPDATE item_states SET status = 'passed' WHERE student_id = 3", set()),
    ("TRUNCATE TABLE batches", {CLEARANCE}),
    ("WITH x AS (SELECT 1) UPDATE batches SET name = 'n'", {CLEARANCE}),
    ("WITH x AS (SELECT id FROM students) SELECT * FROM x", set()),
])
def test_which_statements_retire_entries(statement, kinds):
    assert kinds_written(statement) == kinds


@pytest.fixture
def warm(session, settings, api):
    """A student whose status was read twice (so the session and rows are cached), and a client for them."""
    batch = make_batch(session)
    student = cleared_student(session, batch)
    client = api(student_token(session, settings, student))
    for _ in range(2):
        assert client.get(STATUS).json()["can_submit"] is True
    return student, batch, client


def _finance(client) -> str:
    return client.get(STATUS).json()["items"][3]["status"]


def test_a_revoked_session_stops_working_at_once(warm, session, app):
    student, _batch, client = warm
    assert app.extensions["lixiao"].cache is not None
    revoke_sessions(session, now=utcnow(), student_id=student.id)
    session.commit()
    assert client.get(STATUS).status_code == 401


def test_an_orm_record_write_shows_at_once(warm, session):
    student, _batch, client = warm
    set_records(session, student, {"finance": {"arrears_cents": 500, "fee_items": []}})
    session.commit()
    assert _finance(client) == "not_passed"


def test_a_core_update_shows_at_once(warm, session):
    student, _batch, client = warm
    session.execute(update(FinanceRecord).where(FinanceRecord.student_id == student.id).values(arrears_cents=900))
    session.commit()
    assert _finance(client) == "not_passed"


def test_a_textual_update_shows_at_once(warm, session):
    student, _batch, client = warm
    session.execute(text("UPDATE finance_records SET arrears_cents = 700 WHERE student_id = :s"), {"s": student.id})
    session.commit()
    assert _finance(client) == "not_passed"


def test_closing_a_batch_early_shows_at_once(warm, session):
    _student, batch, client = warm
    session.get(Batch, batch.id).closed_early_at = utcnow() - timedelta(minutes=1)
    session.commit()
    body = client.get(STATUS).json()
    assert body["can_submit"] is False and "BATCH_CLOSED" in {b["code"] for b in body["submit_blockers"]}


@pytest.mark.parametrize("reader_looks", ["before the flush", "between the flush and the commit"])
def test_a_reader_that_read_before_a_write_committed_stores_nothing_that_counts(warm, session, app, reader_looks):
    student, _batch, client = warm
    cache = app.extensions["lixiao"].cache
    old_rows = cache.lookup(CLEARANCE, student.id).value
    assert old_rows is not None
    if reader_looks == "before the flush":
        seen = cache.lookup(CLEARANCE, student.id)
    set_records(session, student, {"finance": {"arrears_cents": 500, "fee_items": []}})  # flushed
    if reader_looks != "before the flush":
        seen = cache.lookup(CLEARANCE, student.id)
    session.commit()
    cache.store(seen, old_rows)  # a slow reader storing the rows it read before the commit
    assert cache.lookup(CLEARANCE, student.id).value is None
    assert _finance(client) == "not_passed"


def test_an_uncommitted_core_write_holds_storing_off(warm, session, app):
    student, _batch, _client = warm
    cache = app.extensions["lixiao"].cache
    session.execute(update(FinanceRecord).where(FinanceRecord.student_id == student.id).values(arrears_cents=1))
    during = cache.lookup(CLEARANCE, student.id)
    assert during.value is None and not during.may_store
    session.rollback()


def test_status_still_answers_when_redis_is_down(session, settings):
    from tests.conftest import Api, LiveServer

    dead = create_app(settings.with_overrides(redis_url="redis://127.0.0.1:1/0", read_cache_seconds=300))
    server = LiveServer(dead)
    try:
        batch = make_batch(session)
        student = cleared_student(session, batch)
        client = Api(server.url, student_token(session, settings, student))
        for _ in range(2):
            response = client.get(STATUS)
            assert response.status_code == 200 and response.json()["can_submit"] is True
    finally:
        server.stop()
        read_cache.unregister(dead.extensions["lixiao.read_cache"])  # later tests' writes must not knock on it
        dead.extensions["lixiao"].engine.dispose()


def test_an_app_that_does_not_cache_reads_still_announces_its_writes(settings):
    import gc

    quiet = create_app(settings.with_overrides(read_cache_seconds=0))
    gc.collect()
    try:
        assert quiet.extensions["lixiao"].cache is None
        assert quiet.extensions["lixiao.read_cache"] in read_cache._caches_for(quiet.extensions["lixiao"].engine)
    finally:
        read_cache.unregister(quiet.extensions["lixiao.read_cache"])
        quiet.extensions["lixiao"].engine.dispose()


@pytest.mark.parametrize("lost", ["version", "generation"])
def test_a_lost_version_or_generation_makes_entries_stop_counting(warm, app, lost):
    student, _batch, client = warm
    cache = app.extensions["lixiao"].cache
    assert cache.lookup(CLEARANCE, student.id).value is not None
    cache.client.delete(f"{cache.prefix}{CLEARANCE}:v:{student.id}" if lost == "version" else
                        f"{cache.prefix}{CLEARANCE}:gen")  # as an eviction or a FLUSHDB would
    assert cache.lookup(CLEARANCE, student.id).value is None
    assert client.get(STATUS).json()["can_submit"] is True  # read again from the database, and cached again
    assert cache.lookup(CLEARANCE, student.id).value is not None


def test_a_version_a_writer_makes_after_a_lookup_that_found_none_wins(warm, session, app):
    student, _batch, client = warm
    cache = app.extensions["lixiao"].cache
    old_rows = cache.lookup(CLEARANCE, student.id).value
    cache.client.delete(f"{cache.prefix}{CLEARANCE}:v:{student.id}")
    seen = cache.lookup(CLEARANCE, student.id)
    assert seen.value is None and seen.version is None and seen.may_store
    set_records(session, student, {"finance": {"arrears_cents": 500, "fee_items": []}})
    session.commit()  # the writer makes a version of its own
    cache.store(seen, old_rows)  # the reader's SET NX loses: its entry's stamp never matches
    assert cache.lookup(CLEARANCE, student.id).value is None
    assert _finance(client) == "not_passed"


def test_a_stamp_only_lookup_reads_the_stamp_and_not_the_value(warm, app):
    student, _batch, _client = warm
    cache = app.extensions["lixiao.read_cache"]
    key = (CLEARANCE, student.id)
    full = cache.lookup_many([key])[0]
    only, session_lookup = cache.lookup_many([key, (SESSIONS, "no-such-session")], stamps_only=[key])
    assert full.value is not None and full.stamp is not None
    assert only.value is None and only.stamp == full.stamp
    assert session_lookup.value is None and session_lookup.ident == "no-such-session"
    assert only.may_store and session_lookup.may_store
    checked, = cache.lookup_many([key], stamps_only=[key], no_store=[CLEARANCE])
    assert checked.stamp == full.stamp and checked.value is None and not checked.may_store


def test_an_attachment_counts_only_while_its_stamp_does(warm, session, app):
    student, _batch, _client = warm
    cache = app.extensions["lixiao.read_cache"]
    key = (CLEARANCE, student.id)
    stamp = cache.lookup_many([key])[0].stamp
    cache.attach(CLEARANCE, student.id, stamp, "made|from these rows")
    assert cache.lookup_many([key], attachments=[key])[0].attachment == "made|from these rows"
    assert cache.lookup_many([key])[0].attachment is None  # read only when asked for
    set_records(session, student, {"finance": {"arrears_cents": 100, "fee_items": []}})
    session.commit()
    assert cache.lookup_many([key], attachments=[key])[0].attachment is None
