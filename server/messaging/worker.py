"""The push worker: claims outbox rows, delivers them, and runs the periodic jobs.

Run one or several: `python -m server.messaging.worker` (or `python -m server.cli worker`); the demo runs
one as a thread in the app process (`run_in_thread`).

Delivery is at most once per (student, event): the outbox key stops an event from being queued twice, a
row is sent only by the worker that moved it from pending to sending, and the answer is recorded by the
next commit, which is the one that marks the next push "sending" immediately before its request leaves
(delivery.py: one commit per push; an answer that needs more than its own row, and the last push of a
batch, commit at once).

What a SIGKILL (or a crash, an OOM kill, a power cut) costs, measured (tests/messaging/test_worker_kill.py,
`test_repeated_sigkills_lose_no_push_silently`, LIXIAO_DRILL_KILLS=40, MariaDB, the local emulator, about
100 pushes/s, so about 10 ms per push): 38 of 40 kills left one row `unconfirmed` (the other 2 fell before
"sending" was committed, and those pushes went out once, later). 27 of those had arrived and 11 (28 % of the kills)
were lost. The reliability review found 16 lost in 50 kills. The loss window runs from the database committing
"sending" until the request's bytes are written: the COMMIT's answer travelling back, then requests/urllib3 building
and writing the request. That is about 3 ms of each 10 ms push, not "a few hundred microseconds". A kill after the
bytes left, while the answer is awaited or before the next commit records it, leaves a delivered row `unconfirmed`.
Against the real platforms, whose answers take 50-300 ms, the loss window stays about the same in milliseconds,
so a smaller share of kills loses a push. So:
- a kill while sending almost always leaves one `unconfirmed` row per sending thread. Whether that push arrived
  cannot be known (neither WeChat nor WeCom can be asked), and it is never resent automatically. The student
  still has it in the app;
- administrators see these rows at /admin/pushes (counted in /metrics) and may resend them, audited. The policy
  and what a resend risks are in server/messaging/problems.py;
- SIGTERM (systemd's stop, deploys) loses nothing: the push in flight is answered and recorded, the rest of the
  batch is handed back unclaimed, and the worker exits (`test_sigterm_under_load_loses_nothing`).

LIXIAO_WORKER_THREADS (default 1) lets one worker send several pushes at once: each thread sends its share
of a batch (whole students, so two threads never wait on one consent row) one after another. More pushes
per second, but a kill leaves up to that many rows unconfirmed, and a thread may wait for the interpreter
lock between its commit and its write, which widens the window above. Prefer more worker processes; they
scale through SKIP LOCKED without that cost.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from server.clearance.events import OutboxEvent
from server.db import make_engine, make_session_factory
from server.messaging import claims, jobs
from server.messaging.delivery import Deliverer
from server.messaging.ratelimit import SlidingWindowLimiter
from server.messaging.transport import PushTransport
from server.redis_client import make_redis
from server.settings import Settings, load_settings
from server.sources import DepartmentSource, build_sources
from server.sources.refresh import refresh_stale_records
from server.timeutil import utcnow

log = logging.getLogger(__name__)

JOB_CHECK_SECONDS = 30.0  # how often a worker looks whether a periodic job is due
MAX_FAILED_ROUNDS_UNTIL_IDLE = 20  # --until-idle gives up after this many failed rounds in a row


def new_worker_id() -> str:
    """A name unique to this worker, readable in the outbox's claimed_by column."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """One push worker; several may run at once against the same database and Redis."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None, redis_client: redis.Redis | None = None,
                 sources: Mapping[str, DepartmentSource] | None = None, worker_id: str | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.redis = redis_client if redis_client is not None else make_redis(settings.redis_url)
        self.sources = sources if sources is not None else build_sources(settings)
        self.id = worker_id or new_worker_id()
        self.clock = clock
        limiter = SlidingWindowLimiter(self.redis, "lixiao:wecom-rate", [
            (settings.wecom_per_user_per_minute, 60.0), (settings.wecom_per_user_per_hour, 3600.0)])
        pool = (ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="push-send")
                if settings.worker_threads > 1 else None)
        self.deliverer = Deliverer(settings, self.sessions, lambda: PushTransport(settings, self.redis), limiter,
                                   self.id, clock, pool)
        self._next_job_check = 0.0

    def run_once(self) -> int:
        """Recover abandoned rows, claim a batch of due rows and deliver them; returns how many were handled."""
        with self.sessions() as session:
            claims.recover_abandoned(session, self.clock())
            ids = claims.claim(session, self.id, self.clock(), self.settings.outbox_lease_seconds,
                               self.settings.outbox_batch_size)
        if ids:
            self.deliverer.deliver(ids)
        return len(ids)

    def run_jobs(self, force: bool = False) -> dict[str, str | None]:
        """Run the periodic jobs that are due and that no other worker is running."""
        if not force and time.monotonic() < self._next_job_check:
            return {}
        self._next_job_check = time.monotonic() + JOB_CHECK_SECONDS
        settings, results = self.settings, {}
        with self.sessions() as session:
            now = self.clock()
            def refresh_job() -> str:
                count = refresh_stale_records(session, settings, self.sources, now, settings.refresh_batch_limit)
                session.commit()
                return f"refreshed {count} students"

            def reminder_job() -> str:
                count = jobs.enqueue_reminders(session, settings, now)
                session.commit()
                return f"offered {count} reminders"

            results["refresh_stale_records"] = jobs.run_guarded(
                session, "refresh_stale_records", self.id, now, settings.refresh_interval_seconds, refresh_job)
            results["batch_closing_reminders"] = jobs.run_guarded(
                session, "batch_closing_reminders", self.id, now, settings.reminder_interval_seconds, reminder_job)
        return results

    def release_claims(self) -> None:
        """Hand back rows claimed but not started, so another worker need not wait for the lease."""
        with self.sessions() as session:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.claimed_by == self.id, OutboxEvent.status == claims.PENDING)
                .values(claimed_by=None, claimed_until=None).execution_options(synchronize_session=False)
            )
            session.commit()

    def run(self, stop: threading.Event, *, until_idle: bool = False, jobs_enabled: bool = True) -> None:
        """Work until `stop` is set (or, with `until_idle`, until nothing is due)."""
        log.info("push worker %s started", self.id)
        self.deliverer.stopping = stop  # a stop lets the push in flight finish and starts no other
        failed_rounds = 0
        try:
            while not stop.is_set():
                try:
                    if jobs_enabled:
                        self.run_jobs()
                    handled = self.run_once()
                    failed_rounds = 0
                except Exception:
                    # A failed round (a deadlock the database broke, a dropped connection) says nothing about
                    # whether work is left: try again shortly rather than treat it as idle.
                    failed_rounds += 1
                    log.exception("push worker %s: round failed; retrying shortly", self.id)
                    if until_idle and failed_rounds >= MAX_FAILED_ROUNDS_UNTIL_IDLE:
                        break
                    stop.wait(self.settings.worker_poll_seconds)
                    continue
                if handled:
                    continue
                if until_idle:
                    break
                stop.wait(self.settings.worker_poll_seconds)
        finally:
            try:
                self.release_claims()
            except Exception:
                log.exception("push worker %s could not release its claims", self.id)
            if self.deliverer.pool is not None:
                self.deliverer.pool.shutdown(wait=True)
            log.info("push worker %s stopped", self.id)


def run_in_thread(app: Any) -> threading.Event:
    """Start a worker beside the app (the demo), sharing its engine and Redis; set the event to stop it."""
    state = app.extensions["lixiao"]
    worker = Worker(state.settings, engine=state.engine, redis_client=state.redis, sources=state.sources)
    stop = threading.Event()
    threading.Thread(target=worker.run, args=(stop,), name="lixiao-push-worker", daemon=True).start()
    return stop


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: run a worker until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m server.messaging.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--until-idle", action="store_true", help="exit when no push is due")
    parser.add_argument("--no-jobs", action="store_true", help="only deliver pushes, run no periodic job")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Worker(load_settings()).run(stop, until_idle=args.until_idle, jobs_enabled=not args.no_jobs)


if __name__ == "__main__":
    main()
