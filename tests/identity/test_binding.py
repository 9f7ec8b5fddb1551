"""Binding a WeChat identity to a roster student through CAS (emulator), moving and removing it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from server.audit import AuditEntry
from server.emulators.testing import cas_login
from server.identity.models import Staff, WechatBinding
from server.identity.tokens import issue_token
from server.timeutil import utcnow
from tests.factories import make_batch, make_student
from tests.identity.flows import bind, error_code, me, token_for, wx_login


@pytest.fixture
def roster(session, emulator):
    """Two students in the roster and at the CAS server (password pw)."""
    batch = make_batch(session)
    students = [make_student(session, batch, name=name) for name in ("绑定甲", "绑定乙")]
    session.commit()
    emulator.add_cas_users(*({"username": s.student_no, "password": "pw"} for s in students))
    return students


def bindings(session) -> list[tuple[str, int | None, int | None]]:
    session.expire_all()
    return [(b.openid, b.student_id, b.staff_id) for b in session.scalars(select(WechatBinding))]


def audits(session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_bind_then_the_same_token_reads_the_clearance(live, emulator, session, roster):
    alice = roster[0]
    token = token_for(live.url, emulator, "o-alice")
    page = bind(live.url, token, alice.student_no, "pw")
    assert page.status_code == 200, page.text
    # In the web-view's language only: Chinese, as it asked for none.
    assert "绑定成功，请返回小程序" in page.text and "Bound — return to the mini-program" not in page.text
    assert "if (window.wx && window.wx.miniProgram" in page.text and "navigateBack()" in page.text
    assert "jweixin" not in page.text  # nothing loads from the internet offline
    assert me(live.url, token).json()["student"]["student_no"] == alice.student_no
    again = wx_login(live.url, emulator, "o-alice").json()
    assert again["bound"] is True and again["student"]["name"] == "绑定甲"
    assert bindings(session) == [("o-alice", alice.id, None)]
    [entry] = audits(session, "wechat.bind")
    assert entry.actor == f"student:{alice.student_no}" and entry.after["openid"] == "o-alice"


def test_bind_redirects_only_to_the_configured_cas_with_our_callback(live, emulator, settings):
    token = token_for(live.url, emulator, "o-redirect")
    start = requests.get(f"{live.url}/bind/cas", params={"token": token, "service": "http://evil.example/",
                                                          "next": "//evil.example/"},
                         allow_redirects=False, timeout=10)
    assert start.status_code == 302 and start.headers["Referrer-Policy"] == "no-referrer"
    location = start.headers["Location"]
    assert location.startswith(settings.cas_server_url + "login?")
    query = parse_qs(urlparse(location).query)
    assert query["renew"] == ["true"]  # a left-over CAS session must not bind silently
    [service] = query["service"]
    assert service.startswith(f"{settings.public_base_url}/bind/cas/callback?state=") and token not in service


def test_a_left_over_cas_session_cannot_bind_even_without_renew_in_the_url(live, emulator, settings, session, roster):
    """Review F1: the victim's CAS session stays in a shared browser; the attacker drops renew=true from the URL."""
    victim = roster[0]
    browser = requests.Session()
    signed_in = cas_login(browser, settings.cas_server_url + "login", victim.student_no, "pw")
    assert signed_in.status_code == 200 and browser.cookies  # the victim's CAS single sign-on cookie
    start = browser.get(f"{live.url}/bind/cas", params={"token": token_for(live.url, emulator, "o-thief")},
                        allow_redirects=False, timeout=10)
    stripped = start.headers["Location"].replace("&renew=true", "")
    assert stripped != start.headers["Location"]
    silent = browser.get(stripped, allow_redirects=False, timeout=10)
    assert silent.status_code == 302 and "ticket=" in silent.headers["Location"]  # CAS asked for no password
    page = browser.get(silent.headers["Location"], allow_redirects=False, timeout=10)
    assert page.status_code == 401 and "重新登录" in page.text
    assert bindings(session) == [] and audits(session, "wechat.bind") == []


def test_someone_outside_the_roster_gets_a_clear_page(live, emulator, session):
    emulator.add_cas_users({"username": "visitor01", "password": "pw"})
    page = bind(live.url, token_for(live.url, emulator, "o-visitor"), "visitor01", "pw")
    assert page.status_code == 403
    assert "不在离校名单中" in page.text and "not on the graduation roster" not in page.text  # the page's language
    assert bindings(session) == []


def test_wrong_password_binds_nothing(live, emulator, session, roster):
    page = bind(live.url, token_for(live.url, emulator, "o-wrong"), roster[0].student_no, "nope")
    assert page.status_code == 200 and "用户名或密码错误" in page.text  # still on the CAS form
    assert bindings(session) == []


def test_a_callback_from_another_browser_binds_nothing(live, emulator, session, roster):
    """Login CSRF: a victim who follows the attacker's callback (state + ticket) must not bind anything."""
    attacker = requests.Session()
    start = attacker.get(f"{live.url}/bind/cas", params={"token": token_for(live.url, emulator, "o-attacker")},
                         allow_redirects=False, timeout=10)
    victim = requests.Session()
    answer = cas_login(victim, start.headers["Location"], roster[0].student_no, "pw")  # victim logs in at CAS
    landed = victim.get(answer.headers["Location"], allow_redirects=False, timeout=10)
    assert landed.status_code == 400 and "登录链接已失效" in landed.text
    assert bindings(session) == []


def test_a_state_works_once(live, emulator, session, roster):
    http = requests.Session()
    page = bind(live.url, token_for(live.url, emulator, "o-once"), roster[0].student_no, "pw", http=http)
    assert page.status_code == 200
    replay = http.get(page.url, allow_redirects=False, timeout=10)
    assert replay.status_code == 400


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_bind_without_a_valid_token_is_refused(live, token):
    response = requests.get(f"{live.url}/bind/cas", params={"token": token}, allow_redirects=False, timeout=10)
    assert response.status_code == 401 and "请重新登录" in response.text


def test_a_second_openid_for_a_bound_student_moves_the_binding_after_cas(live, emulator, session, roster):
    alice = roster[0]
    old_token = token_for(live.url, emulator, "o-old-phone")
    assert bind(live.url, old_token, alice.student_no, "pw").status_code == 200
    # A new phone: without a CAS login it gets nothing of Alice's.
    new_token = token_for(live.url, emulator, "o-new-phone")
    assert error_code(me(live.url, new_token)) == "NOT_BOUND"
    assert bind(live.url, new_token, alice.student_no, "pw").status_code == 200
    assert bindings(session) == [("o-new-phone", alice.id, None)]
    assert error_code(me(live.url, old_token)) == "UNAUTHORIZED"  # the old phone's session ended
    assert wx_login(live.url, emulator, "o-old-phone").json()["bound"] is False
    assert me(live.url, new_token).json()["student"]["student_no"] == alice.student_no
    [entry] = audits(session, "wechat.rebind")
    assert entry.before == {"openid_was_bound_to": None, "person_was_bound_to_openid": "o-old-phone"}


def test_a_second_student_on_a_bound_openid_moves_it_and_ends_the_old_sessions(live, emulator, session, roster):
    alice, bob = roster
    alice_token = token_for(live.url, emulator, "o-shared")
    assert bind(live.url, alice_token, alice.student_no, "pw").status_code == 200
    other = token_for(live.url, emulator, "o-shared")  # a second live session naming Alice
    assert me(live.url, other).json()["student"]["student_no"] == alice.student_no
    assert bind(live.url, alice_token, bob.student_no, "pw").status_code == 200
    assert bindings(session) == [("o-shared", bob.id, None)]
    assert error_code(me(live.url, other)) == "UNAUTHORIZED"
    assert me(live.url, alice_token).json()["student"]["student_no"] == bob.student_no
    [entry] = audits(session, "wechat.rebind")
    assert entry.before["openid_was_bound_to"] == f"student:{alice.student_no}"
    assert entry.actor == f"student:{bob.student_no}"


def test_rebinding_the_same_pair_changes_nothing(live, emulator, session, roster):
    token = token_for(live.url, emulator, "o-same")
    assert bind(live.url, token, roster[0].student_no, "pw").status_code == 200
    assert bind(live.url, token, roster[0].student_no, "pw").status_code == 200
    assert len(audits(session, "wechat.bind")) == 1 and audits(session, "wechat.rebind") == []


def test_the_database_refuses_two_bindings_per_student_or_openid(session, roster):
    alice, bob = roster
    session.add(WechatBinding(openid="o-db", student_id=alice.id))
    session.commit()
    for duplicate in (WechatBinding(openid="o-db-2", student_id=alice.id),
                      WechatBinding(openid="o-db", student_id=bob.id),
                      WechatBinding(openid="o-db-3")):  # nobody at all
        session.add(duplicate)
        with pytest.raises((IntegrityError, OperationalError)):  # MariaDB reports CHECK failures as 4025
            session.commit()
        session.rollback()


def test_unbind_ends_every_session_of_that_wechat(live, emulator, session, roster):
    token = token_for(live.url, emulator, "o-unbind")
    bind(live.url, token, roster[0].student_no, "pw")
    response = requests.delete(f"{live.url}/api/v1/me/binding", headers={"Authorization": f"Bearer {token}"},
                               timeout=10)
    assert response.status_code == 204 and response.content == b""
    assert bindings(session) == [] and len(audits(session, "wechat.unbind")) == 1
    assert error_code(me(live.url, token)) == "UNAUTHORIZED"
    fresh = wx_login(live.url, emulator, "o-unbind").json()
    assert fresh["bound"] is False
    again = requests.delete(f"{live.url}/api/v1/me/binding", headers={"Authorization": f"Bearer {fresh['token']}"},
                            timeout=10)
    assert again.status_code == 403 and error_code(again) == "NOT_BOUND"


def test_counter_staff_bind_for_the_mini_program_counter_mode(live, emulator, session):
    session.add(Staff(username="counter", name="窗口人员", role="counter"))
    session.commit()
    token = token_for(live.url, emulator, "o-counter")
    page = bind(live.url, token, "counter", "demo")  # the emulator's demo staff account
    assert page.status_code == 200 and "counter" in page.text
    body = wx_login(live.url, emulator, "o-counter").json()
    assert body["bound"] is True and body["staff"] == {"username": "counter", "name": "窗口人员", "role": "counter",
                                                       "department": None}
    assert "student" not in body
    assert error_code(me(live.url, body["token"])) == "FORBIDDEN"  # staff have no student data


@pytest.mark.parametrize("overrides", [{"outside_timeout_seconds": 0.3}])
def test_a_slow_cas_server_is_a_503_page(live, emulator, session, roster):
    emulator.inject_fault("cas_validate", delay_ms=2000)
    page = bind(live.url, token_for(live.url, emulator, "o-slow-cas"), roster[0].student_no, "pw")
    assert page.status_code == 503 and "稍后再试" in page.text
    assert bindings(session) == []


def test_a_wecom_token_cannot_bind_wechat(live, session, settings, roster):
    token = issue_token(session, settings.secret_key, channel="wecom", now=utcnow(), ttl_seconds=600,
                        student_id=roster[0].id)
    session.commit()
    response = requests.get(f"{live.url}/bind/cas", params={"token": token}, allow_redirects=False, timeout=10)
    assert response.status_code == 403 and "请在微信小程序中打开" in response.text
