"""The WeChat platform, through wechatpy 1.8.18: the mini-program (login codes, subscribe messages, the account's
templates) and the service account (template messages).

One client per app (or per sending thread), pointed at `settings.wx_api_base` or `sa_api_base` (real host or
emulator, reference §4.3). Its access token comes from `stable_token` and is shared through Redis
(`common.SharedTokenMixin`);
`auto_retry` is off and a refused token is refreshed once. Every request has a timeout.
`session_key` never leaves the server: it is kept in Redis under our session id and never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis
from wechatpy import WeChatClient
from wechatpy.session.redisstorage import RedisStorage

from server.platforms.common import (
    TOKEN_STORE_PREFIX,
    PlatformError,
    SendResult,
    SharedTokenMixin,
    TimeoutSession,
    call_with_token,
    login_error,
    raise_for_errcode,
    send_json,
    translated,
)
from server.settings import Settings

log = logging.getLogger(__name__)

SESSION_KEY_PREFIX = "lixiao:wx_session_key:"


class _WeChatApiClient(SharedTokenMixin, WeChatClient):
    """wechatpy's client on a configurable base URL (real host or emulator), its `stable_token` shared through
    Redis, no unbounded retry and timeouts everywhere: what the mini-program and the service account share."""

    platform = "wechat"

    def __init__(self, settings: Settings, store: redis.Redis, *, appid: str, secret: str, base_url: str) -> None:
        super().__init__(appid, secret, session=RedisStorage(store, prefix=TOKEN_STORE_PREFIX),
                         timeout=settings.outside_timeout_seconds, auto_retry=False)
        self.store = store
        self.settings = settings
        self.base_url = base_url
        self.http = self._http = TimeoutSession(settings.outside_timeout_seconds, proxy_for=self.base_url)
        self.API_BASE_URL = self.base_url + "cgi-bin/"

    def _request_token(self) -> dict[str, Any]:
        """`stable_token` in normal mode: every caller gets the same token while it is valid."""
        response = self.http.post(self.base_url + "cgi-bin/stable_token", timeout=self.timeout, json={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret, "force_refresh": False})
        return raise_for_errcode(self, response)


class MiniProgramClient(_WeChatApiClient):
    """The mini-program's client (login codes, subscribe messages, the account's templates)."""

    def __init__(self, settings: Settings, store: redis.Redis) -> None:
        super().__init__(settings, store, appid=settings.wx_appid, secret=settings.wx_secret,
                         base_url=settings.wx_api_base)
        # Three knobs (reference §4.3): the client, its wxa API (own class-level host) and the token URL.
        self.wxa.API_BASE_URL = self.base_url


class ServiceAccountClient(_WeChatApiClient):
    """The service account's (服务号) client, for its template messages and template list.

    Its POSTs (wechatpy's API helpers end in `post`) go through `sender` when one is set, so
    `client.message.send_template` sends with the push path's discipline and answers its `SendResult`.
    """

    def __init__(self, settings: Settings, store: redis.Redis) -> None:
        super().__init__(settings, store, appid=settings.sa_appid, secret=settings.sa_secret,
                         base_url=settings.sa_api_base)
        self.sender: Callable[[str, dict[str, Any]], Any] | None = None

    def post(self, url: str, **kwargs: Any) -> Any:
        """Route a helper's POST through the sender when sending a push; otherwise wechatpy's own request."""
        if self.sender is not None:
            return self.sender(url, dict(kwargs.get("data") or {}))
        return super().post(url, **kwargs)


# ---------------------------------------------------------------------- login


@dataclass(frozen=True)
class WxSession:
    """What a login code stands for; `session_key` is hidden from repr so it cannot reach a log by accident."""

    openid: str
    unionid: str | None
    session_key: str = field(repr=False)


def code_to_session(client: MiniProgramClient, code: str) -> WxSession:
    """Exchange a wx.login code (jscode2session, without the access token wechatpy would fetch first).

    Raises PlatformError: 40029 unknown/expired code, 40163 used code, None/-1 unreachable or busy.
    """
    with translated("wechat"):
        result = client.get("sns/jscode2session", api_base_url=client.wxa.API_BASE_URL, params={
            "appid": client.appid, "secret": client.secret, "js_code": code, "grant_type": "authorization_code",
            "access_token": None,  # requests drops None: no token fetch for an API that needs none
        })
        if not isinstance(result, dict) or not result.get("openid"):
            raise ValueError("jscode2session answered without an openid")
        return WxSession(str(result["openid"]), result.get("unionid"), str(result.get("session_key", "")))


def exchange_login_code(client: MiniProgramClient, code: str) -> WxSession:
    """code_to_session for a request: platform failures become the API's errors (401, 429, 503)."""
    try:
        return code_to_session(client, code)
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


# ---------------------------------------------------------------------- push


def send_subscribe(client: MiniProgramClient, openid: str, template_id: str, page: str, data: Mapping[str, Any], *,
                   before_send: Callable[[], None] | None = None) -> SendResult:
    """Send one subscribe message (reference §2.3), classified by the common error table.

    Sent as raw JSON because wechatpy's helper cannot send `miniprogram_state` or `lang`.
    """
    body = {"touser": openid, "template_id": template_id, "page": page, "data": dict(data),
            "miniprogram_state": client.settings.wx_miniprogram_state, "lang": "zh_CN"}
    return send_json(client, "message/subscribe/send", body, before_send)


# ---------------------------------------------------------------------- the account's templates


@dataclass(frozen=True)
class AccountKeyword:
    """One keyword of a template the account added: its name (办理事项) and its send key (thing7)."""

    name: str
    key: str


@dataclass(frozen=True)
class AccountTemplate:
    """A subscribe-message template as the account holds it (`wxaapi/newtmpl/gettemplate`)."""

    template_id: str
    title: str
    keywords: tuple[AccountKeyword, ...]


def parse_template_content(content: str) -> tuple[AccountKeyword, ...]:
    """The keywords of a template's `content`, lines like "办理事项:{{thing7.DATA}}"."""
    keywords = []
    for line in content.splitlines():
        name, sep, rest = line.partition(":")
        if not sep:
            name, sep, rest = line.partition("：")
        start, end = rest.find("{{"), rest.find(".DATA}}")
        if sep and 0 <= start < end:
            keywords.append(AccountKeyword(name.strip(), rest[start + 2:end].strip()))
    return tuple(keywords)


def account_templates(client: MiniProgramClient) -> list[AccountTemplate]:
    """Every subscribe template the account has added; raises PlatformError."""
    result = call_with_token(client, lambda token: client.get(
        "wxaapi/newtmpl/gettemplate", api_base_url=client.base_url, params={"access_token": token}))
    if not isinstance(result, dict) or not isinstance(result.get("data"), list):
        raise PlatformError("wechat", None, "gettemplate answered without a template list")
    return [AccountTemplate(str(t.get("priTmplId", "")), str(t.get("title", "")),
                            parse_template_content(str(t.get("content", ""))))
            for t in result["data"] if isinstance(t, dict)]
