"""Data versions (server/clearance/versions.py): every write Lixiao makes to what a status shows replaces the
student's (or the batch's) version in the same transaction; `cache retire` replaces the epoch."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from server.clearance import batches
from server.clearance.models import Batch, DataEpoch, Student
from server.cli import cli
from server.departments.bulk import write_many
from server.departments.changes import apply_change, load_context
from server.imports.records import import_file
from server.sources import build_sources
from server.state import AppState
from server.student import service
from server.timeutil import utcnow
from tests.factories import ALL_PASSED, cleared_student, make_batch, make_student, set_records


def version(session, student: Student) -> int:
    session.expire_all()
    return session.scalar(select(Student.data_version).where(Student.id == student.id))


def batch_version(session, batch: Batch) -> int:
    session.expire_all()
    return session.scalar(select(Batch.data_version).where(Batch.id == batch.id))


def test_a_record_write_replaces_the_version(session, settings, app):
    student = make_student(session, make_batch(session))
    session.commit()
    before = version(session, student)
    set_records(session, student, {"library": ALL_PASSED["library"]})
    session.commit()
    assert version(session, student) != before


def test_an_operator_change_and_the_bulk_writer_replace_the_version(session, settings, app):
    student = cleared_student(session, make_batch(session))
    session.commit()
    before = version(session, student)
    ctx = load_context(session, settings, student.student_no)
    apply_change(session, settings, build_sources(settings), ctx, "library", {"owed_books": 1}, source="console",
                 actor="staff:t", origin="t", cause="console", now=utcnow())
    session.commit()
    middle = version(session, student)
    assert middle != before
    write_many(session, settings, build_sources(settings), "library", [(student.student_no, {"owed_books": 0})],
               source="import", actor="staff:t", origin="t", cause="import", now=utcnow())
    session.commit()
    assert version(session, student) not in (before, middle)


def test_a_roster_change_replaces_the_version(session, settings, app):
    batch = make_batch(session, name="2027届")
    student = make_student(session, batch, student_no="IMP0000001", name="甲")
    session.commit()
    before = version(session, student)
    roster = ("学号,姓名,学院,专业,学位类别,导师,预计毕业日期,是否住校\n"
              "IMP0000001,乙,学院,专业,硕士,某导师,2027/6/30,是\n")
    report = import_file(session, settings, build_sources(settings), "roster", roster.encode(), "r.csv",
                         actor="t", origin="t", now=utcnow(), batch_name="2027届")
    session.commit()
    assert report.applied and report.counts["updated"] == 1, report.as_dict()
    assert version(session, student) != before


def test_a_submission_replaces_the_version(session, settings, app):
    student = cleared_student(session, make_batch(session))
    session.commit()
    before = version(session, student)
    state: AppState = app.extensions["lixiao"]
    service.submit_application(session, state.clearance, student.id)
    session.commit()
    assert version(session, student) != before


def test_a_batch_change_replaces_the_batchs_version(session, settings, app):
    batch = make_batch(session)
    session.commit()
    before = batch_version(session, batch)
    batches.close_early(session, batch.id, now=utcnow(), actor="t")
    session.commit()
    closed = batch_version(session, batch)
    assert closed != before
    batches.set_window(session, batch.id, name=batch.name, opens_at=batch.opens_at,
                       closes_at=batch.closes_at + timedelta(days=1), actor="t")
    session.commit()
    assert batch_version(session, batch) not in (before, closed)


def test_cache_retire_replaces_the_epoch(session, settings, app, monkeypatch):
    before = session.scalar(select(DataEpoch.epoch))
    session.rollback()  # no snapshot held open across the command
    monkeypatch.setenv("LIXIAO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LIXIAO_SECRET_KEY", settings.secret_key)
    result = CliRunner().invoke(cli, ["cache", "retire"])
    assert result.exit_code == 0, result.output
    after = session.scalar(select(DataEpoch.epoch))
    assert after and after != before
