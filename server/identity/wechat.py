"""The WeChat mini-program platform, through wechatpy 1.8.18: login codes and subscribe messages.

One client per app, pointed at `settings.wx_api_base` (real host or emulator, reference §4.3). Its access
token comes from `stable_token`, is fetched under a Redis lock and stored once in Redis for every process;
`auto_retry` is off and a refused token is refreshed once (`call_with_token`). Every request has a timeout.
`session_key` never leaves the server: it is kept in Redis under our session id and never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import redis
from flask import current_app
from wechatpy import WeChatClient
from wechatpy.session.redisstorage import RedisStorage

from server.identity.platform import (
    TOKEN_STORE_PREFIX,
    PlatformError,
    SharedTokenMixin,
    TimeoutSession,
    call_with_token,
    login_error,
    raise_for_errcode,
    translated,
)
from server.settings import Settings
from server.state import app_state

log = logging.getLogger(__name__)

_EXTENSION = "lixiao.wechat"
SESSION_KEY_PREFIX = "lixiao:wx_session_key:"


class MiniProgramClient(SharedTokenMixin, WeChatClient):
    """wechatpy's client with our base URL, shared token, no unbounded retry and timeouts everywhere."""

    def __init__(self, settings: Settings, store: redis.Redis) -> None:
        super().__init__(settings.wx_appid, settings.wx_secret, session=RedisStorage(store, prefix=TOKEN_STORE_PREFIX),
                         timeout=settings.outside_timeout_seconds, auto_retry=False)
        self._store = store
        self._base = settings.wx_api_base
        self._http = TimeoutSession(settings.outside_timeout_seconds)
        # Three knobs (reference §4.3): the client, its wxa API (own class-level host) and the token URL below.
        self.API_BASE_URL = self._base + "cgi-bin/"
        self.wxa.API_BASE_URL = self._base

    def _request_token(self) -> dict[str, Any]:
        """`stable_token` in normal mode: every caller gets the same token while it is valid."""
        response = self._http.post(self._base + "cgi-bin/stable_token", timeout=self.timeout, json={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret, "force_refresh": False})
        return raise_for_errcode(self, response)


def build_wechat_client(settings: Settings, store: redis.Redis) -> MiniProgramClient:
    """A client for explicit wiring (workers, scripts)."""
    return MiniProgramClient(settings, store)


def wechat_client() -> MiniProgramClient:
    """The current app's client (made on first use)."""
    client = current_app.extensions.get(_EXTENSION)
    if client is None:
        state = app_state()
        client = current_app.extensions.setdefault(_EXTENSION, MiniProgramClient(state.settings, state.redis))
    return client  # type: ignore[no-any-return]


@dataclass(frozen=True)
class WxSession:
    """What a login code stands for; `session_key` is hidden from repr so it cannot reach a log by accident."""

    openid: str
    unionid: str | None
    session_key: str = field(repr=False)


def code_to_session(code: str, client: MiniProgramClient | None = None) -> WxSession:
    """Exchange a wx.login code (jscode2session, without the access token wechatpy would fetch first).

    Raises PlatformError: 40029 unknown/expired code, 40163 used code, None/-1 unreachable or busy.
    """
    client = client or wechat_client()
    with translated("wechat"):
        result = client.get("sns/jscode2session", api_base_url=client.wxa.API_BASE_URL, params={
            "appid": client.appid, "secret": client.secret, "js_code": code, "grant_type": "authorization_code",
            "access_token": None,  # requests drops None: no token fetch for an API that needs none
        })
        if not isinstance(result, dict) or not result.get("openid"):
            raise ValueError("jscode2session answered without an openid")
        return WxSession(str(result["openid"]), result.get("unionid"), str(result.get("session_key", "")))


def exchange_login_code(code: str) -> WxSession:
    """code_to_session for a request: platform failures become the API's errors (401, 429, 503)."""
    try:
        return code_to_session(code)
    except PlatformError as exc:
        raise login_error(exc, "微信", "WeChat") from exc


def remember_session_key(store: redis.Redis, api_session_id: str, session_key: str, ttl_seconds: int) -> None:
    """Keep the session_key server-side under our session id; losing it only loses decryption, never login."""
    if not session_key:
        return
    try:
        store.set(SESSION_KEY_PREFIX + api_session_id, session_key, ex=ttl_seconds)
    except redis.RedisError as exc:
        log.warning("could not store the WeChat session key: %s", type(exc).__name__)


def session_key_for(store: redis.Redis, api_session_id: str) -> str | None:
    """The session_key of one of our sessions, for decrypting data the mini-program sends (never returned)."""
    value = store.get(SESSION_KEY_PREFIX + api_session_id)
    return None if value is None else str(value)


def send_subscribe_message(
    openid: str,
    template_id: str,
    data: dict[str, dict[str, str]],
    *,
    page: str | None = None,
    miniprogram_state: str | None = None,
    lang: str = "zh_CN",
    client: MiniProgramClient | None = None,
) -> int | None:
    """Send one subscribe message; return the platform's msgid.

    Raises PlatformError: `.errcode` 43101 no quota/refused, 47003 a value breaks the keyword rules (errmsg
    names it), 40003 unknown openid, 40037 unknown template; `.retryable` for network, busy and token trouble.
    Sent with `client.post` because wechatpy's helper cannot send `miniprogram_state` or `lang`.
    """
    client = client or wechat_client()
    state = miniprogram_state or app_state().settings.wx_miniprogram_state
    body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data,
                            "miniprogram_state": state, "lang": lang}
    if page:
        body["page"] = page
    result = call_with_token(client, "wechat", lambda token: client.post(
        "message/subscribe/send", params={"access_token": token}, data=body))
    return result.get("msgid") if isinstance(result, dict) else None
