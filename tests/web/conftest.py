"""Fixtures for page tests: a test client signed in as a student or a staff member, and CSRF tokens."""

from __future__ import annotations

import re

import pytest
from flask import session as flask_session
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import Session

from server.clearance.models import ItemState
from server.identity.models import Staff
from server.timeutil import utcnow
from tests.factories import sign_in_client

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_staff(session: Session, username: str, role: str, *, college: str | None = None,
               department: str | None = None) -> Staff:
    """A staff account."""
    staff = Staff(username=username, name=username.title(), role=role, college=college, department=department)
    session.add(staff)
    session.commit()
    return staff


def csrf_for(app, client) -> str:
    """A CSRF token valid for the client's browser session (for posting to a page that shows no form)."""
    with app.test_request_context():
        token = generate_csrf()
        raw = flask_session["csrf_token"]
    with client.session_transaction() as s:
        s["csrf_token"] = raw
    return token


def csrf_of(client, path: str) -> str:
    """The CSRF token of the form on a page."""
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no form on {path}: {page.status_code}"
    return found.group(1)


@pytest.fixture
def signed_in(app):
    """`signed_in(student_id=…)` or `signed_in(staff_id=…)`: a test client with that browser session."""
    def make(*, student_id: int | None = None, staff_id: int | None = None, channel: str = "browser"):
        return sign_in_client(app.test_client(), app, student_id=student_id, staff_id=staff_id, channel=channel)

    return make


def set_states(session: Session, student, states: dict[str, str]) -> None:
    """Item statuses as the clearance service would have stored them."""
    for item, status in states.items():
        session.add(ItemState(student_id=student.id, item=item, status=status, changed_at=utcnow()))
    session.flush()


@pytest.fixture
def admin_client(session, signed_in):
    """A test client signed in as an administrator."""
    return signed_in(staff_id=make_staff(session, "admin", "admin").id)
