"""A small world of people for security tests: two students, every staff role, and their credentials."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy.orm import Session

from server.clearance.models import Student
from server.departments.credentials import IssuedKey, create_key
from server.identity.models import Staff, WechatBinding
from server.identity.tokens import issue_token
from server.settings import Settings
from server.timeutil import utcnow
from tests.factories import ITEM_KEYS as DEPARTMENTS
from tests.factories import cleared_student, make_batch

STAFF_ROLES = ("admin", *(f"operator_{d}" for d in DEPARTMENTS), "counter", "viewer", "secretary")
# Who calls: nobody, a WeChat user not yet bound, the student who owns the data, another student, every staff role.
ROLES = ("anonymous", "unbound", "student", "other_student", *STAFF_ROLES)
COLLEGE = "计算机科学与技术学院"
_numbers = itertools.count(1)


@dataclass
class World:
    """Student A (submitted, certificate issued), student B (cleared, not submitted), staff, keys, tokens."""

    a: Student
    b: Student
    staff: dict[str, Staff]
    tokens: dict[str, str | None]
    keys: dict[str, IssuedKey]
    serial: str = ""
    qr_text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        """The Authorization header of a role (none for the anonymous)."""
        token = self.tokens[role]
        return {"Authorization": f"Bearer {token}"} if token else {}

    def person(self, role: str) -> Staff | Student | None:
        """The account a role acts as."""
        if role == "student":
            return self.a
        if role == "other_student":
            return self.b
        return self.staff.get(role)


def make_staff_member(session: Session, role: str) -> Staff:
    """A staff account for one of STAFF_ROLES."""
    n = next(_numbers)
    if role.startswith("operator_"):
        department = role.removeprefix("operator_")
        staff = Staff(username=f"{department}{n}", name=f"{department} operator", role="operator",
                      department=department)
    else:
        staff = Staff(username=f"{role}{n}", name=role, role=role,
                      college=COLLEGE if role in ("viewer", "secretary") else None)
    session.add(staff)
    session.flush()
    return staff


def build_world(session: Session, settings: Settings, base_url: str) -> World:
    """Everyone, with a bearer token each; A submits through the API so a real certificate exists."""
    batch = make_batch(session)
    a = cleared_student(session, batch, name="甲同学", college=COLLEGE)
    b = cleared_student(session, batch, name="乙同学", college=COLLEGE)
    staff = {role: make_staff_member(session, role) for role in STAFF_ROLES}
    now = utcnow()

    def token(**who: Any) -> str:
        return issue_token(session, settings.secret_key, channel=who.pop("channel", "wechat"), now=now,
                           ttl_seconds=settings.token_ttl_seconds, **who)

    tokens: dict[str, str | None] = {"anonymous": None, "unbound": token(openid=f"o-unbound-{a.id}")}
    for role, student in (("student", a), ("other_student", b)):
        openid = f"o-{student.student_no}"
        session.add(WechatBinding(openid=openid, student_id=student.id, bound_at=now))
        tokens[role] = token(openid=openid, student_id=student.id)
    for role, member in staff.items():
        tokens[role] = token(channel="browser", staff_id=member.id)
    keys = {d: create_key(session, settings.secret_key, d, now=now) for d in DEPARTMENTS}
    session.commit()
    world = World(a=a, b=b, staff=staff, tokens=tokens, keys=keys)
    submitted = requests.post(f"{base_url}/api/v1/me/application", headers=world.headers("student"),
                              json={"confirm": True}, timeout=20)
    assert submitted.status_code == 201, submitted.text
    certificate = requests.get(f"{base_url}/api/v1/me/certificate", headers=world.headers("student"),
                               timeout=20).json()
    world.serial, world.qr_text = certificate["serial"], certificate["qr_text"]
    return world
