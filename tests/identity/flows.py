"""What a mini-program and a browser do, as plain functions over requests."""

from __future__ import annotations

from typing import Any

import requests

from server.emulators.testing import RunningEmulator, cas_login

TIMEOUT = 10


def wx_login(base: str, emulator: RunningEmulator, openid: str) -> requests.Response:
    """wx.login in the mini-program, then POST the code to our login endpoint."""
    code = emulator.mint_wx_code(openid)
    return requests.post(f"{base}/api/v1/auth/wx-login", json={"code": code}, timeout=TIMEOUT)


def token_for(base: str, emulator: RunningEmulator, openid: str) -> str:
    """A fresh mini-program token (bound or not) for an openid."""
    response = wx_login(base, emulator, openid)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def bind(base: str, token: str, username: str, password: str, http: requests.Session | None = None
         ) -> requests.Response:
    """Open /bind/cas in a web-view, log in at CAS, and return the callback's answer (the final page)."""
    http = http or requests.Session()
    start = http.get(f"{base}/bind/cas", params={"token": token}, allow_redirects=False, timeout=TIMEOUT)
    if start.status_code != 302:
        return start
    answer = cas_login(http, start.headers["Location"], username, password)
    if answer.status_code != 302:
        return answer
    return http.get(answer.headers["Location"], allow_redirects=False, timeout=TIMEOUT)


def me(base: str, token: str, path: str = "/api/v1/me/clearance", **kw: Any) -> requests.Response:
    """GET a student endpoint with a bearer token."""
    return requests.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT, **kw)


def error_code(response: requests.Response) -> str:
    """The code of an error envelope (and check the envelope has both languages)."""
    body = response.json()
    assert body["error"]["message"] and body["error"]["message_en"]
    return str(body["error"]["code"])
