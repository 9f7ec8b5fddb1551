"""Control API for tests and demos (SPEC §7), JSON under /_control/."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from .config import STAFF_ACCOUNTS, UserDataError, parse_cas_users
from .state import CAS_APIS, KNOWN_APIS, Fault, get_state
from .wecom import wecom_openid

bp = Blueprint("control", __name__, url_prefix="/_control")


class ControlError(Exception):
    """A bad control request, answered in the project's error format."""

    def __init__(self, status: int, code: str, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.status, self.code, self.message, self.message_en = (
            status,
            code,
            message,
            message_en,
        )


@bp.errorhandler(ControlError)
def _control_error(exc: ControlError) -> tuple[Response, int]:
    """Render a ControlError as {"error": {...}}."""
    return jsonify(
        {
            "error": {
                "code": exc.code,
                "message": exc.message,
                "message_en": exc.message_en,
            }
        }
    ), exc.status


def _bad(message: str, message_en: str) -> ControlError:
    """Build a 400 BAD_REQUEST error."""
    return ControlError(400, "BAD_REQUEST", message, message_en)


def _body() -> Any:
    """Parse the JSON body whatever its Content-Type (curl users often forget it)."""
    try:
        return json.loads(request.get_data() or b"null")
    except ValueError:
        raise _bad("请求体不是合法的 JSON。", "The body is not valid JSON.") from None


def _text_field(body: Any, name: str) -> str:
    """Read a required non-empty string field."""
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise _bad(
            f"缺少字段 {name}。",
            f"Field {name!r} is required and must be a non-empty string.",
        )
    return value


def _int_field(
    body: dict[str, Any],
    name: str,
    default: int | None = None,
    low: int = 0,
    high: int = 1_000_000,
) -> int | None:
    """Read an optional integer field within bounds."""
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(
            f"字段 {name} 必须是 {low} 到 {high} 之间的整数。",
            f"Field {name!r} must be an integer from {low} to {high}.",
        )
    return value


# -- login codes -----------------------------------------------------------------------------------------


@bp.post("/wx/code")
def mint_wx_code() -> Response:
    """Mint a one-shot wx.login code for an openid (optionally with a unionid)."""
    body = _body()
    openid = _text_field(body, "openid")
    state = get_state()
    with state.lock:
        code = state.mint_code(state.wx_codes, openid)
        state.known_openids.add(openid)
        if isinstance(body.get("unionid"), str) and body["unionid"]:
            state.unionids[openid] = body["unionid"]
    return jsonify({"code": code, "openid": openid})


@bp.post("/wecom/code")
def mint_wecom_code() -> Response:
    """Mint a WeCom OAuth code: a member's userid resolves to itself, anyone else to an openid."""
    body = _body()
    state = get_state()
    with state.lock:
        if isinstance(body, dict) and isinstance(body.get("openid"), str) and body["openid"]:
            subject, member = body["openid"], False
        else:
            userid = _text_field(body, "userid")
            member = userid in state.wecom_members
            subject = userid if member else wecom_openid(state.config.wecom_corpid, userid)
        code = state.mint_code(state.wecom_codes, subject, is_member=member)
    return jsonify({"code": code, "member": member, ("userid" if member else "openid"): subject})


@bp.route("/wecom/members", methods=["GET", "POST"])
def wecom_members() -> Response:
    """List WeCom members, or add some ({"userid"} or a list of them)."""
    state = get_state()
    if request.method == "POST":
        body = _body()
        userids = [_text_field(item, "userid") for item in (body if isinstance(body, list) else [body])]
        with state.lock:
            state.wecom_members.update(userids)
    with state.lock:
        return jsonify(sorted(state.wecom_members))


@bp.put("/wecom/rate_limit")
def wecom_rate_limit() -> Response:
    """Change the per-member messages-per-minute limit and what happens beyond it (drop | error)."""
    body = _body()
    if not isinstance(body, dict):
        raise _bad("请求体必须是对象。", "The body must be a JSON object.")
    state = get_state()
    per_minute = _int_field(body, "per_minute", state.wecom_per_minute, 1, 100_000) or state.wecom_per_minute
    mode = body.get("mode", state.wecom_rate_mode)
    if mode not in ("drop", "error"):
        raise _bad("mode 只能是 drop 或 error。", "mode must be 'drop' or 'error'.")
    with state.lock:
        state.wecom_per_minute, state.wecom_rate_mode = per_minute, mode
    return jsonify({"per_minute": per_minute, "mode": mode})


# -- CAS users -------------------------------------------------------------------------------------------


@bp.route("/cas/users", methods=["GET", "POST"])
def cas_users() -> Response:
    """Upsert CAS users (one object or a list), or list them without passwords."""
    state = get_state()
    if request.method == "POST":
        try:
            users = parse_cas_users(_body())
        except UserDataError as exc:
            raise _bad(f"用户数据有误：{exc}", f"Bad user data: {exc}") from None
        with state.lock:
            for user in users:
                state.cas_users[user.username] = user
                if user.wecom_member:
                    state.wecom_members.add(user.username)
        return jsonify({"count": len(users), "usernames": [u.username for u in users]})
    with state.lock:
        return jsonify([state.cas_users[name].public() for name in sorted(state.cas_users)])


@bp.delete("/cas/users/<username>")
def delete_cas_user(username: str) -> tuple[str, int]:
    """Remove a CAS user (the demo staff accounts always exist)."""
    if username in {userid for userid, _, _ in STAFF_ACCOUNTS}:
        raise ControlError(
            409,
            "STAFF_ACCOUNT",
            "演示工作人员账号不能删除。",
            "Demo staff accounts cannot be removed.",
        )
    state = get_state()
    with state.lock:
        if state.cas_users.pop(username, None) is None:
            raise ControlError(404, "NOT_FOUND", "没有这个用户。", "No such user.")
    return "", 204


# -- messages and quota ----------------------------------------------------------------------------------


@bp.get("/messages")
def messages() -> Response:
    """Every delivered message, oldest first; filter with ?platform= and ?touser=."""
    platform, touser = request.args.get("platform"), request.args.get("touser")
    state = get_state()
    with state.lock:
        found = [
            m
            for m in state.messages
            if (platform is None or m["platform"] == platform) and (touser is None or m["touser"] == touser)
        ]
        return jsonify(found)


@bp.get("/dropped")
def dropped() -> Response:
    """WeCom messages dropped by the per-member rate limit."""
    state = get_state()
    with state.lock:
        return jsonify(list(state.dropped))


@bp.route("/wx/quota", methods=["GET", "PUT"])
def wx_quota() -> Response:
    """Set how many subscribe messages an openid may still receive for a template, or list quotas."""
    state = get_state()
    if request.method == "PUT":
        body = _body()
        openid, template_id = (
            _text_field(body, "openid"),
            _text_field(body, "template_id"),
        )
        count = _int_field(body, "count", None, 0, 1_000_000)
        if count is None:
            raise _bad("缺少字段 count。", "Field 'count' is required.")
        with state.lock:
            state.quota[(openid, template_id)] = count
            state.known_openids.add(openid)
        return jsonify({"openid": openid, "template_id": template_id, "count": count})
    with state.lock:
        return jsonify([{"openid": o, "template_id": t, "count": c} for (o, t), c in sorted(state.quota.items())])


@bp.post("/wx/consent")
def wx_consent() -> Response:
    """The student tapped 允许 (accept) in wx.requestSubscribeMessage: one more message for that template.

    Each message spends one (43101 when none is left), so a message resent after the first one arrived is
    refused unless the student accepted again.
    """
    state = get_state()
    body = _body()
    openid, template_id = _text_field(body, "openid"), _text_field(body, "template_id")
    with state.lock:
        key = (openid, template_id)
        state.quota[key] = state.quota.get(key, state.config.subscribe_default_quota) + 1
        state.known_openids.add(openid)
        return jsonify({"openid": openid, "template_id": template_id, "count": state.quota[key]})


@bp.put("/wx/release")
def wx_release() -> Response:
    """Set the pages of the released mini-program version: [] before the first release, null for any page."""
    body = _body()
    if not isinstance(body, dict) or "pages" not in body:
        raise _bad("缺少字段 pages。", "Field 'pages' is required (a list of page paths, or null).")
    pages = body["pages"]
    if pages is not None and (not isinstance(pages, list) or not all(isinstance(p, str) and p for p in pages)):
        raise _bad("pages 应为页面路径列表或 null。", "'pages' must be a list of page paths or null.")
    state = get_state()
    with state.lock:
        state.released_pages = None if pages is None else frozenset(pages)
    return jsonify({"pages": pages})


# -- faults, stats, reset --------------------------------------------------------------------------------


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def faults() -> Response:
    """Queue a fault ({"api", "errcode"?, "delay_ms"?, "http_status"?, "times"?}), list or clear them."""
    state = get_state()
    if request.method == "POST":
        body = _body()
        api = _text_field(body, "api")
        if api not in KNOWN_APIS:
            raise _bad(
                f"未知接口 {api}，可选：{', '.join(KNOWN_APIS)}。",
                f"Unknown api {api!r}; choose one of {', '.join(KNOWN_APIS)}.",
            )
        errcode = _int_field(body, "errcode", None, -1, 9_999_999)
        if errcode is not None and api in CAS_APIS:
            raise _bad(
                "CAS 接口不使用 errcode，请用 http_status 或 delay_ms。",
                "CAS endpoints have no errcode; use http_status or delay_ms.",
            )
        fault = Fault(
            api=api,
            times=_int_field(body, "times", 1, 1, 100_000) or 1,
            errcode=errcode,
            errmsg=body.get("errmsg") if isinstance(body.get("errmsg"), str) else None,
            delay_ms=_int_field(body, "delay_ms", 0, 0, 120_000) or 0,
            http_status=_int_field(body, "http_status", None, 100, 599),
        )
        if fault.errcode is None and fault.http_status is None and not fault.delay_ms:
            raise _bad(
                "需要 errcode、http_status 或 delay_ms 之一。",
                "One of errcode, http_status or delay_ms is required.",
            )
        state.add_fault(fault)
        return jsonify(fault.public())
    with state.lock:
        if request.method == "DELETE":
            state.faults.clear()
        return jsonify([f.public() for queue in state.faults.values() for f in queue])


@bp.get("/stats")
def stats() -> Response:
    """Successful token fetches and distinct tokens issued per platform, calls per api, message counts."""
    state = get_state()
    families = {"wechat": "wx_token", "wechat_stable": "wx_stable", "wecom": "wecom"}
    with state.lock:
        return jsonify(
            {
                "token_fetches": {name: state.token_fetches[family] for name, family in families.items()},
                "tokens_issued": {name: state.tokens_issued[family] for name, family in families.items()},
                "calls": {api: state.calls[api] for api in KNOWN_APIS},
                "messages": {
                    "wechat": sum(m["platform"] == "wechat" for m in state.messages),
                    "wecom": sum(m["platform"] == "wecom" for m in state.messages),
                },
                "dropped": len(state.dropped),
            }
        )


@bp.get("/config")
def config() -> Response:
    """The emulated platforms' credentials, so a demo backend can be pointed at them."""
    cfg = get_state().config
    return jsonify(
        {
            "wechat": {"appid": cfg.wechat_appid, "secret": cfg.wechat_secret},
            "wecom": {
                "corpid": cfg.wecom_corpid,
                "corpsecret": cfg.wecom_corpsecret,
                "agentid": cfg.wecom_agentid,
            },
            "cas": {"service_patterns": cfg.cas_service_patterns},
        }
    )


@bp.post("/reset")
def reset() -> Response:
    """Forget all runtime state; configured and staff accounts come back."""
    get_state().reset()
    return jsonify({"reset": True})
