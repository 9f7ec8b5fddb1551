"""The two outbound calls pushes make: a WeChat subscribe message and a WeCom text card, through wechatpy.

Both share the access-token rules of reference §3: the token lives in Redis (`RedisStorage`) so every
worker uses the same one; WeChat's comes from `stable_token`; wechatpy's own unbounded retry is off
(`auto_retry=False`) and a token error is answered by exactly one refresh and one retry; every call,
the token fetch included, has a timeout.

Errors are classified (`Outcome`):
- ok;
- transient — retried later with backoff: -1 (busy), 45009/45011/45033 (rate limits), 5xx, connection
  failures, and 40001/40014/42001 still failing after the one refresh;
- no_consent — 43101 (the student's quota for this template is used up or they refused);
- permanent — everything else (47003 bad value, 40003 bad openid, 40037 bad template id, 81013 …);
- unconfirmed — the request went out and no answer came back (read timeout): it may have been delivered,
  and neither platform has an idempotency key, so it is not sent again (see worker.py);
- aborted — `before_send` refused, nothing was sent.

Each transport also keeps the token it last read from Redis, with the expiry Redis gave it (never longer than
TOKEN_MEMO_SECONDS), so a push does not cost a Redis round trip; the token is still the one every worker
shares, and a rejected token is answered from Redis (or by one fetch), as above.

`before_send` runs after the token is at hand, the request is built and its connection is open,
immediately before the bytes leave: the worker commits "sending" there (with the previous push's answer),
so the window in which a crash leaves a push's fate unknown is as short as it can be made. A platform
that cannot be reached at all fails before `before_send`, so such a push is simply retried.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import redis
import requests
import urllib3
from wechatpy import WeChatClient
from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from server.settings import Settings

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
RATE_LIMIT_ERRORS = frozenset({45009, 45011, 45033})
TRANSIENT_ERRORS = frozenset({-1}) | RATE_LIMIT_ERRORS
NO_CONSENT = 43101
TOKEN_PREFIX = "lixiao:wechatpy"  # noqa: S105 -- a Redis key prefix, not a secret
TOKEN_EARLY_SECONDS = 120
TOKEN_MEMO_SECONDS = 300.0  # the longest a transport reuses a token read from Redis without asking again


class Outcome(StrEnum):
    """What became of one send."""

    OK = "ok"
    TRANSIENT = "transient"
    NO_CONSENT = "no_consent"
    PERMANENT = "permanent"
    UNCONFIRMED = "unconfirmed"
    ABORTED = "aborted"


@dataclass(frozen=True)
class SendResult:
    """The outcome of one send, with the platform's errcode and message when there is one."""

    outcome: Outcome
    errcode: int | None = None
    detail: str = ""
    msgid: str | None = None

    @property
    def ok(self) -> bool:
        """True when the platform accepted the message."""
        return self.outcome is Outcome.OK

    @property
    def rate_limited(self) -> bool:
        """True when the platform asked us to slow down."""
        return self.errcode in RATE_LIMIT_ERRORS


class Abort(Exception):
    """Raised by a `before_send` callback to cancel the send."""


def classify(errcode: int) -> Outcome:
    """The outcome an errcode means (token errors are handled before this)."""
    if errcode == 0:
        return Outcome.OK
    if errcode == NO_CONSENT:
        return Outcome.NO_CONSENT
    if errcode in TRANSIENT_ERRORS or errcode in TOKEN_ERRORS:
        return Outcome.TRANSIENT
    return Outcome.PERMANENT


class _WeChat(WeChatClient):
    """wechatpy's mini-program client on a configurable base URL, with stable_token and a timeout on it."""

    def __init__(self, settings: Settings, storage: RedisStorage) -> None:
        super().__init__(settings.wx_appid, settings.wx_secret, session=storage,
                         timeout=settings.outside_timeout_seconds, auto_retry=False)
        self.base_url = settings.wx_api_base
        self.API_BASE_URL = self.base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = self.base_url

    def fetch_access_token(self, force_refresh: bool = False) -> dict[str, Any]:
        """Ask stable_token (normal mode hands every caller the same token while it is valid)."""
        res = self._http.post(self.base_url + "cgi-bin/stable_token", timeout=self.timeout,
                              json={"grant_type": "client_credential", "appid": self.appid,
                                    "secret": self.secret, "force_refresh": force_refresh})
        return _store_token(self, res)


class _WeCom(WeComClient):
    """wechatpy's WeCom client on a configurable base URL, with a timeout on the token fetch."""

    def __init__(self, settings: Settings, storage: RedisStorage) -> None:
        super().__init__(settings.wecom_corpid, settings.wecom_secret, session=storage,
                         timeout=settings.outside_timeout_seconds, auto_retry=False)
        self.API_BASE_URL = settings.wecom_api_base

    def fetch_access_token(self) -> dict[str, Any]:
        """GET gettoken (WeCom returns the same token while it is valid)."""
        res = self._http.get(self.API_BASE_URL + "gettoken", timeout=self.timeout,
                             params={"corpid": self.corp_id, "corpsecret": self.secret})
        return _store_token(self, res)


def _store_token(client: WeChatClient | WeComClient, res: requests.Response) -> dict[str, Any]:
    res.raise_for_status()
    result: dict[str, Any] = res.json()
    if result.get("errcode", 0) != 0:
        raise WeChatClientException(result["errcode"], result.get("errmsg"), client=client,
                                    request=res.request, response=res)
    expires_in = int(result.get("expires_in", 7200))
    # Forget the token a little before the platform does; every process trusts this shared TTL.
    client.session.set(client.access_token_key, result["access_token"], max(expires_in - TOKEN_EARLY_SECONDS, 1))
    client.expires_at = None
    return result


class PushTransport:
    """Sends pushes; one instance per worker, sharing tokens with every other worker through Redis."""

    def __init__(self, settings: Settings, redis_client: redis.Redis) -> None:
        storage = RedisStorage(redis_client, prefix=TOKEN_PREFIX)
        self.redis = redis_client
        self.settings = settings
        self.storage = storage
        self.wechat = _WeChat(settings, storage)
        self.wecom = _WeCom(settings, storage)
        self._memo: dict[str, tuple[str, float]] = {}  # token key -> (token, monotonic time to forget it)
        self._templates: dict[tuple[str, str], requests.PreparedRequest] = {}  # (url, token) -> prepared POST
        for client in (self.wechat, self.wecom):
            # Proxies from the environment are read once here, not by scanning os.environ on every request.
            client._http.proxies = requests.utils.get_environ_proxies(client.API_BASE_URL)
            client._http.trust_env = False

    def send_wechat_subscribe(self, openid: str, template_id: str, page: str, data: Mapping[str, Any], *,
                              before_send: Callable[[], None] | None = None) -> SendResult:
        """Send one subscribe message (reference §2.3); `miniprogram_state` and `lang` go in the body."""
        body = {"touser": openid, "template_id": template_id, "page": page, "data": dict(data),
                "miniprogram_state": self.settings.wx_miniprogram_state, "lang": "zh_CN"}
        return self._send(self.wechat, "message/subscribe/send", body, before_send, None)

    def send_wecom_textcard(self, userid: str, card: Mapping[str, str], *,
                            before_send: Callable[[], None] | None = None) -> SendResult:
        """Send one WeCom app message of type textcard to a member."""
        body = {"touser": userid, "msgtype": "textcard", "agentid": self.settings.wecom_agentid,
                "textcard": dict(card),
                # WeCom drops an identical message to the same member within the interval: a retry after
                # an unanswered request cannot double it there.
                "enable_duplicate_check": 1, "duplicate_check_interval": 1800}
        return self._send(self.wecom, "message/send", body, before_send, userid)

    # ------------------------------------------------------------------ internals

    def _send(self, client: WeChatClient | WeComClient, path: str, body: dict[str, Any],
              before_send: Callable[[], None] | None, wecom_user: str | None) -> SendResult:
        try:
            token = self._token(client)
        except (WeChatClientException, requests.RequestException, redis.RedisError, ValueError, KeyError) as exc:
            return SendResult(Outcome.TRANSIENT, None, f"token fetch failed: {_describe(exc)}")
        payload = json.dumps(body, ensure_ascii=False).encode()
        request = self._prepare(client, path, token, payload)
        try:
            self._connect_ahead(client, request)
        except (OSError, urllib3.exceptions.HTTPError) as exc:  # nothing left: the row is not marked "sending"
            return SendResult(Outcome.TRANSIENT, None, f"connect failed: {_describe(exc)}")
        if before_send is not None:
            try:
                before_send()
            except Abort as exc:
                return SendResult(Outcome.ABORTED, None, str(exc))
        result = self._post(client, request, wecom_user)
        if result.errcode not in TOKEN_ERRORS:
            return result
        # One refresh, one retry. Another worker may already have stored a newer token.
        self._memo.pop(client.access_token_key, None)
        try:
            stored = self._refresh(client, token)
        except (WeChatClientException, requests.RequestException, redis.RedisError, ValueError, KeyError) as exc:
            return SendResult(Outcome.TRANSIENT, result.errcode, f"token refresh failed: {_describe(exc)}")
        log.info("access token rejected (%s); refreshed once and retrying", result.errcode)
        retry = self._post(client, self._prepare(client, path, stored, payload), wecom_user)
        if retry.errcode in TOKEN_ERRORS:
            return SendResult(Outcome.TRANSIENT, retry.errcode, retry.detail)
        return retry

    def _token(self, client: WeChatClient | WeComClient) -> str:
        """The shared token: remembered from Redis until Redis would forget it, else read or fetched."""
        key = client.access_token_key
        memo = self._memo.get(key)
        if memo is not None and time.monotonic() < memo[1]:
            return memo[0]
        with self.redis.pipeline(transaction=False) as pipe:  # one round trip for the token and its TTL
            pipe.get(self.storage.key_name(key))
            pipe.pttl(self.storage.key_name(key))
            raw, ttl_ms = pipe.execute()
        if raw is None:
            token, ttl_ms = self._refresh(client, None), self.redis.pttl(self.storage.key_name(key))
        else:
            token = str(json.loads(raw))
        if isinstance(ttl_ms, int) and ttl_ms > 0:  # -1 (no TTL) or -2 (gone meanwhile): not remembered
            self._memo[key] = (token, time.monotonic() + min(ttl_ms / 1000, TOKEN_MEMO_SECONDS))
        return token

    def _refresh(self, client: WeChatClient | WeComClient, stale: str | None) -> str:
        """A token other than `stale`: the one another process just stored, or a fetched one (one fetch at a time)."""
        key = client.access_token_key
        lock, owner = f"{TOKEN_PREFIX}:lock:{key}", secrets.token_hex(8)
        wait_until = time.monotonic() + self.settings.outside_timeout_seconds + 1
        while not self.redis.set(lock, owner, nx=True, px=int((self.settings.outside_timeout_seconds + 3) * 1000)):
            if time.monotonic() > wait_until:
                break  # the holder is stuck: fetch anyway rather than fail the push
            time.sleep(0.02)
        try:
            current = client.session.get(key)
            if current and current != stale:
                return str(current)
            client.fetch_access_token()
            return str(client.session.get(key))
        finally:
            if self.redis.get(lock) == owner:
                self.redis.delete(lock)

    def _connect_ahead(self, client: WeChatClient | WeComClient, request: requests.PreparedRequest) -> None:
        """Open the connection `send` will use now, so no TCP/TLS connect happens after "sending" is committed.

        Uses urllib3's pool internals (`_get_conn`/`_put_conn`); if they change, this quietly does nothing.
        """
        http = client._http
        try:
            adapter = http.get_adapter(request.url or "")
            pool = adapter.get_connection_with_tls_context(request, http.verify, http.proxies, http.cert)
            conn = pool._get_conn()
        except Exception as exc:  # an optimisation only: never let it fail a push
            log.debug("cannot connect ahead: %s", exc)
            return
        try:
            if not conn.is_connected:
                conn.connect()
        except (OSError, urllib3.exceptions.HTTPError):
            conn.close()
            raise
        finally:
            pool._put_conn(conn)

    def _prepare(self, client: WeChatClient | WeComClient, path: str, token: str,
                 payload: bytes) -> requests.PreparedRequest:
        """The request for one send: a copy of the one prepared for this URL and token, with its own body.

        Preparing through the session (merging its settings, cookies and hooks, parsing the URL) cost more
        than the rest of a push's client side; the platforms set no cookies, so nothing is lost by copying.
        """
        url = client.API_BASE_URL + path
        template = self._templates.get((url, token))
        if template is None:
            request = requests.Request("POST", url, params={"access_token": token},
                                       headers={"Content-Type": "application/json; charset=utf-8"})
            template = client._http.prepare_request(request)
            if len(self._templates) >= 8:  # tokens change every two hours: forget the old ones
                self._templates.clear()
            self._templates[(url, token)] = template
        prepared = template.copy()
        prepared.prepare_body(payload, None)
        return prepared

    def _post(self, client: WeChatClient | WeComClient, request: requests.PreparedRequest,
              wecom_user: str | None) -> SendResult:
        try:
            res = client._http.send(request, timeout=self.settings.outside_timeout_seconds)
        except requests.ReadTimeout as exc:
            return SendResult(Outcome.UNCONFIRMED, None, _describe(exc))
        except requests.RequestException as exc:  # refused, reset, connect timeout: nothing was delivered
            return SendResult(Outcome.TRANSIENT, None, _describe(exc))
        if res.status_code >= 500:
            return SendResult(Outcome.TRANSIENT, None, f"HTTP {res.status_code}")
        if res.status_code >= 400:
            return SendResult(Outcome.PERMANENT, None, f"HTTP {res.status_code}")
        try:
            answer = client._handle_result(res)  # wechatpy's decoding; raises on a non-zero errcode
        except WeChatClientException as exc:
            errcode = int(exc.errcode) if exc.errcode is not None else -1
            return SendResult(classify(errcode), errcode, str(exc.errmsg or "")[:200])
        if not isinstance(answer, dict):
            return SendResult(Outcome.TRANSIENT, None, "answer is not JSON")
        if wecom_user is not None and wecom_user.lower() in str(answer.get("invaliduser", "")).split("|"):
            return SendResult(Outcome.PERMANENT, 81013, "user is not a member the app can reach")
        msgid = answer.get("msgid")
        return SendResult(Outcome.OK, 0, "", str(msgid) if msgid is not None else None)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
