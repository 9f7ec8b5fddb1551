"""Cookie flags and security headers on the real browser login (CAS emulator), in development and production."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
import requests

from server.emulators.testing import cas_login
from tests.factories import make_batch, make_student, sign_in_client

TIMEOUT = 10


def session_cookies(response: requests.Response, name: str) -> list[str]:
    """Every Set-Cookie header of the response that sets `name`."""
    return [h for h in response.raw.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]


def flags(header: str) -> dict[str, str]:
    """The attributes of one Set-Cookie header, lower-cased."""
    cookie = SimpleCookie()
    cookie.load(header)
    [morsel] = cookie.values()
    return {k.lower(): str(v) for k, v in morsel.items() if v}


def login_by_hand(base: str, username: str, password: str, cookie_name: str) -> list[requests.Response]:
    """/login → CAS → callback, carrying our cookie by hand (a Secure cookie would not travel over plain HTTP)."""
    http = requests.Session()
    start = http.get(f"{base}/login", params={"next": "/"}, allow_redirects=False, timeout=TIMEOUT)
    assert start.status_code == 302, start.text
    ours = session_cookies(start, cookie_name)[0].split(";")[0].split("=", 1)[1]
    answer = cas_login(http, start.headers["Location"], username, password)
    assert answer.status_code == 302, answer.text
    done = requests.get(answer.headers["Location"], cookies={cookie_name: ours}, allow_redirects=False,
                        timeout=TIMEOUT)
    assert done.status_code == 302 and done.headers["Location"] in ("/", "/me"), done.text  # their own page
    return [start, done]


@pytest.fixture
def student(session, emulator):  # type: ignore[no-untyped-def]
    student = make_student(session, make_batch(session), name="饼干甲")
    session.commit()
    emulator.add_cas_users({"username": student.student_no, "password": "pw"})
    return student


@pytest.mark.parametrize("overrides", [{"env": "development"}, {"env": "production"}],
                         ids=["development", "production"])
def test_login_cookies_are_httponly_lax_and_secure_in_production(app, live, student, overrides):
    name = app.config["SESSION_COOKIE_NAME"]
    production = overrides["env"] == "production"
    for response in login_by_hand(live.url, student.student_no, "pw", name):
        [header] = session_cookies(response, name)
        attributes = flags(header)
        assert "httponly" in attributes and attributes["samesite"] == "Lax", header
        assert ("secure" in attributes) is production, header
        assert attributes["path"] == "/" and "domain" not in attributes, header  # never shared with subdomains
        hsts = response.headers.get("Strict-Transport-Security")
        assert (hsts == "max-age=31536000; includeSubDomains") if production else hsts is None


@pytest.mark.parametrize("overrides", [{"env": "production"}], ids=["production"])
@pytest.mark.parametrize("path", ["/", "/login", "/healthz", "/api/v1/me/clearance", "/v/not-a-token", "/nowhere"])
def test_every_kind_of_answer_carries_the_security_headers(live, path, overrides):
    response = requests.get(live.url + path, allow_redirects=False, timeout=TIMEOUT)
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if " " in part.strip())
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    if path.startswith("/api/"):  # JSON: nothing may load, run, frame it or be submitted from it
        assert directives["default-src"] == "'none'" and directives["form-action"] == "'none'"
        assert "script-src" not in directives  # default-src 'none' covers scripts
    else:
        assert directives["object-src"] == "'none'" and directives["default-src"] == "'self'"
        assert "'unsafe-inline'" not in directives["script-src"] and "'nonce-" in directives["script-src"]
        assert directives["form-action"].startswith("'self'")
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("same-origin", "no-referrer")  # /v/<token> sends none at all
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    if path.startswith("/api/"):
        assert headers["Cache-Control"] == "no-store"


STAFF_PAGES = ["/console/students?q=2099", "/console/students/{student_no}", "/console/blocked/{item}",
               "/console/blocked/{item}.csv", "/admin/progress/blocked", "/admin/progress/never-logged-in",
               "/admin/audit", "/admin/certificates", "/console/certificates/LX2026-000001", "/console/staff",
               "/counter", "/admin", "/console"]


def test_staff_pages_with_personal_data_are_never_cached(app, session) -> None:
    """Review F7: console, admin, counter and export answers (errors too) say no-store; shared PCs keep nothing."""
    from tests.factories import ITEM_KEYS
    from tests.web.conftest import csrf_for, make_staff

    student = make_student(session, make_batch(session), student_no="2099000013")
    session.commit()
    client = app.test_client()
    sign_in_client(client, app, staff_id=make_staff(session, "admin", "admin").id)
    for page in STAFF_PAGES:
        response = client.get(page.format(student_no=student.student_no, item=ITEM_KEYS[0]))
        assert response.status_code < 500 and "/login" not in response.headers.get("Location", ""), page
        assert response.headers.get("Cache-Control") == "no-store", page
        response.close()  # a streamed export keeps its request's context until it is read or closed
    scan = client.post("/counter", data={"qr_text": "v1.not-a-token", "csrf_token": csrf_for(app, client)})
    assert scan.status_code < 500 and scan.headers.get("Cache-Control") == "no-store"
    assert "no-store" not in client.get("/static/lixiao.css").headers.get("Cache-Control", "")  # no personal data
