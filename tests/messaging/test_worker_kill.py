"""SIGKILL a real worker process while it sends 1,000 pushes; a new worker finishes; each arrives once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.messaging.outbox import event_row, insert_events
from server.settings import PROJECT_ROOT
from server.timeutil import utcnow
from tests.factories import make_batch
from tests.messaging.pushes import delivered_keys, openid_of, reachable_student, statuses

STUDENTS = 250
ITEMS = ("library", "archives", "apartment", "finance")


def _start_worker(settings, emulator, log: Path) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {**os.environ, "LIXIAO_DATABASE_URL": settings.database_url, "LIXIAO_REDIS_URL": settings.redis_url,
           "LIXIAO_WX_API_BASE": emulator.url, "LIXIAO_WECOM_API_BASE": emulator.url + "qy/cgi-bin/",
           "LIXIAO_OUTBOX_LEASE_SECONDS": "2", "LIXIAO_WORKER_POLL_SECONDS": "0.05",
           "LIXIAO_OUTBOX_RETRY_BASE_SECONDS": "0.05", "LIXIAO_OUTBOX_BATCH_SIZE": "20",
           "LIXIAO_WORKER_THREADS": str(settings.worker_threads)}
    return subprocess.Popen([sys.executable, "-m", "server.messaging.worker", "--no-jobs"], cwd=PROJECT_ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"))


def _sent(emulator) -> int:  # type: ignore[no-untyped-def]
    return int(emulator.stats()["messages"]["wechat"])


@pytest.mark.slow
def test_sigkill_mid_batch_then_a_new_worker_delivers_each_push_exactly_once(
        app, session, settings, emulator, tmp_path) -> None:
    batch = make_batch(session)
    students = [reachable_student(session, batch, consents={"item_passed": 4}) for _ in range(STUDENTS)]
    now = utcnow()
    insert_events(session, [
        event_row(s.id, "item_passed", f"item_passed:{batch.id}:{item}",
                  {"batch_id": batch.id, "item": item, "changed_at": now.isoformat()}, now)
        for s in students for item in ITEMS])
    session.commit()
    for s in students:
        emulator.set_quota(openid_of(s), "demo-tmpl-item-passed", 4)
    log = tmp_path / "worker.log"
    kill_after = random.randint(100, 700)

    first = _start_worker(settings, emulator, log)
    try:
        deadline = time.monotonic() + 120
        while _sent(emulator) < kill_after:
            assert first.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the first worker is too slow"
            time.sleep(0.005)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    at_kill = _sent(emulator)
    assert at_kill < STUDENTS * len(ITEMS), "the worker finished before it was killed"

    second = _start_worker(settings, emulator, log)
    try:
        deadline = time.monotonic() + 180
        while (counts := statuses(session)).get("sent", 0) + counts.get("unconfirmed", 0) < STUDENTS * len(ITEMS):
            assert second.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"not finished: {dict(counts)}"
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)

    messages = emulator.messages("wechat")
    per_message = delivered_keys(messages)
    unconfirmed = counts.get("unconfirmed", 0)
    # At most the pushes in flight when the worker died (one per sending thread) are left unconfirmed.
    assert unconfirmed <= settings.worker_threads and set(counts) <= {"sent", "unconfirmed"}
    assert set(per_message.values()) == {1}, "a push was doubled"
    assert len(messages) == len(per_message)
    # A push whose "sending" was committed is never sent again. If the kill fell between that commit and its bytes
    # leaving (the window worker.py describes: a few hundred microseconds of the client's own work), it never
    # arrived, and its row says "unconfirmed", so the student still sees it in the app. No other push may be missing.
    assert len(per_message) >= STUDENTS * len(ITEMS) - unconfirmed, "a push was lost without being marked"
    print(f"killed after {at_kill} pushes; rows: {dict(counts)}")
