"""Helpers for tests: run the emulators on an ephemeral loopback port and talk to them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import lxml.html
import requests
from cas import CASClient
from flask import Flask
from wechatpy import WeChatClient
from wechatpy.enterprise import WeChatClient as WeComClient
from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_emulator_app, state_of
from .config import EmulatorConfig
from .state import EmulatorState


class _QuietRequestHandler(WSGIRequestHandler):
    """Request handler that keeps test output free of access-log lines."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Skip the access log."""


class ManualClock:
    """A clock tests move by hand; pass it as EmulatorConfig(clock=...)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


class EmulatedWeChatClient(WeChatClient):
    """wechatpy's mini-program client with only its base URLs pointed at the emulator (reference §4.3)."""

    def __init__(self, appid: str, secret: str, base_url: str, **kwargs: Any) -> None:
        super().__init__(appid, secret, **kwargs)
        self._base = base_url
        self.API_BASE_URL = base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = base_url

    def fetch_access_token(self) -> dict[str, Any]:
        """Fetch the token from the emulator instead of the hard-coded host."""
        return self._fetch_access_token(
            url=self._base + "cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret,
            },
        )


class EmulatedWeComClient(WeComClient):
    """wechatpy's WeCom client with only its base URLs pointed at the emulator."""

    def __init__(self, corp_id: str, secret: str, base_url: str, **kwargs: Any) -> None:
        super().__init__(corp_id, secret, **kwargs)
        self._base = base_url
        self.API_BASE_URL = base_url + "qy/cgi-bin/"

    def fetch_access_token(self) -> dict[str, Any]:
        """Fetch the token from the emulator instead of the hard-coded host."""
        return self._fetch_access_token(
            url=self._base + "qy/cgi-bin/gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
        )


@dataclass
class RunningEmulator:
    """A live emulator: its base URL (ends with "/"), app, state and control-API shortcuts."""

    url: str
    app: Flask
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def state(self) -> EmulatorState:
        """The in-memory state (prefer the control API; this is for assertions)."""
        return state_of(self.app)

    @property
    def config(self) -> EmulatorConfig:
        """The configuration the emulator runs with."""
        return self.state.config

    @property
    def cas_url(self) -> str:
        """CAS server URL for python-cas (`server_url`)."""
        return self.url + "cas/"

    def control(self, method: str, path: str, json: Any = None) -> Any:
        """Call the control API and return its JSON; raise on an error status."""
        response = self.http.request(method, self.url + "_control/" + path, json=json, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def mint_wx_code(self, openid: str) -> str:
        """Return a fresh wx.login code for an openid."""
        return self.control("POST", "wx/code", {"openid": openid})["code"]

    def mint_wecom_code(self, userid: str) -> str:
        """Return a fresh WeCom OAuth code for a userid (non-members resolve to an openid)."""
        return self.control("POST", "wecom/code", {"userid": userid})["code"]

    def add_cas_users(self, *users: dict[str, Any]) -> None:
        """Upsert CAS users given as {"username", "password", "attributes"} dicts."""
        self.control("POST", "cas/users", list(users))

    def set_quota(self, openid: str, template_id: str, count: int) -> None:
        """Set a user's remaining subscribe-message quota for a template."""
        self.control(
            "PUT",
            "wx/quota",
            {"openid": openid, "template_id": template_id, "count": count},
        )

    def consent(self, openid: str, template_id: str) -> None:
        """The student accepts one more subscribe message for a template (a tap on 允许)."""
        self.control("POST", "wx/consent", {"openid": openid, "template_id": template_id})

    def release(self, pages: list[str] | None) -> None:
        """Set the released version's pages ([] before the first release; None: any page)."""
        self.control("PUT", "wx/release", {"pages": pages})

    def inject_fault(self, api: str, errcode: int | None = None, times: int = 1, **extra: Any) -> None:
        """Make the next `times` calls of `api` fail with errcode (or delay_ms / http_status in extra)."""
        self.control("POST", "faults", {"api": api, "errcode": errcode, "times": times, **extra})

    def messages(self, platform: str | None = None) -> list[dict[str, Any]]:
        """Every delivered message, oldest first."""
        return self.control("GET", "messages" + (f"?platform={platform}" if platform else ""))

    def stats(self) -> dict[str, Any]:
        """Token fetch counts and calls per api."""
        return self.control("GET", "stats")

    def wechat_client(self, **kwargs: Any) -> EmulatedWeChatClient:
        """A wechatpy mini-program client bound to this emulator."""
        return EmulatedWeChatClient(self.config.wechat_appid, self.config.wechat_secret, self.url, **kwargs)

    def wecom_client(self, **kwargs: Any) -> EmulatedWeComClient:
        """A wechatpy WeCom client bound to this emulator."""
        return EmulatedWeComClient(self.config.wecom_corpid, self.config.wecom_corpsecret, self.url, **kwargs)

    def cas_client(self, service_url: str, version: int = 3) -> Any:
        """A python-cas client for a service URL."""
        return CASClient(version=version, service_url=service_url, server_url=self.cas_url)


def _login_form(page_html: str | bytes, page_url: str | None = None) -> lxml.html.FormElement:
    """The form with a password field, parsed as a browser would (any CAS server's markup, not just ours)."""
    document = lxml.html.document_fromstring(page_html, base_url=page_url)
    forms = [f for f in document.forms if f.xpath('.//input[@type="password"]')]
    if not forms:
        raise AssertionError("the CAS page has no login form")
    return forms[0]


def _filled(form: lxml.html.FormElement, username: str, password: str) -> dict[str, str]:
    """The values the form would submit (hidden lt, execution, csrf tokens…) with the credentials typed in."""
    fields = dict(form.form_values())
    user_inputs = form.xpath('.//input[not(@type) or @type="text" or @type="email"][@name]')
    fields[user_inputs[0].get("name") if user_inputs else "username"] = username
    fields[form.xpath('.//input[@type="password"]/@name')[0]] = password
    return fields


def fill_cas_form(page_html: str | bytes, username: str, password: str) -> dict[str, str]:
    """Collect the login form's fields (hidden ones included) and fill in the credentials."""
    return _filled(_login_form(page_html), username, password)


def cas_login(session: requests.Session, login_url: str, username: str, password: str) -> requests.Response:
    """Log in like a browser would; return the POST's answer (a 302 with the ticket on success).

    The form goes where its `action` says, resolved against the page's address; a form without one posts
    back to the page itself, as HTML specifies (django-cas-server's does that).
    """
    form_page = session.get(login_url, allow_redirects=False, timeout=10)
    if form_page.status_code == 302:
        return form_page  # an SSO session already exists
    form_page.raise_for_status()
    form = _login_form(form_page.content, form_page.url)
    target = form.action or form_page.url  # lxml resolves a relative action against base_url
    return session.post(target, data=_filled(form, username, password), allow_redirects=False, timeout=10)


def ticket_from(response: requests.Response) -> str | None:
    """Return the ticket from a CAS redirect, or None."""
    location = response.headers.get("Location", "")
    tickets = parse_qs(urlparse(location).query).get("ticket")
    return tickets[0] if tickets else None


@contextmanager
def running_emulator(config: EmulatorConfig | None = None, host: str = "127.0.0.1") -> Iterator[RunningEmulator]:
    """Serve a fresh emulator on an ephemeral port in a thread for the duration of the block."""
    app = create_emulator_app(config)
    server = make_server(host, 0, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="lixiao-emulator",
        daemon=True,
    )
    thread.start()
    emulator = RunningEmulator(url=f"http://{host}:{server.port}/", app=app)
    try:
        yield emulator
    finally:
        emulator.http.close()
        server.shutdown()
        thread.join(timeout=5)
