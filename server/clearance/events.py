"""The core's own events: what happened to a student that someone should be told, written in the transaction of
the change that caused it. Messaging reads them and pushes them (server/messaging/); the core knows no messenger.

Every event has a key unique per student, and rows are inserted with "insert or ignore", so repeating
a change never enqueues its event twice:

- `item_passed:<batch_id>:<item>` — an item turned green. One push per (student, item) per batch: if an
  item goes red and green again the student is not told twice (they already know it passed once, and
  the status page shows the current state).
- `all_passed:<batch_id>` — every item green ("you can submit now"), once per batch.
- `certificate_issued:<serial>` — once per certificate.
- `reminder:<batch_id>:<days>` — the batch closes in <days> days and the student has not submitted.
- `wechat_bound:<time>` (and `wechat_bound:<time>:wecom`) — the student's account was bound to a new WeChat
  identity (written by identity's binding, which says how it is announced).

`<batch_id>` is 0 for a student outside any batch. The table is called `outbox`: the same rows carry the
delivery bookkeeping messaging keeps on them (status, claims, attempts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, insert
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.clearance.models import Student
from server.db import Base, UTCDateTime, table_of
from server.timeutil import utcnow


class OutboxEvent(Base):
    """A notification event for one student, written in the transaction that caused it, pushed by a worker.

    `event_key` is unique per student, so an event is enqueued (and pushed) at most once however often
    the change that causes it is repeated.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("student_id", "event_key"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))  # item_passed | all_passed | certificate_issued | …
    event_key: Mapped[str] = mapped_column(String(80))  # e.g. item_passed:<batch>:library
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # pending | sending | sent | unconfirmed | skipped | refused | failed (see server/messaging/claims.py)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    channel: Mapped[str | None] = mapped_column(String(8), default=None)  # wechat | wecom
    reason: Mapped[str | None] = mapped_column(String(32), default=None)  # why it is not (yet) pushed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    platform_msgid: Mapped[str | None] = mapped_column(String(64), default=None)
    # Set when an administrator sent the row again (server/messaging/problems.py); kept through its new outcome.
    resent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    resent_by: Mapped[str | None] = mapped_column(String(80), default=None)


ITEM_PASSED = "item_passed"
ALL_PASSED = "all_passed"
CERTIFICATE_ISSUED = "certificate_issued"
REMINDER = "batch_closing_reminder"
WECHAT_BOUND = "wechat_bound"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def event_row(student_id: int, event: str, key: str, payload: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The column values of one outbox row, ready for `insert_events`."""
    return {"student_id": student_id, "event": event, "event_key": key, "payload": dict(payload),
            "created_at": now, "status": "pending", "attempts": 0, "next_attempt_at": now}


def insert_events(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert outbox rows, silently skipping any whose (student, event key) is already there."""
    if not rows:
        return
    table = table_of(OutboxEvent)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        stmt: Any = sqlite.insert(table).on_conflict_do_nothing(index_elements=["student_id", "event_key"])
    elif dialect in ("mysql", "mariadb"):
        # A no-op update rather than INSERT IGNORE, which would also swallow real errors as warnings.
        stmt = mysql.insert(table)
        stmt = stmt.on_duplicate_key_update(event_key=stmt.inserted.event_key)
    elif dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=["student_id", "event_key"])
    else:  # pragma: no cover -- the project supports the three above
        stmt = insert(table)
    session.execute(stmt, [dict(r) for r in rows])


class Turn(Protocol):
    """A status change as transitions are written (a Transition row, or the tuple written for one)."""

    @property
    def item(self) -> str: ...

    @property
    def to_status(self) -> str: ...

    @property
    def at(self) -> datetime: ...


def transition_events(student: Student, transitions: Iterable[Turn]) -> list[dict[str, Any]]:
    """The outbox rows that a student's new transitions call for: every turn to passed, and all items passed."""
    batch = student.batch_id or 0
    rows = []
    for t in transitions:
        if t.to_status != "passed":
            continue
        at = t.at or utcnow()
        if t.item == "all":
            rows.append(event_row(student.id, ALL_PASSED, f"{ALL_PASSED}:{batch}",
                                  {"batch_id": batch, "changed_at": _iso(at)}, at))
        else:
            rows.append(event_row(student.id, ITEM_PASSED, f"{ITEM_PASSED}:{batch}:{t.item}",
                                  {"batch_id": batch, "item": t.item, "changed_at": _iso(at)}, at))
    return rows


def enqueue_certificate_issued(session: Session, student: Student, serial: str, issued_at: datetime) -> None:
    """Announce a newly issued certificate; call it in the transaction that stores the certificate."""
    insert_events(session, [event_row(student.id, CERTIFICATE_ISSUED, f"{CERTIFICATE_ISSUED}:{serial}"[:80],
                                      {"serial": serial, "issued_at": _iso(issued_at),
                                       "batch_id": student.batch_id or 0}, issued_at)])


def reminder_rows(student_ids: Iterable[int], batch_id: int, days: int, closes_at: datetime,
                  now: datetime) -> list[dict[str, Any]]:
    """Reminder rows for students of a batch that closes in `days` days."""
    payload = {"batch_id": batch_id, "days": days, "closes_at": _iso(closes_at)}
    return [event_row(sid, REMINDER, f"reminder:{batch_id}:{days}", payload, now) for sid in student_ids]
