"""The student roster import: who graduates, in which batch, and whether they lived on campus."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from server.audit import audit_values, record_audits
from server.clearance.models import Batch, ItemState, Student, new_version
from server.db import chunks, insert_rows, table_of
from server.departments.bulk import forget, load_students, recompute_many
from server.imports.columns import ROSTER
from server.imports.reader import Table
from server.imports.report import ImportReport, RowResult
from server.items import registry
from server.items.fields import FieldProblem, Named, cell_text, parse_date
from server.settings import Settings
from server.sources import DepartmentSource

_STUDENT_NO = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_DEGREES = {"硕士": "master", "硕士研究生": "master", "master": "master", "博士": "doctor", "博士研究生": "doctor",
            "doctor": "doctor", "phd": "doctor"}
_YES_NO = {"是": True, "否": False, "yes": True, "no": False, "y": True, "n": False, "1": True, "0": False,
           "true": True, "false": False, "住校": True, "走读": False}
FIELDS = ("name", "college", "major", "degree_level", "supervisor", "expected_graduation", "lived_on_campus",
          "batch_id")


@dataclass
class RosterRow:
    """A checked roster row."""

    row: int
    student_no: str
    values: dict[str, Any]


def _text(cells: Mapping[str, Any], name: str, limit: int, *, required: bool) -> str:
    text = cell_text(cells.get(name))
    if required and not text:
        raise FieldProblem(name, f"“{name}（{ROSTER[name][0]}）”不能为空", f"“{name}” must not be empty")
    if len(text) > limit:
        raise FieldProblem(name, f"“{name}”最多 {limit} 个字", f"“{name}” is longer than {limit} characters")
    return text


def parse_row(cells: Mapping[str, Any], batches: Mapping[str, int], default_batch: str | None) -> tuple[str, dict]:
    """One roster row as (student_no, student fields); raises FieldProblem."""
    student_no = _text(cells, "student_no", 32, required=True)
    if not _STUDENT_NO.match(student_no):
        raise FieldProblem("student_no", f"学号只能包含字母、数字、-、_：{student_no[:32]}",
                           f"The student number may hold only letters, digits, - and _: {student_no[:32]}")
    degree_text = _text(cells, "degree_level", 16, required=True)
    degree = _DEGREES.get(degree_text.lower())
    if degree is None:
        raise FieldProblem("degree_level", f"学位类别只能是 硕士/博士（master/doctor）：{degree_text}",
                           f"degree_level must be 硕士/博士 or master/doctor, not {degree_text}")
    graduation = parse_date(Named("expected_graduation"), cells.get("expected_graduation"))
    if graduation is None:
        raise FieldProblem("expected_graduation", "预计毕业日期不能为空", "expected_graduation must not be empty")
    lived = True
    if "lived_on_campus" in cells:
        lived_text = cell_text(cells["lived_on_campus"]).lower()
        if lived_text not in _YES_NO:
            raise FieldProblem("lived_on_campus", f"是否住校只能是 是/否（yes/no、1/0）：{lived_text[:10]}",
                               f"lived_on_campus must be 是/否, yes/no or 1/0, not {lived_text[:10]}")
        lived = _YES_NO[lived_text]
    batch_name = cell_text(cells.get("batch")) or (default_batch or "")
    if not batch_name:
        raise FieldProblem("batch", "未指定离校批次（文件中的“批次”列或导入时选择）",
                           "No batch: give a batch column or choose one for the file")
    if batch_name not in batches:
        raise FieldProblem("batch", f"离校批次不存在：{batch_name[:60]}", f"No such batch: {batch_name[:60]}")
    return student_no, {
        "name": _text(cells, "name", 64, required=True),
        "college": _text(cells, "college", 100, required=True),
        "major": _text(cells, "major", 100, required=True),
        "degree_level": degree,
        "supervisor": _text(cells, "supervisor", 64, required=False),
        "expected_graduation": graduation,
        "lived_on_campus": lived,
        "batch_id": batches[batch_name],
    }


def check_rows(session: Session, table: Table, report: ImportReport, default_batch: str | None) -> list[RosterRow]:
    """Validate every row; rejected rows go into the report, the valid ones are returned."""
    batches = {name: id_ for id_, name in session.execute(select(Batch.id, Batch.name))}
    first_seen: dict[str, int] = {}
    valid: list[RosterRow] = []
    for number, raw in table.rows:
        cells = table.cells(raw, list(ROSTER))
        try:
            student_no, values = parse_row(cells, batches, default_batch)
        except FieldProblem as problem:
            report.rows.append(RowResult(number, cell_text(cells.get("student_no"))[:32], "rejected",
                                         problem.message, problem.message_en))
            continue
        if student_no in first_seen:
            report.rows.append(RowResult(number, student_no, "rejected", f"学号与第 {first_seen[student_no]} 行重复",
                                         f"Duplicate of row {first_seen[student_no]}"))
            continue
        first_seen[student_no] = number
        valid.append(RosterRow(number, student_no, values))
    return valid


def _snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in values.items()}


def write_rows(session: Session, settings: Settings, sources: Mapping[str, DepartmentSource], rows: list[RosterRow],
               *, actor: str, origin: str, now: datetime) -> list[RowResult]:
    """Create or update the students, a chunk at a time; new students get their item states, changes transitions.

    Plain rows and executemany statements (see `server.departments.bulk`): a chunk costs a handful of queries.
    """
    session.flush()  # the session's pending work goes first: what follows bypasses its unit of work
    table = table_of(Student)
    # Every updated student gets a new data version (server/clearance/versions.py) in the same statement.
    update_stmt = update(table).where(table.c.id == bindparam("b_id")).values(
        {**{f: bindparam(f) for f in FIELDS}, "data_version": bindparam("b_version")})
    results: list[RowResult] = []
    # A change to a roster field an item reads (where the student lived) can flip that item.
    read = {name for i in registry.active(settings) for name in i.student_fields}
    for chunk in chunks(rows):
        stmt = select(table.c.id, table.c.student_no, *(table.c[f] for f in FIELDS))
        stmt = stmt.where(table.c.student_no.in_([r.student_no for r in chunk])).order_by(table.c.id)
        existing = {r.student_no: r for r in session.execute(stmt.with_for_update())}
        creates: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        audits: list[tuple[Any, ...]] = []
        moved: list[str] = []
        version = new_version()
        for item in chunk:
            current = existing.get(item.student_no)
            if current is None:
                creates.append((item.student_no, *[item.values[f] for f in FIELDS]))
                audits.append(audit_values(actor=actor, action="student.create", entity=f"student:{item.student_no}",
                                           before=None, after=_snapshot(item.values), origin=origin))
                results.append(RowResult(item.row, item.student_no, "created"))
                continue
            before = {k: getattr(current, k) for k in FIELDS}
            if before == item.values:
                results.append(RowResult(item.row, item.student_no, "unchanged"))
                continue
            updates.append({"b_id": current.id, "b_version": version, **item.values})
            audits.append(audit_values(actor=actor, action="student.update", entity=f"student:{item.student_no}",
                                       before=_snapshot(before), after=_snapshot(item.values), origin=origin))
            if any(before[name] != item.values[name] for name in read):
                moved.append(item.student_no)
            results.append(RowResult(item.row, item.student_no, "updated"))
        insert_rows(session, table, ("student_no", *FIELDS), creates)
        if updates:
            session.execute(update_stmt, updates)
        record_audits(session, audits)
        if moved:
            students = list(load_students(session, moved, lock=False).values())
            recompute_many(session, settings, sources, students, cause="roster", now=now)
        if creates:  # their first item states, from no records at all; not transitions
            students = list(load_students(session, [c[0] for c in creates], lock=False).values())
            recompute_many(session, settings, sources, students, cause="roster", now=now,
                           records={key: {} for key in registry.active(settings).keys}, stored={},
                           record_transitions=False)
    forget(session, Student, ItemState)
    return results
