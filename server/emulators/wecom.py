"""Emulated WeCom (企业微信) server API (qyapi.weixin.qq.com), served under /qy/cgi-bin/.

Also the OAuth2 authorize page (open.weixin.qq.com/connect/oauth2/authorize) at /qy/connect/oauth2/authorize:
it answers at once with a redirect to `redirect_uri?code=…&state=…`, the code naming the user given by the
`userid` query parameter or, failing that, the `emu_wecom_userid` cookie (set by the first visit with
`userid`); with neither it shows a one-field form asking for a userid. Members resolve to their userid,
anyone else to a per-corp openid, as with POST /_control/wecom/code.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections import deque
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, redirect, render_template_string, request
from werkzeug.wrappers import Response as BaseResponse  # redirect() builds werkzeug's own

from .state import EmulatorState, get_state, platform_call, wx_error

bp = Blueprint("wecom", __name__, url_prefix="/qy/cgi-bin")
oauth_bp = Blueprint("wecom_oauth", __name__, url_prefix="/qy/connect/oauth2")

USERID_COOKIE = "emu_wecom_userid"

WECOM_FAMILY = ("wecom",)
MSGTYPES = ("text", "textcard", "markdown", "news", "template_card", "image", "file")
RATE_WINDOW = 60.0


def wecom_openid(corpid: str, userid: str) -> str:
    """Return the stable per-corp openid the emulator gives to a non-member."""
    return "wo" + hashlib.sha256(f"{corpid}:{userid}".encode()).hexdigest()[:30]


@bp.get("/gettoken")
@platform_call("wecom_token")
def get_token() -> Response:
    """Return the app's access token; the same one while it is valid, as WeCom documents."""
    state, args = get_state(), request.args
    if args.get("corpid") != state.config.wecom_corpid:
        return wx_error(40013, "invalid corpid")
    if args.get("corpsecret") != state.config.wecom_corpsecret:
        return wx_error(40001, "invalid credential")
    with state.lock:
        token = state.current("wecom") or state.issue_token("wecom", replace=False)
        expires_in = int(token.expires_at - state.now())
        state.token_fetches["wecom"] += 1
    return jsonify(
        {
            "errcode": 0,
            "errmsg": "ok",
            "access_token": token.value,
            "expires_in": expires_in,
        }
    )


def _identity(legacy: bool) -> Response:
    """Resolve an OAuth code to a member's userid or a non-member's openid."""
    state = get_state()
    with state.lock:
        errcode = state.check_token(request.args.get("access_token"), WECOM_FAMILY)
        if errcode:
            return wx_error(40014 if errcode == 40001 else errcode)
        entry = state.redeem_code(state.wecom_codes, request.args.get("code"), used_errcode=40029)
        if isinstance(entry, int):
            return wx_error(entry)
    body: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
    if entry.is_member:
        body.update({"UserId": entry.subject, "DeviceId": ""} if legacy else {"userid": entry.subject})
    else:
        body.update({"OpenId": entry.subject, "DeviceId": ""} if legacy else {"openid": entry.subject})
    return jsonify(body)


@bp.get("/auth/getuserinfo")
@platform_call("wecom_getuserinfo")
def auth_get_user_info() -> Response:
    """Current OAuth identity API: member → userid, non-member → openid."""
    return _identity(legacy=False)


@bp.get("/user/getuserinfo")
@platform_call("wecom_getuserinfo")
def legacy_get_user_info() -> Response:
    """Legacy identity API that wechatpy 1.8.18 calls: UserId / OpenId."""
    return _identity(legacy=True)


def _over_limit(state: EmulatorState, userid: str, now: float) -> bool:
    """Check the per-member messages-per-minute limit (without counting this message)."""
    recent = state.wecom_recent.setdefault(userid, deque())
    while recent and recent[0] <= now - RATE_WINDOW:
        recent.popleft()
    return len(recent) >= state.wecom_per_minute


def _message_problem(body: dict[str, Any], agentid: int) -> Response | None:
    """Validate the message envelope and its content; return the error answer or None."""
    try:
        if int(body.get("agentid", "")) != agentid:
            raise ValueError
    except (TypeError, ValueError):
        return wx_error(40056, "invalid agentid")
    msgtype = body.get("msgtype")
    if msgtype not in MSGTYPES or not isinstance(body.get(msgtype), dict):
        return wx_error(40008, "invalid message type")
    content = body[msgtype]
    required = {
        "text": ("content",),
        "markdown": ("content",),
        "textcard": ("title", "description", "url"),
    }.get(msgtype, ())
    for name in required:
        if not isinstance(content.get(name), str) or not content[name].strip():
            return wx_error(
                44004 if name in ("content", "description") else 41016,
                f"{msgtype}.{name} is empty",
            )
    return None


@bp.post("/message/send")
@platform_call("wecom_send")
def send_message() -> Response:
    """Deliver an app message to members; unknown users come back in invaliduser."""
    state = get_state()
    try:
        body = json.loads(request.get_data() or b"")
    except ValueError:
        body = None
    with state.lock:
        errcode = state.check_token(request.args.get("access_token"), WECOM_FAMILY)
        if errcode:
            return wx_error(40014 if errcode == 40001 else errcode)
        if not isinstance(body, dict):
            return wx_error(47001)
        problem = _message_problem(body, state.config.wecom_agentid)
        if problem is not None:
            return problem
        raw = body.get("touser") or ""
        names = sorted(state.wecom_members) if raw == "@all" else [n for n in str(raw).split("|") if n]
        valid = [n for n in names if n in state.wecom_members]
        invalid = [n.lower() for n in names if n not in state.wecom_members]
        if not valid:
            return wx_error(81013, "user & party & tag all invalid")
        now = state.now()
        limited = [n for n in valid if _over_limit(state, n, now)]
        if limited and state.wecom_rate_mode == "error":
            return wx_error(45009)
        msgtype = body["msgtype"]
        msgid = "emu" + secrets.token_hex(12)
        for userid in valid:
            record = {
                "platform": "wecom",
                "touser": userid,
                "template_id": None,
                "msgtype": msgtype,
                "msg": body[msgtype],
                "data": None,
                "page": body[msgtype].get("url"),
                "agentid": int(body["agentid"]),
                "wecom_msgid": msgid,
            }
            if userid in limited:
                # WeCom documents that messages over the per-member limit are dropped without an error.
                state.dropped.append(record)
                continue
            state.wecom_recent[userid].append(now)
            state.record_message(record)
    answer = {
        "errcode": 0,
        "errmsg": "ok",
        "invaliduser": "|".join(invalid),
        "invalidparty": "",
        "invalidtag": "",
        "msgid": msgid,
    }
    return jsonify(answer)


_CHOOSE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>企业微信授权 WeCom authorize (emulator)</title></head>
<body><main style="max-width:360px;margin:8vh auto;font-family:system-ui,sans-serif">
<h1>企业微信授权（模拟器）</h1><p>WeCom authorize (emulator): who is using WeCom?</p>
{% if message %}<p role="alert">{{ message }}</p>{% endif %}
<form method="get">{% for name, value in params %}
<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
<label for="userid">企业微信账号 userid</label> <input id="userid" name="userid" required>
<button type="submit">继续 Continue</button></form></main></body></html>"""


def _authorize_problem(state: EmulatorState) -> str | None:
    """Check the authorize parameters like WeCom does (appid, scope, trusted redirect domain)."""
    args = request.args
    if args.get("appid") != state.config.wecom_corpid:
        return "appid 与企业 corpid 不符 / appid is not this corp's corpid (40013)"
    if args.get("response_type") != "code" or args.get("scope") not in ("snsapi_base", "snsapi_privateinfo"):
        return "response_type 须为 code，scope 须为 snsapi_base 或 snsapi_privateinfo / bad response_type or scope"
    redirect_uri = args.get("redirect_uri", "")
    if not redirect_uri or not any(re.match(p, redirect_uri) for p in state.config.cas_service_patterns):
        return "redirect_uri 不在可信域名内 / redirect_uri is not a trusted domain (50001)"
    return None


@oauth_bp.get("/authorize")
@platform_call("wecom_authorize")
def authorize() -> BaseResponse:
    """Redirect straight back with a fresh code for the chosen userid (query parameter or cookie)."""
    state = get_state()
    problem = _authorize_problem(state)
    if problem is not None:
        return Response(render_template_string(_CHOOSE, message=problem, params=[]), status=400, mimetype="text/html")
    userid = (request.args.get("userid") or request.cookies.get(USERID_COOKIE) or "").strip()
    if not userid:
        params = [(k, v) for k, v in request.args.items() if k != "userid"]
        return Response(render_template_string(_CHOOSE, message=None, params=params), mimetype="text/html")
    with state.lock:
        member = userid in state.wecom_members
        subject = userid if member else wecom_openid(state.config.wecom_corpid, userid)
        code = state.mint_code(state.wecom_codes, subject, is_member=member)
    target = request.args["redirect_uri"]
    separator = "&" if "?" in target else "?"
    response = redirect(f"{target}{separator}{urlencode({'code': code, 'state': request.args.get('state', '')})}")
    if request.args.get("userid"):
        response.set_cookie(USERID_COOKIE, userid, path="/qy/connect", httponly=True, samesite="Lax")
    return response
