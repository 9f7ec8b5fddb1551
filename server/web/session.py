"""Browser sign-in state: a signed, HttpOnly session cookie naming the student or staff member."""

from __future__ import annotations

from flask import session
from sqlalchemy import update

from server.clearance.models import Student
from server.identity.models import Staff
from server.state import db
from server.timeutil import utcnow


def sign_in(*, student_id: int | None = None, staff_id: int | None = None, channel: str = "browser") -> None:
    """Start a fresh browser session (a new cookie defeats session fixation), and record a student's login.

    It commits: signing in is the last thing a login view does, and the login must be on record
    (the dashboard lists students who never logged in).
    """
    session.clear()
    session.permanent = True
    if student_id is not None:
        session["student_id"] = student_id
        note_student_login(student_id)
        db().commit()
    if staff_id is not None:
        session["staff_id"] = staff_id
    session["channel"] = channel


def note_student_login(student_id: int) -> None:
    """Remember that the student signed in (the dashboard lists who never did), in the request's transaction."""
    db().execute(update(Student).where(Student.id == student_id).values(last_login_at=utcnow()))


def sign_out() -> None:
    """Forget the browser session."""
    session.clear()


def browser_student() -> Student | None:
    """The student signed in on this browser, if any."""
    student_id = session.get("student_id")
    return db().get(Student, student_id) if student_id is not None else None


def browser_staff() -> Staff | None:
    """The active staff member signed in on this browser, if any."""
    staff_id = session.get("staff_id")
    staff = db().get(Staff, staff_id) if staff_id is not None else None
    return staff if staff is not None and staff.active else None
