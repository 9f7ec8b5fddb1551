"""Issue 15.6: bounded waits. A hung MariaDB (it accepts and never answers) gets the 503 envelope within 5 s; a
departmental system that sleeps costs a page at most its one source budget, whatever the departments' timeouts."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace

import pytest
import requests
from sqlalchemy.engine import make_url

from server.app import create_app
from server.departments.credentials import create_key
from server.sources.fake import FakeDepartmentSource
from server.timeutil import utcnow
from tests.conftest import LiveServer, backend
from tests.departments.signing import signed
from tests.factories import ALL_PASSED, make_batch, make_student, set_records, student_token

MARGIN = 1.5  # a shared 2-core machine
PASSING_LIBRARY = {"owed_books": 0, "owed_fees_cents": 0, "violations": 0, "card_status": "cancelled",
                   "thesis_status": "approved"}


class FreezingProxy:
    """A TCP proxy to one server that can stop forwarding (both ways) while keeping every connection open."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.frozen = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                while self.frozen.is_set():
                    time.sleep(0.05)  # hold the bytes: the server looks hung, not dead
                dst.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        self.frozen.clear()
        self.listener.close()
        for s in self.sockets:
            s.close()


def _reader(session, settings, unread=()):  # type: ignore[no-untyped-def]
    student = make_student(session, make_batch(session))
    set_records(session, student, {k: v for k, v in ALL_PASSED.items() if k not in unread})
    session.commit()
    return student_token(session, settings, student)


@pytest.mark.skipif(backend() != "mysql", reason="MariaDB run (LIXIAO_TEST_DATABASE=mysql)")
def test_a_hung_database_answers_503_within_five_seconds(app, session, settings):
    token = _reader(session, settings)
    url = make_url(settings.database_url)
    proxy = FreezingProxy(url.host or "127.0.0.1", url.port or 3306)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    hung_app = create_app(settings.with_overrides(database_url=proxied, read_cache_seconds=0))
    server = LiveServer(hung_app)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.get(f"{server.url}/api/v1/me/clearance", headers=headers, timeout=10).status_code == 200
        proxy.frozen.set()
        started = time.monotonic()
        response = requests.get(f"{server.url}/api/v1/me/clearance", headers=headers, timeout=30)
        elapsed = time.monotonic() - started
        assert response.status_code == 503 and response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert elapsed <= 5.0, f"a hung database held the request {elapsed:.1f} s"
    finally:
        proxy.close()
        server.stop()
        hung_app.extensions["lixiao"].engine.dispose()


def test_a_sleeping_source_costs_the_page_one_budget(app, session, settings):
    departments = dict(settings.departments)
    for key in ("library", "finance"):  # generous own timeouts: the page's budget is what bounds it
        departments[key] = replace(settings.department(key), source="fake", timeout_seconds=6.0)
    slow = settings.with_overrides(departments=departments, source_budget_seconds=1.0)
    token = _reader(session, settings, unread=("library", "finance"))  # never read: due on this page
    page_app = create_app(slow)
    state = page_app.extensions["lixiao"]
    for key in ("library", "finance"):
        state.sources[key] = FakeDepartmentSource(key, delay_seconds=4.0)
    server = LiveServer(page_app)
    try:
        started = time.monotonic()
        response = requests.get(f"{server.url}/api/v1/me/clearance", headers={"Authorization": f"Bearer {token}"},
                                timeout=30)
        elapsed = time.monotonic() - started
        assert response.status_code == 200
        assert {i["status"] for i in response.json()["items"] if i["key"] in ("library", "finance")} == {"unavailable"}
        assert elapsed < 1.0 + MARGIN, f"the page waited {elapsed:.1f} s for sleeping sources"
    finally:
        server.stop()
        state.engine.dispose()


def test_a_write_the_client_gave_up_on_reports_its_outcome(session, settings, live):
    """The client times out before the answer; the same signed request sent again learns the committed result."""
    make_student(session, make_batch(session), student_no="WAIT000001")
    key = create_key(session, settings.secret_key, "library", now=utcnow())
    session.commit()
    ts, path = int(time.time()), "/api/v1/departments/library/records/WAIT000001"
    with pytest.raises(requests.Timeout):
        signed(live.url, "PUT", path, PASSING_LIBRARY, key_id=key.key_id, secret=key.secret, timestamp=ts,
               timeout=(5, 0.001))  # sent whole, then not waited for
    time.sleep(0.5)
    deadline = time.monotonic() + 10
    while True:  # the server finishes the write although nobody waits for it
        again = signed(live.url, "PUT", path, PASSING_LIBRARY, key_id=key.key_id, secret=key.secret, timestamp=ts)
        error = again.json()["error"]
        if error.get("outcome") is not None or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert again.status_code == 409 and error["code"] == "REPLAYED_REQUEST"
    assert error["outcome"]["status"] == 200 and error["outcome"]["body"]["result"] == "created"
