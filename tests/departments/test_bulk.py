"""The bulk writer (imports, the batch API) against `apply_change` (the console): the same records, states,
transitions and audit rows for the same changes — and a session that still sees the truth afterwards."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from server.audit import AuditEntry
from server.clearance.contexts import load_contexts, recompute
from server.clearance.models import ItemState, Student, Transition
from server.clearance.records import StateSync, sync_item_states, sync_item_states_many
from server.clearance.rules import Judge
from server.departments.bulk import load_targets, write_many
from server.departments.changes import apply_change, load_context
from server.items.library import LibraryRecord
from server.settings import DepartmentSettings
from server.sources import build_sources
from server.timeutil import utcnow
from tests.factories import ALL_PASSED, ITEM_KEYS, make_batch, make_student, set_records

PASSING = ALL_PASSED["library"]
OWING = {**PASSING, "owed_books": 1}

# name: (records before, library values written, expected outcome)
SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "new": ({}, PASSING, "created"),
    "flips_to_passed": ({"library": OWING}, {"owed_books": 0}, "updated"),
    "keeps_status": ({"library": OWING}, {"owed_books": 2}, "updated"),
    "unchanged": ({"library": OWING}, {"owed_books": 1}, "unchanged"),
    "all_four_pass": ({**ALL_PASSED, "library": OWING}, {"owed_books": 0}, "updated"),
    "all_four_stop_passing": (ALL_PASSED, {"card_status": "active"}, "updated"),
    "failed_source": ({"library": PASSING}, PASSING, "updated"),  # same values, but the failure is cleared
    "unknown_to_source": ({"library": None}, {"owed_books": 0}, "updated"),
}


def _arrange(session, settings, prefix: str) -> dict[str, Student]:
    batch = make_batch(session)
    students = {}
    for name, (records, _values, _outcome) in SCENARIOS.items():
        student = make_student(session, batch, student_no=f"{prefix}{list(SCENARIOS).index(name):03d}")
        set_records(session, student, records, now=utcnow() - timedelta(hours=1))
        students[name] = student
    session.flush()
    rows = session.scalars(select(LibraryRecord).where(
        LibraryRecord.student_id == students["failed_source"].id)).one()
    rows.failed_at, rows.fail_reason = utcnow() - timedelta(minutes=5), "timeout"
    session.flush()
    sources = build_sources(settings)
    for ctx in load_contexts(session, [s.student_no for s in students.values()], keys=ITEM_KEYS,
                             lock=False).values():
        recompute(session, settings, sources, ctx, cause="setup", now=utcnow() - timedelta(minutes=1),
                  record_transitions=False)
    session.commit()
    return students


def _state_of(session, student: Student) -> dict[str, Any]:
    record = session.scalars(select(LibraryRecord).where(LibraryRecord.student_id == student.id)).one_or_none()
    fields = None if record is None else {
        k: getattr(record, k) for k in ("known", "source", "failed_at", "fail_reason", "owed_books",
                                        "owed_fees_cents", "violations", "card_status", "thesis_status")}
    states = {s.item: s.status for s in session.scalars(select(ItemState).where(ItemState.student_id == student.id))}
    transitions = sorted((t.item, t.from_status, t.to_status, t.cause) for t in session.scalars(
        select(Transition).where(Transition.student_id == student.id)))
    audits = [(a.action, a.before, a.after) for a in session.scalars(
        select(AuditEntry).where(AuditEntry.entity == f"library_record:{student.student_no}",
                                 AuditEntry.actor == "staff:test").order_by(AuditEntry.id))]
    return {"record": fields, "states": states, "transitions": transitions, "audits": audits}


def test_write_many_does_what_apply_change_does(session, settings, app):
    sources = build_sources(settings)
    one_by_one = _arrange(session, settings, "ONE")
    in_bulk = _arrange(session, settings, "BLK")
    now = utcnow()
    singles = {}
    for name, (_records, values, _outcome) in SCENARIOS.items():
        ctx = load_context(session, settings, one_by_one[name].student_no)
        singles[name] = apply_change(session, settings, sources, ctx, "library", values, source="import",
                                     actor="staff:test", origin="test", cause="import:library", now=now)
    session.commit()
    changes = [(in_bulk[name].student_no, values) for name, (_r, values, _o) in SCENARIOS.items()]
    outcomes = write_many(session, settings, sources, "library", changes, source="import", actor="staff:test",
                          origin="test", cause="import:library", now=now)
    session.commit()
    assert outcomes == [outcome for _r, _v, outcome in SCENARIOS.values()] == list(singles.values())
    for name in SCENARIOS:
        assert _state_of(session, in_bulk[name]) == _state_of(session, one_by_one[name]), name
    flipped = _state_of(session, in_bulk["all_four_pass"])["transitions"]
    assert flipped == [("all", None, "passed", "import:library"), ("library", "not_passed", "passed",
                                                                   "import:library")]
    assert _state_of(session, in_bulk["unchanged"])["audits"] == []
    assert _state_of(session, in_bulk["failed_source"])["record"]["failed_at"] is None


def test_more_students_than_a_chunk_and_a_stale_session(session, settings, app):
    batch = make_batch(session)
    for n in range(2100):  # three chunks of at most 1,000
        session.add(Student(student_no=f"CH{n:06d}", name="甲", college="学院", major="专业", degree_level="master",
                            expected_graduation=utcnow().date(), batch_id=batch.id))
    session.commit()
    sources = build_sources(settings)
    changes = [(f"CH{n:06d}", PASSING if n % 3 == 0 else OWING) for n in range(2100)]
    outcomes = write_many(session, settings, sources, "library", changes, source="import", actor="staff:test",
                          origin="test", cause="import:library", now=utcnow())
    session.commit()
    assert outcomes == ["created"] * 2100
    assert session.scalar(select(func.count()).select_from(ItemState)) == len(ITEM_KEYS) * 2100
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 2100
    assert session.scalar(select(func.count()).select_from(Transition).where(
        Transition.item == "library", Transition.to_status == "passed")) == 700
    held = session.scalars(select(LibraryRecord).join(Student).where(Student.student_no == "CH000000")).one()
    assert held.owed_books == 0
    again = write_many(session, settings, sources, "library", [("CH000000", OWING), *changes[1:1500]],
                       source="import", actor="staff:test", origin="test", cause="import:library", now=utcnow())
    assert again == ["updated"] + ["unchanged"] * 1499
    assert held.owed_books == 1  # the session's copy was expired, not left stale
    assert session.scalar(select(func.count()).select_from(Transition).where(
        Transition.item == "library", Transition.from_status == "passed")) == 1


def test_unchanged_rows_renew_a_freshness_limited_record(session, settings, app):
    departments = dict(settings.departments)
    departments["library"] = DepartmentSettings(source="local", freshness_hours=24)
    settings = settings.with_overrides(departments=departments)
    student = make_student(session, make_batch(session))
    set_records(session, student, {"library": OWING}, now=utcnow() - timedelta(hours=30))
    session.commit()
    now = utcnow()
    outcome = write_many(session, settings, build_sources(settings), "library", [(student.student_no, OWING)],
                         source="import", actor="staff:test", origin="test", cause="import:library", now=now)
    session.commit()
    record = session.scalars(select(LibraryRecord)).one()
    session.refresh(record)
    assert outcome == ["unchanged"] and record.read_at > now - timedelta(seconds=1)  # MariaDB keeps whole seconds


def test_state_sync_keeps_the_sessions_item_states_true(session, settings, app):
    student = make_student(session, make_batch(session))
    sync_item_states_many(session, [StateSync(student, dict.fromkeys(ITEM_KEYS, "not_passed"), {})],
                          cause="setup", now=utcnow(), record_transitions=False)
    session.commit()
    held = {s.item: s for s in session.scalars(select(ItemState).where(ItemState.student_id == student.id))}
    ctx = load_context(session, settings, student.student_no)
    items = Judge.of(settings, build_sources(settings), utcnow()).all(ctx.student, ctx.rows)
    written = sync_item_states(session, student, items, cause="test", now=utcnow(), states=held)
    assert [(t.item, t.from_status, t.to_status) for t in written] == [("finance", "not_passed", "passed")]
    assert held["finance"].status == "passed"  # the objects the caller holds see the new status
    assert sync_item_states(session, student, items, cause="test", now=utcnow()) == []  # nothing flips twice


@pytest.mark.parametrize("lock", [True, False])
def test_load_targets(session, settings, app, lock):
    student = make_student(session, make_batch(session))
    set_records(session, student, {"library": OWING})
    session.commit()
    targets = load_targets(session, "library", [student.student_no, "NOSUCH"], lock=lock)
    assert list(targets) == [student.student_no]
    target = targets[student.student_no]
    assert (target.student.id, target.record.owed_books, target.stored) == (student.id, 1, None)


NEW_VALUES = {
    "library": {"owed_books": 2, "owed_fees_cents": 1250, "violations": 1, "card_status": "cancelled",
                "thesis_status": "approved"},
    "archives": {"thesis_status": "received"},
    "apartment": {"building": "十号楼 \"东\"", "move_out_date": utcnow().date(), "move_out_handler": None},
    "finance": {"arrears_cents": 300, "fee_items": [{"name": "住宿费", "due_cents": 100, "paid_cents": 0}]},
}


@pytest.mark.parametrize("key", sorted(NEW_VALUES))
def test_a_new_records_audit_row_is_its_snapshot(session, settings, app, key):
    """New records are audited by the database from the stored row on MariaDB, in Python elsewhere: the same."""
    from server.clearance.records import snapshot_of
    from server.items import registry

    student = make_student(session, make_batch(session))
    session.commit()
    outcome = write_many(session, settings, build_sources(settings), key, [(student.student_no, NEW_VALUES[key])],
                         source="import", actor="staff:test", origin="10.0.0.1", cause=f"import:{key}", now=utcnow())
    session.commit()
    model = registry.get(key).record
    record = session.scalars(select(model).where(model.student_id == student.id)).one()  # type: ignore[attr-defined]
    audit = session.scalars(select(AuditEntry)).one()
    assert outcome == ["created"]
    assert (audit.actor, audit.action, audit.entity, audit.origin) == (
        "staff:test", f"{key}_record.write", f"{key}_record:{student.student_no}", "10.0.0.1")
    assert audit.before is None and audit.after == snapshot_of(record, key)
    assert audit.after["known"] is True


@pytest.mark.parametrize("key", ["library", "apartment"])
def test_the_aggregated_read_gives_what_the_row_read_gives(session, settings, app, monkeypatch, key):
    """On MariaDB `load_targets` reads a chunk as one JSON document; elsewhere (and here, forced) row by row."""
    from server.departments import bulk

    students = _arrange(session, settings, "AG")
    write_many(session, settings, build_sources(settings), key,
               [(students["new"].student_no, NEW_VALUES[key])], source="import", actor="staff:test", origin="test",
               cause="test", now=utcnow())
    session.commit()
    numbers = [s.student_no for s in students.values()] + ["NOSUCH"]
    first = bulk.load_targets(session, key, numbers)
    session.rollback()
    monkeypatch.setattr(bulk, "_aggregates", lambda _session, _key: False)
    second = bulk.load_targets(session, key, numbers)
    session.rollback()

    def plain(targets):
        return {no: (tuple(t.student)[:4], None if t.record is None else vars(t.record), t.stored)
                for no, t in targets.items()}

    assert plain(first) == plain(second) and len(first) == len(SCENARIOS)
