"""Departmental records: turning rows into observations, writing changes, and noticing transitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.audit import record_audit
from server.clearance.events import insert_events, transition_events
from server.clearance.models import ItemState, Student, Transition
from server.clearance.rules import ItemResult, Status
from server.clearance.versions import touch_student
from server.db import insert_rows, table_of
from server.items import registry
from server.items.base import ItemRecord

RecordRow = ItemRecord  # any item's record row


def snapshot_of(row: RecordRow | Any | None, key: str | None = None) -> dict[str, Any] | None:
    """A JSON-able copy of a record's fields, for the audit log (`key` is needed for plain rows)."""
    if row is None:
        return None
    item = registry.get(key) if key else next(i for i in registry.known().values() if isinstance(row, i.record))
    out: dict[str, Any] = {"known": row.known}
    for name in item.field_names:
        value = getattr(row, name)
        out[name] = value.isoformat() if isinstance(value, date | datetime) else value
    return out


def write_record(
    session: Session,
    student: Student,
    key: str,
    values: Mapping[str, Any] | object | None,
    *,
    source: str,
    now: datetime,
    actor: str,
    origin: str = "",
    existing: RecordRow | None = None,
    load: bool = True,
) -> tuple[RecordRow, bool]:
    """Create or update one record from a successful read or write; returns (row, changed).

    `values` are field values, or the item's rule data (a pull); `values=None` records that the source answered
    it does not know the student.
    """
    item = registry.get(key)
    model = item.record
    row = existing
    if row is None and load:
        row = session.scalars(select(model).where(model.student_id == student.id)).one_or_none()
    before = snapshot_of(row, key)
    if isinstance(values, item.data):
        values = item.values_of(values)
    if row is None:
        row = model(student_id=student.id, source=source, read_at=now)
        session.add(row)
    for name in item.field_names:
        if isinstance(values, Mapping) and name in values:
            setattr(row, name, values[name])
    row.known = values is not None
    row.source = source
    row.read_at = now
    row.failed_at = None
    row.fail_reason = None
    touch_student(session, student)  # even unchanged: the read time is what the status's freshness follows
    after = snapshot_of(row, key)
    changed = before != after
    if changed:
        record_audit(session, actor=actor, action=f"{key}_record.write", entity=f"{key}_record:{student.student_no}",
                     before=before, after=after, origin=origin)
    return row, changed


def record_failure(session: Session, student: Student, key: str, row: RecordRow | None, reason: str,
                   now: datetime) -> RecordRow:
    """Note that the source could not be read for this student (the item becomes unavailable)."""
    if row is None:
        row = registry.get(key).record(student_id=student.id, source="", read_at=None, known=True)
        session.add(row)
    row.failed_at = now
    row.fail_reason = reason[:200]
    touch_student(session, student)
    return row


class TransitionRow(NamedTuple):
    """A transition as written; its attributes are Transition's, so either can be read the same way."""

    student_id: int
    item: str
    from_status: str | None
    to_status: str
    cause: str
    at: datetime


@dataclass(slots=True)
class StateSync:
    """One student's newly computed item statuses, and those stored for them (None: load them)."""

    student: Any  # a Student, or any row with .id and .batch_id
    statuses: Mapping[str, str]
    stored: Mapping[str, str] | None = None


def load_statuses(session: Session, student_ids: Sequence[int],
                  items: Sequence[str] | None = None) -> dict[int, dict[str, str]]:
    """The stored statuses of many students (of some items only, if given): {student id: {item: status}}."""
    found: dict[int, dict[str, str]] = {}
    table = table_of(ItemState)
    for start in range(0, len(student_ids), 1000):
        stmt = select(table.c.student_id, table.c.item, table.c.status).where(
            table.c.student_id.in_(list(student_ids[start:start + 1000])))
        if items is not None:
            stmt = stmt.where(table.c.item.in_(list(items)))
        for student_id, item, status in session.execute(stmt):
            found.setdefault(student_id, {})[item] = status
    return found


def sync_item_states(
    session: Session,
    student: Student,
    items: Sequence[ItemResult],
    *,
    cause: str,
    now: datetime,
    states: Mapping[str, ItemState] | None = None,
    record_transitions: bool = True,
) -> list[TransitionRow]:
    """Store each item's status and write a transition for every change (and for "all items passed").

    `items` are all the student's active items: "all passed" is judged over them."""
    stored = None if states is None else {key: state.status for key, state in states.items()}
    done = sync_item_states_many(session, [StateSync(student, {i.key: str(i.status) for i in items}, stored)],
                                 cause=cause, now=now, record_transitions=record_transitions)
    return done[0][1] if done else []


def sync_item_states_many(
    session: Session,
    syncs: Sequence[StateSync],
    *,
    cause: str,
    now: datetime,
    record_transitions: bool = True,
) -> list[tuple[Any, list[TransitionRow]]]:
    """Store many students' item statuses and write a Transition for every flip (and for "all items passed").

    Each StateSync's statuses are those of every active item: "all passed" is judged over them (an item that
    was turned off keeps its stored state, which no longer counts).

    The one way item states change: `sync_item_states` (one student) comes here, and so do the bulk writers
    (`server.departments.bulk`: imports and the batch API, a thousand students per call). A handful of statements
    whatever the number of students: new states and transitions are inserted with one executemany each, changed
    states updated per (item, new status). Returns the students (a Student or a row with .id and .batch_id) whose
    items flipped, with their transitions (TransitionRow: Transition's attribute names).
    """
    if not syncs:
        return []
    if any(sync.student.id is None for sync in syncs):
        session.flush()  # students added through the ORM get their ids
    missing = [sync.student.id for sync in syncs if sync.stored is None]
    loaded = load_statuses(session, missing) if missing else {}
    passed = str(Status.PASSED)
    new_states: list[tuple[Any, ...]] = []
    moves: dict[tuple[str, str], list[int]] = {}
    flipped: list[tuple[Any, list[TransitionRow]]] = []
    for sync in syncs:
        student_id = sync.student.id
        stored = sync.stored if sync.stored is not None else loaded.get(student_id, {})
        before_all = all(stored.get(key) == passed for key in sync.statuses)
        mine: list[TransitionRow] = []
        for key, status in sync.statuses.items():
            old = stored.get(key)
            if old == status:
                continue
            if old is None:
                new_states.append((student_id, key, status, now))
            else:
                moves.setdefault((key, status), []).append(student_id)
            if record_transitions:
                mine.append(TransitionRow(student_id, key, old, status, cause, now))
        if record_transitions and not before_all and all(s == passed for s in sync.statuses.values()):
            mine.append(TransitionRow(student_id, "all", None, passed, cause, now))
        if mine:
            flipped.append((sync.student, mine))
    insert_rows(session, table_of(ItemState), ("student_id", "item", "status", "changed_at"), new_states)
    for (key, status), ids in moves.items():
        for start in range(0, len(ids), 1000):
            # ORM-enabled, so ItemState objects this session holds see the new status too
            session.execute(update(ItemState).where(ItemState.item == key,
                                                    ItemState.student_id.in_(ids[start:start + 1000]))
                            .values(status=status, changed_at=now)
                            .execution_options(synchronize_session="evaluate"))
    if flipped:
        insert_rows(session, table_of(Transition), TransitionRow._fields, [t for _s, mine in flipped for t in mine])
        # Turns to passed become outbox rows (pushes, in-app notifications) in this same transaction, one statement
        # for the whole batch: every transition of every path passes this point.
        insert_events(session, [event for student, mine in flipped for event in transition_events(student, mine)])
    return flipped
