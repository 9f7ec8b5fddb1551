"""A sliding-window limit per recipient, shared by every worker through Redis.

WeCom silently drops app messages beyond 30 a minute or 1,000 an hour per member (reference §5.2), so
a push over the limit is not sent but deferred to the moment a slot frees up.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import redis

# Our windows are a little longer than the platform's, so a request that reaches it later than we
# reserved its slot still falls inside its window.
WINDOW_MARGIN_SECONDS = 2.0


class SlidingWindowLimiter:
    """At most `limit` acquisitions per key in any `seconds` long window, for every (limit, seconds) given."""

    def __init__(self, client: redis.Redis, prefix: str, windows: Sequence[tuple[int, float]]) -> None:
        self.redis = client
        self.prefix = prefix
        self.windows = [(limit, seconds + WINDOW_MARGIN_SECONDS) for limit, seconds in windows if limit > 0]

    def acquire(self, key: str, now: float) -> float:
        """Take a slot at `now` and return 0, or take nothing and return how many seconds to wait."""
        if not self.windows:
            return 0.0
        member = f"{now:.6f}:{secrets.token_hex(6)}"
        # One MULTI touches every window of the key: the {hash tag} keeps them in one Redis Cluster slot.
        names = [f"{self.prefix}:{int(seconds)}:{{{key}}}" for _, seconds in self.windows]
        pipe = self.redis.pipeline(transaction=True)
        for name, (_, seconds) in zip(names, self.windows, strict=True):
            pipe.zremrangebyscore(name, "-inf", now - seconds)
            pipe.zrange(name, 0, -1, withscores=True)  # what other workers had taken before us, in MULTI order
            pipe.zadd(name, {member: now})
            pipe.expire(name, int(seconds) + 1)
        results = pipe.execute()
        wait = 0.0
        for i, (limit, seconds) in enumerate(self.windows):
            earlier = results[4 * i + 1]
            if len(earlier) >= limit:
                # A slot frees when the entry `limit` places before ours leaves the window.
                wait = max(wait, float(earlier[len(earlier) - limit][1]) + seconds - now, 0.001)
        if wait > 0:
            # Until removed, our entry makes others wait too: they under-send for a moment, never over-send.
            pipe = self.redis.pipeline(transaction=True)
            for name in names:
                pipe.zrem(name, member)
            pipe.execute()
        return wait
