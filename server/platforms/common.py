"""What the WeChat and WeCom adapters share: timeouts, one shared token per app, one retry rule, one error table.

wechatpy 1.8.18 is used for its client classes and `RedisStorage` key naming; three of its habits are replaced
(reference §3.3, §4.4): its token fetch has no timeout, each process would cache its own token, and `auto_retry`
refreshes without limit. Every call, login or push, goes through `call_with_token` or `send_json` below.

The error table (`classify`), for every call:
- ok;
- transient — retried later with backoff: -1 (busy), 45009/45011/45033 (rate limits), 5xx, connection
  failures, and 40001/40014/42001 still failing after the one refresh;
- held — our own configuration keeps the platform from answering us (60020 / 40164: this server's IP is not
  trusted): nothing is wrong with the message, so it waits and is tried again, loudly (an alert), never refused;
- no_consent — 43101 (the student's quota for this template is used up or they refused);
- permanent — everything else (47003 bad value, 40003 bad openid, 40037 bad template id, 81013 …);
- unconfirmed — the request went out and no answer came back (read timeout): it may have been delivered,
  and neither platform has an idempotency key, so it is not sent again;
- aborted — `before_send` refused, nothing was sent.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import redis
import requests
from wechatpy.exceptions import WeChatClientException

from server.errors import ApiError, ErrorCode

log = logging.getLogger(__name__)

T = TypeVar("T")

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})  # invalid, not latest or expired access token
RATE_LIMIT_ERRCODES = frozenset({45009, 45011, 45033})  # daily, per-minute and concurrency limits
BUSY_ERRCODES = frozenset({-1}) | RATE_LIMIT_ERRCODES  # the platform asks us to come back later
HELD_ERRCODES = frozenset({60020, 40164})  # WeCom / WeChat: this server's IP is not on the trusted list
NO_CONSENT = 43101
TOKEN_STORE_PREFIX = "lixiao:wechatpy"  # noqa: S105 -- a Redis key prefix, not a secret
EARLY_SECONDS = 120  # forget a token this long before the platform does, so no process uses a dying one
TOKEN_MEMO_SECONDS = 300.0  # the longest a client reuses a token read from Redis without asking Redis again


class Outcome(StrEnum):
    """What became of one send."""

    OK = "ok"
    TRANSIENT = "transient"
    HELD = "held"
    NO_CONSENT = "no_consent"
    PERMANENT = "permanent"
    UNCONFIRMED = "unconfirmed"
    ABORTED = "aborted"


def classify(errcode: int | None) -> Outcome:
    """The outcome an errcode means; None (no answer we could read) is transient."""
    if errcode == 0:
        return Outcome.OK
    if errcode is None or errcode in BUSY_ERRCODES or errcode in TOKEN_ERRCODES:
        return Outcome.TRANSIENT
    if errcode in HELD_ERRCODES:
        return Outcome.HELD
    if errcode == NO_CONSENT:
        return Outcome.NO_CONSENT
    return Outcome.PERMANENT


def held_advice(platform: str) -> str:
    """What an operator must do about a held call (logged and shown with the alert)."""
    if platform == "wecom":
        return "add this server's outbound IP to the WeCom app's 企业可信IP (trusted IPs)"
    return "add this server's outbound IP to the mini-program's IP白名单 (API IP whitelist)"


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
        return self.errcode in RATE_LIMIT_ERRCODES


class Abort(Exception):
    """Raised by a `before_send` callback to cancel the send."""


class PlatformError(Exception):
    """A WeChat or WeCom call that failed; `errcode` is None when the platform could not be reached."""

    def __init__(self, platform: str, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"{platform} error {errcode}: {errmsg}")
        self.platform = platform
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def retryable(self) -> bool:
        """True when the same call may succeed later (network, busy platform, token trouble, untrusted IP)."""
        return classify(self.errcode) in (Outcome.TRANSIENT, Outcome.HELD)


class TimeoutSession(requests.Session):
    """A requests session that never waits forever: every request gets `timeout` unless it names its own.

    Proxies come from the environment once, here, not by scanning os.environ on every request.
    """

    def __init__(self, timeout: float, proxy_for: str | None = None) -> None:
        super().__init__()
        self.default_timeout = timeout
        if proxy_for is not None:
            self.proxies = requests.utils.get_environ_proxies(proxy_for)
            self.trust_env = False

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Send with the default timeout filled in."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]  # requests' stubs say str


@contextmanager
def translated(platform: str) -> Iterator[None]:
    """Turn wechatpy, requests and Redis failures into PlatformError."""
    try:
        yield
    except WeChatClientException as exc:
        errcode = None if exc.errcode is None else int(exc.errcode)
        raise PlatformError(platform, errcode, str(exc.errmsg or "HTTP error")) from exc
    except requests.RequestException as exc:
        raise PlatformError(platform, None, type(exc).__name__) from exc
    except redis.RedisError as exc:
        raise PlatformError(platform, None, "token store unavailable") from exc
    except (ValueError, KeyError, TypeError) as exc:  # an answer that is not the JSON we expect
        raise PlatformError(platform, None, f"malformed answer ({type(exc).__name__})") from exc


@contextmanager
def fetch_lock(store: redis.Redis, key: str, seconds: float) -> Iterator[bool]:
    """Hold a short Redis lock so processes sharing a token fetch it one at a time; yields whether it was got.

    Waiting gives up after `seconds`; the caller then fetches anyway rather than fail a user's request.
    """
    owner = secrets.token_hex(8)
    deadline = time.monotonic() + seconds
    acquired = False
    while True:
        if store.set(key, owner, nx=True, px=int((seconds + 2) * 1000)):
            acquired = True
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    try:
        yield acquired
    finally:
        # Not atomic, but the lock outlives any fetch (it has the fetch's own timeout), so this only
        # deletes a lock we still own.
        if acquired and store.get(key) == owner:
            store.delete(key)


def raise_for_errcode(client: Any, response: requests.Response) -> dict[str, Any]:
    """Decode an answer the way wechatpy does, raising its exception for an errcode."""
    response.raise_for_status()
    result = response.json()
    if not isinstance(result, dict):
        raise ValueError("answer is not an object")
    if int(result.get("errcode", 0) or 0) != 0:
        raise WeChatClientException(result["errcode"], result.get("errmsg"), client=client,
                                    request=response.request, response=response)
    return result


class SharedTokenMixin:
    """The one token cache, for wechatpy clients: kept once in Redis for every process, fetched one at a time.

    The token lives in wechatpy's RedisStorage with the platform's lifetime (minus EARLY_SECONDS) as TTL;
    `expires_at` stays None so every process trusts that shared TTL instead of a private clock. A client also
    remembers the token it last read, as long as Redis would keep it (at most TOKEN_MEMO_SECONDS), so a push
    does not cost a Redis round trip.
    """

    platform: str
    session: Any
    timeout: float
    access_token_key: str
    expires_at: int | None
    store: redis.Redis
    http: TimeoutSession
    API_BASE_URL: str
    _memo: tuple[str, float] | None = None

    def _request_token(self) -> dict[str, Any]:
        """Ask the platform for a token; subclasses know the endpoint."""
        raise NotImplementedError

    @property
    def access_token(self) -> str:
        """The shared token: remembered until Redis would forget it, else read from Redis or fetched."""
        if self._memo is not None and time.monotonic() < self._memo[1]:
            return self._memo[0]
        name = self.session.key_name(self.access_token_key)
        with self.store.pipeline(transaction=False) as pipe:  # one round trip for the token and its TTL
            pipe.get(name)
            pipe.pttl(name)
            raw, ttl_ms = pipe.execute()
        if raw is None:
            token = str(self.fetch_access_token()["access_token"])
            ttl_ms = self.store.pttl(name)
        else:
            token = str(json.loads(raw))
        if isinstance(ttl_ms, int) and ttl_ms > 0:  # -1 (no TTL) or -2 (gone meanwhile): not remembered
            self._memo = (token, time.monotonic() + min(ttl_ms / 1000, TOKEN_MEMO_SECONDS))
        return token

    def fetch_access_token(self, stale: str | None = None) -> dict[str, Any]:
        """Fetch a token unless another process already replaced `stale` (or the missing one) meanwhile."""
        self._memo = None
        key = self.access_token_key
        with fetch_lock(self.store, f"{TOKEN_STORE_PREFIX}:lock:{key}", self.timeout + 1):
            current = self.session.get(key)
            if current and current != stale:
                return {"access_token": current}
            result = self._request_token()
            token = str(result["access_token"])
            expires_in = int(result.get("expires_in", 7200))
            self.session.set(key, token, max(expires_in - EARLY_SECONDS, 1))
            self.expires_at = None
            log.info("fetched a new access token for %s (valid %s s)", key.split("_")[0], expires_in)
            return {"access_token": token, "expires_in": expires_in}


def call_with_token(client: Any, send: Callable[[str], T]) -> T:
    """Run `send(access_token)`; on an expired or invalid token refresh once and try once more.

    Never more: a platform that keeps refusing fresh tokens gets a PlatformError, not a loop.
    """
    with translated(client.platform):
        token = client.access_token
        try:
            return send(token)
        except WeChatClientException as exc:
            if exc.errcode is None or int(exc.errcode) not in TOKEN_ERRCODES:
                raise
            log.info("%s refused the access token (%s); refreshing once", client.platform, exc.errcode)
        fresh = client.fetch_access_token(stale=token)["access_token"]
        return send(fresh)


# ---------------------------------------------------------------------- pushes


def send_json(client: Any, path: str, body: Mapping[str, Any], before_send: Callable[[], None] | None,
              check: Callable[[dict[str, Any]], SendResult | None] | None = None) -> SendResult:
    """POST one message with the one retry rule, classified by the error table; never raises for the platform.

    `before_send` runs once the token is at hand and the request is built, immediately before the request
    leaves: the worker commits "sending" there. A platform without a token for us fails before it, so such a
    push is simply retried; `check` may refuse an accepted answer (WeCom's `invaliduser`).
    """
    try:
        token = client.access_token
    except (WeChatClientException, requests.RequestException, redis.RedisError, ValueError, KeyError) as exc:
        errcode = getattr(exc, "errcode", None)
        outcome = Outcome.HELD if classify(errcode) is Outcome.HELD else Outcome.TRANSIENT
        return _logged(client, SendResult(outcome, errcode, f"token fetch failed: {_describe(exc)}"))
    payload = json.dumps(dict(body), ensure_ascii=False).encode()
    if before_send is not None:
        try:
            before_send()
        except Abort as exc:
            return SendResult(Outcome.ABORTED, None, str(exc))
    result = _post(client, path, token, payload, check)
    if result.errcode not in TOKEN_ERRCODES:
        return _logged(client, result)
    # One refresh, one retry. Another worker may already have stored a newer token.
    try:
        fresh = str(client.fetch_access_token(stale=token)["access_token"])
    except (WeChatClientException, requests.RequestException, redis.RedisError, ValueError, KeyError) as exc:
        return SendResult(Outcome.TRANSIENT, result.errcode, f"token refresh failed: {_describe(exc)}")
    log.info("access token rejected (%s); refreshed once and retrying", result.errcode)
    retry = _post(client, path, fresh, payload, check)
    if retry.errcode in TOKEN_ERRCODES:
        return SendResult(Outcome.TRANSIENT, retry.errcode, retry.detail)
    return _logged(client, retry)


def _post(client: Any, path: str, token: str, payload: bytes,
          check: Callable[[dict[str, Any]], SendResult | None] | None) -> SendResult:
    try:
        res = client.http.post(client.API_BASE_URL + path, params={"access_token": token}, data=payload,
                               headers={"Content-Type": "application/json; charset=utf-8"})
    except requests.ReadTimeout as exc:
        return SendResult(Outcome.UNCONFIRMED, None, _describe(exc))
    except requests.RequestException as exc:  # refused, reset, connect timeout: nothing was delivered
        return SendResult(Outcome.TRANSIENT, None, _describe(exc))
    if res.status_code >= 500:
        return SendResult(Outcome.TRANSIENT, None, f"HTTP {res.status_code}")
    if res.status_code >= 400:
        return SendResult(Outcome.PERMANENT, None, f"HTTP {res.status_code}")
    try:
        answer = res.json()
    except ValueError:
        return SendResult(Outcome.TRANSIENT, None, "answer is not JSON")
    if not isinstance(answer, dict):
        return SendResult(Outcome.TRANSIENT, None, "answer is not JSON")
    errcode = int(answer.get("errcode", 0) or 0)
    if errcode != 0:
        return SendResult(classify(errcode), errcode, str(answer.get("errmsg") or "")[:200])
    refused = check(answer) if check is not None else None
    if refused is not None:
        return refused
    msgid = answer.get("msgid")
    return SendResult(Outcome.OK, 0, "", str(msgid) if msgid is not None else None)


def _logged(client: Any, result: SendResult) -> SendResult:
    if result.outcome is Outcome.HELD:
        log.error("%s refuses this server (%s %s): %s; pushes are held and retried until then",
                  client.platform, result.errcode, result.detail, held_advice(client.platform))
    return result


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


# ---------------------------------------------------------------------- login errors


def login_error(exc: PlatformError, platform_zh: str, platform_en: str) -> ApiError:
    """What a client is told when exchanging a login code failed."""
    if exc.errcode in (40029, 40163):
        return ApiError(401, ErrorCode.INVALID_LOGIN_CODE, "登录码无效、已使用或已过期，请重新进入",
                        "The login code is invalid, used or expired; please open the app again")
    if exc.errcode == 45011:
        return ApiError(429, ErrorCode.RATE_LIMITED, "登录过于频繁，请一分钟后再试",
                        "Too many logins; try again in a minute", retry_after=60)
    if exc.errcode == 40226:
        return ApiError(403, ErrorCode.FORBIDDEN, f"{platform_zh}拦截了本次登录，请联系{platform_zh}客服",
                        f"{platform_en} blocked this login; contact {platform_en} support")
    if classify(exc.errcode) is Outcome.HELD:
        log.error("%s login failed with errcode %s: %s", exc.platform, exc.errcode, held_advice(exc.platform))
    elif exc.errcode is not None and not exc.retryable:
        # Bad appid/secret and the like: our configuration, not the user's fault.
        log.error("%s login failed with errcode %s: %s", exc.platform, exc.errcode, exc.errmsg)
    else:
        log.warning("%s unavailable during login: %s", exc.platform, exc)
    return platform_unavailable(platform_zh, platform_en)


def platform_unavailable(platform_zh: str, platform_en: str) -> ApiError:
    """503 telling the user to try again."""
    return ApiError(503, ErrorCode.PLATFORM_UNAVAILABLE, f"{platform_zh}服务暂时不可用，请稍后再试",
                    f"{platform_en} is unavailable right now; please try again shortly", retry_after=5)
