"""Operations: security headers, readiness, and Prometheus metrics."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, or_, select, text

from server.state import app_state
from server.timeutil import utcnow

log = logging.getLogger(__name__)
OUTBOX_STATUSES = {"pending", "sending", "sent", "unconfirmed", "skipped", "refused", "failed"}

# Pages use only our own scripts and styles; the QR SVG is inline. frame-ancestors stops clickjacking.
# Inline scripts need the per-request nonce (`{{ csp_nonce() }}` in templates); the WeChat/WeCom JS-SDKs load
# from res.wx.qq.com.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self' 'nonce-{nonce}' https://res.wx.qq.com; object-src 'none'; base-uri 'none'; "
       "form-action 'self' {cas}; frame-ancestors 'none'")


def csp_nonce() -> str:
    """This response's script nonce."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce  # type: ignore[no-any-return]


class Metrics:
    """The app's Prometheus metrics, in a registry of its own (several apps may live in one test process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram("lixiao_request_seconds", "Request latency", ["method", "endpoint", "status"],
                                 registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.errors = Counter("lixiao_request_errors_total", "Responses with status >= 500", ["endpoint"],
                              registry=self.registry)
        self.outbox_backlog = Gauge("lixiao_outbox_backlog", "Push events pending or being sent",
                                    registry=self.registry)
        self.outbox_events = Gauge("lixiao_outbox_events", "Push events by status", ["status"],
                                   registry=self.registry)
        self.outbox_oldest_pending = Gauge("lixiao_outbox_oldest_pending_seconds",
                                           "Age of the oldest pending push event (0 when none)", registry=self.registry)
        self.source_failures = Gauge("lixiao_source_failed_records", "Records whose last read failed",
                                     ["department"], registry=self.registry)


def install(app: Flask) -> None:
    """Headers on every response, request timing, and the /readyz and /metrics endpoints."""
    metrics = Metrics()
    app.extensions["lixiao_metrics"] = metrics
    settings = app_state_settings(app)
    cas_origin = settings.cas_server_url.rstrip("/").rsplit("/cas", 1)[0] if settings.cas_server_url else ""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _headers_and_timing(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce(), cas=cas_origin))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if settings.is_production:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith("/api/") or request.path.startswith("/me"):
            response.headers.setdefault("Cache-Control", "no-store")
        started = g.pop("started", None)
        if started is not None:
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            metrics.latency.labels(request.method, endpoint, str(response.status_code)).observe(
                time.perf_counter() - started)
            if response.status_code >= 500:
                metrics.errors.labels(endpoint).inc()
        return response

    @app.get("/readyz", doc_ui=False)  # type: ignore[attr-defined]
    def readyz():  # type: ignore[no-untyped-def]
        """200 when the database and Redis answer; 503 naming what does not."""
        state = app_state()
        problems = {}
        try:
            with state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            problems["database"] = type(exc).__name__
        try:
            state.redis.ping()
        except Exception as exc:
            problems["redis"] = type(exc).__name__
        body = {"status": "ok" if not problems else "unavailable", "problems": problems}
        return body, 200 if not problems else 503

    @app.get("/metrics", doc_ui=False)  # type: ignore[attr-defined]
    def prometheus_metrics():  # type: ignore[no-untyped-def]
        """Prometheus text format; gauges are read from the database at scrape time."""
        _refresh_gauges(metrics)
        return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST)


def app_state_settings(app: Flask):  # type: ignore[no-untyped-def]
    """The settings of an app being built (before a request context exists)."""
    return app.extensions["lixiao"].settings


def _refresh_gauges(metrics: Metrics) -> None:
    from server.clearance.models import RECORD_MODELS

    state = app_state()
    try:
        with state.engine.connect() as conn:
            for key, model in RECORD_MODELS.items():
                failed = conn.execute(select(func.count()).select_from(model).where(
                    model.failed_at.is_not(None),
                    or_(model.read_at.is_(None), model.failed_at >= model.read_at))).scalar_one()
                metrics.source_failures.labels(key).set(failed)
            _outbox_gauges(conn, metrics)
    except Exception as exc:  # metrics must never take the service down
        log.warning("metrics gauges unavailable: %s", type(exc).__name__)


def _outbox_gauges(conn, metrics: Metrics) -> None:  # type: ignore[no-untyped-def]
    """Push events by status, the backlog (pending or being sent) and how long the oldest has waited."""
    from server.messaging.claims import PENDING, SENDING
    from server.messaging.models import OutboxEvent

    by_status = dict(conn.execute(select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status)).all())
    for status in OUTBOX_STATUSES | set(by_status):
        metrics.outbox_events.labels(status).set(by_status.get(status, 0))
    metrics.outbox_backlog.set(by_status.get(PENDING, 0) + by_status.get(SENDING, 0))
    oldest = conn.execute(select(func.min(OutboxEvent.created_at)).where(OutboxEvent.status == PENDING)).scalar()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)  # a raw min() over the column skips our UTC type on some backends
    metrics.outbox_oldest_pending.set(max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0)
