"""The status page's SQL budget: a fixed number of statements whatever the student's data, so an N+1 fails CI."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from server.app import create_app
from tests.factories import ALL_PASSED, cleared_student, make_batch, make_student, set_records, student_token

STATUS = "/api/v1/me/clearance"
# Resolving the bearer token (the session row, read with its student's data versions, which the read cache
# checks a kept page against: server/readcache/) + the student, batch, four records and application (one row).
MAX_STATEMENTS = 2
DIGEST = 1  # and, when it makes a page (or its lease ends), the digest of the rows read before it
CERTIFICATE = 1  # a submitted student's certificate serial and status (never cached: it changes at the counter)
_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def counting(app) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs, on its engine and its read engine (transaction
    control aside)."""
    seen: list[str] = []
    lock = threading.Lock()
    state = app.extensions["lixiao"]
    engines = {id(e): e for e in (state.engine, state.reads) if e is not None}.values()

    def record(_conn, _cursor, statement, _params, _context, _executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            with lock:
                seen.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


@contextmanager
def checkouts(engine) -> Iterator[list[int]]:
    """Connections taken from the engine's pool while the block runs (each costs a pre-ping and a rollback)."""
    taken: list[int] = []

    def record(_dbapi_conn, _record, _proxy):  # type: ignore[no-untyped-def]
        taken.append(1)

    event.listen(engine, "checkout", record)
    try:
        yield taken
    finally:
        event.remove(engine, "checkout", record)


@contextmanager
def rollbacks() -> Iterator[list[int]]:
    """ROLLBACKs PyMySQL sends while the block runs (each one a round trip to MariaDB)."""
    import pymysql.connections

    sent: list[int] = []
    original = pymysql.connections.Connection.rollback

    def rollback(self):  # type: ignore[no-untyped-def]
        sent.append(1)
        return original(self)

    pymysql.connections.Connection.rollback = rollback  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        pymysql.connections.Connection.rollback = original  # type: ignore[method-assign]


@pytest.fixture(params=[0, 60], ids=["uncached", "cached"])
def status_app(request, settings):
    """The app with the read cache off and on: the budget holds for the database path either way."""
    application = create_app(settings.with_overrides(read_cache_seconds=request.param))
    application.extensions["lixiao"].redis.flushdb()
    yield application
    application.extensions["lixiao"].engine.dispose()


@pytest.fixture
def status_api(status_app, app):
    """A client of `status_app` over loopback HTTP (the `app` fixture wipes the database afterwards)."""
    from tests.conftest import Api, LiveServer

    server = LiveServer(status_app)
    yield lambda token: Api(server.url, token)
    server.stop()


def _students(session, settings):
    """Students whose pages differ: missing records, all passed, submitted, and no batch at all."""
    batch = make_batch(session)
    bare = make_student(session, batch)
    busy = make_student(session, batch)
    set_records(session, busy, {**ALL_PASSED, "finance": {"arrears_cents": 5000, "fee_items": [
        {"name": "学费", "due_cents": 5000, "paid_cents": 0}, {"name": "住宿费", "due_cents": 100, "paid_cents": 0}]}})
    submitted = cleared_student(session, batch)
    loner = cleared_student(session, None)
    for _ in range(5):  # other students' rows must not be read
        cleared_student(session, batch)
    session.commit()
    return {name: student_token(session, settings, s)
            for name, s in {"bare": bare, "busy": busy, "submitted": submitted, "loner": loner}.items()}


def test_status_stays_within_the_statement_budget(status_app, status_api, session, settings):
    tokens = _students(session, settings)
    assert status_api(tokens["submitted"]).post("/api/v1/me/application", json={"confirm": True}).status_code == 201
    for name, token in tokens.items():
        with counting(status_app) as statements:
            response = status_api(token).get(STATUS)
        assert response.status_code == 200, (name, response.text)
        digest = DIGEST if status_app.extensions["lixiao"].pages is not None else 0
        assert len(statements) <= MAX_STATEMENTS + digest + (CERTIFICATE if name == "submitted" else 0), (
            name, statements)
        assert statements, "the first read of a student goes to the database"


def test_a_repeated_status_read_is_answered_from_the_cache(status_app, status_api, session, settings):
    tokens = _students(session, settings)
    assert status_api(tokens["submitted"]).post("/api/v1/me/application", json={"confirm": True}).status_code == 201
    state = status_app.extensions["lixiao"]
    cached = state.pages is not None
    for name, token in tokens.items():
        first = status_api(token).get(STATUS)
        with counting(status_app) as statements, checkouts(state.engine) as taken, rollbacks() as rolled_back:
            again = status_api(token).get(STATUS)
        assert again.json() == first.json()
        if name == "submitted":  # its page shows a revocable certificate: never kept
            expected = MAX_STATEMENTS + CERTIFICATE + (DIGEST if cached else 0)
        else:  # one statement: the session row and the versions that say the kept page still holds
            expected = 1 if cached else MAX_STATEMENTS
            if cached and state.reads is not state.engine:
                # MariaDB: that statement is the only round trip (the read engine: no pre-ping, no rollback).
                assert taken == [], name
                assert rolled_back == [], name  # an AUTOCOMMIT read has nothing to roll back: none sent
        assert len(statements) == expected, (name, statements)
