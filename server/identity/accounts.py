"""Who a login names: a staff account or a student of the roster (CAS logins: server/identity/cas_people.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clearance.models import Student
from server.errors import ApiError, ErrorCode
from server.identity.models import Staff


class PersonIds(TypedDict):
    student_id: int | None
    staff_id: int | None


@dataclass(frozen=True)
class Person:
    """Exactly one of a student or an active staff member."""

    student: Student | None = None
    staff: Staff | None = None

    @property
    def actor(self) -> str:
        """How the audit log names them."""
        return f"staff:{self.staff.username}" if self.staff else f"student:{self.student.student_no}"  # type: ignore[union-attr]

    def ids(self) -> PersonIds:
        """student_id/staff_id for a session or binding row."""
        return {"student_id": self.student.id if self.student else None,
                "staff_id": self.staff.id if self.staff else None}


def active_staff(session: Session, username: str) -> Staff | None:
    """The active staff account of a username, if any."""
    staff = session.scalars(select(Staff).where(Staff.username == username)).one_or_none()
    return staff if staff is not None and staff.active else None


def student_by_number(session: Session, student_no: str) -> Student | None:
    """The roster student with this number, if any."""
    return session.scalars(select(Student).where(Student.student_no == student_no)).one_or_none()


def student_no_from_userid(userid: str, rule: str) -> str | None:
    """Apply LIXIAO_WECOM_USERID_RULE: "same", or a regex whose (?P<student_no>…) group is the number."""
    if rule == "same":
        return userid
    match = re.fullmatch(rule, userid)
    return match.group("student_no") if match else None


def person_for_wecom_userid(session: Session, userid: str, rule: str) -> Person | None:
    """A WeCom member: staff usernames equal their userids; students are mapped by the configured rule."""
    staff = active_staff(session, userid)
    if staff is not None:
        return Person(staff=staff)
    student_no = student_no_from_userid(userid, rule)
    student = student_by_number(session, student_no) if student_no else None
    return Person(student=student) if student is not None else None


def person_for_binding(session: Session, student_id: int | None, staff_id: int | None) -> Person | None:
    """The person a WeChat binding names (an inactive staff account names nobody)."""
    if staff_id is not None:
        staff = session.get(Staff, staff_id)
        return Person(staff=staff) if staff is not None and staff.active else None
    student = session.get(Student, student_id) if student_id is not None else None
    return Person(student=student) if student is not None else None


def not_in_roster() -> ApiError:
    """403 for someone the university's login knows but Lixiao does not."""
    return ApiError(403, ErrorCode.NOT_IN_ROSTER,
                    "您不在离校名单中，也不是本系统的工作人员。如有疑问请联系研究生院。",
                    "You are not on the graduation roster and have no staff account here. "
                    "Please contact the Graduate School if this is wrong.")
