"""What the WeChat and WeCom adapters share: timeouts, one shared token per app, and a bounded refresh.

wechatpy 1.8.18 is used unmodified; three of its habits are replaced here (reference §3.3, §4.4): its token
fetch has no timeout, each process would cache its own token, and `auto_retry` refreshes without limit.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import redis
import requests
from wechatpy.exceptions import WeChatClientException

from server.errors import ApiError, ErrorCode

log = logging.getLogger(__name__)

T = TypeVar("T")

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})  # invalid, not latest or expired access token
BUSY_ERRCODES = frozenset({-1, 45009, 45033})  # system busy, daily/concurrency limits: try again later
TOKEN_STORE_PREFIX = "lixiao:wechatpy"  # noqa: S105 -- a Redis key prefix, not a secret
EARLY_SECONDS = 120  # forget a token this long before the platform does, so no process uses a dying one


class TimeoutSession(requests.Session):
    """A requests session that never waits forever: every request gets `timeout` unless it names its own."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Send with the default timeout filled in."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


class PlatformError(Exception):
    """A WeChat or WeCom call that failed; `errcode` is None when the platform could not be reached."""

    def __init__(self, platform: str, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"{platform} error {errcode}: {errmsg}")
        self.platform = platform
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def retryable(self) -> bool:
        """True when the same call may succeed later (network, busy platform, token trouble)."""
        return self.errcode is None or self.errcode in BUSY_ERRCODES or self.errcode in TOKEN_ERRCODES


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
        time.sleep(0.05)
    try:
        yield acquired
    finally:
        # Not atomic, but the lock outlives any fetch (it has the fetch's own timeout), so this only
        # deletes a lock we still own.
        if acquired and store.get(key) == owner:
            store.delete(key)


class SharedTokenMixin:
    """`fetch_access_token` for wechatpy clients: one fetch at a time, the token kept once in Redis.

    The token lives in wechatpy's RedisStorage with the platform's lifetime (minus EARLY_SECONDS) as TTL;
    `expires_at` stays None so every process trusts that shared TTL instead of a private clock.
    """

    session: Any
    timeout: float
    access_token_key: str
    expires_at: int | None
    _store: redis.Redis

    def _request_token(self) -> dict[str, Any]:
        """Ask the platform for a token; subclasses know the endpoint."""
        raise NotImplementedError

    def fetch_access_token(self, stale: str | None = None) -> dict[str, Any]:
        """Fetch a token unless another process already replaced `stale` (or the missing one) meanwhile."""
        key = self.access_token_key
        with fetch_lock(self._store, f"{TOKEN_STORE_PREFIX}:lock:{key}", self.timeout + 1):
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


def raise_for_errcode(client: Any, response: requests.Response) -> dict[str, Any]:
    """Decode a token answer the way wechatpy does, raising its exception for an errcode."""
    response.raise_for_status()
    result = response.json()
    if not isinstance(result, dict):
        raise ValueError("token answer is not an object")
    if int(result.get("errcode", 0) or 0) != 0:
        raise WeChatClientException(result["errcode"], result.get("errmsg"), client=client,
                                    request=response.request, response=response)
    return result


def call_with_token(client: Any, platform: str, send: Callable[[str], T]) -> T:
    """Run `send(access_token)`; on an expired or invalid token refresh once and try once more.

    Never more: a platform that keeps refusing fresh tokens gets a PlatformError, not a loop.
    """
    with translated(platform):
        token = client.access_token
        try:
            return send(token)
        except WeChatClientException as exc:
            if exc.errcode is None or int(exc.errcode) not in TOKEN_ERRCODES:
                raise
            log.info("%s refused the access token (%s); refreshing once", platform, exc.errcode)
        fresh = client.fetch_access_token(stale=token)["access_token"]
        return send(fresh)


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
    if exc.errcode is not None and not exc.retryable:
        # Bad appid/secret and the like: our configuration, not the user's fault.
        log.error("%s login failed with errcode %s: %s", exc.platform, exc.errcode, exc.errmsg)
    else:
        log.warning("%s unavailable during login: %s", exc.platform, exc)
    return platform_unavailable(platform_zh, platform_en)


def platform_unavailable(platform_zh: str, platform_en: str) -> ApiError:
    """503 telling the user to try again."""
    return ApiError(503, ErrorCode.PLATFORM_UNAVAILABLE, f"{platform_zh}服务暂时不可用，请稍后再试",
                    f"{platform_en} is unavailable right now; please try again shortly", retry_after=5)
