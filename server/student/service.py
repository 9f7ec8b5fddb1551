"""A student's clearance, the use cases around the core: read it (reading pulled records that are due first), do
what an item lets a student do (cancel the library card, through the department's system), submit once (and
issue the certificate).

The core (server/clearance/) judges and records; this package brings in the sources and the certificate.
Services flush and never commit: the caller (a view, a CLI command, the worker) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit import record_audit
from server.certificates.service import issue_certificate
from server.clearance.models import Application, Batch, Student
from server.clearance.records import RecordRow, sync_item_states, write_record
from server.clearance.rules import ItemResult, Judge, Status, office
from server.clearance.versions import touch_student
from server.errors import ApiError, ErrorCode
from server.items import registry
from server.settings import Settings
from server.sources import DepartmentSource, SourceRefused, SourceUnavailable
from server.sources.refresh import RETRY_FAILED_AFTER, refresh_due
from server.timeutil import utcnow


@dataclass(frozen=True)
class ClearanceDeps:
    """What clearance operations need from the outside: settings, sources and a clock."""

    settings: Settings
    sources: Mapping[str, DepartmentSource]
    now: Callable[[], datetime] = utcnow


@dataclass
class Clearance:
    """A student's clearance as of now."""

    student: Student
    batch: Batch | None
    items: list[ItemResult]
    application: Application | None
    rows: dict[str, RecordRow | None] = field(default_factory=dict)

    @property
    def blockers(self) -> list[ItemResult]:
        """The items that are not passed."""
        return [i for i in self.items if i.status is not Status.PASSED]

    def can_submit(self, now: datetime) -> bool:
        """Every item passed, inside an open batch, not yet submitted."""
        return (
            self.application is None
            and self.batch is not None
            and self.batch.is_open(now)
            and not self.blockers
        )

    def changes_at(self, settings: Settings, now: datetime) -> datetime | None:
        """The first moment after `now` at which these same rows may read differently (None: never by itself).

        Only the clock can make that happen: the batch window opening or closing, a record growing stale, a
        pulled record falling due, a failed read becoming worth retrying. A cached answer is good until then.
        """
        moments = []
        if self.batch is not None:
            moments += [self.batch.opens_at, self.batch.closes_at]
        for key, row in self.rows.items():
            if row is None:
                continue
            hours = settings.department(key).freshness_hours
            if hours and row.read_at is not None:
                moments.append(row.read_at + timedelta(hours=hours))
            if row.failed_at is not None:
                moments.append(row.failed_at + RETRY_FAILED_AFTER)
        return min((m for m in moments if m > now), default=None)


@lru_cache(maxsize=8)
def _load_statement(keys: tuple[str, ...]) -> Select[*tuple[Any, ...]]:
    """The student, batch, the items' records and application in one statement (built once per item set:
    building costs as much as running it)."""
    records = [registry.get(key).record for key in keys]
    stmt = select(Student, Batch, *records, Application).outerjoin(Batch, Student.batch_id == Batch.id)
    for record in records:
        stmt = stmt.outerjoin(record, record.student_id == Student.id)
    return (stmt.outerjoin(Application, and_(Application.student_id == Student.id,
                                             Application.batch_id == Student.batch_id))
            .where(Student.id == bindparam("student_id")))


_Loaded = tuple[Student, Batch | None, dict[str, RecordRow | None], Application | None]


def _load(session: Session, deps: ClearanceDeps, student_id: int) -> _Loaded:
    """The student, batch, records and application in one statement."""
    keys = registry.active(deps.settings).keys
    found = session.execute(_load_statement(keys), {"student_id": student_id}).one_or_none()
    if found is None:
        raise ApiError(404, ErrorCode.STUDENT_NOT_FOUND, "未找到该学生", "Student not found")
    student, batch, *records, application = found
    return student, batch, dict(zip(keys, records, strict=True)), application


def _evaluate(deps: ClearanceDeps, student: Student, rows: Mapping[str, RecordRow | None],
              now: datetime) -> list[ItemResult]:
    return Judge.of(deps.settings, deps.sources, now).all(student, rows)


def read_clearance(session: Session, deps: ClearanceDeps, student_id: int, *, refresh: bool = True) -> Clearance:
    """The student's items now; records of pulled sources that are missing or stale are read first, within limits."""
    now = deps.now()
    student, batch, rows, application = _load(session, deps, student_id)
    if refresh and application is None:
        refreshed = refresh_due(session, deps.settings, deps.sources, student, rows, now,
                                budget=deps.settings.source_budget_seconds)
        if refreshed:
            rows.update(refreshed)
            items = _evaluate(deps, student, rows, now)
            sync_item_states(session, student, items, cause="refresh", now=now)
            return Clearance(student, batch, items, application, rows)
    return Clearance(student, batch, _evaluate(deps, student, rows, now), application, rows)


def _lock_student(session: Session, student_id: int) -> None:
    """Serialise writers for one student (a row lock on MySQL; SQLite's BEGIN IMMEDIATE already does)."""
    found = session.execute(select(Student.id).where(Student.id == student_id).with_for_update()).first()
    if found is None:
        raise ApiError(404, ErrorCode.STUDENT_NOT_FOUND, "未找到该学生", "Student not found")


def act(session: Session, deps: ClearanceDeps, student_id: int, key: str, name: str, *, actor: str | None = None,
        origin: str = "") -> ItemResult:
    """Do what an item lets the student do (its StudentAction `name`, e.g. cancel the library card) through the
    department's own system; idempotent; nothing changes if the department says no. Returns the item after."""
    item = registry.active(deps.settings).get(key)
    action = item.student_action(name) if item is not None else None
    if item is None or action is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "没有这项操作", "No such action")
    _lock_student(session, student_id)
    now = deps.now()
    student, _batch, rows, _application = _load(session, deps, student_id)
    actor = actor or f"student:{student.student_no}"
    where = office(deps.settings, key)
    judge = Judge.of(deps.settings, deps.sources, now)
    result = judge.item(key, rows[key], student)
    if result.status is Status.UNAVAILABLE:
        raise ApiError(503, ErrorCode.SOURCE_UNAVAILABLE,
                       f"暂时无法查询{where.name}数据，请稍后再试或致电{where.name} {where.phone}",
                       f"{where.name_en}'s data cannot be read now; try later or call {where.name_en} at {where.phone}")
    data = judge.observe(key, rows[key], student).data
    if action.done(result.details):
        return result
    if not action.allowed(result.details):
        raise ApiError(422, action.not_allowed_code, *action.not_allowed, reasons=[r.message for r in result.reasons])
    try:
        deps.sources[key].perform(name, student.student_no)
    except SourceRefused as exc:
        refused = {"place": where.place, "place_en": where.place_en, "phone": where.phone}
        raise ApiError(422, action.refused_code, action.refused[0].format(**refused),
                       action.refused[1].format(**refused)) from exc
    except SourceUnavailable as exc:
        raise ApiError(503, ErrorCode.SOURCE_UNAVAILABLE,
                       f"{where.name}系统暂时无法连接，请稍后再试或联系{where.name}（电话 {where.phone}）",
                       f"{where.name_en}'s system cannot be reached; try later or call {where.name_en} at {where.phone}"
                       ) from exc
    after = action.apply(data)
    before = rows[key]
    row, _changed = write_record(session, student, key, after, source=before.source if before else "local", now=now,
                                 actor=actor, origin=origin, existing=before, load=False)
    rows[key] = row
    record_audit(session, actor=actor, action=action.audit_action, entity=f"student:{student.student_no}",
                 before={f: getattr(data, f) for f in action.changed},
                 after={f: getattr(after, f) for f in action.changed}, origin=origin)
    items = judge.all(student, rows)
    sync_item_states(session, student, items, cause=action.cause, now=now)
    session.flush()
    return next(i for i in items if i.key == key)


def submit_application(session: Session, deps: ClearanceDeps, student_id: int, *, actor: str | None = None,
                       origin: str = "", channel: str = "api") -> Application:
    """Submit once per batch (the database ensures it), every item passed, in the window; issues the certificate."""
    _lock_student(session, student_id)
    now = deps.now()
    student, batch, rows, application = _load(session, deps, student_id)
    actor = actor or f"student:{student.student_no}"
    if application is not None:
        raise _already_submitted(application)
    if batch is None:
        raise ApiError(403, ErrorCode.NO_OPEN_BATCH, "您不在任何离校批次中，请联系研究生院",
                       "You are not in any clearance batch; contact the graduate school")
    if not batch.is_open(now):
        raise ApiError(403, ErrorCode.BATCH_CLOSED, f"“{batch.name}”不在办理时间内",
                       f"Batch “{batch.name}” is not open for submission now",
                       opens_at=batch.opens_at.isoformat(), closes_at=batch.closes_at.isoformat())
    refreshed = refresh_due(session, deps.settings, deps.sources, student, rows, now,  # judge what is true now
                            budget=deps.settings.source_budget_seconds)
    if refreshed:
        rows.update(refreshed)
    items = _evaluate(deps, student, rows, now)
    if refreshed:
        sync_item_states(session, student, items, cause="refresh", now=now)
    blocked = [i for i in items if i.status is not Status.PASSED]
    if blocked:
        failing = [i for i in blocked if i.status is Status.NOT_PASSED]
        unknown = [i for i in blocked if i.status is Status.UNAVAILABLE]  # not "not passed": not known now
        zh = [f"以下事项尚未通过：{'、'.join(registry.get(i.key).title[0] for i in failing)}"] if failing else []
        en = [f"These items have not passed: {', '.join(registry.get(i.key).title[1] for i in failing)}"
              ] if failing else []
        if unknown:
            zh.append(f"以下事项暂时无法查询，请稍后再试：{'、'.join(registry.get(i.key).title[0] for i in unknown)}")
            en.append("These items cannot be checked now, try again shortly: "
                      + ", ".join(registry.get(i.key).title[1] for i in unknown))
        raise ApiError(422, ErrorCode.ITEMS_NOT_PASSED, "；".join(zh), "; ".join(en), items=[i.key for i in blocked],
                       item_titles=[{"key": i.key, "title": registry.get(i.key).title[0],
                                     "title_en": registry.get(i.key).title[1]} for i in blocked])
    snapshot = {"batch_name": batch.name, "items": [{"key": i.key, "status": str(i.status), "details": i.details,
                           "updated_at": i.updated_at.isoformat() if i.updated_at else None} for i in items],
                "student": {"student_no": student.student_no, "name": student.name, "college": student.college,
                            "major": student.major, "degree_level": student.degree_level}}
    application = Application(student_id=student.id, batch_id=batch.id, submitted_at=now, snapshot=snapshot,
                              channel=channel)
    session.add(application)
    touch_student(session, student)
    try:
        session.flush()
    except IntegrityError as exc:
        raise _already_submitted(None) from exc
    record_audit(session, actor=actor, action="application.submit", entity=f"application:{application.id}",
                 before=None, after={"student_no": student.student_no, "batch_id": batch.id, "channel": channel},
                 origin=origin)
    issue_certificate(session, deps.settings, application, student, now)
    return application


def _already_submitted(application: Application | None) -> ApiError:
    """409 for a second submission; the winner of a race is not known to the loser, so it names no id then."""
    extra = {"application_id": application.id} if application is not None else {}
    return ApiError(409, ErrorCode.ALREADY_SUBMITTED, "离校申请已提交，不能重复提交",
                    "The clearance has already been submitted", **extra)


def list_applications(session: Session, student_id: int) -> list[tuple[Application, Batch]]:
    """The student's submitted clearances, newest first."""
    rows = session.execute(
        select(Application, Batch).join(Batch, Application.batch_id == Batch.id)
        .where(Application.student_id == student_id).order_by(Application.submitted_at.desc())
    ).all()
    return [(a, b) for a, b in rows]
