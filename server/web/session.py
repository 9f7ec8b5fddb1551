"""Browser sign-in state: a signed, HttpOnly cookie naming a server-side session row (server/identity/sessions.py).

The cookie holds the row's random id (and a flow's state and the CSRF token); who is signed in, and whether that
still counts, is read from the row on every request, so logging out or ending the device elsewhere cuts off every
copy of the cookie at once.
"""

from __future__ import annotations

from flask import current_app, g, request, session
from sqlalchemy import update

from server.clearance.models import Student
from server.identity import sessions
from server.identity.models import ApiSession, Staff
from server.state import db
from server.timeutil import utcnow

SESSION_ID = "sid"


def sign_in(*, student_id: int | None = None, staff_id: int | None = None, channel: str = "browser") -> None:
    """Start a fresh browser session (a new cookie and a new row defeat session fixation); commits.

    Signing in is the last thing a login view does: the session row and the student's login must be on record
    (the dashboard lists students who never logged in).
    """
    session.clear()
    session.permanent = True
    now = utcnow()
    row = sessions.start_web_session(db(), student_id=student_id, staff_id=staff_id, channel=channel,
                                     user_agent=request.headers.get("User-Agent"), now=now,
                                     ttl_seconds=int(current_app.permanent_session_lifetime.total_seconds()))
    if student_id is not None:
        note_student_login(student_id)
    db().commit()
    session[SESSION_ID] = row.id
    session["channel"] = channel
    g.web_session = row


def note_student_login(student_id: int) -> None:
    """Remember that the student signed in (the dashboard lists who never did), in the request's transaction."""
    db().execute(update(Student).where(Student.id == student_id).values(last_login_at=utcnow()))


def sign_out() -> None:
    """End this browser's session row (every copy of the cookie stops working) and forget the cookie; commits."""
    row = web_session()
    if row is not None:
        sessions.end(row, utcnow())
        db().commit()
    session.clear()
    g.web_session = None


def web_session() -> ApiSession | None:
    """This browser's live session row, if any (looked up once per request)."""
    if "web_session" not in g:
        g.web_session = sessions.live_web_session(db(), session.get(SESSION_ID), utcnow())
    return g.web_session


def browser_student() -> Student | None:
    """The student signed in on this browser, if any."""
    row = web_session()
    return db().get(Student, row.student_id) if row is not None and row.student_id is not None else None


def browser_staff() -> Staff | None:
    """The active staff member signed in on this browser, if any."""
    row = web_session()
    staff = db().get(Staff, row.staff_id) if row is not None and row.staff_id is not None else None
    return staff if staff is not None and staff.active else None
