"""Outbox rows are written in the transaction of the change, once per (student, event), never on rollback."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.clearance.events import OutboxEvent, enqueue_certificate_issued
from server.timeutil import utcnow
from tests.factories import ALL_PASSED, ITEM_KEYS, make_batch
from tests.messaging.pushes import RED, drain, import_records, reachable_student, turn_green


def _events(session) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return sorted((r.student_id, r.event_key) for r in session.scalars(select(OutboxEvent)))


def test_every_turn_to_green_and_all_four_become_outbox_rows(app, session, settings) -> None:
    batch = make_batch(session)
    student = reachable_student(session, batch)
    turn_green(session, settings, [student])
    session.commit()
    assert _events(session) == [(student.id, f"all_passed:{batch.id}")] + [
        (student.id, f"item_passed:{batch.id}:{item}") for item in sorted(ITEM_KEYS)]


def test_red_and_green_again_is_not_pushed_twice(app, session, settings) -> None:
    batch = make_batch(session)
    student = reachable_student(session, batch)
    turn_green(session, settings, [student])
    session.commit()
    first = _events(session)
    later = utcnow() + timedelta(minutes=5)
    import_records(session, settings, [student], RED, now=later)
    import_records(session, settings, [student], ALL_PASSED, now=later + timedelta(minutes=1))
    session.commit()
    assert _events(session) == first


def test_a_rolled_back_change_leaves_no_outbox_row_and_no_push(app, session, settings, worker, emulator) -> None:
    batch = make_batch(session)
    student = reachable_student(session, batch, consents={"item_passed": len(ITEM_KEYS), "all_passed": 1})
    session.commit()
    turn_green(session, settings, [student])
    assert len(_rows_in(session)) == len(ITEM_KEYS) + 1  # written, inside the transaction
    session.rollback()
    assert _events(session) == []
    assert drain(worker, session) == {}
    assert emulator.messages() == []


def _rows_in(session) -> list[OutboxEvent]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(OutboxEvent)))


def test_certificate_hook_enqueues_once_per_serial(app, session) -> None:
    student = reachable_student(session, make_batch(session))
    issued = utcnow()
    enqueue_certificate_issued(session, student, "LX2027-000123", issued)
    enqueue_certificate_issued(session, student, "LX2027-000123", issued)
    session.commit()
    rows = _rows_in(session)
    assert [(r.event, r.event_key, r.payload["serial"]) for r in rows] == [
        ("certificate_issued", "certificate_issued:LX2027-000123", "LX2027-000123")]
