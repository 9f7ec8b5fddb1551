"""Redis, or an in-process stand-in when no server is configured.

`LIXIAO_REDIS_URL` forms: empty (fakeredis, development only), `redis://[:password@]host:6379/0` (one server, or
the primary behind Sentinel/a virtual IP), `rediss://…` (TLS), and `redis+cluster://[:password@]host:port` (Redis
Cluster: any node as the seed; database 0 only). Every multi-key operation Lixiao makes stays in one hash slot
(docs/OPERATIONS.md, scaling out).
"""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from server.settings import SettingsError

CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")


def make_redis(url: str) -> redis.Redis:
    """A client with short timeouts; fakeredis when `url` is empty (embedded default)."""
    if not url:
        try:
            import fakeredis
        except ModuleNotFoundError as exc:  # production's lock (requirements.lock) does not ship the stand-in
            raise SettingsError("LIXIAO_REDIS_URL is empty and the in-process stand-in (fakeredis, "
                                "requirements-demo.txt) is not installed: point LIXIAO_REDIS_URL at a Redis server"
                                ) from exc
        return fakeredis.FakeRedis(decode_responses=True)
    # One quick retry only: redis-py's default backoff would hold every request ~4 s while Redis is down.
    options: dict[str, Any] = {"decode_responses": True, "socket_timeout": 0.5, "socket_connect_timeout": 0.5,
                               "health_check_interval": 30, "retry": Retry(ExponentialBackoff(cap=0.1, base=0.02), 1)}
    if url.startswith(CLUSTER_SCHEMES):
        from redis.cluster import RedisCluster

        # The cluster client speaks the same commands; type-wise it stands in for redis.Redis everywhere we use it.
        return RedisCluster.from_url(url.replace("+cluster", "", 1), **options)  # type: ignore[return-value]
    return redis.Redis.from_url(url, **options)
