"""Clearance operations: read a student's four items, cancel the library card, submit once.

Services flush and never commit: the caller (a view, a CLI command, the worker) owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit import record_audit
from server.cache import CLEARANCE, Lookup, ReadCache, dump_row, load_row, written_in
from server.certificates.service import issue_certificate
from server.clearance import departments
from server.clearance.models import (
    ApartmentRecord,
    Application,
    ArchivesRecord,
    Batch,
    FinanceRecord,
    LibraryRecord,
    Student,
)
from server.clearance.records import RecordRow, observe, sync_item_states, write_record
from server.clearance.rules import (
    ITEM_KEYS,
    ItemResult,
    LibraryData,
    Status,
    can_cancel_library_card,
    evaluate,
)
from server.errors import ApiError, ErrorCode
from server.settings import Settings
from server.sources import DepartmentSource, SourceRefused, SourceUnavailable
from server.sources.refresh import RETRY_FAILED_AFTER, is_due, refresh_due
from server.timeutil import utcnow


@dataclass(frozen=True)
class ClearanceDeps:
    """What clearance operations need from the outside: settings, sources and a clock."""

    settings: Settings
    sources: Mapping[str, DepartmentSource]
    now: Callable[[], datetime] = utcnow
    cache: ReadCache | None = None  # read_clearance(cached=True) keeps the rows here between requests


@dataclass
class Clearance:
    """A student's clearance as of now."""

    student: Student
    batch: Batch | None
    items: list[ItemResult]
    application: Application | None
    rows: dict[str, RecordRow | None] = field(default_factory=dict)
    stamp: str | None = None  # the read cache's stamp of these rows (None: read in a way that was not cached)

    @property
    def blockers(self) -> list[ItemResult]:
        """The items that are not passed."""
        return [i for i in self.items if i.status is not Status.PASSED]

    def can_submit(self, now: datetime) -> bool:
        """All four passed, inside an open batch, not yet submitted."""
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


_RECORDS = (("library", LibraryRecord), ("archives", ArchivesRecord), ("apartment", ApartmentRecord),
            ("finance", FinanceRecord))


@lru_cache(maxsize=1)
def _load_statement() -> Select:  # type: ignore[type-arg]
    """The student, batch, four records and application in one statement (built once: building costs as much as
    running it)."""
    return (
        select(Student, Batch, LibraryRecord, ArchivesRecord, ApartmentRecord, FinanceRecord, Application)
        .outerjoin(Batch, Student.batch_id == Batch.id)
        .outerjoin(LibraryRecord, LibraryRecord.student_id == Student.id)
        .outerjoin(ArchivesRecord, ArchivesRecord.student_id == Student.id)
        .outerjoin(ApartmentRecord, ApartmentRecord.student_id == Student.id)
        .outerjoin(FinanceRecord, FinanceRecord.student_id == Student.id)
        .outerjoin(Application, and_(Application.student_id == Student.id, Application.batch_id == Student.batch_id))
        .where(Student.id == bindparam("student_id"))
    )


_Loaded = tuple[Student, Batch | None, dict[str, RecordRow | None], Application | None]


def _load(session: Session, student_id: int) -> _Loaded:
    """The student, batch, four records and application in one statement."""
    found = session.execute(_load_statement(), {"student_id": student_id}).one_or_none()
    if found is None:
        raise ApiError(404, ErrorCode.STUDENT_NOT_FOUND, "未找到该学生", "Student not found")
    student, batch, *records, application = found
    return student, batch, dict(zip(ITEM_KEYS, records, strict=True)), application


def _encode(loaded: _Loaded) -> str:
    student, batch, rows, application = loaded
    return json.dumps({"student": dump_row(student), "batch": dump_row(batch),
                       "rows": {key: dump_row(row) for key, row in rows.items()},
                       "application": dump_row(application)}, ensure_ascii=False, separators=(",", ":"))


def _decode(payload: str) -> _Loaded:
    """Transient copies of the rows, for reading only."""
    data = json.loads(payload)
    rows = {key: load_row(model, data["rows"][key]) for key, model in _RECORDS}
    return (load_row(Student, data["student"]), load_row(Batch, data["batch"]), rows,
            load_row(Application, data["application"]))


def _evaluate(deps: ClearanceDeps, student: Student, rows: Mapping[str, RecordRow | None],
              now: datetime) -> list[ItemResult]:
    return [
        evaluate(key, observe(key, rows[key], student, deps.sources[key].pulls),
                 departments.office(deps.settings, key), departments.limits(deps.settings, key), now)
        for key in ITEM_KEYS
    ]


def read_clearance(session: Session, deps: ClearanceDeps, student_id: int, *, refresh: bool = True,
                   cached: bool = False, lookup: Lookup | None = None) -> Clearance:
    """The four items now; records of pulled sources that are missing or stale are read first, within limits.

    `cached=True` may answer from the read cache (deps.cache): the rows it returns are transient copies, fit only
    for reading. Rows due for a pull always come from the database. `lookup` is this student's cache lookup when
    the caller already made it.
    """
    now = deps.now()
    if not (cached and deps.cache):
        lookup = None
    elif lookup is None or (lookup.kind, lookup.ident) != (CLEARANCE, student_id):
        lookup = deps.cache.lookup(CLEARANCE, student_id)
    if lookup is not None and lookup.value is not None:
        student, batch, rows, application = _decode(lookup.value)
        if not (refresh and application is None and _pull_due(deps, rows, now)):
            return Clearance(student, batch, _evaluate(deps, student, rows, now), application, rows, lookup.stamp)
        lookup = None
    student, batch, rows, application = _load(session, student_id)
    if refresh and application is None:
        refreshed = refresh_due(session, deps.settings, deps.sources, student, rows, now)
        if refreshed:
            rows.update(refreshed)
            items = _evaluate(deps, student, rows, now)
            sync_item_states(session, student, items, cause="refresh", now=now)
            return Clearance(student, batch, items, application, rows)
    stamp = None
    if deps.cache is not None and lookup is not None and not written_in(session):
        stamp, _ = deps.cache.store(lookup, _encode((student, batch, rows, application)))
    return Clearance(student, batch, _evaluate(deps, student, rows, now), application, rows, stamp)


def _pull_due(deps: ClearanceDeps, rows: Mapping[str, RecordRow | None], now: datetime) -> bool:
    return any(source.pulls and is_due(rows.get(key), deps.settings.department(key).freshness_hours, now)
               for key, source in deps.sources.items())


def _lock_student(session: Session, student_id: int) -> None:
    """Serialise writers for one student (a row lock on MySQL; SQLite's BEGIN IMMEDIATE already does)."""
    found = session.execute(select(Student.id).where(Student.id == student_id).with_for_update()).first()
    if found is None:
        raise ApiError(404, ErrorCode.STUDENT_NOT_FOUND, "未找到该学生", "Student not found")


def cancel_library_card(session: Session, deps: ClearanceDeps, student_id: int, *, actor: str | None = None,
                        origin: str = "") -> ItemResult:
    """Cancel the library card through the library's source; idempotent; nothing changes if the library says no."""
    _lock_student(session, student_id)
    now = deps.now()
    student, _batch, rows, _application = _load(session, student_id)
    actor = actor or f"student:{student.student_no}"
    library = departments.office(deps.settings, "library")
    item = _evaluate(deps, student, rows, now)[0]
    if item.status is Status.UNAVAILABLE:
        raise ApiError(503, ErrorCode.SOURCE_UNAVAILABLE,
                       f"暂时无法查询图书馆数据，请稍后再试或致电图书馆 {library.phone}",
                       f"The library's data cannot be read now; try later or call the library at {library.phone}")
    data = observe("library", rows["library"], student, deps.sources["library"].pulls).data
    assert isinstance(data, LibraryData)
    if data.card_status == "cancelled":
        return item
    if not can_cancel_library_card(data):
        raise ApiError(422, ErrorCode.CARD_CANCEL_NOT_ALLOWED,
                       "尚有未还图书、欠费或违章，暂不能注销借书证",
                       "Books, fees or violations are outstanding; the card cannot be cancelled yet",
                       reasons=[r.message for r in item.reasons])
    try:
        deps.sources["library"].cancel_library_card(student.student_no)
    except SourceRefused as exc:
        raise ApiError(422, ErrorCode.LIBRARY_REFUSED,
                       f"图书馆未能注销借书证，请联系图书馆（{library.place}，电话 {library.phone}）",
                       f"The library could not cancel the card; contact the library ({library.place_en}, "
                       f"{library.phone})") from exc
    except SourceUnavailable as exc:
        raise ApiError(503, ErrorCode.SOURCE_UNAVAILABLE,
                       f"图书馆系统暂时无法连接，请稍后再试或联系图书馆（电话 {library.phone}）",
                       f"The library's system cannot be reached; try later or call the library at {library.phone}"
                       ) from exc
    source = rows["library"].source if rows["library"] else "local"
    row, _changed = write_record(session, student, "library", replace(data, card_status="cancelled"), source=source,
                                 now=now, actor=actor, origin=origin, existing=rows["library"], load=False)
    rows["library"] = row
    record_audit(session, actor=actor, action="library_card.cancel", entity=f"student:{student.student_no}",
                 before={"card_status": data.card_status}, after={"card_status": "cancelled"}, origin=origin)
    items = _evaluate(deps, student, rows, now)
    sync_item_states(session, student, items, cause="card_cancelled", now=now)
    session.flush()
    return items[0]


def submit_application(session: Session, deps: ClearanceDeps, student_id: int, *, actor: str | None = None,
                       origin: str = "", channel: str = "api") -> Application:
    """Submit once per batch (the database ensures it), all four passed, in the window; issues the certificate."""
    _lock_student(session, student_id)
    now = deps.now()
    student, batch, rows, application = _load(session, student_id)
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
    items = _evaluate(deps, student, rows, now)
    blocked = [i for i in items if i.status is not Status.PASSED]
    if blocked:
        names = "、".join(departments.TITLES[i.key][0] for i in blocked)
        names_en = ", ".join(departments.TITLES[i.key][1] for i in blocked)
        raise ApiError(422, ErrorCode.ITEMS_NOT_PASSED, f"以下事项尚未通过：{names}",
                       f"These items have not passed: {names_en}", items=[i.key for i in blocked])
    snapshot = {"batch_name": batch.name, "items": [{"key": i.key, "status": str(i.status), "details": i.details,
                           "updated_at": i.updated_at.isoformat() if i.updated_at else None} for i in items],
                "student": {"student_no": student.student_no, "name": student.name, "college": student.college,
                            "major": student.major, "degree_level": student.degree_level}}
    application = Application(student_id=student.id, batch_id=batch.id, submitted_at=now, snapshot=snapshot,
                              channel=channel)
    session.add(application)
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
