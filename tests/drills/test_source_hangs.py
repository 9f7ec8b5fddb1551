"""Drill: a departmental system hangs (it accepts the connection and never answers) while many students read.

Every status answer comes back within the department's timeout (plus a margin for a busy machine), with
that item `unavailable` and saying why and what to do, the other items still judged, and no 5xx. The
circuit breaker then stops the waiting altogether, /metrics reports the failing source, and once the
system answers again the item is read and judged again — all without restarting the app.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests

from server.app import create_app
from server.sources.fake import FakeDepartmentSource
from tests.conftest import LiveServer, backend
from tests.factories import ALL_PASSED, make_batch, make_student, set_records, student_token
from tests.sources.department_service import DepartmentService

TIMEOUT = 1.0
MARGIN = 1.5  # scheduling, the database and JSON on a shared 2-core machine
READERS = 12
OTHERS = {k: values for k, values in ALL_PASSED.items() if k != "library"}
PASSING_LIBRARY = {"owed_books": 0, "owed_fees_cents": 0, "violations": 0, "card_status": "cancelled",
                   "thesis_status": "approved"}


class HangingService:
    """A TCP server that accepts every connection and never says a word."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def hanging() -> Iterator[HangingService]:
    service = HangingService()
    yield service
    service.close()


def with_library(settings, **library):  # type: ignore[no-untyped-def]
    departments = dict(settings.departments)
    departments["library"] = replace(settings.department("library"), timeout_seconds=TIMEOUT, **library)
    return settings.with_overrides(departments=departments)


def read_all(base: str, tokens: list[str]) -> list[tuple[int, float, dict]]:
    """Every student reads their status at the same moment; (status, seconds, library item) each."""
    results: list[tuple[int, float, dict]] = []
    barrier = threading.Barrier(len(tokens))

    def read(token: str) -> None:
        barrier.wait()
        started = time.monotonic()
        response = requests.get(f"{base}/api/v1/me/clearance", headers={"Authorization": f"Bearer {token}"},
                                timeout=30)
        elapsed = time.monotonic() - started
        body = response.json()
        library = next((i for i in body.get("items", []) if i["key"] == "library"), {})
        results.append((response.status_code, elapsed, {**library, "_others": [
            i["status"] for i in body.get("items", []) if i["key"] != "library"]}))

    threads = [threading.Thread(target=read, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def students_with_tokens(session, settings, n: int) -> tuple[list, list[str]]:  # type: ignore[no-untyped-def]
    batch = make_batch(session)
    students = [make_student(session, batch) for _ in range(n)]
    for student in students:
        set_records(session, student, OTHERS)
    session.commit()
    return students, [student_token(session, settings, s) for s in students]


def test_a_hanging_department_costs_at_most_its_timeout(app, session, settings, hanging):
    hung_app = create_app(with_library(settings, source="http", url=hanging.url))
    server = LiveServer(hung_app)
    try:
        _, tokens = students_with_tokens(session, settings, READERS)
        results = read_all(server.url, tokens)
        assert len(results) == READERS and {status for status, _, _ in results} == {200}
        for _, _, library in results:
            assert library["status"] == "unavailable" and library["reasons"][0]["code"] == "SOURCE_FAILED"
            assert library["next_steps"] and library["department"]["phone"]  # what to do, whom to call
            assert library["_others"] == ["passed"] * len(OTHERS)  # the rest is still judged
        slowest = max(elapsed for _, elapsed, _ in results)
        if backend() == "mysql":
            assert slowest < TIMEOUT + MARGIN, f"a status request waited {slowest:.2f} s"
        else:
            # SQLite has one writer: requests queue behind each other until the breaker opens (5 failures).
            assert slowest < 5 * TIMEOUT + 4 * MARGIN, f"a status request waited {slowest:.2f} s"
        # The breaker is open now: nobody waits for the hung system any more.
        source = hung_app.extensions["lixiao"].sources["library"]
        assert source.breaker.state == "open"
        metrics = requests.get(f"{server.url}/metrics", timeout=10).text
        assert f'lixiao_source_failed_records{{department="library"}} {float(READERS)}' in metrics
    finally:
        server.stop()
        hung_app.extensions["lixiao"].engine.dispose()


def test_the_department_answers_again_and_items_are_judged_again(app, session, settings, monkeypatch):
    from server.sources import refresh

    monkeypatch.setattr(refresh, "RETRY_FAILED_AFTER", refresh.RETRY_FAILED_AFTER * 0)  # re-ask at once
    service = DepartmentService()
    service.start()
    service.delay_seconds = 4 * TIMEOUT  # it reads the request and sits on it
    live_app = create_app(with_library(settings, source="http", url=service.url))
    live_app.extensions["lixiao"].sources["library"].breaker.reset_seconds = 0.2
    server = LiveServer(live_app)
    try:
        students, tokens = students_with_tokens(session, settings, 4)
        for student in students:
            service.records[student.student_no] = dict(PASSING_LIBRARY)
        hung = read_all(server.url, tokens)
        assert {lib["status"] for _, _, lib in hung} == {"unavailable"} and {s for s, _, _ in hung} == {200}
        service.delay_seconds = 0  # the library's system answers again
        time.sleep(0.25)  # past the breaker's trial delay
        results = read_all(server.url, tokens[:1])  # the trial call closes the breaker
        results += read_all(server.url, tokens)
        assert [lib["status"] for _, _, lib in results[-4:]] == ["passed"] * 4
    finally:
        server.stop()
        service.stop()
        live_app.extensions["lixiao"].engine.dispose()


def test_a_slow_fake_source_in_the_demo_costs_at_most_its_timeout(app, session, settings):
    demo_app = create_app(settings)
    demo_app.extensions["lixiao"].sources["library"] = FakeDepartmentSource("library", delay_seconds=3 * TIMEOUT)
    demo_app.extensions["lixiao"].settings = with_library(settings)
    server = LiveServer(demo_app)
    try:
        _, tokens = students_with_tokens(session, settings, 1)
        [(status, elapsed, library)] = read_all(server.url, tokens)
        assert status == 200 and elapsed < TIMEOUT + MARGIN
        assert library["status"] == "unavailable"
    finally:
        server.stop()
        demo_app.extensions["lixiao"].engine.dispose()
