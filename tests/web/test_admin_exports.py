"""Exports from the dashboard: CSV and XLSX rows match the database; viewers get their college only; audited."""

from __future__ import annotations

import csv
import io
import time
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import insert, select

from server.audit import AuditEntry
from server.clearance.models import Application, Student
from server.reports.exports import header, safe_cell, write_students_export
from server.timeutil import utcnow
from tests.factories import ITEMS, make_batch, make_student
from tests.web.conftest import make_staff, set_states


def _cohort(session):
    batch = make_batch(session, name="导出批次")
    a = make_student(session, batch, college="文学院", student_no="E0001", name="=cmd|' /C calc'!A0")
    b = make_student(session, batch, college="理学院", student_no="E0002", name="乙", degree_level="doctor")
    make_student(session, make_batch(session, name="别批"), college="文学院", student_no="E0003")
    set_states(session, a, {"library": "passed", "archives": "not_passed", "apartment": "unavailable"})
    session.add(Application(student_id=b.id, batch_id=batch.id, snapshot={}, channel="api"))
    session.commit()
    return batch


def _csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_rows(session, admin_client):
    batch = _cohort(session)
    response = admin_client.get(f"/admin/exports/students.csv?batch={batch.id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == header(ITEMS)
    assert [r[0] for r in rows[1:]] == ["E0001", "E0002"]
    first, second = rows[1], rows[2]
    assert first[1] == "'=cmd|' /C calc'!A0"  # a formula-looking name stays text
    n = len(ITEMS)  # one status column per item, then submitted and logged in
    assert first[6:10] == ["通过 Passed", "未通过 Not passed", "暂不可查 Unavailable", "尚无结果 No result yet"]
    assert first[10:6 + n] == ["尚无结果 No result yet"] * (n - 4)
    assert first[6 + n] == "" and first[7 + n] == "否 no"
    assert second[4] == "博士研究生 Doctoral" and second[6 + n] and second[2] == "理学院"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "export.students")).one()
    assert entry.actor == "staff:admin" and entry.after == {"format": "csv", "college": None}


def test_xlsx_rows_match_csv(session, admin_client):
    batch = _cohort(session)
    csv_rows = _csv(admin_client.get(f"/admin/exports/students.csv?batch={batch.id}&college=文学院"))
    response = admin_client.get(f"/admin/exports/students.xlsx?batch={batch.id}&college=文学院")
    assert response.status_code == 200 and response.is_streamed
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    xlsx_rows = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert xlsx_rows == csv_rows and len(xlsx_rows) == 2


def test_viewer_exports_own_college_only(session, signed_in):
    batch = _cohort(session)
    viewer = signed_in(staff_id=make_staff(session, "sci", "viewer", college="理学院").id)
    rows = _csv(viewer.get(f"/admin/exports/students.csv?batch={batch.id}"))
    assert [r[0] for r in rows[1:]] == ["E0002"]
    assert viewer.get(f"/admin/exports/students.csv?batch={batch.id}&college=文学院").status_code == 403
    assert viewer.get("/admin/exports/students.xlsx?college=文学院").status_code == 403
    page = viewer.get("/admin/exports").get_data(as_text=True)
    assert "理学院" in page and "文学院" not in page


def test_unknown_format_is_404(admin_client):
    assert admin_client.get("/admin/exports/students.pdf").status_code == 404


def test_safe_cell():
    assert safe_cell("+86 123") == "'+86 123" and safe_cell("@x") == "'@x" and safe_cell("a\x00b\x1f") == "ab"
    assert safe_cell("张三") == "张三"


def test_a_streaming_export_does_not_block_writers(app, session, admin_client):
    batch = make_batch(session, name="并发批次")
    session.execute(insert(Student), [
        {"student_no": f"W{i:05d}", "name": "学生", "college": "文学院", "major": "软件工程", "degree_level": "master",
         "supervisor": "", "expected_graduation": date(2027, 6, 30), "lived_on_campus": True, "batch_id": batch.id,
         "created_at": utcnow()} for i in range(1500)])
    session.commit()
    response = admin_client.get(f"/admin/exports/students.csv?batch={batch.id}", buffered=False)
    chunks = iter(response.response)
    first = next(chunks)  # the export is now reading, mid-way through its rows
    assert first.count(b"\n") < 1500
    started = time.monotonic()
    with app.extensions["lixiao"].sessions() as writer:  # the app's own kind of session: it takes the write lock
        writer.add(AuditEntry(actor="test", action="test.write", entity="x", before=None, after=None))
        writer.commit()
    assert time.monotonic() - started < 2, "a writer waited for the export"
    rest = b"".join(chunks)
    response.close()
    assert (first + rest).count(b"\n") == 1501


def test_export_to_a_file_without_an_app(session, settings, tmp_path):
    batch = _cohort(session)
    out = tmp_path / "students.csv"
    written = write_students_export(settings.database_url, out, ITEMS, batch_id=batch.id, college="理学院")
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert written == out.stat().st_size and [r[0] for r in rows] == [header(ITEMS)[0], "E0002"]
    assert write_students_export(settings.database_url, tmp_path / "s.xlsx", ITEMS, fmt="xlsx") > 0
