"""Drill: Redis hangs, then dies, while students read their status; then it comes back.

Status reads (the API and the /me page) never touch Redis, so they keep being served from the database.
The login rate limits fail open (docs/identity.md), logins keep working, and what truly needs Redis (the bind
state, the departmental replay check) answers a 503 envelope instead of crashing. When Redis is back, limits
apply again and /readyz is green, without restarting the app.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from server.identity import ratelimit
from server.identity.models import WechatBinding
from server.timeutil import utcnow
from tests.certificates.conftest import browser_cookie
from tests.departments.signing import signed
from tests.drills.servers import RedisServer
from tests.factories import ALL_PASSED, ITEM_KEYS, cleared_student, make_batch, set_records, student_token
from tests.identity.flows import wx_login
from tests.security.world import build_world

TIMEOUT = 15
PER_IP = 3


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own: killing it harms no one else."""
    server = RedisServer()
    yield server
    server.close()


@pytest.fixture
def overrides(redis_server: RedisServer) -> dict[str, Any]:
    """The app on the private Redis, with a per-address login limit small enough to reach."""
    return {"redis_url": redis_server.url, "rate_limit_per_ip": PER_IP, "rate_limit_per_key": 100}


class Readers:
    """Students reading their status in a loop on their own threads (API and page), every answer kept."""

    def __init__(self, base: str, tokens: list[str], cookies: list[str]) -> None:
        self.answers: list[tuple[float, int, str, float]] = []  # (when, status, content type, seconds)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._read, args=(base, t, None), daemon=True) for t in tokens]
        self.threads += [threading.Thread(target=self._read, args=(base, None, c), daemon=True) for c in cookies]
        for thread in self.threads:
            thread.start()

    def _read(self, base: str, token: str | None, cookie: str | None) -> None:
        http = requests.Session()
        if token:
            http.headers["Authorization"] = f"Bearer {token}"
        if cookie:
            http.cookies.set("session", cookie, domain="127.0.0.1")
        while not self.stop.is_set():
            started = time.monotonic()
            if token:
                response = http.get(f"{base}/api/v1/me/clearance", timeout=TIMEOUT)
                ok = response.status_code == 200 and len(response.json()["items"]) == len(ITEM_KEYS)
            else:  # the student's status page in a browser
                response = http.get(f"{base}/me", allow_redirects=False, timeout=TIMEOUT)
                ok = response.status_code == 200 and "图书馆" in response.text
            self.answers.append((started, response.status_code if ok else -response.status_code,
                                 response.headers.get("Content-Type", ""), time.monotonic() - started))
            time.sleep(0.02)

    def finish(self) -> list[tuple[float, int, str, float]]:
        self.stop.set()
        for thread in self.threads:
            thread.join(TIMEOUT)
        return self.answers

    def since(self, moment: float) -> list[tuple[float, int, str, float]]:
        return [a for a in list(self.answers) if a[0] >= moment]


def login_statuses(base: str, n: int) -> list[int]:
    """n browser logins from this address (rate-limited per address)."""
    return [requests.get(f"{base}/login", allow_redirects=False, timeout=TIMEOUT).status_code for _ in range(n)]


def wait_until(condition, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_redis_hangs_then_dies_and_students_still_read(live, app, session, settings, emulator, redis_server,
                                                       monkeypatch, caplog):
    monkeypatch.setattr(ratelimit, "RECHECK_SECONDS", 0.5)  # retry the dead Redis soon, so the drill is short
    # The limiter's outage memory is module state: give it a fresh one, restored for the next test.
    monkeypatch.setattr(ratelimit, "_skip_until", [0.0])
    monkeypatch.setattr(ratelimit, "_outage", threading.Event())
    world = build_world(session, settings, live.url)
    batch = make_batch(session)
    students = [cleared_student(session, batch) for _ in range(4)]
    session.add(WechatBinding(openid="o-drill", student_id=students[0].id, bound_at=utcnow()))
    session.commit()
    tokens = [student_token(session, settings, s) for s in students]

    # Healthy: ready, limits enforced.
    assert requests.get(f"{live.url}/readyz", timeout=TIMEOUT).status_code == 200
    assert login_statuses(live.url, PER_IP + 1) == [302] * PER_IP + [429]
    readers = Readers(live.url, tokens, [browser_cookie(app, student_id=students[1].id)])
    wait_until(lambda: len(readers.answers) >= 8, 10)

    # Redis hangs: it accepts connections and never answers.
    redis_server.pause()
    hung = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="server"):
        started = time.monotonic()
        login = wx_login(live.url, emulator, "o-drill")
        assert login.status_code == 200 and login.json()["bound"] is True, login.text
        assert time.monotonic() - started < 5  # short socket timeouts, one quick retry
        time.sleep(1.0)
        redis_server.resume()
        redis_server.kill()  # now it is gone altogether
        dead = time.monotonic()
        ready = requests.get(f"{live.url}/readyz", timeout=TIMEOUT)
        assert ready.status_code == 503 and "redis" in ready.json()["problems"], ready.text
        # Fail open: the address was over its limit before the outage, yet logins go through.
        assert login_statuses(live.url, PER_IP + 3) == [302] * (PER_IP + 3)
        assert wx_login(live.url, emulator, "o-drill").status_code == 200
        # What needs Redis refuses cleanly: the departmental replay check and the bind state.
        key = world.keys["library"]
        refused = signed(live.url, "PUT", f"/api/v1/departments/library/records/{world.b.student_no}",
                         {"owed_books": 0}, key_id=key.key_id, secret=key.secret)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert refused.headers["Retry-After"] == "5"
        unbound = requests.post(f"{live.url}/api/v1/auth/wx-login", json={"code": emulator.mint_wx_code("o-new")},
                                timeout=TIMEOUT).json()["token"]
        bind = requests.get(f"{live.url}/bind/cas", params={"token": unbound}, allow_redirects=False,
                            timeout=TIMEOUT)
        assert bind.status_code == 503 and "请稍后再试" in bind.text  # the page in Chinese, the default
        time.sleep(1.0)
    warnings = [r.getMessage() for r in caplog.records if "failing open" in r.getMessage()]
    assert len(warnings) == 1, warnings  # said once per outage, not once per request

    # Redis is back (empty, on the same port): limits apply again, ready again, no restart of the app.
    redis_server.start()
    wait_until(lambda: requests.get(f"{live.url}/readyz", timeout=TIMEOUT).status_code == 200, 10)

    def limiter_back() -> bool:
        # A login makes the limiter try Redis again once RECHECK_SECONDS have passed; a fixed sleep raced it
        # on a loaded machine (its pooled connection may fail once more after Redis is back).
        requests.get(f"{live.url}/login", allow_redirects=False, timeout=TIMEOUT)
        return not ratelimit._outage.is_set()

    wait_until(limiter_back, 10)
    statuses = login_statuses(live.url, PER_IP + 1)  # the probe that found Redis back may have counted once
    assert statuses[-1] == 429 and statuses.count(302) <= PER_IP, statuses
    answers = readers.finish()

    during = [a for a in answers if a[0] >= hung]
    assert len(during) >= 10 and any(a[0] >= dead for a in answers)
    assert {a[1] for a in answers} == {200}, sorted({a[1] for a in answers})
    assert {a[2].split(";")[0] for a in answers} == {"application/json", "text/html"}
    assert max(a[3] for a in during) < 3.0  # status reads never waited on the hung Redis


def test_a_change_made_while_redis_hangs_is_never_hidden_by_an_old_cache_entry(live, app, session, settings,
                                                                                redis_server):
    """The status read cache: a page kept in Redis before a change made while Redis was frozen (its data intact)
    is never answered after it, by this app or by another one: the database's version decides."""
    from server.app import create_app
    from tests.conftest import LiveServer
    from tests.departments.console_client import ConsoleClient
    from tests.departments.test_console_operations import make_staff

    state = app.extensions["lixiao"]
    assert state.pages is not None and settings.read_cache_seconds > 0
    batch = make_batch(session)
    student = cleared_student(session, batch)
    set_records(session, student, {"library": {**ALL_PASSED["library"], "owed_books": 2}})
    session.commit()
    token = student_token(session, settings, student)
    reader = requests.Session()
    reader.headers["Authorization"] = f"Bearer {token}"

    def library(base: str = live.url) -> str:
        answer = reader.get(f"{base}/api/v1/me/clearance", timeout=TIMEOUT)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["items"][0]["status"])

    assert [library(), library()] == ["not_passed", "not_passed"]  # the second answer came from the cache
    assert list(state.redis.scan_iter(match="lixiao:page:*"))  # what another app server would find in Redis

    librarian = ConsoleClient(live.url, app, staff=make_staff(session, "libdrill", "operator", department="library"))
    page = f"/console/students/{student.student_no}"
    redis_server.pause()  # frozen: the page stays in Redis, unchanged
    try:
        changed = librarian.post(f"{page}/library", {"owed_books": "0", "owed_fees": "0", "violations": "0",
                                                     "card_status": "cancelled", "thesis_status": "approved"},
                                 page=page)
        assert changed.status_code == 303, changed.text[:300]
        assert library() == "passed"  # read from the database while Redis does not answer
    finally:
        redis_server.resume()
    assert library() == "passed"
    other = LiveServer(create_app(settings))  # another app server, whose first look is in Redis
    try:
        assert library(other.url) == "passed"
    finally:
        other.stop()
