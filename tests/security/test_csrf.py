"""CSRF: every browser form route refuses a POST without the token with 400, and nothing changes.

The routes come from the app's URL map (every non-API rule that takes POST, PUT, PATCH or DELETE), so a new
form route is covered without touching this file — unless it has a path variable this file cannot fill,
in which case the test says which. The browser is signed in as an administrator *and* as a student, so the
token is the only thing that stops the request.
"""

from __future__ import annotations

import hashlib
import re

import requests
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, text

from server.db import Base
from server.identity.sessions import handle_of
from tests.certificates.conftest import browser_cookie
from tests.security.world import World, build_world

TIMEOUT = 20
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# Values for path variables, by name: real ones, so the request would reach existing rows.
PATH_VALUES = {
    "student_no": lambda w: w.a.student_no,
    "serial": lambda w: w.serial,
    "staff_id": lambda w: str(w.staff["viewer"].id),
    "token": lambda w: "pending-import-token",
    "key": lambda w: "library",
    "department": lambda w: "library",
    "batch_id": lambda w: str(w.a.batch_id),
    "id": lambda w: "1",
    "handle": lambda w: handle_of(token_session(w.tokens["student"] or "")),  # student A's mini-program session
}


def token_session(token: str) -> str:
    """The session id a bearer token names (read without checking the signature: it is our own token)."""
    claims = URLSafeTimedSerializer("unused").loads_unsafe(token)[1]
    return str(claims[0] if isinstance(claims, list) else claims)
# Form fields any of the forms might read, filled so that without CSRF the request would act.
FORM = {"qr_text": "", "serial": "", "items": ["diploma"], "reason": "CSRF 测试", "kind": "library",
        "move_out_date": "2027-06-20", "move_out_handler": "攻击者", "amount_yuan": "1", "thesis_status": "reviewed",
        "owed_books": "0", "card_status": "cancelled", "username": "csrf-attacker", "name": "攻击者",
        "role": "admin", "active": "1", "name_zh": "批次", "opens_at": "2027-01-01T00:00",
        "closes_at": "2027-12-31T00:00"}


def form_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, rule) of every non-API route that changes things."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.endpoint == "static":
            continue
        if rule.rule == "/wx/service-account/callback":  # WeChat signs it (tests/messaging/…_callback.py)
            continue
        routes += [(method, rule.rule) for method in sorted(rule.methods & WRITE_METHODS)]
    return sorted(routes)


def fill(rule: str, world: World) -> str:
    """The rule with its variables replaced by real values."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        assert name in PATH_VALUES, f"tests/security/test_csrf.py: add a value for <{name}> (route {rule})"
        return PATH_VALUES[name](world)

    return re.sub(r"<([^>]+)>", value, rule)


def snapshot(session) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A digest of every table's rows."""
    session.commit()  # a fresh read snapshot
    digests = {}
    for table in Base.metadata.sorted_tables:
        order = [c for c in table.primary_key.columns] or list(table.columns)
        rows = session.execute(select(table).order_by(*order)).all()
        digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def signed_in_everyone(app, live, world: World) -> requests.Session:  # type: ignore[no-untyped-def]
    """A browser signed in as administrator and student at once."""
    http = requests.Session()
    cookie = browser_cookie(app, staff_id=world.staff["admin"].id, student_id=world.a.id)
    http.cookies.set(app.config["SESSION_COOKIE_NAME"], cookie, domain="127.0.0.1")
    return http


def test_there_are_form_routes_to_protect(app):
    routes = form_routes(app)
    assert ("POST", "/counter") in routes and ("POST", "/logout") in routes, routes


def test_every_form_refuses_a_post_without_the_token_and_changes_nothing(app, live, session, settings):
    world = build_world(session, settings, live.url)
    http = signed_in_everyone(app, live, world)
    before = snapshot(session)
    answers = {}
    for method, rule in form_routes(app):
        data = {**FORM, "qr_text": world.qr_text, "serial": world.serial}
        response = http.request(method, live.url + fill(rule, world), data=data, allow_redirects=False,
                                timeout=TIMEOUT)
        answers[(method, rule)] = response.status_code
        assert response.status_code == 400, (method, rule, response.status_code, response.text[:300])
        assert "页面已过期" in response.text, (method, rule)
        # A token of another session does not count either.
        forged = http.request(method, live.url + fill(rule, world), data={**data, "csrf_token": "forged"},
                              allow_redirects=False, timeout=TIMEOUT)
        assert forged.status_code == 400, (method, rule, forged.status_code)
    assert snapshot(session) == before, "a refused form changed the database"
    assert len(answers) >= 2

    # The control: the same browser with its token gets through, and the scan is logged.
    page = http.get(f"{live.url}/counter", timeout=TIMEOUT)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    accepted = http.post(f"{live.url}/counter", data={"csrf_token": token, "qr_text": world.qr_text},
                         timeout=TIMEOUT)
    assert accepted.status_code == 200 and world.serial in accepted.text
    session.commit()
    assert session.execute(text("SELECT COUNT(*) FROM certificate_scans")).scalar_one() >= 1
    assert snapshot(session) != before
