"""Redis Cluster: the keys one MULTI touches must live in one hash slot (docs/OPERATIONS.md, scaling out)."""

from __future__ import annotations

import time

import fakeredis
from redis.crc import key_slot

from server.messaging.ratelimit import SlidingWindowLimiter


def test_the_wecom_limiter_keeps_all_windows_of_a_member_in_one_slot():
    store = fakeredis.FakeRedis()
    limiter = SlidingWindowLimiter(store, "lixiao:wecom-rate", [(30, 60.0), (1000, 3600.0)])
    for userid in ("2099000001", "counter", "zhang.san"):
        limiter.acquire(userid, time.time())
        keys = [k for k in store.keys("lixiao:wecom-rate:*") if userid.encode() in k]
        assert len(keys) == 2, keys
        assert len({key_slot(k) for k in keys}) == 1, keys
