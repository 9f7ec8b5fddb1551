"""Emulated CAS server (统一身份认证): login form, SSO cookie, logout and CAS 1/2/3 validation."""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape  # escapes what we write; parses nothing  # nosec B406

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template_string,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse  # redirect() builds werkzeug's own

from .state import (
    LOGIN_FORM_TTL,
    EmulatorState,
    ServiceTicket,
    SsoSession,
    get_state,
    now_iso,
    platform_call,
)

bp = Blueprint("cas", __name__, url_prefix="/cas")

SSO_COOKIE = "CASTGC"
CAS_NS = "http://www.yale.edu/tp/cas"

PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>统一身份认证 · Unified Identity Authentication</title>
<style>
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;background:#f3f5f8;margin:0}
main{max-width:360px;margin:8vh auto;background:#fff;padding:24px 28px;border-radius:8px;
box-shadow:0 2px 8px rgba(0,0,0,.08)}
h1{font-size:1.25rem;margin:0 0 4px} .en{color:#555;font-size:.85rem;margin:0 0 16px}
label{display:block;margin:12px 0 4px} input[type=text],input[type=password]{width:100%;box-sizing:border-box;
padding:8px;font-size:1rem} button{margin-top:18px;width:100%;padding:10px;font-size:1rem;background:#0b5cad;
color:#fff;border:0;border-radius:4px} .error{color:#b00020;background:#fdecee;padding:8px;border-radius:4px}
.note{color:#777;font-size:.8rem;margin-top:16px}
</style></head>
<body><main>
<h1>统一身份认证</h1><p class="en">Unified Identity Authentication (emulator)</p>
{% if message %}<p class="error" role="alert" id="msg">{{ message }}</p>{% endif %}
{% if form %}
<form method="post" action="{{ action }}">
<label for="username">用户名 / Username</label>
<input id="username" name="username" type="text" value="{{ username }}" autocomplete="username" required>
<label for="password">密码 / Password</label>
<input id="password" name="password" type="password" value="" autocomplete="current-password" required>
<input type="hidden" name="lt" value="{{ lt }}">
<input type="hidden" name="service" value="{{ service }}">
<input type="hidden" name="_eventId" value="submit">
<button type="submit">登录 / Log in</button>
</form>
<p class="note">本服务为开发与演示用模拟器。 This server is an emulator for development and demos.</p>
{% endif %}
{% if info %}<p id="info">{{ info }}</p>{% endif %}
</main></body></html>
"""


def _page(status: int = 200, **context: Any) -> Response:
    """Render the CAS page (the form or a message)."""
    defaults = {
        "message": None,
        "form": False,
        "info": None,
        "username": "",
        "service": "",
        "lt": "",
        "action": "",
    }
    html = render_template_string(PAGE, **{**defaults, **context})
    return Response(html, status=status, mimetype="text/html")


def _allowed(state: EmulatorState, service: str) -> bool:
    """Check a service URL against the configured patterns."""
    return any(re.match(p, service) for p in state.config.cas_service_patterns)


def _form(state: EmulatorState, service: str, message: str | None = None, username: str = "") -> Response:
    """Show the login form with a fresh one-use login ticket (lt)."""
    lt = "LT-" + secrets.token_urlsafe(24)
    with state.lock:
        state.prune()
        state.login_forms[lt] = state.now()
    action = url_for("cas.login", service=service) if service else url_for("cas.login")
    return _page(
        form=True,
        message=message,
        username=username,
        service=service,
        lt=lt,
        action=action,
    )


def _refused() -> Response:
    """Answer a service URL that is not registered with this CAS server."""
    return _page(
        403,
        message="该应用未在统一身份认证注册，无法登录。 This application is not registered with the identity service.",
    )


def _redirect_with_ticket(state: EmulatorState, service: str, username: str, new_login: bool) -> BaseResponse:
    """Issue a single-use service ticket and send the browser back to the service."""
    ticket = "ST-" + secrets.token_urlsafe(24)
    with state.lock:
        state.prune()
        state.service_tickets[ticket] = ServiceTicket(username, service, state.now(), new_login)
    separator = "&" if "?" in service else "?"
    return redirect(f"{service}{separator}{urlencode({'ticket': ticket})}", code=302)


def _sso_user(state: EmulatorState) -> str | None:
    """Return the user of a valid SSO cookie."""
    tgt = request.cookies.get(SSO_COOKIE, "")
    with state.lock:
        session = state.sso_sessions.get(tgt)
        if session is None:
            return None
        if state.now() - session.created_at >= state.config.cas_sso_ttl_seconds:
            del state.sso_sessions[tgt]
            return None
        return session.username


def _flag(value: str | None) -> bool:
    """Read a CAS boolean parameter."""
    return value is not None and value.lower() in ("true", "1", "yes", "")


@bp.route("/login", methods=["GET", "POST"])
@platform_call("cas_login")
def login() -> BaseResponse:
    """Show the form, check credentials, or redirect at once when an SSO session exists."""
    state = get_state()
    service = (request.form.get("service") if request.method == "POST" else None) or request.args.get("service", "")
    if service and not _allowed(state, service):
        return _refused()
    if request.method == "GET":
        user = None if _flag(request.args.get("renew")) else _sso_user(state)
        if user is not None:
            if service:
                return _redirect_with_ticket(state, service, user, new_login=False)
            return _page(info=f"您已登录：{user}。 You are logged in as {user}.")
        if service and _flag(request.args.get("gateway")):
            return redirect(service, code=302)
        return _form(state, service)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    with state.lock:
        issued = state.login_forms.pop(request.form.get("lt", ""), None)
        form_ok = issued is not None and state.now() - issued < LOGIN_FORM_TTL
        account = state.cas_users.get(username)
    if not form_ok:
        return _form(
            state,
            service,
            "登录页面已过期，请重新登录。 The login page expired; please log in again.",
        )
    if account is None or not hmac.compare_digest(account.password.encode(), password.encode()):
        return _form(
            state,
            service,
            "用户名或密码错误。 Wrong username or password.",
            username=username,
        )
    tgt = "TGT-" + secrets.token_urlsafe(32)
    with state.lock:
        state.sso_sessions[tgt] = SsoSession(username, state.now())
    if service:
        response = _redirect_with_ticket(state, service, username, new_login=True)
    else:
        response = _page(info=f"登录成功：{username}。 Logged in as {username}.")
    response.set_cookie(SSO_COOKIE, tgt, path="/cas", httponly=True, samesite="Lax")
    return response


@bp.get("/logout")
@platform_call("cas_logout")
def logout() -> BaseResponse:
    """End the SSO session; go back to `service` (CAS 3) or `url` (CAS 2) when it is allowed."""
    state = get_state()
    with state.lock:
        state.sso_sessions.pop(request.cookies.get(SSO_COOKIE, ""), None)
    target = request.args.get("service") or request.args.get("url") or ""
    if target and _allowed(state, target):
        response = redirect(target, code=302)
    else:
        response = _page(info="您已退出统一身份认证。 You have logged out.")
    response.delete_cookie(SSO_COOKIE, path="/cas")
    return response


def _consume(state: EmulatorState) -> tuple[ServiceTicket | None, str, str]:
    """Take the ticket (tickets die on any validation attempt); return it or a failure code + text."""
    ticket, service = request.args.get("ticket", ""), request.args.get("service", "")
    if not ticket or not service:
        return (
            None,
            "INVALID_REQUEST",
            "'service' and 'ticket' parameters are both required",
        )
    if not ticket.startswith("ST-"):
        return None, "INVALID_TICKET_SPEC", f"Ticket {ticket} is not a service ticket"
    with state.lock:
        entry = state.service_tickets.pop(ticket, None)
        expired = entry is not None and state.now() - entry.created_at >= state.config.cas_ticket_ttl_seconds
    if entry is None or expired:
        return None, "INVALID_TICKET", f"Ticket {ticket} not recognized"
    if entry.service != service:
        text = (
            f"Ticket {ticket} does not match supplied service. The original service was "
            f"{entry.service} and the supplied service was {service}."
        )
        return None, "INVALID_SERVICE", text
    if _flag(request.args.get("renew")) and not entry.from_new_login:
        return (
            None,
            "INVALID_TICKET",
            f"Ticket {ticket} was not issued from a primary credential login",
        )
    return entry, "", ""


def _xml(body: str) -> Response:
    """Wrap a CAS serviceResponse."""
    text = f'<cas:serviceResponse xmlns:cas="{CAS_NS}">\n{body}</cas:serviceResponse>\n'
    return Response(text, content_type="text/xml; charset=utf-8")


def _attributes_xml(attributes: dict[str, Any]) -> str:
    """Render attributes as <cas:name>value</cas:name>, one element per value of a list."""
    lines = []
    for name, value in attributes.items():
        for item in value if isinstance(value, list) else [value]:
            text = str(item).lower() if isinstance(item, bool) else str(item)
            lines.append(f"      <cas:{name}>{escape(text)}</cas:{name}>\n")
    return "".join(lines)


def _service_validate(with_attributes: bool, v3: bool) -> Response:
    """Answer /serviceValidate (CAS 2.0) or /p3/serviceValidate (CAS 3.0)."""
    state = get_state()
    entry, code, text = _consume(state)
    if entry is None:
        return _xml(f'  <cas:authenticationFailure code="{code}">{escape(text)}</cas:authenticationFailure>\n')
    with state.lock:
        account = state.cas_users.get(entry.username)
        attributes = dict(account.attributes) if account else {}
    if v3:
        attributes = {
            **attributes,
            "authenticationDate": now_iso(entry.created_at),
            "isFromNewLogin": entry.from_new_login,
            "longTermAuthenticationRequestTokenUsed": False,
        }
    block = (
        f"    <cas:attributes>\n{_attributes_xml(attributes)}    </cas:attributes>\n"
        if with_attributes and attributes
        else ""
    )
    return _xml(
        f"  <cas:authenticationSuccess>\n    <cas:user>{escape(entry.username)}</cas:user>\n"
        f"{block}  </cas:authenticationSuccess>\n"
    )


@bp.get("/serviceValidate")
@platform_call("cas_validate")
def service_validate_v2() -> Response:
    """CAS 2.0 ticket validation (attributes only if configured)."""
    return _service_validate(with_attributes=get_state().config.cas_v2_attributes, v3=False)


@bp.get("/p3/serviceValidate")
@platform_call("cas_validate")
def service_validate_v3() -> Response:
    """CAS 3.0 ticket validation with <cas:attributes>."""
    return _service_validate(with_attributes=True, v3=True)


@bp.get("/validate")
@platform_call("cas_validate")
def validate_v1() -> Response:
    """CAS 1.0 validation: "yes\\nuser\\n" or "no\\n\\n"."""
    entry, _, _ = _consume(get_state())
    text = f"yes\n{entry.username}\n" if entry else "no\n\n"
    return Response(text, mimetype="text/plain")
