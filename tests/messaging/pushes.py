"""Helpers for the push tests: students who can be reached, imports that turn items green, draining workers."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.clearance.events import OutboxEvent
from server.clearance.models import Batch, Student
from server.clearance.records import sync_item_states, write_record
from server.clearance.rules import Judge
from server.identity.models import WechatBinding
from server.messaging import claims
from server.messaging.models import SubscriptionConsent
from server.messaging.notifications import list_notifications
from server.messaging.worker import Worker
from server.settings import Settings
from server.timeutil import utcnow
from tests.factories import ALL_PASSED, ITEM_KEYS, make_student

RED: dict[str, dict[str, Any]] = {key: values for key, values in {
    "library": {"owed_books": 2, "owed_fees_cents": 0, "violations": 0, "card_status": "active",
                "thesis_status": "approved"},
    "archives": {"thesis_status": "not_submitted"},
    "apartment": {"building": "竹园3号楼", "move_out_date": None, "move_out_handler": None},
    "finance": {"arrears_cents": 1200, "fee_items": []},
    "college": {"status": "owed", "owed": "实验室钥匙 1 把"},
}.items() if key in ITEM_KEYS}  # records that fail every item of this run


def openid_of(student: Student) -> str:
    """The fictitious openid tests bind a student to."""
    return f"o-test-{student.student_no}"


def reachable_student(session: Session, batch: Batch | None, *, consents: dict[str, int] | None = None,
                      bound: bool = True, **kw: Any) -> Student:
    """A student, bound to a WeChat openid unless told otherwise, with the given consent counts."""
    student = make_student(session, batch, **kw)
    if bound:
        session.add(WechatBinding(openid=openid_of(student), student_id=student.id))
    for key, count in (consents or {}).items():
        session.add(SubscriptionConsent(student_id=student.id, template_key=key, remaining=count))
    session.flush()
    return student


def import_records(session: Session, settings: Settings, students: Iterable[Student],
                   records: dict[str, dict[str, Any]], *, now: datetime | None = None) -> None:
    """Write the records per student and sync their items, as a departmental import does."""
    now = now or utcnow()
    for student in students:
        rows = {key: write_record(session, student, key, values, source="import", now=now, actor="test:import")[0]
                for key, values in records.items()}
        items = Judge.of(settings, {}, now).all(student, rows)
        sync_item_states(session, student, items, cause="import", now=now)
    session.flush()


def turn_green(session: Session, settings: Settings, students: Sequence[Student]) -> None:
    """Red first, then green: every item of every student turns to passed."""
    import_records(session, settings, students, RED)
    import_records(session, settings, students, ALL_PASSED)


def statuses(session: Session) -> Counter[str]:
    """How many outbox rows are in each status (ending the read, so the next call sees newer commits)."""
    session.expire_all()
    counts = Counter(dict(session.execute(select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status)).all()))
    session.commit()
    return counts


def drain(worker: Worker, session: Session, timeout: float = 60.0) -> Counter[str]:
    """Run the worker until every outbox row is final (or fail after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        worker.run_once()
        counts = statuses(session)
        if not any(status not in claims.FINAL for status in counts):
            return counts
        assert time.monotonic() < deadline, f"outbox not drained: {dict(counts)}"
        time.sleep(0.02)


def delivered_keys(messages: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """Delivered WeChat messages by (openid, template id, first keyword value): a duplicate shows as 2."""
    return Counter((m["touser"], m["template_id"], next(iter(m["data"].values()))["value"]) for m in messages)


def inbox(session: Session, student_id: int) -> list[dict[str, Any]]:
    """The student's in-app notifications (ending the read, like `statuses`)."""
    items = list_notifications(session, student_id)
    session.commit()
    return items
