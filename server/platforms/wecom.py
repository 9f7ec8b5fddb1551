"""The WeCom (企业微信) platform, through wechatpy 1.8.18: OAuth identity and app messages (text cards).

Same treatment as the mini-program client (`common`): base URL from `settings.wecom_api_base`, token shared in
Redis, one bounded refresh, timeouts, one error table. Identity uses `auth/getuserinfo` (wechatpy's helper calls
the legacy endpoint).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import redis
from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.session.redisstorage import RedisStorage

from server.platforms.common import (
    TOKEN_STORE_PREFIX,
    Outcome,
    PlatformError,
    SendResult,
    SharedTokenMixin,
    TimeoutSession,
    call_with_token,
    login_error,
    raise_for_errcode,
    send_json,
)
from server.settings import Settings


class WeComAppClient(SharedTokenMixin, WeComClient):
    """wechatpy's WeCom client with our base URL, shared token, no unbounded retry and timeouts."""

    platform = "wecom"

    def __init__(self, settings: Settings, store: redis.Redis) -> None:
        super().__init__(settings.wecom_corpid, settings.wecom_secret,
                         session=RedisStorage(store, prefix=TOKEN_STORE_PREFIX),
                         timeout=settings.outside_timeout_seconds, auto_retry=False)
        self.store = store
        self.settings = settings
        self.agentid = settings.wecom_agentid
        self.API_BASE_URL = settings.wecom_api_base
        self.http = self._http = TimeoutSession(settings.outside_timeout_seconds, proxy_for=self.API_BASE_URL)

    def _request_token(self) -> dict[str, Any]:
        """`gettoken`: WeCom returns the same token while it is valid."""
        response = self.http.get(self.API_BASE_URL + "gettoken", timeout=self.timeout,
                                 params={"corpid": self.corp_id, "corpsecret": self.secret})
        return raise_for_errcode(self, response)


# ---------------------------------------------------------------------- login


@dataclass(frozen=True)
class WeComIdentity:
    """Who an OAuth code names: a member's userid, or only an openid for someone outside the corp."""

    userid: str | None
    openid: str | None


def wecom_identity(client: WeComAppClient, code: str) -> WeComIdentity:
    """Resolve a WeCom OAuth code; raises PlatformError (40029 bad, used or expired code)."""
    result = call_with_token(client, lambda token: client.get(
        "auth/getuserinfo", params={"access_token": token, "code": code}))
    if not isinstance(result, dict):
        raise PlatformError("wecom", None, "malformed answer")
    # The current API says userid/openid; the legacy one UserId/OpenId. Accept both.
    userid = result.get("userid") or result.get("UserId")
    openid = result.get("openid") or result.get("OpenId")
    if not userid and not openid:
        raise PlatformError("wecom", None, "answer names nobody")
    return WeComIdentity(str(userid) if userid else None, str(openid) if openid else None)


def exchange_wecom_code(client: WeComAppClient, code: str) -> WeComIdentity:
    """wecom_identity for a request: platform failures become the API's errors (401, 503)."""
    try:
        return wecom_identity(client, code)
    except PlatformError as exc:
        raise login_error(exc, "企业微信", "WeCom") from exc


def authorize_url(settings: Settings, redirect_uri: str, state: str) -> str:
    """The OAuth2 `snsapi_base` authorize URL that silently sends a WeCom user back with a code."""
    query = urlencode({"appid": settings.wecom_corpid, "redirect_uri": redirect_uri, "response_type": "code",
                       "scope": "snsapi_base", "state": state, "agentid": settings.wecom_agentid})
    return f"{settings.wecom_oauth_url}?{query}#wechat_redirect"


# ---------------------------------------------------------------------- push


def send_textcard(client: WeComAppClient, userid: str, card: Mapping[str, str], *,
                  before_send: Callable[[], None] | None = None) -> SendResult:
    """Send one app message of type textcard to a member, classified by the common error table.

    WeCom silently drops messages over 30 per member per minute, so callers pace themselves.
    """
    body = {"touser": userid, "msgtype": "textcard", "agentid": client.agentid, "textcard": dict(card),
            # WeCom drops an identical message to the same member within the interval: a retry after
            # an unanswered request cannot double it there.
            "enable_duplicate_check": 1, "duplicate_check_interval": 1800}

    def reached(answer: dict[str, Any]) -> SendResult | None:
        # A partly invalid recipient list still answers 0; ours has one member, so that is a refusal.
        if userid.lower() in str(answer.get("invaliduser", "")).split("|"):
            return SendResult(Outcome.PERMANENT, 81013, "user is not a member the app can reach")
        return None

    return send_json(client, "message/send", body, before_send, reached)
