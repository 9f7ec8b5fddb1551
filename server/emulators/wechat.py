"""Emulated WeChat mini-program server API (api.weixin.qq.com), at the paths wechatpy uses."""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
from typing import Any
from urllib.parse import quote

import qrcode
from flask import Blueprint, Response, jsonify, request

from .config import template_keys
from .state import EmulatorState, get_state, platform_call, wx_error

bp = Blueprint("wechat", __name__)

WX_TOKEN_FAMILIES = ("wx_token", "wx_stable")
STABLE_RENEW_BEFORE = 300  # the platform hands out a fresh stable token 5 minutes before expiry

# -- subscribe message keyword rules (reference §2.4) -------------------------------------------------

_DATE = r"\d{4}(?:年(?:0?[1-9]|1[0-2])月(?:0?[1-9]|[12]\d|3[01])日|[-/](?:0?[1-9]|1[0-2])[-/](?:0?[1-9]|[12]\d|3[01]))"
_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_PATTERNS = {
    "number": re.compile(r"^-?\d+(?:\.\d+)?$"),
    "letter": re.compile(r"^[A-Za-z]+$"),
    "symbol": re.compile(r"^[^\w\s]+$"),
    "character_string": re.compile(r"^[\x21-\x7e]+$"),
    "time": re.compile(rf"^(?:{_DATE}\s*)?{_CLOCK}$"),
    "date": re.compile(rf"^{_DATE}(?:\s*{_CLOCK})?$"),
    "amount": re.compile(r"^[¥￥$€£]?\d{1,10}(?:\.\d{1,2})?元?$"),
    "phone_number": re.compile(r"^[0-9+\-()# ]+$"),
    "car_number": re.compile(rf"^[{_CJK}]?[A-Za-z0-9]+[{_CJK}]?$"),
    "phrase": re.compile(rf"^[{_CJK}]+$"),
}
_MAX_LEN = {
    "thing": 20,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "character_string": 32,
    "phone_number": 17,
    "car_number": 8,
    "phrase": 5,
}
_KEY = re.compile(r"^([a-z_]+?)(\d+)$")


def keyword_type(key: str) -> str:
    """Return a template keyword's type, e.g. "thing" for "thing12"."""
    match = _KEY.match(key)
    return match.group(1) if match else key


def value_problem(kind: str, value: Any) -> str | None:
    """Say why a keyword value breaks the platform's rules ("is empty"/"invalid"), or None."""
    if not isinstance(value, str):
        return "invalid"
    if not value.strip():
        return "is empty"
    if len(value) > _MAX_LEN.get(kind, 10_000):
        return "invalid"
    if kind in ("time", "date"):
        parts = [p.strip() for p in value.split("~")]
        return None if len(parts) <= 2 and all(_PATTERNS[kind].match(p) for p in parts) else "invalid"
    if kind == "name":
        has_cjk = re.search(f"[{_CJK}]", value) is not None
        return "invalid" if len(value) > (10 if has_cjk else 20) else None
    pattern = _PATTERNS.get(kind)
    if pattern is not None and not pattern.match(value):
        return "invalid"
    return None


def data_problem(data: Any) -> str | None:
    """Return the 47003 errmsg for the first bad keyword of a subscribe message's data, or None."""
    if not isinstance(data, dict) or not data:
        return "argument invalid! data is empty"
    for key, entry in data.items():
        value = entry.get("value") if isinstance(entry, dict) else None
        problem = value_problem(keyword_type(key), value)
        if problem is not None:
            return f"argument invalid! data.{key}.value {problem}"
    return None


# -- helpers ------------------------------------------------------------------------------------------


def _json_body() -> dict[str, Any] | None:
    """Parse the body as JSON like the platform does (wechatpy sends no Content-Type)."""
    try:
        body = json.loads(request.get_data() or b"")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _page_allowed(state: EmulatorState, page: str) -> bool:
    """Check a page path against the released version's pages (none before the first release), if any."""
    pages = state.released_pages
    return pages is None or page.split("?", 1)[0] in pages


# -- access tokens -----------------------------------------------------------------------------------


@bp.get("/cgi-bin/token")
@platform_call("token")
def get_token() -> Response:
    """Issue a new access token; the previous one stops working (classic getAccessToken)."""
    state, args = get_state(), request.args
    if args.get("grant_type") != "client_credential":
        return wx_error(40002, "invalid grant_type")
    if args.get("appid") != state.config.wechat_appid:
        return wx_error(40013)
    if args.get("secret") != state.config.wechat_secret:
        return wx_error(
            40001,
            "invalid credential, access_token is invalid or not latest, or appsecret wrong",
        )
    with state.lock:
        token = state.issue_token("wx_token", replace=True)
        state.token_fetches["wx_token"] += 1
    return jsonify({"access_token": token.value, "expires_in": state.config.token_ttl_seconds})


@bp.post("/cgi-bin/stable_token")
@platform_call("stable_token")
def get_stable_token() -> Response:
    """Return the current stable token while valid; force_refresh replaces it."""
    state, body = get_state(), _json_body()
    if body is None:
        return wx_error(47001)
    if body.get("grant_type") != "client_credential":
        return wx_error(40002, "invalid grant_type")
    if body.get("appid") != state.config.wechat_appid:
        return wx_error(40013)
    if body.get("secret") != state.config.wechat_secret:
        return wx_error(40125, "invalid appsecret")
    with state.lock:
        token = state.current("wx_stable")
        if body.get("force_refresh") is True:
            token = state.issue_token("wx_stable", replace=True)
        elif token is None or token.expires_at - state.now() < STABLE_RENEW_BEFORE:
            # The old token keeps working until its own expiry, like the platform's overlap.
            token = state.issue_token("wx_stable", replace=False)
        expires_in = int(token.expires_at - state.now())
        state.token_fetches["wx_stable"] += 1
    return jsonify({"access_token": token.value, "expires_in": expires_in})


# -- login --------------------------------------------------------------------------------------------


@bp.get("/sns/jscode2session")
@platform_call("jscode2session")
def code_to_session() -> Response:
    """Exchange a one-shot wx.login code for openid and session_key (no errcode on success)."""
    state, args = get_state(), request.args
    if args.get("appid") != state.config.wechat_appid:
        return wx_error(40013)
    if args.get("secret") != state.config.wechat_secret:
        return wx_error(40125, "invalid appsecret")
    if args.get("grant_type") != "authorization_code":
        return wx_error(40002, "invalid grant_type")
    with state.lock:
        entry = state.redeem_code(state.wx_codes, args.get("js_code"), used_errcode=40163)
        if isinstance(entry, int):
            return wx_error(entry)
        openid = entry.subject
        state.known_openids.add(openid)
        # Every login may rotate the session key, as wx.checkSession documents.
        session_key = base64.b64encode(secrets.token_bytes(16)).decode()
        state.session_keys[openid] = session_key
        body = {"session_key": session_key, "openid": openid}
        if openid in state.unionids:
            body["unionid"] = state.unionids[openid]
    return jsonify(body)


# -- subscribe messages -------------------------------------------------------------------------------


@bp.post("/cgi-bin/message/subscribe/send")
@platform_call("subscribe_send")
def send_subscribe_message() -> Response:
    """Deliver a subscribe message if the token, recipient, data and the user's quota allow it."""
    state = get_state()
    with state.lock:
        errcode = state.check_token(request.args.get("access_token"), WX_TOKEN_FAMILIES)
        if errcode:
            return wx_error(errcode)
        body = _json_body()
        if body is None:
            return wx_error(47001)
        touser, template_id = body.get("touser"), body.get("template_id")
        if not isinstance(touser, str) or touser not in state.known_openids:
            return wx_error(40003)
        known_templates = state.config.wechat_template_ids
        if (
            not isinstance(template_id, str)
            or not template_id
            or (known_templates is not None and template_id not in known_templates)
        ):
            return wx_error(40037)
        problem = data_problem(body.get("data")) or _keys_problem(state, template_id, body.get("data"))
        if problem is not None:
            return wx_error(47003, problem)
        miniprogram_state = body.get("miniprogram_state", "formal")
        if miniprogram_state not in ("developer", "trial", "formal"):
            return wx_error(47003, "argument invalid! miniprogram_state")
        page = body.get("page")
        if page is not None and (
            not isinstance(page, str) or (miniprogram_state == "formal" and not _page_allowed(state, page))
        ):
            return wx_error(41030)
        key = (touser, template_id)
        if state.quota.get(key, state.config.subscribe_default_quota) <= 0:
            return wx_error(43101)
        state.quota[key] = state.quota.get(key, state.config.subscribe_default_quota) - 1
        msgid = state.record_message(
            {
                "platform": "wechat",
                "touser": touser,
                "template_id": template_id,
                "msgtype": "subscribe",
                "data": body.get("data"),
                "page": page,
                "msg": None,
                "miniprogram_state": miniprogram_state,
                "lang": body.get("lang", "zh_CN"),
            }
        )
    return jsonify({"errcode": 0, "errmsg": "ok", "msgid": msgid})


def _keys_problem(state: EmulatorState, template_id: str, data: Any) -> str | None:
    """A key the account's template does not have fails like a bad value (the account fixes the keys)."""
    for template in state.config.wechat_templates:
        if template.get("priTmplId") == template_id:
            unknown = sorted(set(data) - template_keys(template))
            return f"argument invalid! data.{unknown[0]}.value invalid" if unknown else None
    return None


@bp.get("/wxaapi/newtmpl/gettemplate")
@platform_call("gettemplate")
def get_templates() -> Response:
    """The account's own subscribe templates: id, title, and `content` naming each keyword's key."""
    state = get_state()
    with state.lock:
        errcode = state.check_token(request.args.get("access_token"), WX_TOKEN_FAMILIES)
        if errcode:
            return wx_error(errcode)
        data = [dict(t) for t in state.config.wechat_templates]
    return jsonify({"errcode": 0, "errmsg": "ok", "data": data})


# -- mini-program codes -------------------------------------------------------------------------------

_SCENE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+$")


def wxacode_text(appid: str, page: str, scene: str, env_version: str) -> str:
    """Return what the emulated mini-program code encodes (a plain QR standing in for the sun code)."""
    return f"wxacode://{appid}/{page}?scene={quote(scene, safe='')}&env_version={env_version}"


@bp.post("/wxa/getwxacodeunlimit")
@platform_call("wxacode")
def get_wxacode_unlimited() -> Response:
    """Return a PNG QR code for a scene and page; JSON errors like the platform."""
    state = get_state()
    with state.lock:
        errcode = state.check_token(request.args.get("access_token"), WX_TOKEN_FAMILIES)
    if errcode:
        return wx_error(errcode)
    body = _json_body()
    if body is None:
        return wx_error(47001)
    scene, page = body.get("scene"), body.get("page") or "pages/index/index"
    if not isinstance(scene, str) or not scene:
        return wx_error(40097, "invalid args: scene is required")
    if len(scene) > 32:
        return wx_error(40169, "invalid length for scene, or the data is not json string")
    if not _SCENE.match(scene):
        return wx_error(40129, "invalid scene")
    env_version = body.get("env_version", "release")
    if env_version not in ("release", "trial", "develop"):
        return wx_error(40097, "invalid args: env_version")
    check_path = body.get("check_path", True) is not False
    if (
        not isinstance(page, str)
        or page.startswith("/")
        or "?" in page
        or (check_path and not _page_allowed(state, page))
    ):
        return wx_error(41030)
    try:
        width = min(max(int(body.get("width", 430)), 280), 1280)
    except (TypeError, ValueError):
        width = 430
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(wxacode_text(state.config.wechat_appid, page, scene, env_version))
    code.make(fit=True)
    code.box_size = max(1, width // (code.modules_count + 4))
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return Response(buffer.getvalue(), mimetype="image/png")
