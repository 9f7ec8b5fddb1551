"""Play the mini-program against a running demo, so the login and binding flow can be seen without WeChat.

    make demo                                   # in one terminal: app on :8000, emulators on :8001
    .venv/bin/python scripts/miniprogram_player.py --student 2099000002

What it does, like the mini-program would: wx.login (a code minted through the emulator's control API),
POST /api/v1/auth/wx-login, open /bind/cas?token=… as the web-view does and log in at the CAS login page
with the student number and password, then GET /api/v1/me/clearance and print it. Only `requests` is used.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin

import requests

TIMEOUT = 10
STATUS = {"passed": "✅ 通过 passed", "not_passed": "❌ 未通过 not passed", "unavailable": "⚪ 暂不可查 unavailable"}
_FORM = re.compile(r'<form[^>]*?action="([^"]*)"', re.IGNORECASE)
_INPUT = re.compile(r"<input[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


class PlayerError(RuntimeError):
    """A step of the flow did not do what the mini-program expects."""


def _json(response: requests.Response, step: str) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            detail = f"{error['code']}: {error['message']} / {error['message_en']}"
        except (ValueError, KeyError, TypeError):
            detail = response.text[:200]
        raise PlayerError(f"{step} failed with HTTP {response.status_code} — {detail}")
    return response.json()  # type: ignore[no-any-return]


def wx_login(base: str, emulator: str, openid: str) -> dict[str, Any]:
    """wx.login → code → our login endpoint."""
    code = _json(requests.post(f"{emulator}/_control/wx/code", json={"openid": openid}, timeout=TIMEOUT),
                 "minting a wx.login code")["code"]
    print(f"1. wx.login() → code {code[:8]}…  (openid {openid})")
    body = _json(requests.post(f"{base}/api/v1/auth/wx-login", json={"code": code}, timeout=TIMEOUT), "wx-login")
    print(f"2. POST /api/v1/auth/wx-login → bound: {body['bound']}")
    return body


def fill_login_form(page: requests.Response, username: str, password: str) -> tuple[str, dict[str, str]]:
    """The CAS login form's target and fields (hidden ones kept), with the credentials filled in."""
    match = _FORM.search(page.text)
    if match is None:
        raise PlayerError("the CAS login page has no form")
    fields: dict[str, str] = {}
    for tag in _INPUT.findall(page.text):
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(tag)}
        if "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "")
    fields.update(username=username, password=password)
    return urljoin(page.url, html.unescape(match.group(1))), fields


def bind(base: str, token: str, username: str, password: str) -> None:
    """Open the binding page as the web-view does and log in at CAS."""
    web_view = requests.Session()
    form_page = web_view.get(f"{base}/bind/cas", params={"token": token}, timeout=TIMEOUT)
    if form_page.status_code != 200 or 'name="password"' not in form_page.text:
        raise PlayerError(f"/bind/cas did not lead to a CAS login page (HTTP {form_page.status_code})")
    print(f"3. web-view /bind/cas?token=… → CAS login page {form_page.url.split('?')[0]}")
    action, fields = fill_login_form(form_page, username, password)
    done = web_view.post(action, data=fields, timeout=TIMEOUT)
    if "绑定成功" not in done.text:
        message = re.search(r'role="alert"[^>]*>([^<]+)<', done.text) or re.search(r"<h1[^>]*>([^<]+)<", done.text)
        raise PlayerError(f"binding failed (HTTP {done.status_code}): "
                          f"{html.unescape(message.group(1)).strip() if message else done.text[:200]}")
    print("4. CAS login → 绑定成功，请返回小程序 / Bound — back to the mini-program")


def _pad(text: str, width: int) -> str:
    """Pad to a terminal width, counting Chinese characters as two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


def show_clearance(body: dict[str, Any]) -> None:
    """Print the clearance like the mini-program's status page."""
    student, batch = body["student"], body.get("batch")
    print()
    print(f"   {student['name']}（{student['student_no']}）{student['college']} · {student['major']}")
    if batch:
        print(f"   批次 Batch: {batch['name']}  ({'开放中 open' if batch['is_open'] else '未开放 closed'})")
    for item in body["items"]:
        print(f"   {_pad(item['title'], 22)}{STATUS.get(item['status'], item['status'])}")
        for reason in item["reasons"]:
            print(f"       · {reason['message']} / {reason['message_en']}")
        for step in item["next_steps"]:
            print(f"       → {step['message']}")
    if body.get("application"):
        print("   已提交离校申请 Clearance submitted.")
    elif body["can_submit"]:
        print("   四项均已通过，可以提交离校申请。 All four passed: you can submit.")
    else:
        for blocker in body.get("submit_blockers", []):
            print(f"   暂不能提交 Cannot submit yet: {blocker['message']} / {blocker['message_en']}")


def play(base: str, emulator: str, student: str, password: str, openid: str) -> None:
    """The whole flow, step by step."""
    login = wx_login(base, emulator, openid)
    token = login["token"]
    if login["bound"]:
        print("3. already bound — no CAS login needed")
    else:
        bind(base, token, student, password)
    response = requests.get(f"{base}/api/v1/me/clearance", headers={"Authorization": f"Bearer {token}"},
                            timeout=TIMEOUT)
    clearance = _json(response, "reading the clearance")
    print("5. GET /api/v1/me/clearance")
    show_clearance(clearance)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the player; 0 on success, 1 when a step failed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--student", default="2099000002", help="student number (the CAS username)")
    parser.add_argument("--password", default="demo", help="CAS password (demo: demo)")
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the Lixiao service")
    parser.add_argument("--emulator", default="http://127.0.0.1:8001", help="the platform emulators")
    parser.add_argument("--openid", default=None, help="WeChat openid to play (default: one per student)")
    args = parser.parse_args(argv)
    base, emulator = args.base.rstrip("/"), args.emulator.rstrip("/")
    try:
        play(base, emulator, args.student, args.password, args.openid or f"o-player-{args.student}")
    except PlayerError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    except requests.RequestException as exc:
        print(f"✗ cannot reach the demo ({type(exc).__name__}); is `make demo` running?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
