"""Secrets never reach a log: a whole flow runs with every logger at DEBUG, and the logs are searched."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
import requests

from server.departments.credentials import create_key
from server.identity.models import Staff
from server.messaging.worker import Worker
from server.platforms.wechat import SESSION_KEY_PREFIX
from server.timeutil import utcnow
from tests.departments.signing import signed
from tests.factories import ALL_PASSED, make_batch, make_student, set_records
from tests.identity.flows import bind, me, token_for
from tests.identity.test_browser_login import browser_login

TIMEOUT = 10
CAS_PASSWORD = "Cas-Passw0rd-8d1f"  # distinctive, so a leak is easy to find


class Collect(logging.Handler):
    """Keeps every record, formatted the way a production log line would be (traceback included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("server.emulators"):
            return  # the emulators play WeChat and CAS: their side of the wire is not our log
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs(app) -> Iterator[Collect]:  # type: ignore[no-untyped-def]
    """Every logger of the process at DEBUG (werkzeug, urllib3, requests, wechatpy, cas, ours) into one list."""
    handler = Collect()
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    for name in ("werkzeug", "urllib3", "urllib3.connectionpool", "requests", "wechatpy", "cas", "server"):
        loggers.append(logging.getLogger(name))
    levels = {lg: lg.level for lg in loggers}
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    for lg, level in levels.items():
        lg.setLevel(level)


def test_a_whole_flow_logs_no_secret(app, live, emulator, session, settings, debug_logs):
    # Arrange: a cleared student in an open batch who knows their CAS password, and a counter clerk.
    student = make_student(session, make_batch(session), name="日志学生")
    set_records(session, student, ALL_PASSED)
    session.add(Staff(username="counter", name="窗口老师", role="counter"))
    session.commit()
    emulator.add_cas_users({"username": student.student_no, "password": CAS_PASSWORD},
                           {"username": "counter", "password": CAS_PASSWORD})

    # The mini-program: wx.login, bind through CAS, read, submit, fetch the certificate.
    token = token_for(live.url, emulator, "o-logs")
    assert bind(live.url, token, student.student_no, CAS_PASSWORD).status_code == 200
    assert me(live.url, token).status_code == 200
    auth = {"Authorization": f"Bearer {token}"}
    consent = requests.post(f"{live.url}/api/v1/me/subscriptions", json={"accepted": ["certificate_issued"]},
                            headers=auth, timeout=TIMEOUT)
    assert consent.status_code == 200, consent.text
    emulator.set_quota("o-logs", settings.wx_template_certificate_issued, 1)  # WeChat's side of the consent
    assert requests.post(f"{live.url}/api/v1/me/application", headers=auth, json={"confirm": True},
                         timeout=TIMEOUT).status_code == 201
    certificate = me(live.url, token, "/api/v1/me/certificate").json()
    # The push worker sends "certificate issued" as a subscribe message (access_token in the URL).
    state = app.extensions["lixiao"]
    worker = Worker(state.settings, engine=state.engine, redis_client=state.redis, sources=state.sources)
    assert worker.run_once() >= 1
    assert emulator.messages("wechat"), emulator.messages()

    # A departmental system sends a record, signed with its key.
    key = create_key(session, settings.secret_key, "apartment", now=utcnow())
    session.commit()
    sent = signed(live.url, "PUT", f"/api/v1/departments/apartment/records/{student.student_no}",
                  {"move_out_handler": "王管理员"}, key_id=key.key_id, secret=key.secret)
    assert sent.status_code == 200, sent.text

    # Counter staff: WeCom login and a scan through the API, then a browser login and a scan on the page.
    code = emulator.mint_wecom_code("counter")
    staff_token = requests.post(f"{live.url}/api/v1/auth/wecom-login", json={"code": code},
                                timeout=TIMEOUT).json()["token"]
    verified = requests.post(f"{live.url}/api/v1/counter/verify", json={"qr_text": certificate["qr_text"]},
                             headers={"Authorization": f"Bearer {staff_token}"}, timeout=TIMEOUT)
    assert verified.status_code == 200, verified.text
    browser, done = browser_login(live.url, "counter", CAS_PASSWORD, "/counter")
    page = browser.get(f"{live.url}/counter", timeout=TIMEOUT)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    scan = browser.post(f"{live.url}/counter", data={"csrf_token": csrf, "qr_text": certificate["qr_text"]},
                        timeout=TIMEOUT)
    assert scan.status_code == 200 and certificate["serial"] in scan.text

    [session_key_name] = state.redis.keys(SESSION_KEY_PREFIX + "*")
    platform_tokens = [state.redis.get(k) for k in state.redis.keys("lixiao:wechatpy:*") if ":lock:" not in k]
    secrets = {
        "WeChat app secret": settings.wx_secret,
        "WeCom corp secret": settings.wecom_secret,
        "Flask secret key": settings.secret_key,
        "session_key": state.redis.get(session_key_name),
        "student's bearer token": token,
        "staff bearer token": staff_token,
        "browser session cookie": browser.cookies.get(app.config["SESSION_COOKIE_NAME"]),
        "CAS password": CAS_PASSWORD,
        "CSRF token": csrf,
        "department key secret": key.secret,
        **{f"platform access token {i}": t for i, t in enumerate(platform_tokens) if t},
        **{f"certificate private key line {i}": line for i, line in
           enumerate(settings.certificate_private_key.splitlines()) if not line.startswith("-----")},
    }
    assert all(secrets.values()) and platform_tokens, secrets

    logs = "\n".join(debug_logs.lines)
    # The capture worked: werkzeug's request lines, urllib3's outgoing calls and our own lines are there.
    assert "/bind/cas" in logs and "jscode2session" in logs and "serviceValidate" in logs, logs[:2000]
    assert "gettoken" in logs and "/api/v1/counter/verify" in logs and "subscribe/send" in logs
    assert "/api/v1/departments/apartment/records" in logs
    leaked = [name for name, value in secrets.items() if value in logs]
    assert not leaked, f"secrets in the logs: {leaked}"
    assert "[redacted]" in logs  # they were there to hide (URLs carry the secret, the code and the token)
    assert done.status_code == 302
