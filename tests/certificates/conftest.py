"""Fixtures for certificate tests: staff with tokens, a submitted student, browser sessions."""

from __future__ import annotations

import itertools
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from server.identity.models import Staff
from server.identity.tokens import issue_token
from server.timeutil import utcnow
from tests.factories import cleared_student, make_batch, student_token, web_session_cookie

_numbers = itertools.count(1)


def make_staff(session, role: str, *, username: str | None = None, name: str = "", **kw: Any) -> Staff:
    """A staff account of the given role."""
    staff = Staff(username=username or f"{role}{next(_numbers)}", name=name, role=role, **kw)
    session.add(staff)
    session.flush()
    return staff


def staff_token(session, settings, staff: Staff) -> str:
    """A bearer token for a staff member, as a staff login would issue."""
    token = issue_token(session, settings.secret_key, channel="browser", now=utcnow(),
                        ttl_seconds=settings.token_ttl_seconds, staff_id=staff.id)
    session.commit()
    return token


def browser_cookie(app, **who: Any) -> str:
    """A signed session cookie value, as `server.web.session.sign_in` would leave it (with its session row)."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_permanent": True, **web_session_cookie(app, **who)})


def browser(app, live, **values: Any) -> requests.Session:
    """A requests session carrying a signed-in browser cookie."""
    http = requests.Session()
    http.cookies.set(app.config["SESSION_COOKIE_NAME"], browser_cookie(app, **values), domain="127.0.0.1")
    return http


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


@dataclass
class Submitted:
    """A student who submitted, with their token and certificate as the API shows it."""

    student: Any
    token: str
    certificate: dict[str, Any]
    application: dict[str, Any]


@pytest.fixture
def submit(session, settings, api):
    """Make a student submit through the API; returns a Submitted."""

    def make(**kw: Any) -> Submitted:
        batch = kw.pop("batch", None) or make_batch(session)
        student = cleared_student(session, batch, **kw)
        token = student_token(session, settings, student)
        client = api(token)
        application = client.post("/api/v1/me/application", json={"confirm": True})
        assert application.status_code == 201, application.text
        certificate = client.get("/api/v1/me/certificate")
        assert certificate.status_code == 200, certificate.text
        return Submitted(student, token, certificate.json(), application.json())

    return make


@pytest.fixture
def counter_client(session, settings, api):
    """An API client for a counter staff member."""
    staff = make_staff(session, "counter", username="counter", name="窗口甲")
    return api(staff_token(session, settings, staff))


@pytest.fixture
def admin_client(session, settings, api):
    """An API client for an administrator."""
    staff = make_staff(session, "admin", username="admin", name="管理员甲")
    return api(staff_token(session, settings, staff))


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def require(ok: bool, what: str) -> None:
    """Skip (fail under CI=true) when a tool the test needs is missing."""
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is required under CI=true")
        pytest.skip(f"{what} is not installed (scripts/ci/services.sh installs it)")


@dataclass
class Portal:
    """The app served on a pre-bound loopback port (its public URL is in its settings), beside a CAS emulator."""

    app: Any
    url: str
    emulator: Any


@pytest.fixture
def portal(app, settings) -> Any:
    """The app with `public_base_url` naming its real port and CAS and WeCom pointing at an emulator; same
    database (the certificate and the browser tests share it)."""
    from werkzeug.serving import make_server

    from server.app import create_app
    from server.emulators.testing import running_emulator

    with running_emulator() as emulator:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        # The socket is bound first so every CAS service URL the app builds names the real port.
        server.app = create_app(settings.with_overrides(
            public_base_url=url, cas_server_url=emulator.cas_url, wecom_api_base=emulator.url + "qy/cgi-bin/",
            wecom_oauth_url=emulator.url + "qy/connect/oauth2/authorize"))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield Portal(server.app, url, emulator)
        server.shutdown()
        thread.join(5)
        server.app.extensions["lixiao"].engine.dispose()


def cas_sign_in(page, portal: Portal, path: str, username: str,
                password: str = "demo") -> None:  # noqa: S107 -- the CAS emulator's documented demo password
    """Open a page that needs a login, log in at the CAS emulator's form, and land back on the page."""
    page.goto(portal.url + path)
    page.wait_for_selector("#username")
    assert page.url.startswith(portal.emulator.cas_url), page.url
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("form [type=submit]").click()
    page.wait_for_url(portal.url + path)


@pytest.fixture
def chromium_page() -> Any:
    """A Chromium page that may only reach loopback servers (ours and the emulators)."""
    require(Path(CHROMIUM).exists(), "Chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1000, "height": 1400}, locale="zh-CN")
        page = context.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1:")
                   else route.abort())
        yield page
        context.close()
        browser.close()
