"""Our bearer tokens: one student never sees another's data; tampered, foreign, expired and revoked tokens fail."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select, update

from server.clearance.models import Application
from server.identity.models import ApiSession
from server.identity.tokens import issue_session, issue_token, read_token_hint, revoke_sessions, sign_session_id
from server.timeutil import utcnow
from tests.factories import cleared_student, make_batch, student_token
from tests.identity.flows import error_code, me

SNOOPING = {"student_no": "{b_no}", "student_id": "{b_id}", "id": "{b_id}", "student": "{b_no}"}


def me_get_paths(app) -> list[str]:
    """Every GET endpoint under /api/v1/me — none has a student id in its path."""
    paths = sorted({r.rule for r in app.url_map.iter_rules()
                    if r.rule.startswith("/api/v1/me") and "GET" in (r.methods or ())})
    assert paths and all("<" not in p for p in paths)
    return paths


def test_a_token_only_ever_shows_its_own_student(app, live, session, settings):
    batch = make_batch(session)
    alice = cleared_student(session, batch, name="隔离甲")
    bob = cleared_student(session, batch, name="隔离乙")
    session.commit()
    token = student_token(session, settings, alice)
    params = {k: v.format(b_no=bob.student_no, b_id=bob.id) for k, v in SNOOPING.items()}
    for path in me_get_paths(app):
        response = me(live.url, token, path, params=params)
        assert response.status_code in (200, 404), (path, response.text)
        assert bob.student_no not in response.text and "隔离乙" not in response.text, path
        if path == "/api/v1/me/clearance":
            assert response.json()["student"]["student_no"] == alice.student_no
    submitted = requests.post(f"{live.url}/api/v1/me/application", params=params, timeout=10,
                              headers={"Authorization": f"Bearer {token}"}, json={"confirm": True})
    assert submitted.status_code == 201
    session.expire_all()
    owners = session.scalars(select(Application.student_id)).all()
    assert owners == [alice.id]


def test_every_api_route_but_login_needs_a_token(app, live):
    """No back door: apart from the two login endpoints and health checks, every API route answers 401."""
    open_routes = {"/api/v1/auth/wx-login", "/api/v1/auth/wecom-login", "/api/openapi.json"}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in open_routes or "<" in rule.rule:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = requests.request(method, live.url + rule.rule, json={}, timeout=10,
                                         headers={"X-Student-No": "1", "X-Lixiao-Testing": "1"})
            assert response.status_code == 401, (method, rule.rule, response.text)


def test_a_tampered_token_is_401(live, session, settings):
    student = cleared_student(session, make_batch(session))
    token = student_token(session, settings, student)
    payload, _, signature = token.rpartition(".")
    # Change the signature's first character: the last one's low bits are base64 padding a decoder may ignore,
    # so flipping it would sometimes leave the signature valid (about one run in twenty).
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (payload + "." + flipped, token[1:], token + "x"):
        response = me(live.url, bad)
        assert response.status_code == 401 and error_code(response) == "UNAUTHORIZED"


def test_a_token_signed_with_another_key_is_401(live, session, settings):
    student = cleared_student(session, make_batch(session))
    real = student_token(session, settings, student)
    session_id = URLSafeTimedSerializer(settings.secret_key, salt="lixiao.api-token.v1").loads(real)
    forged = URLSafeTimedSerializer("another-secret-key-of-enough-length!!", salt="lixiao.api-token.v1").dumps(
        session_id)
    assert error_code(me(live.url, forged)) == "UNAUTHORIZED"


def test_an_expired_token_is_401_token_expired(live, session, settings):
    student = cleared_student(session, make_batch(session))
    token = issue_token(session, settings.secret_key, channel="wechat", now=utcnow() - timedelta(hours=2),
                        ttl_seconds=3600, openid="o-expired-token", student_id=student.id)
    session.commit()
    response = me(live.url, token)
    assert response.status_code == 401 and error_code(response) == "TOKEN_EXPIRED"


@pytest.mark.parametrize("overrides", [{"token_ttl_seconds": 1}])
def test_an_old_signature_is_401_token_expired(live, session, settings):
    """The signature's own age is checked too, even if the session row were still alive."""
    student = cleared_student(session, make_batch(session))
    token = issue_token(session, settings.secret_key, channel="wechat", now=utcnow(), ttl_seconds=3600,
                        openid="o-old-sig", student_id=student.id)
    session.commit()
    time.sleep(2.1)
    assert error_code(me(live.url, token)) == "TOKEN_EXPIRED"


def test_a_revoked_token_is_401(live, session, settings):
    student = cleared_student(session, make_batch(session))
    token = student_token(session, settings, student)
    assert me(live.url, token).status_code == 200
    revoke_sessions(session, now=utcnow(), student_id=student.id)
    session.commit()
    assert error_code(me(live.url, token)) == "UNAUTHORIZED"
    assert session.scalar(select(func.count()).select_from(Application)) == 0


# --- The student a token names is a prefetch hint, never an identity -------------------------------------------


def test_the_student_a_token_names_is_only_a_hint(live, session, settings):
    """A session's student changes after its token was made: the page is the session's student's, cache warm."""
    batch = make_batch(session)
    alice = cleared_student(session, batch, name="提示甲")
    bob = cleared_student(session, batch, name="提示乙")
    session.commit()
    token = student_token(session, settings, alice)
    assert read_token_hint(settings.secret_key, token, ttl_seconds=settings.token_ttl_seconds)[1] == alice.id
    for _ in range(2):  # both students' rows in the read cache
        assert me(live.url, token, "/api/v1/me/clearance").json()["student"]["name"] == "提示甲"
    assert me(live.url, student_token(session, settings, bob), "/api/v1/me/clearance").status_code == 200
    session.execute(update(ApiSession).values(student_id=bob.id))
    session.commit()
    for _ in range(2):
        page = me(live.url, token, "/api/v1/me/clearance")
        assert page.status_code == 200
        assert page.json()["student"]["name"] == "提示乙" and "提示甲" not in page.text


def test_a_token_without_a_hint_still_works(live, session, settings):
    student = cleared_student(session, make_batch(session))
    row, _ = issue_session(session, settings.secret_key, channel="wechat", now=utcnow(),
                           ttl_seconds=settings.token_ttl_seconds, openid="o-nohint", student_id=student.id)
    session.commit()
    token = sign_session_id(settings.secret_key, row.id)  # as tokens were made before hints
    for _ in range(2):
        assert me(live.url, token, "/api/v1/me/clearance").json()["student"]["student_no"] == student.student_no


@pytest.mark.parametrize("claims", [["only-an-id"], ["id", "7"], ["id", True], {"id": 1}, 42, ["id", 1, 2]])
def test_a_token_with_claims_we_never_make_is_401(live, settings, claims):
    token = URLSafeTimedSerializer(settings.secret_key, salt="lixiao.api-token.v1").dumps(claims)
    response = me(live.url, token, "/api/v1/me/clearance")
    assert response.status_code == 401 and error_code(response) == "UNAUTHORIZED"
