"""Redis, or an in-process stand-in when no server is configured."""

from __future__ import annotations

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry


def make_redis(url: str) -> redis.Redis:
    """A client with short timeouts; fakeredis when `url` is empty (embedded default)."""
    if not url:
        import fakeredis

        return fakeredis.FakeRedis(decode_responses=True)
    # One quick retry only: redis-py's default backoff would hold every request ~4 s while Redis is down.
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=0.5, socket_connect_timeout=0.5,
                                health_check_interval=30, retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), 1))
