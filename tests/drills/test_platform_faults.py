"""Drill: WeChat, WeCom and CAS answer -1 ("system busy") or time out in the middle of logins and binding.

The user is told to try again (503 PLATFORM_UNAVAILABLE, bilingual, Retry-After), and nothing is lost or
half-made: no session is issued by a failed login, an existing binding and its token keep working, no
binding appears from a failed CAS validation, and trying again succeeds.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from sqlalchemy import func, select

from server.audit import AuditEntry
from server.identity.models import ApiSession, WechatBinding
from tests.factories import make_batch, make_student
from tests.identity.flows import bind, error_code, me, token_for, wx_login

TIMEOUT = 10
OUTSIDE_TIMEOUT = 0.5


@pytest.fixture
def overrides() -> dict[str, float]:
    """Short platform timeouts, so a hung platform costs the drill half a second per call."""
    return {"outside_timeout_seconds": OUTSIDE_TIMEOUT}


@pytest.fixture
def bound(live, emulator, session):  # type: ignore[no-untyped-def]
    """A student bound to a WeChat identity through CAS, with the token the mini-program holds."""
    student = make_student(session, make_batch(session), name="故障甲")
    session.commit()
    emulator.add_cas_users({"username": student.student_no, "password": "pw", "wecom_member": True})
    token = token_for(live.url, emulator, "o-fault")
    assert bind(live.url, token, student.student_no, "pw").status_code == 200
    return student, token


def counts(session) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """Sessions, bindings and audit entries."""
    session.commit()
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (ApiSession, WechatBinding, AuditEntry))


def assert_try_again(response: requests.Response) -> None:
    assert response.status_code == 503 and error_code(response) == "PLATFORM_UNAVAILABLE", response.text
    error = response.json()["error"]
    assert "请稍后再试" in error["message"] and "try again" in error["message_en"]
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("fault", [{"errcode": -1}, {"delay_ms": 1500}], ids=["busy", "timeout"])
def test_wechat_login_fails_cleanly_and_loses_nothing(live, emulator, session, bound, fault):
    student, token = bound
    before = counts(session)
    emulator.inject_fault("jscode2session", times=3, **fault)
    code = emulator.mint_wx_code("o-fault")
    started = time.monotonic()
    answer = requests.post(f"{live.url}/api/v1/auth/wx-login", json={"code": code}, timeout=TIMEOUT)
    assert_try_again(answer)
    assert time.monotonic() - started < OUTSIDE_TIMEOUT * 3 + 1  # bounded by our timeout, not the platform's
    # Concurrent logins during the fault: 503s, never a 500.
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(wx_login(live.url, emulator, "o-fault").status_code))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert results == [503, 503]
    assert counts(session) == before  # no session, binding or audit row from a failed login
    assert me(live.url, token).json()["student"]["student_no"] == student.student_no  # the held token still works

    time.sleep(fault.get("delay_ms", 0) / 1000)  # let a hung call finish on the platform's side
    again = wx_login(live.url, emulator, "o-fault")  # the mini-program calls wx.login again
    assert again.status_code == 200 and again.json()["bound"] is True, again.text
    assert again.json()["student"]["student_no"] == student.student_no
    if "errcode" in fault:  # a busy platform did not consume the code: the very same one works
        retry = requests.post(f"{live.url}/api/v1/auth/wx-login", json={"code": code}, timeout=TIMEOUT)
        assert retry.status_code == 200 and retry.json()["bound"] is True


@pytest.mark.parametrize("fault", [{"errcode": -1}, {"delay_ms": 1500}], ids=["busy", "timeout"])
def test_wecom_login_fails_cleanly(live, emulator, session, bound, fault):
    student, _ = bound
    before = counts(session)
    emulator.inject_fault("wecom_getuserinfo", **fault)
    code = emulator.mint_wecom_code(student.student_no)
    answer = requests.post(f"{live.url}/api/v1/auth/wecom-login", json={"code": code}, timeout=TIMEOUT)
    assert_try_again(answer)
    assert counts(session) == before
    time.sleep(fault.get("delay_ms", 0) / 1000)
    fresh = emulator.mint_wecom_code(student.student_no)
    ok = requests.post(f"{live.url}/api/v1/auth/wecom-login", json={"code": fresh}, timeout=TIMEOUT)
    assert ok.status_code == 200 and ok.json()["student"]["student_no"] == student.student_no


@pytest.mark.parametrize("fault", [{"http_status": 500}, {"delay_ms": 1500}], ids=["cas-error", "cas-timeout"])
def test_binding_through_a_failing_cas_binds_nobody_until_tried_again(live, emulator, session, fault):
    student = make_student(session, make_batch(session), name="故障乙")
    session.commit()
    emulator.add_cas_users({"username": student.student_no, "password": "pw"})
    token = token_for(live.url, emulator, "o-cas-fault")
    emulator.inject_fault("cas_validate", **fault)
    page = bind(live.url, token, student.student_no, "pw")
    assert page.status_code == 503 and "请稍后再试" in page.text, page.text[:500]  # in Chinese, the default
    session.commit()
    assert session.scalar(select(func.count()).select_from(WechatBinding)) == 0
    assert error_code(me(live.url, token)) == "NOT_BOUND"  # the token is as it was: unbound, still valid
    time.sleep(fault.get("delay_ms", 0) / 1000)
    assert bind(live.url, token, student.student_no, "pw").status_code == 200  # reopen the page: it works
    assert me(live.url, token).json()["student"]["student_no"] == student.student_no
