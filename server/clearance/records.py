"""Departmental records: turning rows into observations, writing changes, and noticing transitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
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
from server.messaging.outbox import enqueue_transitions

RecordRow = LibraryRecord | ArchivesRecord | ApartmentRecord | FinanceRecord

# The writable fields of each record, i.e. what a department may set.
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "library": ("owed_books", "owed_fees_cents", "violations", "card_status", "thesis_status"),
    "archives": ("thesis_status",),
    "apartment": ("building", "move_out_date", "move_out_handler"),
    "finance": ("arrears_cents", "fee_items"),
}


def data_of(key: str, row: RecordRow | None, student: Student) -> DepartmentData | None:
    """The rule-level data of a record row."""
    if key == "apartment":
        apt = row if isinstance(row, ApartmentRecord) else None
        if apt is None and not student.lived_on_campus:
            return ApartmentData(lived_on_campus=False)
        if apt is None:
            return None
        return ApartmentData(student.lived_on_campus, apt.building, apt.move_out_date, apt.move_out_handler)
    if row is None:
        return None
    if isinstance(row, LibraryRecord):
        return LibraryData(row.owed_books, row.owed_fees_cents, row.violations, row.card_status, row.thesis_status)
    if isinstance(row, ArchivesRecord):
        return ArchivesData(row.thesis_status)
    assert isinstance(row, FinanceRecord)
    return FinanceData(row.arrears_cents, tuple(row.fee_items or ()))


def observe(key: str, row: RecordRow | None, student: Student, pulls: bool) -> Observation:
    """What we know of one item.

    For a department that keeps its records in Lixiao (it does not pull), a missing row means the
    department has recorded nothing about the student: empty data, which the seed's rules judge
    (finance with no data passes; archives with an empty status does not).
    """
    if row is None:
        if pulls:
            data = data_of(key, None, student) if key == "apartment" and not student.lived_on_campus else None
            return Observation(data=data, read_at=None, source="", known=True)
        empty: dict[str, DepartmentData] = {
            "library": LibraryData(),
            "archives": ArchivesData(),
            "apartment": ApartmentData(lived_on_campus=student.lived_on_campus),
            "finance": FinanceData(),
        }
        return Observation(data=empty[key], read_at=None, source="local", known=True)
    return Observation(
        data=data_of(key, row, student) if row.known else None,
        read_at=row.read_at,
        source=row.source,
        known=row.known,
        failed_at=row.failed_at,
    )


def snapshot_of(row: RecordRow | None) -> dict[str, Any] | None:
    """A JSON-able copy of a record's fields, for the audit log."""
    if row is None:
        return None
    key = next(k for k, m in RECORD_MODELS.items() if isinstance(row, m))
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


def sync_item_states(
    session: Session,
    student: Student,
    items: Sequence[ItemResult],
    *,
    cause: str,
    now: datetime,
    states: Mapping[str, ItemState] | None = None,
    record_transitions: bool = True,
) -> list[Transition]:
    """Store each item's status and write a transition for every change (and for "all four passed").

    Turns to passed also become outbox rows (pushes and in-app notifications) in this same transaction.
    """
    if states is None:
        rows = session.scalars(select(ItemState).where(ItemState.student_id == student.id)).all()
        states = {s.item: s for s in rows}
    before_all = len(states) == len(ITEM_KEYS) and all(s.status == Status.PASSED for s in states.values())
    transitions: list[Transition] = []
    for item in items:
        state = states.get(item.key)
        old = state.status if state else None
        if old == item.status:
            continue
        if state is None:
            session.add(ItemState(student_id=student.id, item=item.key, status=str(item.status), changed_at=now))
        else:
            state.status = str(item.status)
            state.changed_at = now
        if record_transitions:
            transitions.append(Transition(student_id=student.id, item=item.key, from_status=old,
                                          to_status=str(item.status), cause=cause, at=now))
    after_all = all(i.status == Status.PASSED for i in items)
    if record_transitions and after_all and not before_all:
        transitions.append(Transition(student_id=student.id, item="all", from_status=None,
                                      to_status=str(Status.PASSED), cause=cause, at=now))
    session.add_all(transitions)
    enqueue_transitions(session, student, transitions)
    return transitions
