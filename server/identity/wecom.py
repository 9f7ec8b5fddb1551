"""The WeCom (企业微信) platform, through wechatpy 1.8.18: OAuth identity and app messages.

Same treatment as the mini-program client: base URL from `settings.wecom_api_base`, token shared in Redis,
bounded refresh, timeouts. Identity uses `auth/getuserinfo` (wechatpy's helper calls the legacy endpoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import redis
from flask import current_app
from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.session.redisstorage import RedisStorage

from server.identity.platform import (
    TOKEN_STORE_PREFIX,
    PlatformError,
    SharedTokenMixin,
    TimeoutSession,
    call_with_token,
    login_error,
    raise_for_errcode,
)
from server.settings import Settings
from server.state import app_state

_EXTENSION = "lixiao.wecom"


class WeComAppClient(SharedTokenMixin, WeComClient):
    """wechatpy's WeCom client with our base URL, shared token, no unbounded retry and timeouts."""

    def __init__(self, settings: Settings, store: redis.Redis) -> None:
        super().__init__(settings.wecom_corpid, settings.wecom_secret,
                         session=RedisStorage(store, prefix=TOKEN_STORE_PREFIX),
                         timeout=settings.outside_timeout_seconds, auto_retry=False)
        self._store = store
        self.agentid = settings.wecom_agentid
        self._http = TimeoutSession(settings.outside_timeout_seconds)
        self.API_BASE_URL = settings.wecom_api_base

    def _request_token(self) -> dict[str, Any]:
        """`gettoken`: WeCom returns the same token while it is valid."""
        response = self._http.get(self.API_BASE_URL + "gettoken", timeout=self.timeout,
                                  params={"corpid": self.corp_id, "corpsecret": self.secret})
        return raise_for_errcode(self, response)


def wecom_client() -> WeComAppClient:
    """The current app's WeCom client (made on first use)."""
    client = current_app.extensions.get(_EXTENSION)
    if client is None:
        state = app_state()
        client = current_app.extensions.setdefault(_EXTENSION, WeComAppClient(state.settings, state.redis))
    return client  # type: ignore[no-any-return]


@dataclass(frozen=True)
class WeComIdentity:
    """Who an OAuth code names: a member's userid, or only an openid for someone outside the corp."""

    userid: str | None
    openid: str | None


def wecom_identity(code: str, client: WeComAppClient | None = None) -> WeComIdentity:
    """Resolve a WeCom OAuth code; raises PlatformError (40029 bad, used or expired code)."""
    client = client or wecom_client()
    result = call_with_token(client, "wecom", lambda token: client.get(
        "auth/getuserinfo", params={"access_token": token, "code": code}))
    if not isinstance(result, dict):
        raise PlatformError("wecom", None, "malformed answer")
    # The current API says userid/openid; the legacy one UserId/OpenId. Accept both.
    userid = result.get("userid") or result.get("UserId")
    openid = result.get("openid") or result.get("OpenId")
    if not userid and not openid:
        raise PlatformError("wecom", None, "answer names nobody")
    return WeComIdentity(str(userid) if userid else None, str(openid) if openid else None)


def exchange_wecom_code(code: str) -> WeComIdentity:
    """wecom_identity for a request: platform failures become the API's errors (401, 503)."""
    try:
        return wecom_identity(code)
    except PlatformError as exc:
        raise login_error(exc, "企业微信", "WeCom") from exc


def authorize_url(settings: Settings, redirect_uri: str, state: str) -> str:
    """The OAuth2 `snsapi_base` authorize URL that silently sends a WeCom user back with a code."""
    query = urlencode({"appid": settings.wecom_corpid, "redirect_uri": redirect_uri, "response_type": "code",
                       "scope": "snsapi_base", "state": state, "agentid": settings.wecom_agentid})
    return f"{settings.wecom_oauth_url}?{query}#wechat_redirect"


def send_wecom_message(touser: str, msgtype: str, content: dict[str, Any], *,
                       client: WeComAppClient | None = None) -> dict[str, Any]:
    """Send an app message (e.g. msgtype "textcard") to members "a|b"; return WeCom's answer (invaliduser…).

    Raises PlatformError (81013 nobody valid, 45009 limits, None unreachable). WeCom silently drops messages
    over 30 per member per minute, so callers should pace themselves.
    """
    client = client or wecom_client()
    body = {"touser": touser, "msgtype": msgtype, "agentid": client.agentid, msgtype: content}
    result = call_with_token(client, "wecom", lambda token: client.post(
        "message/send", params={"access_token": token}, data=body))
    return result if isinstance(result, dict) else {}
