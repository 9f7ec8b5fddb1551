"""Writing many students' records at once — file imports and the batch API — with what `apply_change` does for one.

Every changed record is written and audited (from → to), an unchanged one is not written, and students whose
item flips get every item recomputed and their transitions written through `sync_item_states_many`, all in
the caller's transaction. The work is done on plain rows with SQLAlchemy Core: a chunk of 1,000 students costs a
handful of `IN (…)` queries and one executemany per table, instead of an ORM object (and its flush) per row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any, NamedTuple, cast

from sqlalchemy import JSON, Boolean, Date, Row, and_, bindparam, func, insert, literal, select, update
from sqlalchemy.orm import Session

from server.audit import AuditEntry, audit_values, record_audits
from server.clearance.models import ItemState, Student
from server.clearance.records import RecordRow, StateSync, TransitionRow, snapshot_of, sync_item_states_many
from server.clearance.rules import Judge
from server.clearance.versions import touch_students
from server.db import CHUNK, UTCDateTime, chunks, insert_rows, table_of
from server.departments.changes import is_unchanged
from server.items import registry
from server.settings import Settings
from server.sources import DepartmentSource
from server.timeutil import utcnow

_STUDENTS = table_of(Student)
# Core columns, not ORM attributes: the rows come back as plain tuples without the ORM's loading machinery.
STUDENT_COLUMNS = (_STUDENTS.c.id, _STUDENTS.c.student_no, _STUDENTS.c.lived_on_campus, _STUDENTS.c.batch_id)
_BOOKKEEPING = ("known", "source", "read_at", "failed_at", "fail_reason")


def load_students(session: Session, student_nos: Sequence[str], *, lock: bool = True
                  ) -> dict[str, Row[*tuple[Any, ...]]]:
    """Students by number as plain rows (id, student_no, lived_on_campus, batch_id); `lock` takes row locks."""
    found: dict[str, Row[*tuple[Any, ...]]] = {}
    for chunk in chunks(student_nos):
        stmt = select(*STUDENT_COLUMNS).where(_STUDENTS.c.student_no.in_(list(chunk))).order_by(_STUDENTS.c.id)
        found.update((str(row.student_no), row) for row in session.execute(stmt.with_for_update() if lock else stmt))
    return found


@dataclass(slots=True)
class Target:
    """A student a department's record is about to be written for: their row, that record, its item's status."""

    student: Row[*tuple[Any, ...]] | StudentRow  # id, student_no, lived_on_campus, batch_id
    record: SimpleNamespace | None  # id, known, failed_at and the department's fields
    stored: str | None  # the stored status of the department's item, None when none is stored


def load_targets(session: Session, key: str, student_nos: Sequence[str], *, lock: bool = True) -> dict[str, Target]:
    """Students by number with their `key` record and that item's stored status: one query per 1,000 students.

    `lock` takes the row locks of what it reads (MySQL), as every writer of these students does.
    """
    if _aggregates(session, key):
        return _load_targets_aggregated(session, key, student_nos, lock=lock)
    record = table_of(registry.get(key).record)
    state = table_of(ItemState)
    # Only what deciding and writing need (read_at, source and fail_reason are overwritten): fewer columns to decode.
    prefixed = [record.c[name].label(f"r_{name}")
                for name in ("id", "known", "failed_at", *registry.get(key).field_names)]
    joined = _STUDENTS.outerjoin(record, record.c.student_id == _STUDENTS.c.id).outerjoin(
        state, and_(state.c.student_id == _STUDENTS.c.id, state.c.item == key))
    found: dict[str, Target] = {}
    for chunk in chunks(student_nos):
        stmt = (select(*STUDENT_COLUMNS, state.c.status.label("stored_status"), *prefixed).select_from(joined)
                .where(_STUDENTS.c.student_no.in_(list(chunk))).order_by(_STUDENTS.c.id))
        result = session.execute(stmt.with_for_update() if lock else stmt)
        labels = result.keys()
        names = [name.removeprefix("r_") for name in labels]
        first = len(STUDENT_COLUMNS) + 1
        for row in result:
            has_record = row.r_id is not None
            values = SimpleNamespace(**dict(zip(names[first:], row[first:], strict=True))) if has_record else None
            found[row.student_no] = Target(row, values, row.stored_status)
    return found


def _aggregates(session: Session, key: str) -> bool:
    """Whether `load_targets` reads a chunk as one JSON document (MariaDB, records without JSON columns)."""
    dialect = session.connection().dialect  # connected: the dialect knows MariaDB from MySQL only then
    item = registry.get(key)
    return bool(getattr(dialect, "is_mariadb", False)) and not any(
        isinstance(table_of(item.record).c[name].type, JSON) for name in item.field_names)


class StudentRow(NamedTuple):
    """What the bulk writers need of a student (the columns of STUDENT_COLUMNS)."""

    id: int
    student_no: str
    lived_on_campus: bool
    batch_id: int | None


def _from_json(column: Any) -> Any:
    """How a value of `column` that came back inside a JSON document becomes what the column's type gives."""
    if isinstance(column.type, Boolean):
        return bool
    if isinstance(column.type, UTCDateTime):
        return lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC)
    if isinstance(column.type, Date):
        return date.fromisoformat
    return None


def _load_targets_aggregated(session: Session, key: str, student_nos: Sequence[str], *,
                             lock: bool) -> dict[str, Target]:
    """`load_targets` with MariaDB folding each chunk's rows into one JSON array.

    The same join, rows and locks, but the driver reads one row per 1,000 students instead of one per student:
    PyMySQL decodes every row and column in Python, which cost more than the query itself.
    """
    record = table_of(registry.get(key).record)
    names = ("id", "known", "failed_at", *registry.get(key).field_names)
    converters = [(i, convert) for i, name in enumerate(names) if (convert := _from_json(record.c[name]))]
    quote = session.get_bind().dialect.identifier_preparer.quote
    values = ", ".join(f"r.{quote(name)}" for name in names)
    found: dict[str, Target] = {}
    for chunk in chunks(student_nos):
        # Identifiers from the tables' metadata only; the student numbers and the item travel as parameters.
        # The aggregate's length limit is raised for this statement alone (1,000 students need a few hundred KB).
        # Identifiers from our own metadata and %s placeholders only: every value travels as a parameter.
        sql = (f"SET STATEMENT group_concat_max_len = {1 << 30} FOR "  # noqa: S608  # nosec B608
               f"SELECT JSON_ARRAYAGG(JSON_ARRAY(s.id, s.student_no, s.lived_on_campus, s.batch_id, st.status, "
               f"{values})) FROM students s LEFT JOIN {quote(record.name)} r ON r.student_id = s.id "
               f"LEFT JOIN item_states st ON st.student_id = s.id AND st.item = %s "
               f"WHERE s.student_no IN ({', '.join(['%s'] * len(chunk))})" + (" FOR UPDATE" if lock else ""))
        document = session.connection().exec_driver_sql(sql, (key, *chunk)).scalar()
        for row in json.loads(document) if document is not None else ():
            student = StudentRow(row[0], row[1], bool(row[2]), row[3])
            fields = row[5:]
            if fields[0] is None:
                found[student.student_no] = Target(student, None, row[4])
                continue
            for i, convert in converters:
                if fields[i] is not None:
                    fields[i] = convert(fields[i])
            found[student.student_no] = Target(student, SimpleNamespace(**dict(zip(names, fields, strict=True))),
                                               row[4])
    return found


def load_records(session: Session, key: str, student_ids: Sequence[int]) -> dict[int, SimpleNamespace]:
    """One department's records of many students as plain, mutable rows keyed by student id."""
    table = table_of(registry.get(key).record)
    found: dict[int, SimpleNamespace] = {}
    for chunk in chunks(student_ids):
        result = session.execute(select(table).where(table.c.student_id.in_(list(chunk))))
        names = list(result.keys())
        for row in result:
            found[row.student_id] = SimpleNamespace(**dict(zip(names, row, strict=True)))
    return found


def forget(session: Session, *models: type) -> None:
    """Expire the session's copies of rows that Core statements have changed behind its back."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, models):
            session.expire(obj)


def recompute_many(
    session: Session,
    settings: Settings,
    sources: Mapping[str, DepartmentSource],
    students: Sequence[Any],
    *,
    cause: str,
    now: datetime,
    records: Mapping[str, Mapping[int, Any]] | None = None,
    stored: Mapping[int, Mapping[str, str]] | None = None,
    record_transitions: bool = True,
) -> list[tuple[Any, list[TransitionRow]]]:
    """Judge every item of many students and store them, writing a Transition for each flip.

    `records` gives the rows already at hand for some departments (a missing student there has no record);
    the other departments' records are loaded. `stored` likewise gives the stored statuses, or they are loaded.
    """
    judge = Judge.of(settings, sources, now)
    ids = [s.id for s in students]
    rows = {key: (records[key] if records is not None and key in records else load_records(session, key, ids))
            for key in judge.keys}
    syncs = []
    # A student without records is judged by the student fields the items read (where they lived) alone.
    looks = tuple(sorted({name for item in judge.items for name in item.student_fields}))
    blank: dict[tuple[Any, ...], dict[str, str]] = {}
    for student in students:
        bare = all(student.id not in rows[key] for key in judge.keys)
        look = tuple(getattr(student, name) for name in looks)
        if bare and look in blank:
            statuses = blank[look]
        else:
            statuses = {key: str(judge.status(key, rows[key].get(student.id), student)) for key in judge.keys}
            if bare:
                blank[look] = statuses
        syncs.append(StateSync(student, statuses, None if stored is None else stored.get(student.id, {})))
    return sync_item_states_many(session, syncs, cause=cause, now=now, record_transitions=record_transitions)


def _json_of(column: Any) -> Any:
    """A record column as MariaDB's JSON_OBJECT must see it to give what `snapshot_of` gives in Python."""
    if isinstance(column.type, Boolean):
        return column.is_(True)  # a JSON true/false, not 1/0
    if isinstance(column.type, JSON):
        return func.json_extract(column, "$")  # the document itself, not its text as a string
    return column  # numbers, text, NULL; a DATE becomes "YYYY-MM-DD", as isoformat() gives


def audits_from_the_database(session: Session) -> bool:
    """Whether new records' audit rows are built by the database from the rows just stored (MariaDB, whose
    JSON_OBJECT gives true/false for `IS TRUE`, as the test of this path checks)."""
    return bool(getattr(session.connection().dialect, "is_mariadb", False))


def audit_created(session: Session, key: str, student_ids: Sequence[int], *, actor: str, origin: str) -> None:
    """The audit rows of `key` records just inserted for these students, made by MariaDB from the stored rows.

    The same rows `record_audits` writes (who, what, when, from where; before = null, after = the record's fields
    as `snapshot_of` gives them), but the database builds them with INSERT … SELECT, so a large import does not
    send every value a second time: the client's escaping and the statement's size halve.
    """
    if not student_ids:
        return
    record = table_of(registry.get(key).record)
    audit = table_of(AuditEntry)
    pairs: list[Any] = []
    for name in ("known", *registry.get(key).field_names):
        pairs += [literal(name), _json_of(record.c[name])]
    columns = ("at", "actor", "action", "entity", "before", "after", "origin")
    rows = (select(literal(utcnow(), UTCDateTime()), literal(actor), literal(f"{key}_record.write"),
                   func.concat(f"{key}_record:", _STUDENTS.c.student_no), literal("null"), func.json_object(*pairs),
                   literal(origin))
            .select_from(record.join(_STUDENTS, _STUDENTS.c.id == record.c.student_id))
            .where(record.c.student_id.in_(list(student_ids))).order_by(_STUDENTS.c.id))
    session.execute(insert(audit).from_select([audit.c[name] for name in columns], rows))


def write_many(
    session: Session,
    settings: Settings,
    sources: Mapping[str, DepartmentSource],
    key: str,
    changes: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    source: str,
    actor: str,
    origin: str,
    cause: str,
    now: datetime,
    targets: Mapping[str, Target] | None = None,
) -> list[str]:
    """Write checked values to one department's records of many students; each outcome as `apply_change` says it.

    `changes` are (student number, values) of existing students, each student once; `targets` may give what
    `load_targets` returned for them (in this transaction), or it is loaded here. The caller commits.
    """
    session.flush()  # the session's pending work goes first: what follows bypasses its unit of work
    item = registry.get(key)
    table = table_of(item.record)
    fields = item.field_names
    renew = bool(settings.department(key).freshness_hours)
    judged = Judge.of(settings, sources, now)
    set_columns: dict[str, Any] = {name: bindparam(name) for name in (*fields, *_BOOKKEEPING)}
    insert_columns = (*fields, "known", "source", "read_at")
    update_stmt = update(table).where(table.c.id == bindparam("b_id")).values(set_columns)
    outcomes: list[str] = []
    flipped: dict[int, tuple[Any, SimpleNamespace]] = {}  # student id → (student, written record)
    verdicts: dict[tuple[Any, ...], str] = {}

    def judge(row: SimpleNamespace, student: Any) -> str:
        # Every row written here is known, not failed, read now from `source`: its status is a function of its
        # fields (and of the student fields the item reads, e.g. where they lived), remembered for this call.
        signature = (*[getattr(row, name) for name in fields],
                     *[getattr(student, name) for name in item.student_fields])
        try:
            return verdicts[signature]
        except KeyError:
            status = verdicts[signature] = str(judged.status(key, row, student))
            return status
        except TypeError:  # fee lines (lists) are not hashable: judged afresh
            return str(judged.status(key, row, student))

    by_database = audits_from_the_database(session)
    defaults = item.defaults()
    fresh_defaults = any(isinstance(value, list) for value in defaults.values())  # a list per row, never shared
    for chunk in chunks(changes, CHUNK):
        known = targets if targets is not None else load_targets(session, key, [no for no, _values in chunk])
        inserts: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        audits: list[tuple[Any, ...]] = []
        renewed: list[int] = []
        touched: list[int] = []  # students whose record is written or renewed: their status may read differently
        for student_no, values in chunk:
            target = known[student_no]
            student, row = target.student, target.record
            if row is not None and is_unchanged(cast(RecordRow, row), values):  # a plain row, duck-typed
                if renew:  # the department has just confirmed the data: it is fresh again
                    renewed.append(row.id)
                    touched.append(student.id)
                outcomes.append("unchanged")
                continue
            before = snapshot_of(row, key)
            if row is None:
                # a new row gets every field, not only the ones sent
                values = {**(item.defaults() if fresh_defaults else defaults), **values}
                row = SimpleNamespace(id=None, student_id=student.id)
            for name in fields:
                if name in values:
                    setattr(row, name, values[name])
            row.known, row.source, row.read_at, row.failed_at, row.fail_reason = True, source, now, None, None
            # A new row's audit row is built from the stored row when the database does it (`audit_created`).
            if not (before is None and by_database) and before != (after := snapshot_of(row, key)):
                audits.append(audit_values(actor=actor, action=f"{key}_record.write",
                                           entity=f"{key}_record:{student_no}", before=before, after=after,
                                           origin=origin))
            if row.id is None:  # failed_at and fail_reason are NULL on a new row anyway
                inserts.append((student.id, *[getattr(row, name) for name in insert_columns]))
            else:
                updates.append({"b_id": row.id, **{name: getattr(row, name) for name in set_columns}})
            # Only when the item's stored status changes (or none is stored) are all the items recomputed.
            if target.stored != judge(row, student):
                flipped[student.id] = (student, row)
            touched.append(student.id)
            outcomes.append("created" if before is None else "updated")
        touch_students(session, touched)  # first: writers lock the student before the record (service._lock_student)
        insert_rows(session, table, ("student_id", *insert_columns), inserts)
        if by_database:
            audit_created(session, key, [values[0] for values in inserts], actor=actor, origin=origin)
        if updates:
            session.execute(update_stmt, updates)
        if renewed:
            session.execute(update(table).where(table.c.id.in_(renewed)).values(read_at=now))
        record_audits(session, audits)
    # The flips last, a thousand students at a time: their other records and stored statuses are loaded for them
    # alone (nothing here writes those), and this department's record is the one just written.
    rows = {student_id: row for student_id, (_student, row) in flipped.items()}
    for chunk in chunks([student for student, _row in flipped.values()]):
        recompute_many(session, settings, sources, chunk, cause=cause, now=now, records={key: rows})
    forget(session, item.record, ItemState)
    return outcomes
