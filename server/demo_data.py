"""A fictitious graduating cohort for the demo: every state of every item, obviously fake people.

Student numbers are 2099xxxxxx (a year no real cohort has); names are a surname plus 某 and a
heavenly stem, the way Chinese documents anonymise people.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.certificates.service import issue_certificate
from server.clearance.models import Application, Batch, Student
from server.clearance.records import sync_item_states, write_record
from server.clearance.rules import Judge
from server.identity.models import Staff
from server.items import registry
from server.settings import Settings

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
STEMS = "甲乙丙丁戊己庚辛壬癸"
COLLEGES = {
    "计算机科学与技术学院": ["计算机科学与技术", "软件工程", "人工智能"],
    "安全工程学院": ["安全科学与工程", "消防工程"],
    "资源与地球科学学院": ["地质工程", "资源勘查工程"],
    "经济管理学院": ["工商管理", "会计学", "管理科学与工程"],
    "外国语言文化学院": ["外国语言学及应用语言学", "翻译"],
    "马克思主义学院": ["马克思主义基本原理"],
}
SUPERVISORS = ["导师甲", "导师乙", "导师丙", "导师丁", "导师戊", "导师己"]
# (username, name, role, department, college); every item's department has an operator named by its key.
STAFF = [
    ("admin", "管理员（演示）", "admin", None, None),
    ("library", "图书馆操作员（演示）", "operator", "library", None),
    ("archives", "档案馆操作员（演示）", "operator", "archives", None),
    ("apartment", "公寓管理员（演示）", "operator", "apartment", None),
    ("finance", "财务操作员（演示）", "operator", "finance", None),
    ("counter", "窗口人员（演示）", "counter", None, None),
    ("viewer", "学院查看员（演示）", "viewer", None, "计算机科学与技术学院"),
    ("college", "学院秘书（演示）", "secretary", None, "计算机科学与技术学院"),  # signs the college item, when on
]
DEMO_PASSWORD = "demo"  # noqa: S105 -- the documented demo password of the CAS emulator
FIRST_NUMBER = 2099000001

@dataclass(frozen=True)
class DemoCohort:
    """What was generated, for the launcher to hand to the emulators."""

    students: int
    cas_users: list[dict[str, Any]]


def _names() -> Iterator[str]:
    for suffix in ("", "某"):
        for stem in STEMS:
            for surname in SURNAMES:
                yield f"{surname}某{suffix}{stem}"


def demo_cas_users(students: list[Student]) -> list[dict[str, Any]]:
    """CAS emulator accounts: every demo student and staff member, password `demo`."""
    # Students are WeCom members too, so the WeCom H5 login can be tried with any demo student number.
    users = [{"username": s.student_no, "password": DEMO_PASSWORD, "wecom_member": True,
              "attributes": {"cn": s.name, "userType": "student", "department": s.college}} for s in students]
    users += [{"username": u, "password": DEMO_PASSWORD, "wecom_member": True,
               "attributes": {"cn": n, "userType": "staff"}}
              for u, n, *_ in STAFF]
    return users


def fill_demo_data(session: Session, settings: Settings, *, now: datetime, count: int = 320,
                   seed: int = 2027) -> DemoCohort:
    """Fill an empty database with the demo cohort; refuses to touch a database that has students."""
    if session.scalar(select(func.count()).select_from(Student)):
        existing = list(session.scalars(select(Student)).all())
        return DemoCohort(len(existing), demo_cas_users(existing))
    rng = random.Random(seed)
    open_batch = Batch(name="2027年6月毕业研究生", opens_at=now - timedelta(days=7), closes_at=now + timedelta(days=60))
    closed_batch = Batch(name="2026年12月毕业研究生", opens_at=now - timedelta(days=200),
                         closes_at=now - timedelta(days=100))
    session.add_all([open_batch, closed_batch])
    for username, name, role, department, college in STAFF:
        session.add(Staff(username=username, name=name, role=role, department=department, college=college))
    session.flush()
    names = _names()
    students: list[Student] = []
    for i in range(count):
        college = list(COLLEGES)[i % len(COLLEGES)]
        doctor = i % 7 == 0
        student = Student(
            student_no=str(FIRST_NUMBER + i), name=next(names), college=college,
            major=rng.choice(COLLEGES[college]), degree_level="doctor" if doctor else "master",
            supervisor=rng.choice(SUPERVISORS), expected_graduation=date(2027, 6, 30),
            lived_on_campus=i % 9 != 0, batch_id=closed_batch.id if i >= count - 6 else open_batch.id,
        )
        session.add(student)
        students.append(student)
    session.flush()
    batch_names = {open_batch.id: open_batch.name, closed_batch.id: closed_batch.name}
    # Each item draws from a random stream of its own, so turning an item on leaves the others' states as they were.
    streams = {item.key: random.Random(f"{seed}:{item.key}") for item in registry.active(settings)}
    judge = Judge.of(settings, {}, now)
    for i, student in enumerate(students):
        _fill_records(session, settings, judge, student, i, rng, streams, now, batch_names)
    session.flush()
    return DemoCohort(len(students), demo_cas_users(students))


def _fill_records(session: Session, settings: Settings, judge: Judge, student: Student, i: int, rng: random.Random,
                  streams: dict[str, random.Random], now: datetime, batch_names: dict[int, str]) -> None:
    read_at = now - timedelta(hours=rng.randint(1, 20))
    everything_passes = i % 10 == 1 or i % 10 == 2  # a fifth of the cohort is clear (some already submitted)
    rows: dict[str, Any] = {}
    for item in judge.items:
        state = item.demo(streams[item.key], student, i, everything_passes, now)
        rows[item.key] = None
        if state.values is not None:
            rows[item.key], _ = write_record(session, student, item.key, dict(state.values), source="local",
                                             now=read_at, actor="system:demo", load=False)
        if state.unknown:
            rows[item.key], _ = write_record(session, student, item.key, None, source="local", now=read_at,
                                             actor="system:demo", existing=rows[item.key], load=False)
        if state.failed and rows[item.key] is not None:  # the system failed when last asked: grey "暂不可查"
            rows[item.key].failed_at = now - timedelta(minutes=3)
            rows[item.key].fail_reason = f"demo: {item.key} system timed out"
    items = judge.all(student, rows)
    sync_item_states(session, student, items, cause="demo", now=now, states={}, record_transitions=False)
    if everything_passes and i % 10 == 2 and i % 3 == 0 and student.batch_id is not None:
        snapshot = {"batch_name": batch_names[student.batch_id],
                    "items": [{"key": r.key, "status": str(r.status), "details": r.details, "updated_at": None}
                              for r in items],
                    "student": {"student_no": student.student_no, "name": student.name, "college": student.college,
                                "major": student.major, "degree_level": student.degree_level}}
        application = Application(student_id=student.id, batch_id=student.batch_id, channel="demo",
                                  submitted_at=now - timedelta(days=1), snapshot=snapshot)
        session.add(application)
        session.flush()
        issue_certificate(session, settings, application, student, application.submitted_at)
