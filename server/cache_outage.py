"""What the read cache (server/cache.py) does when Redis fails: step aside, and owe every lost invalidation.

After a failure the cache leaves Redis alone for RECHECK_SECONDS (a hung Redis costs one timeout, not one per
request). A write whose invalidation did not reach Redis is owed: until every entry has been retired — new
generations and a hold for every kind, retried each REPAY_EVERY_SECONDS from a thread of its own — the process
neither reads nor stores entries, and once Redis takes the repayment no process finds an entry from before.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import weakref
from typing import Any

import redis
from redis.exceptions import RedisClusterException

log = logging.getLogger("server.cache")

RECHECK_SECONDS = 5.0  # after a Redis failure, how long the cache stays out of the way before trying again
REPAY_EVERY_SECONDS = 1.0
HOLD_SECONDS = 30  # longer than any commit takes
SESSIONS = "sess"  # the kinds of entries (server/cache.py)
CLEARANCE = "clr"
REDIS_ERRORS = (redis.RedisError, RedisClusterException)  # the cluster client's own errors are not RedisErrors


def _fresh() -> str:
    return secrets.token_hex(6)


class OutageGuard:
    """Mixed into ReadCache: needs `client` and `_key(kind, part)`."""

    client: Any

    def __init__(self) -> None:
        self._down_until = 0.0  # monotonic time before which Redis is not asked
        self._owed = False  # an invalidation did not reach Redis: every entry must be retired before trusting any
        self._repaying = False
        self._state = threading.Lock()

    def _key(self, kind: str, part: str, ident: object = None) -> str:
        raise NotImplementedError

    def _down(self) -> bool:
        """Whether Redis failed a moment ago."""
        return time.monotonic() < self._down_until

    def _usable(self) -> bool:
        """Whether entries may be read and stored now."""
        if self._down():
            return False
        return not self._owed or self._repay()

    def _failed(self, exc: Exception, *, invalidation: bool) -> None:
        """Redis did not answer: stay away for a while; a lost invalidation is owed until repaid."""
        with self._state:
            first = time.monotonic() >= self._down_until
            self._down_until = time.monotonic() + RECHECK_SECONDS
            start = invalidation and not self._repaying
            if invalidation:
                self._owed = True
                self._repaying = True
        if first:
            log.warning("read cache: Redis unavailable (%s); reading from the database%s", type(exc).__name__,
                        ", entries will be retired when it is back" if invalidation else "")
        if start:
            self._start_repaying()

    def _owe(self) -> None:
        """An invalidation skipped while Redis is known to be down."""
        with self._state:
            self._owed = True
            start, self._repaying = not self._repaying, True
        if start:
            self._start_repaying()

    def _start_repaying(self) -> None:
        # The thread holds the cache weakly: an app thrown away while Redis is still gone takes its debt with it.
        threading.Thread(target=_repay_until_done, args=(weakref.ref(self),), name="read-cache-repay",
                         daemon=True).start()

    def _repay(self) -> bool:
        """Retire every entry: new generations and a hold for every kind. True when Redis took it."""
        pipe = self.client.pipeline(transaction=True)
        for kind in (SESSIONS, CLEARANCE):
            pipe.set(self._key(kind, "gen"), _fresh())
            pipe.set(self._key(kind, "hold"), "1", ex=HOLD_SECONDS)
        try:
            pipe.execute()
        except REDIS_ERRORS as exc:
            with self._state:
                self._down_until = time.monotonic() + RECHECK_SECONDS
            log.debug("read cache: still cannot retire entries: %s", type(exc).__name__)
            return False
        with self._state:
            self._owed = False
        log.warning("read cache: Redis answers again; every entry written before was retired")
        return True



def _repay_until_done(ref: weakref.ref[OutageGuard]) -> None:
    """Retry the repayment every REPAY_EVERY_SECONDS until it is made or the cache is gone."""
    while True:
        time.sleep(REPAY_EVERY_SECONDS)
        guard = ref()
        if guard is None:
            return
        if guard._owed:
            guard._repay()
        with guard._state:  # a failure that came meanwhile found us running, so we keep going for it
            if not guard._owed:
                guard._repaying = False
                return
        del guard
