"""Streamed student exports (CSV and XLSX) that never hold the whole cohort in memory.

Rows come from one query read in chunks (`yield_per`: a server-side cursor on MySQL), and leave as bytes
as they are formatted; a 30,000-student export uses the memory of one chunk, not of 30,000 rows.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import Session, aliased

from server.clearance.models import Application, Batch, ItemState, Student
from server.db import make_engine
from server.identity.models import ApiSession
from server.items.registry import Items
from server.timeutil import local_display
from server.vocabulary import DEGREE_LABELS, status_label

YIELD_PER = 1000
# Spreadsheet programs run a cell that starts like a formula; a leading apostrophe keeps it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters XML (and so XLSX) cannot hold


def header(items: Items) -> list[str]:
    """The export's first row: roster columns, one column per item, submission and login."""
    columns = [("学号", "Student No."), ("姓名", "Name"), ("学院", "College"), ("专业", "Major"),
               ("培养层次", "Degree"), ("离校批次", "Batch"), *[item.title for item in items],
               ("提交时间", "Submitted at"), ("登录过", "Ever logged in")]
    return [f"{zh} {en}" for zh, en in columns]


def students_query(items: Items, batch_id: int | None = None, college: str | None = None) -> Select[*tuple[Any, ...]]:
    """One row per student: roster fields, every item's status, submission time and whether they logged in."""
    states = {key: aliased(ItemState, name=f"state_{key}") for key in items.keys}
    logged_in = exists().where(ApiSession.student_id == Student.id)
    stmt = select(Student.student_no, Student.name, Student.college, Student.major, Student.degree_level,
                  Batch.name, *[states[k].status for k in items.keys], Application.submitted_at,
                  Student.last_login_at, logged_in).outerjoin(Batch, Batch.id == Student.batch_id)
    for key, state in states.items():
        stmt = stmt.outerjoin(state, and_(state.student_id == Student.id, state.item == key))
    stmt = stmt.outerjoin(Application, and_(Application.student_id == Student.id,
                                            Application.batch_id == Student.batch_id))
    if batch_id is not None:
        stmt = stmt.where(Student.batch_id == batch_id)
    if college is not None:
        stmt = stmt.where(Student.college == college)
    return stmt.order_by(Student.student_no)


def safe_cell(value: str) -> str:
    """A text cell that a spreadsheet shows as text and XML can hold."""
    value = _ILLEGAL.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def format_row(row: Sequence[Any]) -> list[str]:
    """A query row as the export's text cells."""
    student_no, name, college, major, degree, batch, *rest = row
    statuses, (submitted_at, last_login_at, has_session) = rest[:-3], rest[-3:]
    level = DEGREE_LABELS.get(degree, (degree, degree))
    cells = [student_no, name, college, major, f"{level[0]} {level[1]}", batch or ""]
    cells += [" ".join(status_label(s)) for s in statuses]
    cells += [local_display(submitted_at), "是 yes" if (last_login_at is not None or has_session) else "否 no"]
    return [safe_cell(str(c)) for c in cells]


def iter_student_rows(session: Session, items: Items, *, batch_id: int | None = None, college: str | None = None,
                      yield_per: int = YIELD_PER) -> Iterator[list[str]]:
    """The export's rows, formatted, read from the database `yield_per` at a time."""
    result = session.execute(students_query(items, batch_id, college).execution_options(yield_per=yield_per))
    try:
        for row in result:
            yield format_row(row)
    finally:
        result.close()


def export_students_csv(session: Session, items: Items, *, batch_id: int | None = None, college: str | None = None,
                        chunk_rows: int = 500) -> Iterator[bytes]:
    """The student export as UTF-8 CSV (with a BOM, so spreadsheet programs read Chinese), chunk by chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header(items))
    for count, cells in enumerate(iter_student_rows(session, items, batch_id=batch_id, college=college), 1):
        writer.writerow(cells)
        if count % chunk_rows == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate(0)
    yield buffer.getvalue().encode("utf-8")


def export_students_xlsx(session: Session, items: Items, *, batch_id: int | None = None, college: str | None = None,
                         chunk_bytes: int = 64 * 1024) -> Iterator[bytes]:
    """The student export as XLSX: openpyxl's write-only sheet spools rows to disk, then the file streams out."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("学生 Students")
    saved = False
    try:
        sheet.append(header(items))
        for cells in iter_student_rows(session, items, batch_id=batch_id, college=college):
            sheet.append(cells)
        with tempfile.TemporaryFile() as out:
            workbook.save(out)
            saved = True
            out.seek(0)
            while chunk := out.read(chunk_bytes):
                yield chunk
    finally:
        if not saved:
            _discard(sheet)


def write_students_export(database_url: str, out: str | Path, items: Items, *, fmt: str = "csv",
                          batch_id: int | None = None, college: str | None = None) -> int:
    """Export straight to a file without an app (the benchmark's memory line uses this); returns the bytes written."""
    exporters: dict[str, Callable[..., Iterator[bytes]]] = {"csv": export_students_csv, "xlsx": export_students_xlsx}
    make = exporters[fmt]
    engine = make_engine(database_url, sqlite_immediate=False)
    written = 0
    try:
        with Session(engine) as session, open(out, "wb") as target:
            for chunk in make(session, items, batch_id=batch_id, college=college):
                written += target.write(chunk)
    finally:
        engine.dispose()
    return written


def _discard(sheet: Any) -> None:
    """Remove the rows openpyxl spooled to a temporary file when an export stops early (a client went away)."""
    writer = getattr(sheet, "_writer", None)  # openpyxl keeps the spool file on the sheet's writer
    if writer is None:
        return
    try:
        sheet.close()
    finally:
        writer.cleanup()
