"""Plain functions that arrange test data."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from server.clearance.models import Batch, Student
from server.clearance.records import write_record
from server.identity.tokens import issue_token
from server.settings import Settings
from server.timeutil import utcnow

_numbers = itertools.count(1)

ALL_PASSED: dict[str, dict[str, Any]] = {
    "library": {"owed_books": 0, "owed_fees_cents": 0, "violations": 0, "card_status": "cancelled",
                "thesis_status": "approved"},
    "archives": {"thesis_status": "reviewed"},
    "apartment": {"building": "竹园3号楼", "move_out_date": date(2027, 6, 20), "move_out_handler": "王管理员"},
    "finance": {"arrears_cents": 0, "fee_items": []},
}


def make_batch(session: Session, *, name: str | None = None, open_now: bool = True,
               now: datetime | None = None) -> Batch:
    """A batch, open now unless told otherwise."""
    now = now or utcnow()
    opens = now - timedelta(days=1) if open_now else now + timedelta(days=10)
    batch = Batch(name=name or f"测试批次 {next(_numbers)}", opens_at=opens, closes_at=opens + timedelta(days=30))
    session.add(batch)
    session.flush()
    return batch


def make_student(session: Session, batch: Batch | None = None, *, student_no: str | None = None,
                 lived_on_campus: bool = True, college: str = "计算机科学与技术学院", **kw: Any) -> Student:
    """A student of the roster."""
    student = Student(
        student_no=student_no or f"TS{next(_numbers):08d}",
        name=kw.pop("name", "测试学生"),
        college=college,
        major=kw.pop("major", "软件工程"),
        degree_level=kw.pop("degree_level", "master"),
        supervisor=kw.pop("supervisor", "某导师"),
        expected_graduation=kw.pop("expected_graduation", date(2027, 6, 30)),
        lived_on_campus=lived_on_campus,
        batch_id=batch.id if batch else None,
    )
    session.add(student)
    session.flush()
    return student


def set_records(session: Session, student: Student, records: dict[str, dict[str, Any] | None],
                *, now: datetime | None = None, source: str = "local") -> None:
    """Write departmental records as a department would."""
    for key, values in records.items():
        write_record(session, student, key, values, source=source, now=now or utcnow(), actor="test")
    session.flush()


def cleared_student(session: Session, batch: Batch | None, **kw: Any) -> Student:
    """A student whose four items all pass."""
    student = make_student(session, batch, **kw)
    set_records(session, student, ALL_PASSED)
    return student


def student_token(session: Session, settings: Settings, student: Student, *, openid: str | None = None) -> str:
    """A bearer token for a bound student (as the login flow would issue)."""
    token = issue_token(session, settings.secret_key, channel="wechat", now=utcnow(),
                        ttl_seconds=settings.token_ttl_seconds, openid=openid or f"o-{student.student_no}",
                        student_id=student.id)
    session.commit()
    return token
