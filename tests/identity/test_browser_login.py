"""Browser sign-in through CAS (requests following redirects): students, staff, `next`, logout, cookies."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from server.app import create_app
from server.emulators.testing import cas_login
from server.identity.models import Staff
from server.web.links import safe_next
from tests.factories import make_batch, make_student

TIMEOUT = 10


def browser_login(base: str, username: str, password: str, next_path: str | None = None,
                  http: requests.Session | None = None) -> tuple[requests.Session, requests.Response]:
    """GET /login → CAS form → callback; return the browser and the callback's answer (not followed)."""
    http = http or requests.Session()
    start = http.get(f"{base}/login", params={"next": next_path} if next_path else None, allow_redirects=False,
                     timeout=TIMEOUT)
    assert start.status_code == 302, start.text
    answer = cas_login(http, start.headers["Location"], username, password)
    assert answer.status_code == 302, answer.text
    return http, http.get(answer.headers["Location"], allow_redirects=False, timeout=TIMEOUT)


@pytest.fixture
def student(session, emulator):
    student = make_student(session, make_batch(session), name="浏览甲")
    session.commit()
    emulator.add_cas_users({"username": student.student_no, "password": "pw"})
    return student


def test_a_student_signs_in_and_lands_on_next(live, student):
    http, done = browser_login(live.url, student.student_no, "pw", "/me?tab=items")
    assert done.status_code == 302 and done.headers["Location"] == "/me?tab=items"
    cookie = done.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    home = http.get(f"{live.url}/", timeout=TIMEOUT).text
    assert "浏览甲" in home and 'href="/me"' in home and 'href="/console"' not in home


def test_staff_sign_in_and_see_the_console_link(live, session):
    session.add(Staff(username="library", name="图书馆员", role="operator", department="library"))
    session.commit()
    http, done = browser_login(live.url, "library", "demo")
    assert done.headers["Location"] == "/console"  # staff land where they work
    home = http.get(f"{live.url}/", timeout=TIMEOUT).text
    assert 'href="/console"' in home and "图书馆员" in home


def test_a_staff_account_wins_over_a_student_with_the_same_name(live, session, emulator):
    make_student(session, make_batch(session), student_no="dual01", name="双重学生")
    session.add(Staff(username="dual01", name="双重员工", role="viewer"))
    session.commit()
    emulator.add_cas_users({"username": "dual01", "password": "pw"})
    http, _ = browser_login(live.url, "dual01", "pw")
    home = http.get(f"{live.url}/", timeout=TIMEOUT).text
    assert "双重员工" in home and "双重学生" not in home


@pytest.mark.parametrize("evil", ["//evil.example/x", "http://evil.example/", "/\\evil.example", "https:evil",
                                  "javascript:alert(1)", "/ok\r\nLocation: http://evil.example"])
def test_next_never_leaves_the_site(live, student, evil):
    _, done = browser_login(live.url, student.student_no, "pw", evil)
    assert done.headers["Location"] == "/me"  # the student's own home, never the evil target


@pytest.mark.parametrize(("value", "expected"), [
    ("/me", "/me"), ("/console/students?q=1", "/console/students?q=1"), ("", "/"), (None, "/"),
    ("//x", "/"), ("/\\x", "/"), ("me", "/"), ("http://x/", "/"), ("/a\tb", "/"),
])
def test_safe_next(value, expected):
    assert safe_next(value) == expected


def test_someone_outside_the_roster_is_refused(live, emulator):
    emulator.add_cas_users({"username": "visitor02", "password": "pw"})
    http, done = browser_login(live.url, "visitor02", "pw")
    assert done.status_code == 403 and "不在离校名单中" in done.text
    assert 'href="/login">登录</a>' in http.get(f"{live.url}/", timeout=TIMEOUT).text


def test_a_callback_started_by_someone_else_is_refused(live, student, emulator):
    """Login CSRF: an attacker's callback URL (state and ticket) does not sign a victim's browser in."""
    attacker = requests.Session()
    start = attacker.get(f"{live.url}/login", allow_redirects=False, timeout=TIMEOUT)
    answer = cas_login(attacker, start.headers["Location"], student.student_no, "pw")
    victim = requests.Session()
    landed = victim.get(answer.headers["Location"], allow_redirects=False, timeout=TIMEOUT)
    assert landed.status_code == 400 and "登录链接已失效" in landed.text
    assert 'href="/login">登录</a>' in victim.get(f"{live.url}/", timeout=TIMEOUT).text


def test_logout_needs_the_csrf_token_and_ends_at_cas(live, student, settings):
    http, _ = browser_login(live.url, student.student_no, "pw")
    assert http.post(f"{live.url}/logout", allow_redirects=False, timeout=TIMEOUT).status_code == 400
    form = http.get(f"{live.url}/logout", timeout=TIMEOUT).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    out = http.post(f"{live.url}/logout", data={"csrf_token": csrf}, allow_redirects=False, timeout=TIMEOUT)
    assert out.status_code == 302 and out.headers["Location"].startswith(settings.cas_server_url + "logout?")
    assert parse_qs(urlparse(out.headers["Location"]).query)["service"] == [f"{settings.public_base_url}/"]
    assert 'href="/login">登录</a>' in http.get(f"{live.url}/", timeout=TIMEOUT).text


def test_landing_page_offers_login(live):
    page = requests.get(f"{live.url}/", timeout=TIMEOUT)
    assert page.status_code == 200 and 'href="/login">登录</a>' in page.text


def test_session_cookie_is_secure_in_production(settings):
    app = create_app(settings.with_overrides(env="production"))
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    app.extensions["lixiao"].engine.dispose()
