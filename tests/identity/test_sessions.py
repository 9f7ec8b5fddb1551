"""Sessions end on the server (#16.4): logout revokes, students see and end their devices, admins end staff's.

The review's reproduction (F4): a session cookie copied before logout kept working for 8 hours, and a WeCom token
had no way to be ended by its student. Each test below signs in for real (CAS through the emulator, wx.login and
WeCom codes) and uses the copies afterwards, as an attacker holding them would.
"""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from server.audit import AuditEntry
from server.identity.models import ApiSession, Staff
from server.identity.sessions import describe_agent, handle_of
from server.identity.tokens import sign_session_id
from tests.factories import make_batch, make_student
from tests.identity.flows import bind, error_code, me, token_for
from tests.identity.test_browser_login import browser_login

TIMEOUT = 10
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@pytest.fixture
def student(session, emulator):
    student = make_student(session, make_batch(session), name="设备甲")
    session.commit()
    emulator.add_cas_users({"username": student.student_no, "password": "pw", "wecom_member": True})
    return student


def copy_of(http: requests.Session) -> requests.Session:
    """Another browser holding the same cookies (what an attacker copied)."""
    other = requests.Session()
    other.cookies.update(http.cookies)
    return other


def post_form(http: requests.Session, base: str, page: str, action: str) -> requests.Response:
    token = CSRF.search(http.get(base + page, timeout=TIMEOUT).text)
    assert token, page
    return http.post(base + action, data={"csrf_token": token.group(1)}, allow_redirects=False, timeout=TIMEOUT)


def signed_in(http: requests.Session, base: str) -> bool:
    answer = http.get(f"{base}/me", allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code in (200, 302), answer.status_code
    return answer.status_code == 200


def test_a_cookie_copied_before_logout_stops_working(live, student, session):
    http, _ = browser_login(live.url, student.student_no, "pw")
    stolen = copy_of(http)
    assert signed_in(stolen, live.url)
    out = post_form(http, live.url, "/logout", "/logout")
    assert out.status_code == 302
    assert not signed_in(http, live.url)
    answer = stolen.get(f"{live.url}/me", allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    session.commit()  # a new transaction sees what the app committed
    rows = session.scalars(select(ApiSession).where(ApiSession.student_id == student.id)).all()
    assert [(r.kind, r.revoked_at is not None) for r in rows] == [("web", True)]


def test_a_student_sees_and_ends_their_devices_on_the_web(live, student, session, settings, emulator):
    laptop, _ = browser_login(live.url, student.student_no, "pw", http=_with_agent(CHROME))
    phone, _ = browser_login(live.url, student.student_no, "pw")
    token = token_for(live.url, emulator, "o-devices")
    assert bind(live.url, token, student.student_no, "pw").status_code == 200
    token = token_for(live.url, emulator, "o-devices")  # a later login of the bound mini-program
    assert me(live.url, token).status_code == 200

    page = laptop.get(f"{live.url}/me/devices", timeout=TIMEOUT).text
    # Two browsers and two mini-program sessions (the one that bound, and the later login).
    assert page.count('class="card" data-handle=') == 4 and "Chrome · Windows" in page and "本设备" in page
    assert page.count("微信小程序") == 2 and page.count("浏览器") >= 2
    rows = session.scalars(select(ApiSession).where(ApiSession.student_id == student.id,
                                                    ApiSession.revoked_at.is_(None))).all()
    assert not any(r.id in page for r in rows)  # handles, never the ids that sign in
    phone_row = next(r for r in rows if r.kind == "web" and r.device != "Chrome · Windows")
    assert post_form(laptop, live.url, "/me/devices",
                     f"/me/devices/{handle_of(phone_row.id)}/end").status_code == 302
    assert not signed_in(phone, live.url) and signed_in(laptop, live.url)
    assert post_form(laptop, live.url, "/me/devices", "/me/devices/end-others").status_code == 302
    assert me(live.url, token).status_code == 401  # the mini-program is signed out too
    assert signed_in(laptop, live.url)
    # Another student's handle, or a made-up one, ends nothing.
    assert post_form(laptop, live.url, "/me/devices", f"/me/devices/{'0' * 24}/end").status_code == 404


def _with_agent(agent: str) -> requests.Session:
    http = requests.Session()
    http.headers["User-Agent"] = agent
    return http


def test_the_api_lists_and_ends_devices_and_logs_out(live, student, session, settings, emulator):
    http, _ = browser_login(live.url, student.student_no, "pw")
    code = emulator.mint_wecom_code(student.student_no)
    wecom = requests.post(f"{live.url}/api/v1/auth/wecom-login", json={"code": code}, timeout=TIMEOUT)
    assert wecom.status_code == 200
    token = wecom.json()["token"]
    listed = me(live.url, token, "/api/v1/me/sessions")
    assert listed.status_code == 200
    devices = listed.json()["sessions"]
    assert sorted((d["kind"], d["channel"], d["current"]) for d in devices) == [("api", "wecom", True),
                                                                               ("web", "browser", False)]
    assert all(re.fullmatch(r"[0-9a-f]{24}", d["handle"]) and d["label"] and d["label_en"] for d in devices)
    web = next(d for d in devices if d["kind"] == "web")
    headers = {"Authorization": f"Bearer {token}"}
    ended = requests.delete(f"{live.url}/api/v1/me/sessions/{web['handle']}", headers=headers, timeout=TIMEOUT)
    assert ended.status_code == 204 and not signed_in(http, live.url)
    again = requests.delete(f"{live.url}/api/v1/me/sessions/{web['handle']}", headers=headers, timeout=TIMEOUT)
    assert again.status_code == 404 and error_code(again) == "NOT_FOUND"
    bad = requests.delete(f"{live.url}/api/v1/me/sessions/not-a-handle", headers=headers, timeout=TIMEOUT)
    assert bad.status_code in (400, 422)
    # Logging out ends the token itself; a copy of it is refused at once (the read cache included).
    assert me(live.url, token).status_code == 200
    assert requests.delete(f"{live.url}/api/v1/me/session", headers=headers, timeout=TIMEOUT).status_code == 204
    refused = me(live.url, token)
    assert refused.status_code == 401 and error_code(refused) == "UNAUTHORIZED"


def test_an_admin_ends_every_session_of_a_staff_member(live, session, settings, emulator):
    session.add_all([Staff(username="sess-admin", name="管理员", role="admin"),
                     Staff(username="sess-lib", name="图书馆员", role="operator", department="library")])
    session.commit()
    emulator.add_cas_users({"username": "sess-admin", "password": "pw"}, {"username": "sess-lib", "password": "pw"})
    admin, _ = browser_login(live.url, "sess-admin", "pw")
    librarian, _ = browser_login(live.url, "sess-lib", "pw")
    other_pc = copy_of(librarian)
    assert librarian.get(f"{live.url}/console/", allow_redirects=False, timeout=TIMEOUT).status_code == 200
    target = session.scalars(select(Staff).where(Staff.username == "sess-lib")).one()
    # Someone who is not an administrator cannot do it (the librarian trying it on the admin).
    me_admin = session.scalars(select(Staff).where(Staff.username == "sess-admin")).one()
    refused = post_form(librarian, live.url, "/console/", f"/console/staff/{me_admin.id}/sessions/end")
    assert refused.status_code == 403
    done = post_form(admin, live.url, "/console/staff", f"/console/staff/{target.id}/sessions/end")
    assert done.status_code in (302, 303)
    for browser in (librarian, other_pc):
        answer = browser.get(f"{live.url}/console/", allow_redirects=False, timeout=TIMEOUT)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert admin.get(f"{live.url}/console/staff", timeout=TIMEOUT).status_code == 200
    session.commit()  # a new transaction sees what the app committed
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.sessions_end")).one()
    assert (entry.actor, entry.entity, entry.before, entry.after) == (
        "staff:sess-admin", "staff:sess-lib", {"live_sessions": 1}, {"live_sessions": 0})
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.sessions_end",
                                                    AuditEntry.entity == "staff:sess-admin")).first() is None


def test_a_browser_session_is_no_bearer_token_and_back(app, live, student, session, settings, emulator):
    """The two kinds of rows never stand in for each other, even signed with the right salt."""
    http, _ = browser_login(live.url, student.student_no, "pw")
    web = session.scalars(select(ApiSession).where(ApiSession.student_id == student.id)).one()
    assert me(live.url, sign_session_id(settings.secret_key, web.id)).status_code == 401
    token = token_for(live.url, emulator, "o-kinds")
    session.commit()
    api = session.scalars(select(ApiSession).where(ApiSession.openid == "o-kinds")).one()
    serializer = app.session_interface.get_signing_serializer(app)
    forged = requests.Session()
    forged.cookies.set("session", serializer.dumps({"sid": api.id, "channel": "browser", "_permanent": True}),
                       domain="127.0.0.1")
    assert not signed_in(forged, live.url)
    assert token and signed_in(http, live.url)


def test_devices_are_named_from_their_user_agent():
    assert describe_agent(CHROME) == "Chrome · Windows"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) AppleWebKit MicroMessenger/8.0"
    assert describe_agent(iphone) == "微信 WeChat · iPhone"
    assert describe_agent("Mozilla/5.0 (Linux; Android 14) wxwork/4.1 MicroMessenger/7.0") == "企业微信 WeCom · Android"
    assert describe_agent(None) is None and describe_agent("<script>") == "script"


def test_the_openapi_document_describes_the_session_endpoints(app):
    paths = app.api_doc["paths"]
    assert {"get"} <= set(paths["/api/v1/me/sessions"]) and {"delete"} <= set(paths["/api/v1/me/session"])
    assert "delete" in paths["/api/v1/me/sessions/{handle}"]


def test_a_request_that_changes_nothing_sends_no_cookie_back(live, student):
    """The CI failure of 2026-12-05: the phone's favicon request left with the cookie of the page before, came back
    after the submit page had added its CSRF token to the cookie, and its refreshed copy of the old cookie erased
    the token, so the student's "确认提交" answered "页面已过期". A request that changes nothing in the cookie must
    not send one back."""
    http, _ = browser_login(live.url, student.student_no, "pw")
    before = dict(http.cookies)
    for path in ("/me", "/favicon.ico", "/static/lixiao.css"):
        answer = http.get(live.url + path, allow_redirects=False, timeout=TIMEOUT)
        assert answer.status_code in (200, 404), (path, answer.status_code)
        assert "Set-Cookie" not in answer.headers, path
    token = CSRF.search(http.get(f"{live.url}/me/devices", timeout=TIMEOUT).text)
    assert token and dict(http.cookies) != before  # the token is kept in the cookie: a page with a form sets it
    # An old copy of the cookie (the request in flight) is answered without a cookie that would replace the new one.
    stale = requests.get(f"{live.url}/favicon.ico", cookies=before, timeout=TIMEOUT)
    assert "Set-Cookie" not in stale.headers
    answer = http.post(f"{live.url}/logout", data={"csrf_token": token.group(1)}, allow_redirects=False,
                       timeout=TIMEOUT)
    assert answer.status_code == 302, answer.text[:300]
