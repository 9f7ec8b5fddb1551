"""The service account's two doors into Lixiao: its callback URL (follow/unfollow) and the page its menu opens.

Callback (`/wx/service-account/callback`, the console's 服务器地址(URL)):
- GET is the console's URL check: the signature (sha1 of token, timestamp, nonce) must match, then echostr.
- POST carries an event. The signature is checked with wechatpy's `check_signature`; with an EncodingAESKey
  configured only safe (AES) mode is accepted and the body is decrypted with `WeChatCrypto`, whose
  msg_signature also covers the body (plain mode signs only the query). A timestamp more than five minutes
  away and a (timestamp, nonce) already seen change nothing; an event older than the last one applied for
  that follower changes nothing (followers.apply_event). Anything refused answers 403 and touches no row.

Menu page (`/wx/service-account/link`): the signed-in student opens it from the account's menu; OAuth
(snsapi_base, silent) tells us the reader's openid, which is recorded against the student.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, redirect, render_template_string, request, session
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatException
from wechatpy.oauth import WeChatOAuth
from wechatpy.utils import check_signature
from werkzeug.wrappers import Response

from server.messaging import followers
from server.platforms.wechat import ServiceAccountClient
from server.settings import Settings
from server.state import app_state, db
from server.timeutil import utcnow
from server.web.guards import to_login
from server.web.session import browser_student

log = logging.getLogger(__name__)

PREFIX = "/wx/service-account"
bp = Blueprint("service_account", __name__, url_prefix=PREFIX)
CALLBACK_PATH = "/wx/service-account/callback"  # no CSRF token: WeChat signs it instead (server/app.py)
MAX_SKEW_SECONDS = 300
SEEN_PREFIX = "lixiao:sa-callback:"  # + timestamp:nonce of callbacks already applied


def _enabled() -> Settings:
    settings = app_state().settings
    if not settings.sa_appid:
        abort(404)
    return settings


def _signed(settings: Settings) -> tuple[str, str]:
    """The callback's timestamp and nonce, once its signature and age are checked (else 403)."""
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    try:
        check_signature(settings.sa_callback_token, args.get("signature", ""), timestamp, nonce)
    except InvalidSignatureException:
        log.warning("service-account callback with a bad signature refused")
        abort(403)
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
        log.warning("service-account callback with a stale timestamp refused")
        abort(403)
    return timestamp, nonce


@bp.get("/callback")
def verify_url() -> str:
    """The console's check of the callback URL: answer echostr when the signature is right."""
    _signed(_enabled())
    return request.args.get("echostr", "")


@bp.post("/callback")
def callback() -> str:
    """Apply a follow/unfollow event; anything else is acknowledged and ignored."""
    settings = _enabled()
    timestamp, nonce = _signed(settings)
    store, seen = app_state().redis, f"{SEEN_PREFIX}{timestamp}:{nonce}"
    if store.exists(seen):
        return "success"  # a replay (or WeChat's own retry of an event already applied)
    xml = _plain_body(settings, timestamp, nonce)
    try:
        message = parse_message(xml)
    except Exception:  # malformed XML: nothing to apply
        abort(400)
    event = getattr(message, "event", None)
    if message.type == "event" and event in ("subscribe", "unsubscribe"):
        _apply(settings, str(message.source), event == "subscribe", message.create_time)
    store.set(seen, "1", ex=2 * MAX_SKEW_SECONDS)
    return "success"


def _plain_body(settings: Settings, timestamp: str, nonce: str) -> str:
    body = request.get_data(as_text=True)
    if not settings.sa_aes_key:
        return body
    if request.args.get("encrypt_type") != "aes":
        log.warning("plain service-account callback refused: the account is in safe mode")
        abort(403)
    crypto = WeChatCrypto(settings.sa_callback_token, settings.sa_aes_key, settings.sa_appid)
    try:
        return str(crypto.decrypt_message(body, request.args.get("msg_signature", ""), timestamp, nonce))
    except Exception:  # bad signature or appid, or another key's ciphertext: garbage fails in many ways
        log.warning("service-account callback that does not decrypt refused")
        abort(403)


def _apply(settings: Settings, openid: str, following: bool, created: datetime) -> None:
    now, session = utcnow(), db()
    unionid = _unionid(settings, openid) if following else None
    event_at = created.astimezone(UTC) if created.tzinfo else created.replace(tzinfo=UTC)
    followers.apply_event(session, openid, following, event_at, now, unionid)
    session.commit()


def _client(settings: Settings) -> ServiceAccountClient:
    return ServiceAccountClient(settings, app_state().redis)


def _unionid(settings: Settings, openid: str) -> str | None:
    """The follower's unionid (only under an Open Platform account); None if WeChat does not say."""
    try:
        info: dict[str, Any] = _client(settings).user.get(openid)
    except (WeChatException, OSError) as exc:
        log.info("user/info for a new follower failed: %s", type(exc).__name__)
        return None
    return info.get("unionid") or None


# ---------------------------------------------------------------------- the menu's page

_LINKED = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>服务号通知 Service account</title></head>
<body><main style="max-width:420px;margin:8vh auto;font-family:system-ui,sans-serif">
<h1>已关联服务号 Linked</h1>
{% if following %}<p>离校事项有进展时，将通过本服务号通知你。</p>
<p>You will be notified through this service account when a clearance item changes.</p>
{% else %}<p>关注本服务号后即可收到离校进展通知。</p><p>Follow this service account to be notified.</p>{% endif %}
<p><a href="/me">查看离校进度 See my clearance</a></p></main></body></html>"""


def _oauth(settings: Settings) -> WeChatOAuth:
    oauth = WeChatOAuth(settings.sa_appid, settings.sa_secret,
                        settings.public_base_url.rstrip("/") + PREFIX + "/link", scope="snsapi_base")
    oauth.API_BASE_URL = settings.sa_api_base
    oauth.OAUTH_BASE_URL = settings.sa_oauth_url.removesuffix("oauth2/authorize")
    return oauth


@bp.get("/link")
def link() -> Response | str:
    """Learn the reader's service-account openid by silent OAuth and record it against the signed-in student."""
    settings = _enabled()
    student = browser_student()
    if student is None:
        return to_login("请先登录", "Please sign in first")
    oauth = _oauth(settings)
    code, state = request.args.get("code"), request.args.get("state", "")
    if not code:
        session["sa_state"] = oauth.state = secrets.token_urlsafe(16)
        return redirect(oauth.authorize_url)
    if not state or not secrets.compare_digest(state, session.pop("sa_state", "")):
        abort(400)
    try:
        answer = oauth._get("sns/oauth2/access_token", timeout=settings.outside_timeout_seconds, params={
            "appid": settings.sa_appid, "secret": settings.sa_secret, "code": code,
            "grant_type": "authorization_code"})
    except (WeChatException, OSError):
        abort(502)
    openid, now, dbs = str(answer["openid"]), utcnow(), db()
    followers.link_by_oauth(dbs, openid, student.id, now)
    info = _follow_state(settings, openid)
    if info is not None:
        since = datetime.fromtimestamp(int(info.get("subscribe_time") or 0), UTC)
        followers.apply_event(dbs, openid, bool(info.get("subscribe")), since, now, info.get("unionid"))
    dbs.commit()
    return render_template_string(_LINKED, following=bool(info and info.get("subscribe")))


def _follow_state(settings: Settings, openid: str) -> dict[str, Any] | None:
    try:
        return dict(_client(settings).user.get(openid))
    except (WeChatException, OSError):
        return None


def link_url(settings: Settings) -> str:
    """The address to put in the service account's menu."""
    return quote(settings.public_base_url.rstrip("/") + PREFIX + "/link", safe=":/")
