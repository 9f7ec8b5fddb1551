"""Operations endpoints and the headers every response carries."""

from __future__ import annotations

import redis as redis_lib

from server.app import create_app


def test_security_headers_on_pages_and_api(api):
    for path in ("/healthz", "/api/v1/me/clearance", "/no-such-page"):
        response = api().get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "'nonce-" in csp and "object-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in response.headers  # development serves plain HTTP
    assert api().get("/api/v1/me/clearance").headers["Cache-Control"] == "no-store"


def test_every_response_gets_a_fresh_nonce(api):
    first = api().get("/healthz").headers["Content-Security-Policy"]
    second = api().get("/healthz").headers["Content-Security-Policy"]
    assert first != second


def test_readyz_reports_database_and_redis(api):
    response = api().get("/readyz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "problems": {}}


def test_readyz_is_503_when_redis_is_unreachable(settings):
    app = create_app(settings.with_overrides(redis_url="redis://127.0.0.1:1/0"))
    assert isinstance(app.extensions["lixiao"].redis, redis_lib.Redis)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and "redis" in response.json["problems"]
    app.extensions["lixiao"].engine.dispose()


def test_metrics_count_requests(api):
    api().get("/healthz")
    body = api().get("/metrics").text
    assert 'lixiao_request_seconds_count{endpoint="/healthz",method="GET",status="200"}' in body
    assert "lixiao_source_failed_records" in body
