"""Run in a fresh process by the export tests: how far resident memory rises during a small and a large export.

Usage: python tests/reports/rss_probe.py DATABASE_URL REDIS_URL STAFF_ID PATH_SMALL PATH_LARGE
Prints JSON: for each export, the bytes streamed and the rise of resident memory above where it started,
sampled every few milliseconds while the response is read; and, for contrast, the rise when the large
export's rows are all held in a list (what a non-streaming export would need).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_kb() -> int:
    """Resident memory now (not the high-water mark, which earlier work would hide)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE // 1024


def _rise_while(work) -> tuple[object, int]:
    """Run `work()` and report how far resident memory rose above where it started."""
    start = resident_kb()
    peak = start
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, resident_kb())
            time.sleep(0.003)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = work()
        return result, max(peak, resident_kb()) - start
    finally:
        done.set()
        sampler.join()


def _consume(client, path: str) -> dict[str, int]:
    def work() -> int:
        response = client.get(path, buffered=False)
        assert response.status_code == 200, response.status_code
        size = sum(len(chunk) for chunk in response.response)
        response.close()
        return size

    size, rise = _rise_while(work)
    return {"bytes": size, "rise_kb": rise}


def _held(app, batch_id: int) -> dict[str, int]:
    """For contrast: the rise when the same rows are all held in memory, as a non-streaming export would."""
    from server.items import registry
    from server.reports.exports import iter_student_rows
    from server.reports.reading import read_sessions

    items = registry.active(app.extensions["lixiao"].settings)
    with app.app_context(), read_sessions()() as session:
        rows, rise = _rise_while(lambda: list(iter_student_rows(session, items, batch_id=batch_id)))
    return {"rows": len(rows), "rise_kb": rise}


def main(database_url: str, redis_url: str, staff_id: str, small: str, large: str) -> None:
    from server.app import create_app
    from server.settings import Settings, items_from_env

    app = create_app(Settings(database_url=database_url, redis_url=redis_url, testing=True,
                              secret_key="test-secret-key-that-is-long-enough-0123", items=items_from_env(os.environ)))
    from tests.factories import sign_in_client

    client = sign_in_client(app.test_client(), app, staff_id=int(staff_id))
    _consume(client, small)  # imports and caches land before anything is measured
    measured = {"small": _consume(client, small), "large": _consume(client, large)}
    measured["held"] = _held(app, int(parse_qs(urlsplit(large).query)["batch"][0]))
    print(json.dumps(measured))


if __name__ == "__main__":
    main(*sys.argv[1:])
