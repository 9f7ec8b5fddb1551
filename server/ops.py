"""Operations: security headers, readiness, and the Prometheus endpoint (metrics in server/metrics.py)."""

from __future__ import annotations

import logging
import secrets
import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from server.metrics import Metrics
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


def csp_nonce() -> str:
    """This response's script nonce."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce  # type: ignore[no-any-return]


def install(app: Flask) -> None:
    """Headers on every response, request timing, and the /readyz and /metrics endpoints."""
    metrics = Metrics(lambda: app.extensions["lixiao"].engine)
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
        if "cache-control" not in present and (api or path.startswith("/me")):
            headers.add("Cache-Control", "no-store")
        started = g.pop("started", None)
        if started is not None:
            endpoint = req.url_rule.rule if req.url_rule else "unmatched"
            metrics.observe(req.method, endpoint, response.status_code, time.perf_counter() - started)
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
        return Response(metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)


def app_state_settings(app: Flask):  # type: ignore[no-untyped-def]
    """The settings of an app being built (before a request context exists)."""
    return app.extensions["lixiao"].settings
