"""Fixed-window rate limits on the login and bind endpoints, counted in Redis.

Each request counts once per client address and, when the endpoint has one, once per key (a login code,
a token's session, a username). Over either limit → 429 RATE_LIMITED with `retry_after`.
If Redis is down the limiter fails open — logins matter more than throttling — says so once per outage, and
leaves Redis alone for a few seconds so requests do not each wait for a dead server.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

import redis

from server.errors import ApiError, ErrorCode
from server.settings import Settings

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
RECHECK_SECONDS = 5.0  # after a failure, how long to skip Redis before trying it again
_PREFIX = "lixiao:ratelimit"
_outage = threading.Event()
_skip_until = [0.0]  # monotonic time; a list so the module can update it without `global`


def hit(store: redis.Redis, scope: str, kind: str, ident: str, limit: int, *, now: float | None = None) -> int | None:
    """Count one request; return the seconds to wait when it is over `limit`, else None."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:24]  # keys never hold raw codes or tokens
    key = f"{_PREFIX}:{scope}:{kind}:{digest}:{window}"
    pipe = store.pipeline()
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS + 5)
    count = int(pipe.execute()[0])
    if count <= limit:
        return None
    return max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))


def limit(store: redis.Redis, settings: Settings, scope: str, address: str, *, key: str | None = None,
          per_key: int | None = None) -> None:
    """Count one request from `address` (and for `key`, when given) against the limits; raise 429 when over.

    `per_key` replaces LIXIAO_RATE_LIMIT_PER_KEY for scopes with their own limit (counter verification).
    The web and API edges call it for each request (`server.api.ratelimit.enforce`) with the app's Redis."""
    checks = [("ip", address or "unknown", settings.rate_limit_per_ip)]
    if key:
        checks.append(("key", key, per_key or settings.rate_limit_per_key))
    if time.monotonic() < _skip_until[0]:
        return
    try:
        waits = [hit(store, scope, kind, ident, per_minute) for kind, ident, per_minute in checks]
    except redis.RedisError as exc:
        _skip_until[0] = time.monotonic() + RECHECK_SECONDS
        if not _outage.is_set():
            _outage.set()
            log.warning("rate limiter cannot reach Redis (%s): failing open until it is back", type(exc).__name__)
        return
    if _outage.is_set():
        _outage.clear()
        log.warning("rate limiter reaches Redis again")
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise ApiError(429, ErrorCode.RATE_LIMITED, f"请求过于频繁，请 {wait} 秒后再试",
                       f"Too many requests; try again in {wait} seconds", retry_after=wait)
