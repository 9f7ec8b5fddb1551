"""Operations: security headers, readiness, and the Prometheus endpoint (metrics in server/metrics.py)."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from server.messaging.keywords import missing_now
from server.metrics import Metrics
from server.schema_check import charset_problems
from server.state import app_state

log = logging.getLogger(__name__)

# Pages use only our own scripts and styles; the QR SVG is inline. frame-ancestors stops clickjacking.
# Inline scripts need the per-request nonce (`{{ csp_nonce() }}` in templates); the WeChat/WeCom JS-SDKs load
# from res.wx.qq.com.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self' 'nonce-{nonce}' https://res.wx.qq.com; object-src 'none'; base-uri 'none'; "
       "form-action 'self' {cas}; frame-ancestors 'none'")


# JSON is never a document a browser runs: the API's answers allow nothing at all (OWASP's advice for REST APIs).
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Only these answers may be kept by a browser or proxy: everything else may name a person (review F7).
CACHEABLE = ("/static/", "/.well-known/")


def csp_nonce() -> str:
    """This response's script nonce."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def install(app: Flask) -> None:
    """Headers on every response, request timing, and the /readyz and /metrics endpoints."""
    metrics = Metrics(lambda: app.extensions["lixiao"].engine, lambda: app.extensions["lixiao"].settings)
    app.extensions["lixiao_metrics"] = metrics
    settings = app_state_settings(app)
    cas_origin = settings.cas_server_url.rstrip("/").rsplit("/cas", 1)[0] if settings.cas_server_url else ""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    def _start_timer() -> None:
        g.started = time.perf_counter()

    # First of all the hooks, so the time includes authentication.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)

    fixed = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY")]
    if settings.is_production:
        fixed.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    @app.after_request
    def _headers_and_timing(response: Response) -> Response:
        # What a view set stays (e.g. the certificate page's stricter Referrer-Policy). One pass over the names:
        # werkzeug's setdefault raises and catches an exception for every header not there yet.
        req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup, not six
        path, headers = req.path, response.headers
        api = path.startswith("/api/")
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 -- Headers iterates as (name, value)
        if "content-security-policy" not in present:
            json_api = api and response.mimetype == "application/json"
            headers.add("Content-Security-Policy",
                        API_CSP if json_api else CSP.format(nonce=csp_nonce(), cas=cas_origin))
        for name, value in fixed:
            if name.lower() not in present:
                headers.add(name, value)
        if "cache-control" not in present and not path.startswith(CACHEABLE):
            headers.add("Cache-Control", "no-store")  # pages name people; counter and office PCs are shared
        started = g.pop("started", None)
        if started is not None:
            endpoint = req.url_rule.rule if req.url_rule else "unmatched"
            metrics.observe(req.method, endpoint, response.status_code, time.perf_counter() - started)
        return response

    @app.get("/readyz", doc_ui=False)
    def readyz():
        """200 when the database and Redis answer and the schema is utf8mb4; 503 naming what is wrong."""
        state = app_state()
        problems = {}
        try:
            with state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                charsets = charset_problems(conn)
            if charsets:  # a name such as 王𪚥 would fail to save (server/schema_check.py)
                problems["charset"] = "; ".join(charsets)
        except Exception as exc:
            problems["database"] = type(exc).__name__
        try:
            _ping_every_master(state.redis)
        except Exception as exc:
            problems["redis"] = type(exc).__name__
        body: dict[str, object] = {"status": "ok" if not problems else "unavailable", "problems": problems}
        gaps = missing_now(state.settings)
        if gaps:  # the web serves on; the worker holds these pushes (server/messaging/keywords.py)
            body["warnings"] = {"subscribe_keywords": "; ".join(
                f"{event}: {', '.join(names)} missing" for event, names in sorted(gaps.items()))}
        return body, 200 if not problems else 503

    @app.get("/metrics", doc_ui=False)
    def prometheus_metrics():
        """Prometheus text format; gauges are read from the database at scrape time."""
        return Response(metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)


def _ping_every_master(client: Any) -> None:
    """PING Redis; on a Redis Cluster every master, so one that is dead makes the server unready (its slots'
    keys, read-cache pages among them, cannot be reached)."""
    from redis.cluster import RedisCluster

    if isinstance(client, RedisCluster):
        for node in client.get_primaries():
            connection = client.get_redis_connection(node)
            if not connection.ping():
                raise ConnectionError(f"{node.name} does not answer")
        return
    client.ping()


def app_state_settings(app: Flask):
    """The settings of an app being built (before a request context exists)."""
    return app.extensions["lixiao"].settings
