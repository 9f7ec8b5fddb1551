"""Emulated WeChat service account (服务号) under /sa/: followers, template messages, OAuth and callback events.

The real account lives on api.weixin.qq.com like the mini-program; here it has its own prefix so one emulator
can be both apps (LIXIAO_SA_API_BASE=http://127.0.0.1:8001/sa/). Template messages follow the 2023 rules:
only the template's keywords (no `first`/`remark`), keyword values under the subscribe-message limits.
Errors: 40003 unknown openid, 43004 not following, 40037 template not in the account, 47003 bad data,
45009 the account's daily limit. Follow and unfollow reach the app's callback URL signed with its token,
and in safe mode AES-encrypted with wechatpy's WeChatCrypto, exactly as WeChat sends them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Blueprint, Response, jsonify, redirect, render_template_string, request
from wechatpy.crypto import WeChatCrypto
from werkzeug.wrappers import Response as BaseResponse

from .state import EmulatorState, get_state, platform_call, wx_error
from .wechat import _json_body, _page_allowed, keyword_type, value_problem

bp = Blueprint("service_account", __name__, url_prefix="/sa")
control_bp = Blueprint("service_account_control", __name__, url_prefix="/_control/sa")

SA_TOKEN_FAMILIES = ("sa_token", "sa_stable")
DEMO_APPID = "wx00000000demosa01"
DEMO_SECRET = "demo-service-account-secret"
DEMO_CALLBACK_TOKEN = "demo-sa-callback-token"
DEMO_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, the emulator's own

# The account's private templates (get_all_private_template), chosen from the 教育 category library.
DEMO_TEMPLATES: tuple[dict[str, str], ...] = (
    {"template_id": "demo-sa-item-passed", "title": "事项办理完成通知",
     "content": "办理事项:{{thing1.DATA}}\n办理结果:{{phrase2.DATA}}\n办理时间:{{time3.DATA}}"},
    {"template_id": "demo-sa-all-passed", "title": "离校审核通过通知",
     "content": "学生姓名:{{thing1.DATA}}\n审核结果:{{phrase2.DATA}}\n通过时间:{{time3.DATA}}"},
    {"template_id": "demo-sa-certificate-issued", "title": "证明开具成功通知",
     "content": "证明编号:{{character_string1.DATA}}\n学生姓名:{{thing2.DATA}}\n开具时间:{{time3.DATA}}"},
    {"template_id": "demo-sa-batch-closing", "title": "办理截止提醒",
     "content": "办理批次:{{thing1.DATA}}\n截止时间:{{time2.DATA}}"},
)


@dataclass
class Follower:
    """One user of the service account: its openid, the unionid (one Open Platform account) and follow state."""

    openid: str
    unionid: str | None
    following: bool
    changed_at: float


@dataclass
class ServiceAccountState:
    """What the emulated service account remembers (guarded by the emulator's lock)."""

    appid: str = DEMO_APPID
    secret: str = DEMO_SECRET
    callback_token: str = DEMO_CALLBACK_TOKEN
    aes_key: str = DEMO_AES_KEY
    linked_miniprogram: str | None = None  # None: the mini-program of the emulator config
    callback_url: str | None = None
    callback_mode: str = "safe"  # plain | safe
    daily_limit: int = 100_000
    sent_on: dict[str, int] = field(default_factory=dict)  # UTC+8 day -> template messages sent
    followers: dict[str, Follower] = field(default_factory=dict)
    templates: dict[str, dict[str, str]] = field(
        default_factory=lambda: {t["template_id"]: dict(t) for t in DEMO_TEMPLATES})
    oauth_codes: dict[str, tuple[str, float, bool]] = field(default_factory=dict)  # code -> (openid, at, used)
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # what was posted to the app, and its answer


def sa_state(state: EmulatorState) -> ServiceAccountState:
    """The service account's part of the emulator state (made afresh after a reset)."""
    with state.lock:
        if getattr(state, "service_account", None) is None:
            state.service_account = ServiceAccountState()
        return state.service_account


def template_keywords(content: str) -> list[str]:
    """The keyword keys of a template's content ("办理事项:{{thing1.DATA}}" -> thing1)."""
    keys = []
    for line in content.splitlines():
        start, end = line.find("{{"), line.find(".DATA}}")
        if 0 <= start < end:
            keys.append(line[start + 2:end].strip())
    return keys


def _day(now: float) -> str:
    return datetime.fromtimestamp(now + 8 * 3600, tz=UTC).strftime("%Y-%m-%d")  # the platform's day is Beijing's


# -- tokens --------------------------------------------------------------------------------------------------


@bp.post("/cgi-bin/stable_token")
@platform_call("sa_stable_token")
def stable_token() -> Response:
    """The service account's stable token (same rules as the mini-program's, its own family)."""
    state, body = get_state(), _json_body()
    sa = sa_state(state)
    if body is None:
        return wx_error(47001)
    if body.get("appid") != sa.appid:
        return wx_error(40013)
    if body.get("secret") != sa.secret:
        return wx_error(40125, "invalid appsecret")
    with state.lock:
        token = state.current("sa_stable")
        if token is None or token.expires_at - state.now() < 300 or body.get("force_refresh") is True:
            token = state.issue_token("sa_stable", replace=body.get("force_refresh") is True)
        state.token_fetches["sa_stable"] += 1
        return jsonify({"access_token": token.value, "expires_in": int(token.expires_at - state.now())})


def _token_problem(state: EmulatorState) -> Response | None:
    errcode = state.check_token(request.args.get("access_token"), SA_TOKEN_FAMILIES)
    return wx_error(errcode) if errcode else None


# -- template messages ---------------------------------------------------------------------------------------


def _data_problem(template: dict[str, str], data: Any) -> str | None:
    """The 47003 errmsg for template data that breaks the 2023 rules, or None."""
    if not isinstance(data, dict) or not data:
        return "argument invalid! data is empty"
    keywords = template_keywords(template["content"])
    for key in data:
        if key not in keywords:  # `first`/`remark` are gone since 2023; any other key is a mistake
            return f"argument invalid! data.{key} is not a keyword of the template"
    for key in keywords:
        entry = data.get(key)
        problem = value_problem(keyword_type(key), entry.get("value") if isinstance(entry, dict) else None)
        if problem is not None:
            return f"argument invalid! data.{key}.value {problem}"
    return None


def _jump_problem(state: EmulatorState, sa: ServiceAccountState, body: dict[str, Any]) -> Response | None:
    url, mini = body.get("url"), body.get("miniprogram")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        return wx_error(47003, "argument invalid! url")
    if mini is None:
        return None
    linked = sa.linked_miniprogram or state.config.wechat_appid
    if not isinstance(mini, dict) or mini.get("appid") != linked:
        return wx_error(40165, "invalid weapp appid: not linked to this account")
    page = mini.get("pagepath")
    if not isinstance(page, str) or page.startswith("/") or not _page_allowed(state, page):
        return wx_error(40165, "invalid weapp pagepath")
    return None


@bp.post("/cgi-bin/message/template/send")
@platform_call("sa_template_send")
def send_template() -> Response:
    """Deliver a template message to a follower, if the token, template, data and daily limit allow it."""
    state = get_state()
    sa = sa_state(state)
    with state.lock:
        problem = _token_problem(state)
        if problem is not None:
            return problem
        body = _json_body()
        if body is None:
            return wx_error(47001)
        follower = sa.followers.get(str(body.get("touser")))
        if follower is None:
            return wx_error(40003)
        if not follower.following:
            return wx_error(43004, "require subscribe")
        template = sa.templates.get(str(body.get("template_id")))
        if template is None:
            return wx_error(40037)
        data_problem = _data_problem(template, body.get("data"))
        if data_problem is not None:
            return wx_error(47003, data_problem)
        jump = _jump_problem(state, sa, body)
        if jump is not None:
            return jump
        day = _day(state.now())
        if sa.sent_on.get(day, 0) >= sa.daily_limit:
            return wx_error(45009, "reach max api daily quota limit")
        sa.sent_on[day] = sa.sent_on.get(day, 0) + 1
        msgid = state.record_message({
            "platform": "service_account", "touser": follower.openid, "template_id": template["template_id"],
            "msgtype": "template", "data": body["data"], "url": body.get("url"),
            "miniprogram": body.get("miniprogram"), "page": (body.get("miniprogram") or {}).get("pagepath"),
            "msg": None})
    return jsonify({"errcode": 0, "errmsg": "ok", "msgid": msgid})


@bp.get("/cgi-bin/template/get_all_private_template")
@platform_call("sa_templates")
def all_private_templates() -> Response:
    """The templates the account has chosen, with their keyword content."""
    state = get_state()
    sa = sa_state(state)
    with state.lock:
        problem = _token_problem(state)
        if problem is not None:
            return problem
        return jsonify({"template_list": [
            {**t, "primary_industry": "教育", "deputy_industry": "院校", "example": ""}
            for t in sa.templates.values()]})


@bp.get("/cgi-bin/user/info")
@platform_call("sa_user_info")
def user_info() -> Response:
    """A user's follow state and, for an account under an Open Platform account, the unionid."""
    state = get_state()
    sa = sa_state(state)
    with state.lock:
        problem = _token_problem(state)
        if problem is not None:
            return problem
        follower = sa.followers.get(request.args.get("openid", ""))
        if follower is None:
            return wx_error(40003)
        answer: dict[str, Any] = {"subscribe": int(follower.following), "openid": follower.openid}
        if follower.following:
            answer["subscribe_time"] = int(follower.changed_at)
            if follower.unionid:
                answer["unionid"] = follower.unionid
        return jsonify(answer)


# -- OAuth (snsapi_base): the menu's page learns who is reading ----------------------------------------------

_CHOOSE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>服务号授权 (emulator)</title></head>
<body><main style="max-width:360px;margin:8vh auto;font-family:system-ui,sans-serif">
<h1>服务号网页授权（模拟器）</h1><p>Service account OAuth (emulator): which follower opens the page?</p>
{% if message %}<p role="alert">{{ message }}</p>{% endif %}
<form method="get">{% for name, value in params %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<label for="openid">openid</label> <input id="openid" name="openid" required>
<button type="submit">继续 Continue</button></form></main></body></html>"""


@bp.get("/connect/oauth2/authorize")
@platform_call("sa_authorize")
def authorize() -> BaseResponse:
    """Redirect back with a one-shot code for the chosen openid (?openid= or a form), scope snsapi_base."""
    state, args = get_state(), request.args
    sa = sa_state(state)
    if args.get("appid") != sa.appid or args.get("scope") != "snsapi_base" or args.get("response_type") != "code":
        message = "appid、scope 或 response_type 有误 / bad appid, scope or response_type"
        return Response(render_template_string(_CHOOSE, message=message, params=[]), status=400)
    openid = (args.get("openid") or "").strip()
    if not openid:
        params = [(k, v) for k, v in args.items() if k != "openid"]
        return Response(render_template_string(_CHOOSE, message=None, params=params), mimetype="text/html")
    code = secrets.token_hex(16)
    with state.lock:
        sa.oauth_codes[code] = (openid, state.now(), False)
        sa.followers.setdefault(openid, Follower(openid, None, False, state.now()))
    target = args.get("redirect_uri", "")
    separator = "&" if "?" in target else "?"
    return redirect(f"{target}{separator}{urlencode({'code': code, 'state': args.get('state', '')})}")


@bp.get("/sns/oauth2/access_token")
@platform_call("sa_oauth_token")
def oauth_access_token() -> Response:
    """Exchange an OAuth code for the reader's openid (codes are one-shot and live five minutes)."""
    state, args = get_state(), request.args
    sa = sa_state(state)
    if args.get("appid") != sa.appid or args.get("secret") != sa.secret:
        return wx_error(40125, "invalid appsecret")
    with state.lock:
        entry = sa.oauth_codes.get(args.get("code", ""))
        if entry is None or entry[2] or state.now() - entry[1] > state.config.code_ttl_seconds:
            return wx_error(40163 if entry is not None and entry[2] else 40029)
        sa.oauth_codes[args["code"]] = (entry[0], entry[1], True)
    return jsonify({"access_token": secrets.token_urlsafe(32), "expires_in": 7200, "openid": entry[0],
                    "refresh_token": secrets.token_urlsafe(32), "scope": "snsapi_base"})


# -- callback events -----------------------------------------------------------------------------------------


def event_xml(sa: ServiceAccountState, openid: str, event: str, at: float) -> str:
    """The plain XML of a follow/unfollow event, as WeChat writes it."""
    return (f"<xml><ToUserName><![CDATA[gh_demo_service]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(at)}</CreateTime>"
            f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>")


def signed_post(sa: ServiceAccountState, xml: str, openid: str, at: float) -> tuple[dict[str, str], str]:
    """Query parameters and body of a callback POST: signed with the token, AES-encrypted in safe mode."""
    timestamp, nonce = str(int(at)), secrets.token_hex(5)
    joined = "".join(sorted([sa.callback_token, timestamp, nonce])).encode()
    signature = hashlib.sha1(joined, usedforsecurity=False).hexdigest()  # WeChat's scheme, not our choice
    params = {"signature": signature, "timestamp": timestamp, "nonce": nonce, "openid": openid}
    if sa.callback_mode != "safe":
        return params, xml
    crypto = WeChatCrypto(sa.callback_token, sa.aes_key, sa.appid)
    encrypted = crypto.encrypt_message(xml, nonce, timestamp)
    start = encrypted.index("<MsgSignature><![CDATA[") + len("<MsgSignature><![CDATA[")
    params |= {"encrypt_type": "aes", "msg_signature": encrypted[start:encrypted.index("]]>", start)]}
    return params, encrypted


def _notify(state: EmulatorState, sa: ServiceAccountState, openid: str, event: str) -> dict[str, Any]:
    """Post one event to the app's callback URL (outside the lock) and remember what it answered."""
    record: dict[str, Any] = {"openid": openid, "event": event, "url": sa.callback_url, "status": None}
    if sa.callback_url:
        params, body = signed_post(sa, event_xml(sa, openid, event, state.now()), openid, state.now())
        try:
            answer = requests.post(sa.callback_url, params=params, data=body.encode(), timeout=5,
                                   headers={"Content-Type": "text/xml"})
            record["status"], record["answer"] = answer.status_code, answer.text[:200]
        except requests.RequestException as exc:
            record["error"] = type(exc).__name__
    with state.lock:
        sa.callbacks.append(record)
    return record


# -- control API ---------------------------------------------------------------------------------------------


def _control_body() -> dict[str, Any]:
    body = _json_body()
    return body if body is not None else {}


def _bad(message: str) -> tuple[Response, int]:
    return jsonify({"error": {"code": "BAD_REQUEST", "message": message, "message_en": message}}), 400


@control_bp.post("/follow")
def follow() -> Response | tuple[Response, int]:
    """A user follows the account ({"openid", "unionid"?}); the event is posted to the callback URL."""
    return _set_following(True)


@control_bp.post("/unfollow")
def unfollow() -> Response | tuple[Response, int]:
    """A user unfollows the account ({"openid"}); the event is posted to the callback URL."""
    return _set_following(False)


def _set_following(following: bool) -> Response | tuple[Response, int]:
    body, state = _control_body(), get_state()
    sa = sa_state(state)
    openid = body.get("openid")
    if not isinstance(openid, str) or not openid.strip():
        return _bad("openid is required")
    unionid = body.get("unionid") if isinstance(body.get("unionid"), str) else None
    with state.lock:
        old = sa.followers.get(openid)
        sa.followers[openid] = Follower(openid, unionid or (old.unionid if old else None), following, state.now())
    record = _notify(state, sa, openid, "subscribe" if following else "unsubscribe")
    return jsonify({"openid": openid, "following": following, "callback": record})


@control_bp.route("/config", methods=["GET", "PUT"])
def config() -> Response | tuple[Response, int]:
    """Show or change the callback URL and mode, the daily limit, the linked mini-program and the templates."""
    state = get_state()
    sa = sa_state(state)
    if request.method == "PUT":
        body = _control_body()
        with state.lock:
            if "callback_url" in body:
                sa.callback_url = body["callback_url"] or None
            if body.get("callback_mode") in ("plain", "safe"):
                sa.callback_mode = body["callback_mode"]
            elif "callback_mode" in body:
                return _bad("callback_mode must be plain or safe")
            if isinstance(body.get("daily_limit"), int):
                sa.daily_limit = body["daily_limit"]
            if "linked_miniprogram" in body:
                sa.linked_miniprogram = body["linked_miniprogram"] or None
            if isinstance(body.get("templates"), list):
                sa.templates = {t["template_id"]: dict(t) for t in body["templates"]}
    with state.lock:
        return jsonify({"appid": sa.appid, "callback_url": sa.callback_url, "callback_mode": sa.callback_mode,
                        "daily_limit": sa.daily_limit, "sent_today": sa.sent_on.get(_day(state.now()), 0),
                        "linked_miniprogram": sa.linked_miniprogram or state.config.wechat_appid,
                        "templates": list(sa.templates.values())})


@control_bp.get("/followers")
def followers() -> Response:
    """Every user the account knows, with follow state."""
    state = get_state()
    sa = sa_state(state)
    with state.lock:
        return jsonify([{"openid": f.openid, "unionid": f.unionid, "following": f.following}
                        for f in sa.followers.values()])


@control_bp.get("/callbacks")
def callbacks() -> Response:
    """Every event posted to the app, with the status it answered."""
    state = get_state()
    with state.lock:
        return jsonify(list(sa_state(state).callbacks))

