"""Emulated WeCom (企业微信) server API (qyapi.weixin.qq.com), served under /qy/cgi-bin/."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import deque
from typing import Any

from flask import Blueprint, Response, jsonify, request

from .state import EmulatorState, get_state, platform_call, wx_error

bp = Blueprint("wecom", __name__, url_prefix="/qy/cgi-bin")

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
        if int(body.get("agentid")) != agentid:
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
