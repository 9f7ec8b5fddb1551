"""Prometheus metrics: request latency and errors per process, database-backed gauges read at scrape time.

Under gunicorn with several worker processes, set `PROMETHEUS_MULTIPROC_DIR` (an empty directory, wiped at
start; deploy/gunicorn.conf.py does both): request metrics are then written there by every worker and a
scrape of any worker reports the sum. The gauges (source health, the push outbox) are computed from the
database at scrape time, so every worker reports the same truth without sharing anything.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, or_, select

from server.timeutil import utcnow

log = logging.getLogger(__name__)
HELD_REASONS = ("platform_held", "keywords_missing")  # messaging/delivery.py
OUTBOX_STATUSES = ("pending", "sending", "sent", "unconfirmed", "skipped", "refused", "failed")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


def multiprocess_dir() -> str | None:
    """The directory shared by gunicorn's workers, when metrics are collected across processes."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class DatabaseGauges(Collector):
    """Gauges computed from the database when scraped: failing department records and the push outbox."""

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """Read the gauges; a database that does not answer yields none rather than failing the scrape."""
        sources = GaugeMetricFamily("lixiao_source_failed_records", "Records whose last read failed",
                                    labels=["department"])
        events = GaugeMetricFamily("lixiao_outbox_events", "Push events by status", labels=["status"])
        try:
            with self.engine().connect() as conn:
                for key, failed in _failed_records(conn).items():
                    sources.add_metric([key], failed)
                by_status, oldest = _outbox(conn)
                by_reason = _held(conn)
                resent = _resent(conn)
        except Exception as exc:  # metrics must never take the service down
            log.warning("metrics gauges unavailable: %s", type(exc).__name__)
            return
        for status in sorted(set(OUTBOX_STATUSES) | set(by_status)):
            events.add_metric([status], by_status.get(status, 0))
        yield sources
        yield events
        yield GaugeMetricFamily("lixiao_outbox_backlog", "Push events pending or being sent",
                                value=by_status.get("pending", 0) + by_status.get("sending", 0))
        yield GaugeMetricFamily("lixiao_outbox_oldest_pending_seconds",
                                "Age of the oldest pending push event (0 when none)", value=oldest)
        held = GaugeMetricFamily("lixiao_outbox_held", "Pending pushes held until ops fix a cause (alert on > 0)",
                                 labels=["reason"])
        for reason in HELD_REASONS:
            held.add_metric([reason], by_reason.get(reason, 0))
        yield held
        again = GaugeMetricFamily("lixiao_outbox_resent_events",
                                  "Push events an administrator sent again, by their status now", labels=["status"])
        for status in sorted(set(OUTBOX_STATUSES) | set(resent)):
            again.add_metric([status], resent.get(status, 0))
        yield again


class KeywordGauges(Collector):
    """Keywords of the account's subscribe templates that no key maps to (messaging/keywords.py)."""

    def __init__(self, settings: Callable[[], Any]) -> None:
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        """One series per event of templates_msg; 0 when every keyword is mapped."""
        from server.messaging.keywords import missing_now
        from server.messaging.templates import get_templates

        gauge = GaugeMetricFamily("lixiao_subscribe_keywords_missing",
                                  "Keywords an event's subscribe template needs and the account's template lacks",
                                  labels=["event"])
        gaps = missing_now(self.settings())
        for event in sorted(get_templates()):
            gauge.add_metric([event], len(gaps.get(event, [])))
        yield gauge


def _failed_records(conn: Connection) -> dict[str, int]:
    from server.items import registry

    return {key: int(conn.execute(select(func.count()).select_from(model).where(
        model.failed_at.is_not(None), or_(model.read_at.is_(None), model.failed_at >= model.read_at))).scalar_one())
        for key, model in ((key, item.record) for key, item in registry.known().items())}


def _outbox(conn: Connection) -> tuple[dict[str, int], float]:
    from server.clearance.events import OutboxEvent

    by_status = {str(s): int(n) for s, n in conn.execute(
        select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status)).all()}
    oldest = conn.execute(select(func.min(OutboxEvent.created_at)).where(OutboxEvent.status == "pending")).scalar()
    if oldest is None:
        return by_status, 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)  # stored as naive UTC
    return by_status, max(0.0, (utcnow() - oldest).total_seconds())


def _held(conn: Connection) -> dict[str, int]:
    from server.clearance.events import OutboxEvent

    return {str(r): int(n) for r, n in conn.execute(
        select(OutboxEvent.reason, func.count()).where(OutboxEvent.status == "pending",
                                                       OutboxEvent.reason.in_(HELD_REASONS))
        .group_by(OutboxEvent.reason)).all()}


def _resent(conn: Connection) -> dict[str, int]:
    from server.clearance.events import OutboxEvent

    return {str(s): int(n) for s, n in conn.execute(
        select(OutboxEvent.status, func.count()).where(OutboxEvent.resent_at.is_not(None))
        .group_by(OutboxEvent.status)).all()}


class Metrics:
    """The app's metrics, in a registry of its own (several apps may live in one test process)."""

    def __init__(self, engine: Callable[[], Engine], settings: Callable[[], Any] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram("lixiao_request_seconds", "Request latency", ["method", "endpoint", "status"],
                                 registry=self.registry, buckets=BUCKETS)
        self.errors = Counter("lixiao_request_errors_total", "Responses with status >= 500", ["endpoint"],
                              registry=self.registry)
        self.database = DatabaseGauges(engine)
        self.registry.register(self.database)
        self.keywords = KeywordGauges(settings) if settings is not None else None
        if self.keywords is not None:
            self.registry.register(self.keywords)
        self._children: dict[tuple[str, str, int], Any] = {}  # endpoints are route rules: a bounded set

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        key = (method, endpoint, status)
        child = self._children.get(key)
        if child is None:  # labels() costs as much as the observation: keep each series' child
            child = self._children[key] = self.latency.labels(method, endpoint, str(status))
        child.observe(seconds)
        if status >= 500:
            self.errors.labels(endpoint).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format: this process's registry, or every gunicorn worker's when multiprocess."""
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(self.database)
        if self.keywords is not None:
            registry.register(self.keywords)
        return generate_latest(registry)
