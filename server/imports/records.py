"""Item record imports (one file per item, its columns declared by its module) and the import entry point."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy.orm import Session

from server.audit import record_audit
from server.departments.bulk import Target, load_targets, write_many
from server.departments.changes import require_local
from server.errors import ApiError
from server.imports import roster
from server.imports.cells import CellParser
from server.imports.columns import ROSTER, ROSTER_REQUIRED, STUDENT_NO, item_columns, kinds
from server.imports.reader import ImportFileError, Table, map_columns, read_table
from server.imports.report import ImportReport, RowResult
from server.items import registry
from server.items.fields import FieldProblem, cell_text
from server.settings import Settings
from server.sources import DepartmentSource


@dataclass
class RecordRow:
    """A checked department row."""

    row: int
    student_no: str
    values: dict[str, Any]


def _check_rows(session: Session, key: str, table: Table,
                report: ImportReport) -> tuple[list[RecordRow], dict[str, Target]]:
    """The valid rows, and the students they name (locked: these are the rows a write would change)."""
    names = [name for name in registry.get(key).import_columns if name in table.columns]
    number_at = table.columns["student_no"]
    first_seen: dict[str, int] = {}
    parsed: list[RecordRow] = []
    parse_cells = CellParser(registry.get(key))
    positions = table.positions(names)
    for number, raw in table.rows:
        student_no = cell_text(raw[number_at] if number_at < len(raw) else None)[:32]
        if not student_no:
            report.rows.append(RowResult(number, "", "rejected", "学号不能为空", "The student number is empty"))
            continue
        try:
            values = parse_cells(table.cells_at(raw, positions))
        except FieldProblem as problem:
            report.rows.append(RowResult(number, student_no, "rejected", problem.message, problem.message_en))
            continue
        if student_no in first_seen:
            report.rows.append(RowResult(number, student_no, "rejected", f"学号与第 {first_seen[student_no]} 行重复",
                                         f"Duplicate of row {first_seen[student_no]}"))
            continue
        first_seen[student_no] = number
        parsed.append(RecordRow(number, student_no, values))
    known = load_targets(session, key, [r.student_no for r in parsed])
    valid = []
    for item in parsed:
        if item.student_no in known:
            valid.append(item)
        else:
            report.rows.append(RowResult(item.row, item.student_no, "rejected", f"学号不存在：{item.student_no}",
                                         f"No student with number {item.student_no}"))
    return valid, known


def _write_rows(session: Session, settings: Settings, sources: Mapping[str, DepartmentSource], key: str,
                rows: list[RecordRow], targets: Mapping[str, Target], *, actor: str, origin: str,
                now: datetime) -> list[RowResult]:
    outcomes = write_many(session, settings, sources, key, [(r.student_no, r.values) for r in rows], source="import",
                          actor=actor, origin=origin, cause=f"import:{key}", now=now, targets=targets)
    return [RowResult(r.row, r.student_no, outcome) for r, outcome in zip(rows, outcomes, strict=True)]


def import_file(
    session: Session,
    settings: Settings,
    sources: Mapping[str, DepartmentSource],
    kind: str,
    data: bytes,
    filename: str,
    *,
    actor: str,
    origin: str,
    now: datetime,
    batch_name: str | None = None,
    apply_valid: bool = False,
) -> ImportReport:
    """Check every row of a roster or department file and write it; raises ImportFileError for an unusable file.

    A file with any rejected row writes nothing unless `apply_valid`; the report then marks the valid rows
    "valid" (not written). The caller commits.
    """
    if kind not in kinds(registry.active(settings)):
        raise ImportFileError(f"未知的导入类型：{kind}", f"Unknown import kind: {kind}")
    if kind != "roster":
        try:
            require_local(settings, kind)
        except ApiError as exc:
            raise ImportFileError(exc.message, exc.message_en) from exc
    table = read_table(data, filename)
    if kind == "roster":
        map_columns(table, ROSTER, ROSTER_REQUIRED)
    else:
        map_columns(table, {**STUDENT_NO, **item_columns(registry.get(kind))}, ["student_no"])
        if len(table.columns) < 2:
            raise ImportFileError(f"文件中没有{kind}记录的任何字段列", f"The file has no {kind} field columns")
    report = ImportReport(kind=kind, filename=filename[:120], encoding=table.encoding,
                          ignored_columns=table.ignored)
    valid: list[Any]  # roster rows or record rows, by kind
    targets: dict[str, Target] = {}
    if kind == "roster":
        valid = cast(list[Any], roster.check_rows(session, table, report, batch_name))
    else:
        checked, targets = _check_rows(session, kind, table, report)
        valid = cast(list[Any], checked)
    if report.rejected and not apply_valid:
        report.rows += [RowResult(v.row, v.student_no, "valid") for v in valid]
    else:
        if kind == "roster":
            report.rows += roster.write_rows(session, settings, sources, valid, actor=actor, origin=origin, now=now)
        else:
            report.rows += _write_rows(session, settings, sources, kind, valid, targets, actor=actor, origin=origin,
                                       now=now)
        report.applied = True
        record_audit(session, actor=actor, action=f"import.{kind}", entity=f"import:{filename[:70]}", before=None,
                     after={"counts": report.counts, "encoding": report.encoding}, origin=origin)
    report.rows.sort(key=lambda r: r.row)
    return report
