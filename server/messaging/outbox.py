"""Writing notification events into the outbox, inside the transaction of the change that causes them.

Every event has a key unique per student, and rows are inserted with "insert or ignore", so repeating
a change never enqueues its event twice:

- `item_passed:<batch_id>:<item>` — an item turned green. One push per (student, item) per batch: if an
  item goes red and green again the student is not told twice (they already know it passed once, and
  the status page shows the current state).
- `all_passed:<batch_id>` — all four green ("you can submit now"), once per batch.
- `certificate_issued:<serial>` — once per certificate.
- `reminder:<batch_id>:<days>` — the batch closes in <days> days and the student has not submitted.

`<batch_id>` is 0 for a student outside any batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

from server.clearance.models import Student, Transition
from server.messaging.models import OutboxEvent
from server.timeutil import utcnow

ITEM_PASSED = "item_passed"
ALL_PASSED = "all_passed"
CERTIFICATE_ISSUED = "certificate_issued"
REMINDER = "batch_closing_reminder"


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
    table = OutboxEvent.__table__
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


def transition_events(student: Student, transitions: Iterable[Transition]) -> list[dict[str, Any]]:
    """The outbox rows that a student's new transitions call for: every turn to passed, and all four passed."""
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


def enqueue_transitions(session: Session, student: Student, transitions: Iterable[Transition]) -> None:
    """Called by `sync_item_states` in the same transaction as the transitions it writes."""
    insert_events(session, transition_events(student, transitions))


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
