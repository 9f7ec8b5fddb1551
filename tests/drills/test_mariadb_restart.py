"""Drill: MariaDB crashes and restarts while students submit and read (MariaDB run only).

A mariadbd of the test's own (private datadir, free port) is SIGKILLed in the middle of the load and
started again. Requests that meet the outage must get the 503 envelope — never a 500 or a traceback —
the same app instance must serve again once the database is back, and nothing may be half-written:
every student ends with exactly one application, every application has its certificate and its audit
entries, and every 201 the clients saw is in the database.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from server.app import create_app
from server.db import make_engine, make_session_factory
from server.migrate import upgrade
from tests.conftest import LiveServer, backend
from tests.drills.servers import MariaDBServer
from tests.factories import cleared_student, make_batch, student_token

pytestmark = [pytest.mark.mysql, pytest.mark.slow,
              pytest.mark.skipif(backend() != "mysql", reason="runs in the MariaDB run (LIXIAO_TEST_DATABASE=mysql)")]

STUDENTS = 36
SUBMITTERS = 6
TIMEOUT = 20


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MariaDBServer]:
    """A MariaDB server of this module's own."""
    server = MariaDBServer()
    yield server
    server.close()


@pytest.fixture
def drill_app(mariadb: MariaDBServer, settings) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The app on a fresh database of the private server, served over HTTP."""
    mariadb.sql("DROP DATABASE IF EXISTS lixiao_drill; "
                "CREATE DATABASE lixiao_drill CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;")
    url = mariadb.url("lixiao_drill")
    upgrade(url)
    app = create_app(settings.with_overrides(database_url=url))
    server = LiveServer(app)
    yield app, server, url
    server.stop()
    app.extensions["lixiao"].engine.dispose()


class Load:
    """Submitters work through a queue of students; readers keep reading; every answer is kept."""

    def __init__(self, base: str, tokens: list[str]) -> None:
        self.base = base
        self.todo: queue.Queue[str] = queue.Queue()
        for token in tokens:
            self.todo.put(token)
        self.answers: list[tuple[str, int, dict[str, Any] | None]] = []
        self.created: set[str] = set()  # tokens whose submission was answered 201
        self.done = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._submitter, daemon=True) for _ in range(SUBMITTERS)]
        self.threads += [threading.Thread(target=self._reader, args=(tokens[i],), daemon=True) for i in range(3)]
        for thread in self.threads:
            thread.start()

    def _call(self, method: str, path: str, token: str) -> requests.Response:
        response = requests.request(method, self.base + path, headers={"Authorization": f"Bearer {token}"},
                                    json={"confirm": True} if method == "POST" else None, timeout=TIMEOUT)
        body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else None
        with self.lock:
            self.answers.append((f"{method} {path}", response.status_code, body))
        return response

    def _until_answered(self, method: str, path: str, token: str) -> requests.Response:
        while True:
            response = self._call(method, path, token)
            if response.status_code != 503:
                return response
            time.sleep(0.1)  # the client's "try again"

    def _submitter(self) -> None:
        while True:
            try:
                token = self.todo.get_nowait()
            except queue.Empty:
                return
            self._until_answered("GET", "/api/v1/me/clearance", token)
            submitted = self._until_answered("POST", "/api/v1/me/application", token)
            if submitted.status_code == 201:
                with self.lock:
                    self.created.add(token)
            self._until_answered("GET", "/api/v1/me/certificate", token)
            with self.lock:
                self.done += 1
            time.sleep(0.05)

    def _reader(self, token: str) -> None:
        while not self.stop.is_set():
            self._call("GET", "/api/v1/me/clearance", token)
            time.sleep(0.02)

    def wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        for thread in self.threads[:SUBMITTERS]:
            thread.join(max(0.1, deadline - time.monotonic()))
        self.stop.set()
        for thread in self.threads[SUBMITTERS:]:
            thread.join(TIMEOUT)


def test_a_database_crash_costs_503s_and_loses_nothing(drill_app, mariadb, settings):
    _app, server, url = drill_app
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        batch = make_batch(session)
        students = [cleared_student(session, batch) for _ in range(STUDENTS)]
        session.commit()
        tokens = [student_token(session, settings, s) for s in students]
    engine.dispose()

    load = Load(server.url, tokens)
    deadline = time.monotonic() + 60
    while load.done < STUDENTS // 4:
        assert time.monotonic() < deadline, "the load never got going"
        time.sleep(0.05)
    mariadb.kill()
    down_at = len(load.answers)
    time.sleep(0.5)
    ready = requests.get(f"{server.url}/readyz", timeout=TIMEOUT)
    assert ready.status_code == 503 and "database" in ready.json()["problems"]
    time.sleep(1.5)
    mariadb.start()
    load.wait(90)
    assert load.done == STUDENTS, f"only {load.done} of {STUDENTS} students finished"

    # Every answer was one the API documents; the outage was felt, and only as 503 envelopes.
    statuses = Counter(status for _, status, _ in load.answers)
    assert set(statuses) <= {200, 201, 409, 503}, statuses
    outage = [body for _, status, body in load.answers if status == 503]
    assert outage and len(load.answers) > down_at, statuses
    assert all(body and body["error"]["code"] == "SERVICE_UNAVAILABLE" and body["error"]["message_en"]
               for body in outage)
    assert all(body["error"]["code"] == "ALREADY_SUBMITTED" for _, status, body in load.answers
               if status == 409 and body)
    # The same app serves again: nobody restarted it.
    assert requests.get(f"{server.url}/readyz", timeout=TIMEOUT).json() == {"status": "ok", "problems": {}}

    # Nothing half-written, nothing lost.
    check = create_engine(url)
    with check.connect() as conn:
        def one(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar_one())

        assert one("SELECT COUNT(*) FROM applications") == STUDENTS
        assert one("SELECT COUNT(DISTINCT student_id) FROM applications") == STUDENTS
        assert one("SELECT COUNT(*) FROM certificates") == STUDENTS
        assert one("SELECT COUNT(*) FROM applications a JOIN certificates c ON c.application_id = a.id") == STUDENTS
        assert one("SELECT COUNT(*) FROM audit_log WHERE action = 'application.submit'") == STUDENTS
        assert one("SELECT COUNT(*) FROM audit_log WHERE action = 'certificate.issue'") == STUDENTS
    check.dispose()
    assert len(load.created) >= STUDENTS - statuses[409]  # a 201 the client saw is never missing
