"""Mini-program login over real HTTP against the WeChat emulator, through wechatpy unmodified."""

from __future__ import annotations

import logging
import time

import pytest
import requests

from server.identity.models import WechatBinding
from server.platforms.wechat import SESSION_KEY_PREFIX
from tests.factories import make_batch, make_student
from tests.identity.flows import error_code, me, token_for, wx_login


def test_unbound_login_gives_a_token_that_reaches_only_binding(live, emulator):
    response = wx_login(live.url, emulator, "o-unbound-1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["bound"] is False and body["token"] and "student" not in body and "staff" not in body
    clearance = me(live.url, body["token"])
    assert clearance.status_code == 403 and error_code(clearance) == "NOT_BOUND"
    assert me(live.url, body["token"], "/api/v1/me/applications").status_code == 403


def test_bound_login_names_the_student(live, emulator, session):
    student = make_student(session, make_batch(session), name="登录甲")
    session.add(WechatBinding(openid="o-bound-1", student_id=student.id))
    session.commit()
    body = wx_login(live.url, emulator, "o-bound-1").json()
    assert body["bound"] is True and body["student"]["student_no"] == student.student_no
    assert me(live.url, body["token"]).json()["student"]["name"] == "登录甲"


def test_used_code_is_refused(live, emulator):
    code = emulator.mint_wx_code("o-used")
    first = live_post(live, code)
    assert first.status_code == 200
    second = live_post(live, code)
    assert second.status_code == 401 and error_code(second) == "INVALID_LOGIN_CODE"


def test_expired_and_unknown_codes_are_refused(live, emulator, clock):
    code = emulator.mint_wx_code("o-expired")
    clock.advance(301)  # wx.login codes live five minutes
    expired = live_post(live, code)
    assert expired.status_code == 401 and error_code(expired) == "INVALID_LOGIN_CODE"
    assert error_code(live_post(live, "0123456789abcdef0123456789abcdef")) == "INVALID_LOGIN_CODE"


def test_login_needs_no_access_token(live, emulator):
    assert wx_login(live.url, emulator, "o-no-token").status_code == 200
    calls = emulator.stats()["calls"]
    assert calls["jscode2session"] == 1 and calls["stable_token"] == 0 and calls["token"] == 0


def test_session_key_stays_on_the_server(live, emulator, app, caplog):
    caplog.set_level(logging.DEBUG)
    response = wx_login(live.url, emulator, "o-key")
    session_key = emulator.state.session_keys["o-key"]
    assert session_key not in response.text and "session_key" not in response.text
    stored = [k for k in app.extensions["lixiao"].redis.keys(SESSION_KEY_PREFIX + "*")]
    assert len(stored) == 1 and app.extensions["lixiao"].redis.get(stored[0]) == session_key
    assert session_key not in caplog.text


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 123}, {"code": "x", "extra": 1}, {"code": "a b"}])
def test_malformed_bodies_are_400(live, body):
    response = requests.post(f"{live.url}/api/v1/auth/wx-login", json=body, timeout=10)
    assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"


def test_busy_platform_is_503_try_again(live, emulator):
    emulator.inject_fault("jscode2session", errcode=-1)
    response = wx_login(live.url, emulator, "o-busy")
    assert response.status_code == 503 and error_code(response) == "PLATFORM_UNAVAILABLE"
    assert "try again" in response.json()["error"]["message_en"] and response.headers["Retry-After"]
    assert wx_login(live.url, emulator, "o-busy").status_code == 200  # the next try works


@pytest.mark.parametrize("overrides", [{"outside_timeout_seconds": 0.3}])
def test_slow_platform_times_out(live, emulator):
    emulator.inject_fault("jscode2session", delay_ms=2000)
    started = time.monotonic()
    response = wx_login(live.url, emulator, "o-slow")
    assert response.status_code == 503 and error_code(response) == "PLATFORM_UNAVAILABLE"
    assert time.monotonic() - started < 1.5


def test_rate_limited_by_wechat_is_429(live, emulator):
    emulator.inject_fault("jscode2session", errcode=45011)
    response = wx_login(live.url, emulator, "o-45011")
    assert response.status_code == 429 and response.json()["error"]["retry_after"] == 60


def test_tokens_are_distinct_per_login(live, emulator):
    assert token_for(live.url, emulator, "o-twice") != token_for(live.url, emulator, "o-twice")


def live_post(live, code: str) -> requests.Response:
    return requests.post(f"{live.url}/api/v1/auth/wx-login", json={"code": code}, timeout=10)
