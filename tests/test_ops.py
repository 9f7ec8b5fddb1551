"""Operations endpoints and the headers every response carries."""

from __future__ import annotations

import redis as redis_lib

from server.app import create_app


def test_security_headers_on_pages_and_api(api):
    for path in ("/healthz", "/api/v1/me/clearance", "/no-such-page", "/api/openapi.json"):
        response = api().get(path)
        csp = response.headers["Content-Security-Policy"]
        if path.startswith("/api/"):  # JSON answers allow nothing at all
            assert csp == "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", path
        else:
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


def test_metrics_report_the_outbox_by_status_backlog_and_oldest_wait(api, session):
    from datetime import timedelta

    from server.clearance.events import OutboxEvent
    from server.timeutil import utcnow
    from tests.factories import make_batch, make_student

    student = make_student(session, make_batch(session))
    now = utcnow()
    for i, status in enumerate(["pending", "pending", "sending", "sent", "refused"]):
        session.add(OutboxEvent(student_id=student.id, event="item_passed", event_key=f"metrics:{i}", status=status,
                                created_at=now - timedelta(minutes=10 * (i + 1)), next_attempt_at=now))
    session.commit()
    body = api().get("/metrics").text
    assert "lixiao_outbox_backlog 3.0" in body
    assert 'lixiao_outbox_events{status="pending"} 2.0' in body and 'lixiao_outbox_events{status="sent"} 1.0' in body
    assert 'lixiao_outbox_events{status="failed"} 0.0' in body
    oldest = next(float(line.split()[1]) for line in body.splitlines()
                  if line.startswith("lixiao_outbox_oldest_pending_seconds "))
    assert 20 * 60 - 5 < oldest < 20 * 60 + 120  # the older pending row was made 20 minutes ago
