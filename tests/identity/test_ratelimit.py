"""Rate limits on wx-login, wecom-login, /login and /bind/cas: 429 envelopes, and failing open without Redis."""

from __future__ import annotations

import logging
import threading
import time

import fakeredis
import pytest
import requests

from server.app import create_app
from server.identity import ratelimit
from server.identity.ratelimit import WINDOW_SECONDS, hit
from server.redis_client import make_redis
from tests.identity.flows import error_code, token_for, wx_login

TIMEOUT = 10


def assert_429(response: requests.Response) -> None:
    assert response.status_code == 429, response.text
    wait = response.json()["error"]["retry_after"]
    assert error_code(response) == "RATE_LIMITED" and 1 <= wait <= WINDOW_SECONDS
    assert response.headers["Retry-After"] == str(wait)


@pytest.mark.parametrize("overrides", [{"rate_limit_per_key": 2}])
def test_wx_login_limits_one_code(live, emulator):
    code = emulator.mint_wx_code("o-hammer")
    answers = [requests.post(f"{live.url}/api/v1/auth/wx-login", json={"code": code}, timeout=TIMEOUT)
               for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [200, 401]
    assert_429(answers[2])
    assert wx_login(live.url, emulator, "o-other").status_code == 200  # other codes still work


@pytest.mark.parametrize("overrides", [{"rate_limit_per_ip": 3}])
def test_wx_login_limits_one_address(live, emulator):
    answers = [wx_login(live.url, emulator, f"o-ip-{i}") for i in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert_429(answers[3])


@pytest.mark.parametrize("overrides", [{"rate_limit_per_ip": 2}])
def test_wecom_login_is_limited(live, emulator):
    answers = [requests.post(f"{live.url}/api/v1/auth/wecom-login", json={"code": f"c{i}"}, timeout=TIMEOUT)
               for i in range(3)]
    assert [a.status_code for a in answers[:2]] == [401, 401]
    assert_429(answers[2])


@pytest.mark.parametrize("overrides", [{"rate_limit_per_ip": 2}])
def test_browser_login_is_limited_with_a_page(live):
    answers = [requests.get(f"{live.url}/login", allow_redirects=False, timeout=TIMEOUT) for _ in range(3)]
    assert [a.status_code for a in answers] == [302, 302, 429]
    assert "请求过于频繁" in answers[2].text and answers[2].headers["Retry-After"]


@pytest.mark.parametrize("overrides", [{"rate_limit_per_key": 2}])
def test_bind_is_limited_per_token(live, emulator):
    token = token_for(live.url, emulator, "o-bind-hammer")
    answers = [requests.get(f"{live.url}/bind/cas", params={"token": token}, allow_redirects=False,
                            timeout=TIMEOUT) for _ in range(3)]
    assert [a.status_code for a in answers] == [302, 302, 429]
    other = token_for(live.url, emulator, "o-bind-other")
    assert requests.get(f"{live.url}/bind/cas", params={"token": other}, allow_redirects=False,
                        timeout=TIMEOUT).status_code == 302


def test_windows_are_fixed_minutes():
    store = fakeredis.FakeRedis(decode_responses=True)
    start = 1_800_000_000.0  # a minute boundary
    assert [hit(store, "t", "ip", "a", 2, now=start + s) for s in (0, 10, 50)] == [None, None, 10]
    assert hit(store, "t", "ip", "a", 2, now=start + 60) is None  # a new minute
    assert hit(store, "t", "ip", "b", 2, now=start + 61) is None  # others are counted apart
    assert all(key.split(":")[4] != "a" for key in store.scan_iter())  # identities are hashed in keys


def test_without_redis_the_limiter_fails_open_and_says_so_once(settings, emulator, caplog, app, monkeypatch):
    monkeypatch.setattr(ratelimit, "RECHECK_SECONDS", 0.0)  # try the dead server on every request
    monkeypatch.setattr(ratelimit, "_skip_until", [0.0])
    monkeypatch.setattr(ratelimit, "_outage", threading.Event())
    broken = create_app(settings.with_overrides(rate_limit_per_ip=1),
                        redis_client=make_redis("redis://127.0.0.1:1/0"))  # nothing listens on port 1
    client = broken.test_client()
    caplog.set_level(logging.WARNING, logger="server.identity.ratelimit")
    started = time.monotonic()
    answers = [client.post("/api/v1/auth/wx-login", json={"code": emulator.mint_wx_code(f"o-dead-{i}")})
               for i in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]  # over the limit of 1, yet served
    assert time.monotonic() - started < 3  # a dead Redis costs milliseconds, not redis-py's default backoff
    outage = [r for r in caplog.records if "failing open" in r.getMessage()]
    assert len(outage) == 1
    broken.extensions["lixiao"].engine.dispose()
