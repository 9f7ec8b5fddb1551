"""Redis, or an in-process stand-in when no server is configured."""

from __future__ import annotations

import redis


def make_redis(url: str) -> redis.Redis:
    """A client with short timeouts; fakeredis when `url` is empty (embedded default)."""
    if not url:
        import fakeredis

        return fakeredis.FakeRedis(decode_responses=True)
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=0.5, socket_connect_timeout=0.5,
                                health_check_interval=30)
