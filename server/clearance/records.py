"""Departmental records: turning rows into observations, writing changes, and noticing transitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.audit import record_audit
from server.clearance.models import (
    RECORD_MODELS,
    ApartmentRecord,
    ArchivesRecord,
    FinanceRecord,
    ItemState,
    LibraryRecord,
    Student,
    Transition,
)
from server.clearance.rules import (
    ITEM_KEYS,
    ApartmentData,
    ArchivesData,
    DepartmentData,
    FinanceData,
    ItemResult,
    LibraryData,
    Observation,
    Status,
)
from server.db import insert_rows
from server.messaging.outbox import insert_events, transition_events

RecordRow = LibraryRecord | ArchivesRecord | ApartmentRecord | FinanceRecord

# The writable fields of each record, i.e. what a department may set.
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "library": ("owed_books", "owed_fees_cents", "violations", "card_status", "thesis_status"),
    "archives": ("thesis_status",),
    "apartment": ("building", "move_out_date", "move_out_handler"),
    "finance": ("arrears_cents", "fee_items"),
}


def data_of(key: str, row: Any, student: Any) -> DepartmentData | None:
    """The rule-level data of a record row (an ORM row, or any object with the same attributes)."""
    if key == "apartment":
        if row is None and not student.lived_on_campus:
            return ApartmentData(lived_on_campus=False)
        if row is None:
            return None
        return ApartmentData(student.lived_on_campus, row.building, row.move_out_date, row.move_out_handler)
    if row is None:
        return None
    if key == "library":
        return LibraryData(row.owed_books, row.owed_fees_cents, row.violations, row.card_status, row.thesis_status)
    if key == "archives":
        return ArchivesData(row.thesis_status)
    return FinanceData(row.arrears_cents, tuple(row.fee_items or ()))


# What a local department that has recorded nothing says (observations are immutable, so made once).
_NOTHING_RECORDED: dict[str, Observation] = {
    key: Observation(data=data, read_at=None, source="local", known=True)
    for key, data in (("library", LibraryData()), ("archives", ArchivesData()), ("finance", FinanceData()))
}
_NOTHING_RECORDED_APARTMENT = {
    lived: Observation(data=ApartmentData(lived_on_campus=lived), read_at=None, source="local", known=True)
    for lived in (False, True)
}


def observe(key: str, row: RecordRow | Any | None, student: Student | Any, pulls: bool) -> Observation:
    """What we know of one item.

    For a department that keeps its records in Lixiao (it does not pull), a missing row means the
    department has recorded nothing about the student: empty data, which the seed's rules judge
    (finance with no data passes; archives with an empty status does not).
    """
    if row is None:
        if pulls:
            data = data_of(key, None, student) if key == "apartment" and not student.lived_on_campus else None
            return Observation(data=data, read_at=None, source="", known=True)
        if key == "apartment":
            return _NOTHING_RECORDED_APARTMENT[bool(student.lived_on_campus)]
        return _NOTHING_RECORDED[key]
    return Observation(
        data=data_of(key, row, student) if row.known else None,
        read_at=row.read_at,
        source=row.source,
        known=row.known,
        failed_at=row.failed_at,
    )


def snapshot_of(row: RecordRow | Any | None, key: str | None = None) -> dict[str, Any] | None:
    """A JSON-able copy of a record's fields, for the audit log (`key` is needed for plain rows)."""
    if row is None:
        return None
    key = key or next(k for k, m in RECORD_MODELS.items() if isinstance(row, m))
    out: dict[str, Any] = {"known": row.known}
    for name in RECORD_FIELDS[key]:
        value = getattr(row, name)
        out[name] = value.isoformat() if isinstance(value, date | datetime) else value
    return out


def write_record(
    session: Session,
    student: Student,
    key: str,
    values: Mapping[str, Any] | DepartmentData | None,
    *,
    source: str,
    now: datetime,
    actor: str,
    origin: str = "",
    existing: RecordRow | None = None,
    load: bool = True,
) -> tuple[RecordRow, bool]:
    """Create or update one record from a successful read or write; returns (row, changed).

    `values=None` records that the source answered it does not know the student.
    """
    model = RECORD_MODELS[key]
    row = existing
    if row is None and load:
        row = session.scalars(select(model).where(model.student_id == student.id)).one_or_none()  # type: ignore[attr-defined]
    before = snapshot_of(row)
    if isinstance(values, LibraryData | ArchivesData | ApartmentData | FinanceData):
        values = {k: v for k, v in asdict(values).items() if k in RECORD_FIELDS[key]}
        if "fee_items" in values:
            values["fee_items"] = list(values["fee_items"])
    if row is None:
        row = model(student_id=student.id, source=source, read_at=now)  # type: ignore[call-arg]
        session.add(row)
    for name in RECORD_FIELDS[key]:
        if values is not None and name in values:
            setattr(row, name, values[name])
    row.known = values is not None
    row.source = source
    row.read_at = now
    row.failed_at = None
    row.fail_reason = None
    after = snapshot_of(row)
    changed = before != after
    if changed:
        record_audit(session, actor=actor, action=f"{key}_record.write", entity=f"{key}_record:{student.student_no}",
                     before=before, after=after, origin=origin)
    return row, changed


def record_failure(session: Session, student: Student, key: str, row: RecordRow | None, reason: str,
                   now: datetime) -> RecordRow:
    """Note that the source could not be read for this student (the item becomes unavailable)."""
    if row is None:
        row = RECORD_MODELS[key](student_id=student.id, source="", read_at=None, known=True)  # type: ignore[call-arg]
        session.add(row)
    row.failed_at = now
    row.fail_reason = reason[:200]
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
                  items: Sequence[str] = ITEM_KEYS) -> dict[int, dict[str, str]]:
    """The stored statuses of some items of many students, as {student id: {item: status}} (absent: none stored)."""
    found: dict[int, dict[str, str]] = {}
    table = ItemState.__table__
    for start in range(0, len(student_ids), 1000):
        stmt = select(table.c.student_id, table.c.item, table.c.status).where(
            table.c.student_id.in_(list(student_ids[start:start + 1000])))
        if len(items) < len(ITEM_KEYS):
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
    """Store each item's status and write a transition for every change (and for "all four passed")."""
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
    """Store many students' item statuses and write a Transition for every flip (and for "all four passed").

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
        before_all = len(stored) == len(ITEM_KEYS) and all(s == passed for s in stored.values())
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
    insert_rows(session, ItemState.__table__, ("student_id", "item", "status", "changed_at"), new_states)
    for (key, status), ids in moves.items():
        for start in range(0, len(ids), 1000):
            # ORM-enabled, so ItemState objects this session holds see the new status too
            session.execute(update(ItemState).where(ItemState.item == key,
                                                    ItemState.student_id.in_(ids[start:start + 1000]))
                            .values(status=status, changed_at=now)
                            .execution_options(synchronize_session="evaluate"))
    if flipped:
        insert_rows(session, Transition.__table__, TransitionRow._fields, [t for _s, mine in flipped for t in mine])
        # Turns to passed become outbox rows (pushes, in-app notifications) in this same transaction, one statement
        # for the whole batch: every transition of every path passes this point.
        insert_events(session, [event for student, mine in flipped for event in transition_events(student, mine)])
    return flipped
