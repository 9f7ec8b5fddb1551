"""Plain functions that arrange test data."""

from __future__ import annotations

import itertools
import os
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from server.clearance.models import Batch, Student
from server.clearance.records import write_record
from server.identity.tokens import issue_token
from server.items import registry
from server.settings import Settings, items_from_env
from server.timeutil import utcnow

_numbers = itertools.count(1)

# The items this run clears (LIXIAO_ITEMS; the default four when unset), for tests that iterate or count them.
ITEMS = registry.active(Settings(items=items_from_env(os.environ)))
ITEM_KEYS = ITEMS.keys

# Record values that pass every item of this run.
ALL_PASSED: dict[str, dict[str, Any]] = {item.key: dict(item.passing) for item in ITEMS}


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
    """A student whose items all pass."""
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


def web_session_cookie(app: Any, *, student_id: int | None = None, staff_id: int | None = None,
                       channel: str = "browser") -> dict[str, Any]:
    """What `server.web.session.sign_in` keeps in the cookie: the id of a live session row, made here."""
    from server.identity.sessions import start_web_session

    with app.extensions["lixiao"].sessions() as session:
        row = start_web_session(session, student_id=student_id, staff_id=staff_id, channel=channel,
                                user_agent="pytest", now=utcnow(), ttl_seconds=8 * 3600)
        session.commit()
        return {"sid": row.id, "channel": channel}


def sign_in_client(client: Any, app: Any, **who: Any) -> Any:
    """Give a Flask test client a signed-in browser session (`student_id=…` or `staff_id=…`)."""
    values = web_session_cookie(app, **who)
    with client.session_transaction() as cookie:
        cookie.update(values)
    return client
