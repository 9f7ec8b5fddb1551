"""The per-recipient sliding window holds under concurrency: never more than the limit, nobody dropped."""

from __future__ import annotations

import threading
import time

from server.messaging.ratelimit import WINDOW_MARGIN_SECONDS, SlidingWindowLimiter


def test_concurrent_acquires_never_exceed_the_limit(app) -> None:
    limiter = SlidingWindowLimiter(app.extensions["lixiao"].redis, "test:rate", [(5, 60.0), (1000, 3600.0)])
    now = time.time()
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(5):
            wait = limiter.acquire("user-1", now)
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(w == 0 for w in waits) == 5
    assert all(0 < w <= 60 + WINDOW_MARGIN_SECONDS for w in waits if w)
    assert limiter.acquire("user-2", now) == 0  # recipients are limited separately
    later = now + 60 + WINDOW_MARGIN_SECONDS + 0.01
    assert [limiter.acquire("user-1", later) for _ in range(6)].count(0) == 5


def test_the_hourly_window_applies_too(app) -> None:
    limiter = SlidingWindowLimiter(app.extensions["lixiao"].redis, "test:rate", [(30, 60.0), (3, 3600.0)])
    start = time.time()
    assert [limiter.acquire("user-1", start + 100 * i) for i in range(3)] == [0, 0, 0]
    wait = limiter.acquire("user-1", start + 300)
    assert round(wait) == 3600 + WINDOW_MARGIN_SECONDS - 300
