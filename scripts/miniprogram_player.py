"""Play the mini-program against a running demo, so the student's and the counter's flows can be seen without WeChat.

    make demo                                   # in one terminal: app on :8000, emulators on :8001
    .venv/bin/python scripts/miniprogram_player.py --student 2099000002
    .venv/bin/python scripts/miniprogram_player.py --as counter --student 2099000002
    (PORT and EMULATOR_PORT are honoured as `make demo` honours them; --status-only stops after the status.)

What it does, like the mini-program would: wx.login (a code minted through the emulator's control API),
POST /api/v1/auth/wx-login, open /bind/cas?token=… as the web-view does and log in at the CAS login page
with the student number and password, then GET /api/v1/me/clearance and print it; then the card cancellation,
the submission and the certificate. It needs only `requests` and `lxml` (both in the demo's environment), and
reads the CAS page with a real HTML parser, so any CAS server's login form works (one without `action` posts
back to its own address, as HTML says).

`--as counter` plays the counter staff's scanner page instead: the same wx.login and CAS binding with a staff
account (`--staff`, demo: counter/demo), then POST /api/v1/counter/verify with the scanned text — `--qr` (the
verification URL the student flow printed, or a bare token) or else the `--student`'s current certificate, read
from the student's phone. It prints the verdict in Chinese and English and exits 0 for a valid certificate,
3 for a revoked, forged or unknown one, and 1 when a step failed (a staff member the counter refuses included).
"""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

import lxml.html
import requests

TIMEOUT = 10
NOT_VALID = 3  # the exit status for a certificate the counter must not accept
VERDICTS = {"CERTIFICATE_REVOKED": "⛔ 已撤销 Revoked", "CERTIFICATE_INVALID": "❌ 伪造或被篡改 Forged",
            "CERTIFICATE_NOT_FOUND": "❓ 查无此证 Not on record"}
STATUS = {"passed": "✅ 通过 passed", "not_passed": "❌ 未通过 not passed", "unavailable": "⚪ 暂不可查 unavailable"}


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


def _document(page: requests.Response) -> lxml.html.HtmlElement:
    """The page as a browser parses it: the charset the server declared, else the page's own <meta>."""
    declared = "charset=" in page.headers.get("Content-Type", "").lower()
    parser = lxml.html.HTMLParser(encoding=page.encoding if declared else None)
    return lxml.html.document_fromstring(page.content, parser=parser, base_url=page.url)


def login_form(page: requests.Response) -> lxml.html.FormElement | None:
    """The form of a page that has a password field, if any."""
    forms = [f for f in _document(page).forms if f.xpath('.//input[@type="password"]')]
    return forms[0] if forms else None


def fill_login_form(page: requests.Response, username: str, password: str) -> tuple[str, dict[str, str]]:
    """The CAS login form's target and fields (hidden ones kept), with the credentials filled in."""
    form = login_form(page)
    if form is None:
        raise PlayerError("the CAS login page has no form")
    fields = dict(form.form_values())
    user_inputs = form.xpath('.//input[not(@type) or @type="text" or @type="email"][@name]')
    fields[user_inputs[0].get("name") if user_inputs else "username"] = username
    fields[form.xpath('.//input[@type="password"]/@name')[0]] = password
    # No action (or an empty one) means "post to this page"; lxml resolves a relative one against the page URL.
    return form.action or page.url, fields


def _page_message(page: requests.Response) -> str:
    """What an error page says: its alert, else its heading, else the start of its text."""
    document = _document(page)
    for path in ('//*[@role="alert"]', '//*[contains(concat(" ", @class, " "), " alert ")]', "//h1"):
        found = [" ".join(e.text_content().split()) for e in document.xpath(path)]
        if any(found):
            return next(text for text in found if text)
    return " ".join(document.text_content().split())[:200]


def bind(base: str, token: str, username: str, password: str) -> None:
    """Open the binding page as the web-view does and log in at CAS."""
    web_view = requests.Session()
    form_page = web_view.get(f"{base}/bind/cas", params={"token": token}, timeout=TIMEOUT)
    if form_page.status_code != 200 or login_form(form_page) is None:
        raise PlayerError(f"/bind/cas did not lead to a CAS login page (HTTP {form_page.status_code})")
    print(f"3. web-view /bind/cas?token=… → CAS login page {form_page.url.split('?')[0]}")
    action, fields = fill_login_form(form_page, username, password)
    done = web_view.post(action, data=fields, timeout=TIMEOUT)
    # The page that says so, in whichever language the web-view asked for.
    if done.status_code != 200 or not _document(done).xpath('//*[@id="bind-done"]'):
        raise PlayerError(f"binding failed (HTTP {done.status_code}): {_page_message(done)}")
    print(f"4. CAS login → {_page_message(done)}")


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
        print("   各事项均已通过，可以提交离校申请。 Every item passed: you can submit.")
    else:
        for blocker in body.get("submit_blockers", []):
            print(f"   暂不能提交 Cannot submit yet: {blocker['message']} / {blocker['message_en']}")


def sign_in(base: str, emulator: str, username: str, password: str, openid: str) -> dict[str, Any]:
    """wx.login, and the CAS binding when the WeChat identity is not bound yet; the login's answer."""
    login = wx_login(base, emulator, openid)
    if login["bound"]:
        print("3. already bound — no CAS login needed")
    else:
        bind(base, login["token"], username, password)
    return login


def play(base: str, emulator: str, student: str, password: str, openid: str, status_only: bool = False) -> None:
    """The whole flow, step by step."""
    login = sign_in(base, emulator, student, password, openid)
    if not login["bound"]:
        print("   note: this player's WeChat identity now holds the student's binding; a push consent given from"
              " another WeChat account (the demo's) no longer reaches it — pass --openid to play as that account")
    token = login["token"]
    response = requests.get(f"{base}/api/v1/me/clearance", headers={"Authorization": f"Bearer {token}"},
                            timeout=TIMEOUT)
    clearance = _json(response, "reading the clearance")
    print("5. GET /api/v1/me/clearance")
    show_clearance(clearance)
    if not status_only:
        finish(base, token, clearance)


def finish(base: str, token: str, clearance: dict[str, Any]) -> None:
    """The rest of the student's flow: each offered action (the card cancellation), submit, the certificate."""
    auth = {"Authorization": f"Bearer {token}"}
    for item in clearance["items"]:
        for action in item.get("actions", []):
            path = action["path"] if action["path"].startswith("/api/") else f"/api/v1/me{action['path']}"
            _json(requests.post(f"{base}{path}", headers=auth, timeout=TIMEOUT), action["title_en"])
            print(f"6. POST {path} → {action['done']}")
    clearance = _json(requests.get(f"{base}/api/v1/me/clearance", headers=auth, timeout=TIMEOUT), "re-reading")
    if clearance.get("can_submit"):
        _json(requests.post(f"{base}/api/v1/me/application", headers=auth, json={"confirm": True},
                            timeout=TIMEOUT), "submitting")
        print("7. POST /api/v1/me/application → 已提交 submitted")
    elif not clearance.get("application"):
        print("7. 暂不能提交 cannot submit yet: see the items above")
        return
    cert = _json(requests.get(f"{base}/api/v1/me/certificate", headers=auth, timeout=TIMEOUT), "the certificate")
    print(f"8. GET /api/v1/me/certificate → {cert.get('serial', '')} {cert.get('verify_url', '')}")


def shown_certificate(base: str, emulator: str, student: str, password: str, openid: str) -> str:
    """What the student's certificate page shows the counter to scan: the QR code's text."""
    print(f"The student's phone ({student}):")
    token = sign_in(base, emulator, student, password, openid)["token"]
    cert = _json(requests.get(f"{base}/api/v1/me/certificate", headers={"Authorization": f"Bearer {token}"},
                              timeout=TIMEOUT), "reading the student's certificate")
    print(f"5. GET /api/v1/me/certificate → {cert['serial']} shows its QR code")
    return str(cert["qr_text"])


def staff_sign_in(base: str, emulator: str, username: str, password: str, openid: str) -> str:
    """The counter's phone: log in and bind as the staff account, then log in again as the mini-program does."""
    print(f"The counter's phone ({username}):")
    login = sign_in(base, emulator, username, password, openid)
    if not login["bound"]:  # the binding page sends it back, and it logs in again to learn who it now is
        print("   back in the mini-program, which logs in again:")
        login = wx_login(base, emulator, openid)
    staff = login.get("staff")
    who = f"staff {staff['username']} ({staff['role']})" if staff else "not a staff account (a student)"
    print(f"   signed in: {who}")
    return str(login["token"])


def show_verdict(response: requests.Response) -> int:
    """Print what the counter's scanner page would show for the answer; the exit status it means."""
    if response.status_code == 200:
        body = response.json()
        student, cert = body["student"], body["certificate"]
        print(f"✅ 有效 Valid — {cert['serial']} ({body['application']['batch_name']})")
        print(f"   姓名 Name: {student['name']}")
        print(f"   学号 Student number: {student['student_no']}")
        print(f"   学院 College: {student['college']}")
        for handover in cert["handed_over"]:
            print(f"   已交接 Handed over: {handover['title']} {handover['title_en']} · {handover['by']}")
        return 0
    try:
        error = response.json()["error"]
        verdict = VERDICTS[error["code"]]
    except (ValueError, KeyError, TypeError):
        _json(response, "verifying")  # anything else (a refused role, a rate limit) raises with what it said
        raise PlayerError(f"verifying answered HTTP {response.status_code}") from None
    serial = (error.get("certificate") or {}).get("serial")  # a revoked certificate names itself; a forgery not
    print(f"{verdict}{f' — {serial}' if serial else ''} — {error['message']} / {error['message_en']}")
    return NOT_VALID


def play_counter(base: str, emulator: str, args: argparse.Namespace) -> int:
    """Counter staff scan a certificate: sign in, verify, print the verdict; 0 only when it is valid."""
    # The student's phone is the one the student mode plays by default.
    qr_text = args.qr or shown_certificate(base, emulator, args.student, args.password, f"o-player-{args.student}")
    token = staff_sign_in(base, emulator, args.staff, args.staff_password,
                          args.openid or f"o-player-{args.staff}")
    response = requests.post(f"{base}/api/v1/counter/verify", headers={"Authorization": f"Bearer {token}"},
                             json={"qr_text": qr_text}, timeout=TIMEOUT)
    print(f"6. POST /api/v1/counter/verify → HTTP {response.status_code}")
    return show_verdict(response)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the player; 0 on success, 1 when a step failed, NOT_VALID when the counter refused the certificate."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--as", dest="role", choices=("student", "counter"), default="student",
                        help="play the student's phone (default) or the counter staff's scanner")
    parser.add_argument("--student", default="2099000002", help="student number (the CAS username)")
    parser.add_argument("--password", default="demo", help="the student's CAS password (demo: demo)")
    parser.add_argument("--staff", default="counter", help="--as counter: the staff account (demo: counter)")
    parser.add_argument("--staff-password", default="demo", help="--as counter: its CAS password (demo: demo)")
    parser.add_argument("--qr", "--token", dest="qr", default=None,
                        help="--as counter: the scanned text, the verification URL or a bare token"
                             " (default: the --student's current certificate)")
    port, emulator_port = os.environ.get("PORT", "8000"), os.environ.get("EMULATOR_PORT", "8001")
    parser.add_argument("--base", default=f"http://127.0.0.1:{port}", help="the Lixiao service ($PORT)")
    parser.add_argument("--emulator", default=f"http://127.0.0.1:{emulator_port}",
                        help="the platform emulators ($EMULATOR_PORT)")
    parser.add_argument("--status-only", action="store_true", help="stop after printing the status")
    parser.add_argument("--openid", default=None, help="WeChat openid to play (default: one per account)")
    args = parser.parse_args(argv)
    base, emulator = args.base.rstrip("/"), args.emulator.rstrip("/")
    try:
        if args.role == "counter":
            return play_counter(base, emulator, args)
        play(base, emulator, args.student, args.password, args.openid or f"o-player-{args.student}",
             args.status_only)
    except PlayerError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    except requests.RequestException as exc:
        print(f"✗ cannot reach the demo ({type(exc).__name__}); is `make demo` running?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
