"""Roster and departmental imports: per-row reports, all or nothing, re-imports, encodings, XLSX, the CLI."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from server.audit import AuditEntry
from server.clearance.models import ItemState, Student, Transition
from server.cli import cli
from server.imports.reader import ImportFileError, read_table
from server.imports.records import import_file
from server.items.apartment import ApartmentRecord
from server.items.library import LibraryRecord
from server.sources import build_sources
from server.timeutil import utcnow
from tests.factories import ITEM_KEYS, make_batch

ROSTER_CSV = (
    "学号,姓名,学院,专业,学位类别,导师,预计毕业日期,是否住校\n"
    "IMP0000001,导入甲,计算机科学与技术学院,软件工程,硕士,导师甲,2027-06-30,是\n"
    "IMP0000002,导入乙,经济管理学院,会计学,博士,,2027/6/30,否\n"
)
LIBRARY_CSV = (
    "学号,欠书,欠费(元),违章,借书证状态,论文提交状态\n"
    "IMP0000001,0,0,0,已注销,记录审核通过\n"
    "IMP0000002,1,12.50,0,正常,未提交\n"
)


def count(session, model) -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(model))


def run(session, settings, kind, data: bytes, name="f.csv", **kw):
    report = import_file(session, settings, build_sources(settings), kind, data, name, actor="test", origin="test",
                         now=utcnow(), **kw)
    session.commit()
    return report


def test_roster_then_records_with_item_states_and_transitions(session, settings, app):
    make_batch(session, name="2027届")
    session.commit()
    report = run(session, settings, "roster", ROSTER_CSV.encode("gb18030"), batch_name="2027届")
    assert report.encoding == "gb18030" and report.applied and report.counts["created"] == 2
    assert count(session, ItemState) == 2 * len(ITEM_KEYS) and count(session, Transition) == 0  # initialised
    student = session.scalars(select(Student).where(Student.student_no == "IMP0000002")).one()
    assert (student.degree_level, student.lived_on_campus, student.expected_graduation) == ("doctor", False,
                                                                                            date(2027, 6, 30))
    again = run(session, settings, "roster", ROSTER_CSV.encode("gb18030"), batch_name="2027届")
    assert again.counts["unchanged"] == 2 and again.counts["created"] == again.counts["updated"] == 0
    library = run(session, settings, "library", LIBRARY_CSV.encode("utf-8-sig"))
    assert library.encoding == "utf-8" and library.counts["created"] == 2
    flips = session.scalars(select(Transition).where(Transition.item == "library")).all()
    assert [(t.from_status, t.to_status) for t in flips] == [("not_passed", "passed")]
    audits_before = count(session, AuditEntry)
    repeat = run(session, settings, "library", LIBRARY_CSV.encode("utf-8-sig"))
    assert repeat.counts["unchanged"] == 2 and count(session, AuditEntry) == audits_before + 1  # the import itself
    moved = ROSTER_CSV.replace("2027/6/30,否", "2027/6/30,是").encode()
    updated = run(session, settings, "roster", moved, batch_name="2027届")
    assert updated.counts == {"created": 0, "updated": 1, "unchanged": 1, "rejected": 0, "valid": 0}
    apartment = session.scalars(select(Transition).where(Transition.item == "apartment")).all()
    assert [(t.from_status, t.to_status, t.cause) for t in apartment] == [("passed", "not_passed", "roster")]


def test_a_bad_row_rejects_the_file_unless_valid_rows_are_applied(session, settings, app):
    batch = make_batch(session, name="2027届")
    for no in ("IMP0000001", "IMP0000002"):
        session.add(Student(student_no=no, name="某", college="学院", major="专业", degree_level="master",
                            expected_graduation=date(2027, 6, 30), batch_id=batch.id))
    session.commit()
    bad = LIBRARY_CSV + ("IMP0000001,0,0,0,已注销,记录审核通过\nNOSUCH0001,0,0,0,正常,未提交\n"
                         "IMP0000002,x,0,0,正常,未提交\n")
    report = run(session, settings, "library", bad.encode())
    assert not report.applied and count(session, LibraryRecord) == 0
    rejected = {r.row: (r.student_no, r.message_en) for r in report.rejected}
    assert rejected == {4: ("IMP0000001", "Duplicate of row 2"), 5: ("NOSUCH0001", "No student with number NOSUCH0001"),
                        6: ("IMP0000002", "“owed_books” must be a whole number: x")}
    assert report.counts["valid"] == 2
    applied = run(session, settings, "library", bad.encode(), apply_valid=True)
    assert applied.applied and applied.counts["created"] == 2 and count(session, LibraryRecord) == 2


def test_roster_rejections(session, settings, app):
    make_batch(session, name="2027届")
    session.commit()
    rows = ("student_no,name,college,major,degree_level,expected_graduation,lived_on_campus,batch\n"
            "R1,甲,学院,专业,master,2027-06-30,yes,2027届\n"
            "R2,乙,学院,专业,本科,2027-06-30,yes,2027届\n"
            "R3,丙,学院,专业,doctor,2027-13-30,yes,2027届\n"
            "R4,丁,学院,专业,doctor,2027-06-30,maybe,2027届\n"
            "R5,戊,学院,专业,doctor,2027-06-30,0,没有这个批次\n"
            "R 6,己,学院,专业,doctor,2027-06-30,0,2027届\n"
            "R7,,学院,专业,doctor,2027-06-30,0,2027届\n")
    report = run(session, settings, "roster", rows.encode())
    assert [r.row for r in report.rejected] == [3, 4, 5, 6, 7, 8]
    assert "本科" in report.rejected[0].message and "batch" in report.rejected[3].message_en.lower()
    assert count(session, Student) == 0


def test_xlsx_with_excel_types(session, settings, app):
    batch = make_batch(session, name="2027届")
    session.add(Student(student_no="X0000001", name="某", college="学院", major="专业", degree_level="master",
                        expected_graduation=date(2027, 6, 30), batch_id=batch.id))
    session.commit()
    book = Workbook()
    sheet = book.active
    sheet.append(["学号", "宿舍楼", "退宿日期", "退宿办理人", "备注"])
    sheet.append([])  # a blank row keeps the row numbers of the sheet
    sheet.append(["X0000001", "竹园3号楼", datetime(2027, 6, 20), "王管理员", "ignored"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = run(session, settings, "apartment", buffer.getvalue(), name="apartment.xlsx")
    assert report.encoding == "xlsx" and report.applied and report.ignored_columns == ["备注"]
    assert [(r.row, r.result) for r in report.rows] == [(3, "created")]
    record = session.scalars(select(ApartmentRecord)).one()
    assert (record.building, record.move_out_date, record.move_out_handler) == ("竹园3号楼", date(2027, 6, 20),
                                                                                "王管理员")


@pytest.mark.parametrize(("data", "name", "fragment"), [
    (b"", "a.csv", "empty"),
    (b"\x00\x01\x02binary\xff\xfe" * 20, "a.csv", "encoding is not recognised"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "a.xls", ".xls"),
    (b"PK\x03\x04garbage", "a.xlsx", "cannot be read"),
    (b"not,a,spreadsheet", "a.xlsx", "not an Excel file"),
    ("学号,欠书\n".encode(), "a.csv", "no data rows"),
])
def test_unusable_files_are_reported(data, name, fragment):
    with pytest.raises(ImportFileError) as caught:
        read_table(data, name)
    assert fragment in caught.value.message_en and caught.value.message


def test_missing_columns_and_duplicate_columns(session, settings, app):
    with pytest.raises(ImportFileError, match="Required columns missing: student_no"):
        run(session, settings, "library", "姓名,欠书\n甲,1\n".encode())
    with pytest.raises(ImportFileError, match="mean the same"):
        run(session, settings, "library", "学号,欠书,owed_books\nA,1,1\n".encode())
    with pytest.raises(ImportFileError, match="no library field columns"):
        run(session, settings, "library", "学号,备注\nA,1\n".encode())


def test_cli_import_and_department_key(session, settings, app, tmp_path):
    make_batch(session, name="2027届")
    session.commit()
    env = {"LIXIAO_DATABASE_URL": settings.database_url, "LIXIAO_REDIS_URL": settings.redis_url}
    roster = tmp_path / "roster.csv"
    roster.write_bytes(ROSTER_CSV.encode("gb18030"))
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "roster", str(roster), "--batch", "2027届"], env=env)
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output and "gb18030" in result.output
    bad = tmp_path / "library.csv"
    bad.write_text(LIBRARY_CSV + "NOSUCH0001,0,0,0,正常,未提交\n", encoding="utf-8")
    refused = runner.invoke(cli, ["import", "library", str(bad)], env=env)
    assert refused.exit_code == 1 and "row 4" in refused.output and "nothing written" in refused.output
    assert count(session, LibraryRecord) == 0
    applied = runner.invoke(cli, ["import", "library", str(bad), "--apply-valid"], env=env)
    assert applied.exit_code == 0 and count(session, LibraryRecord) == 2
    key = runner.invoke(cli, ["department-key", "create", "library", "--label", "test"], env=env)
    assert key.exit_code == 0 and "key_id=lib_" in key.output and "secret=" in key.output
    key_id = key.output.split("key_id=")[1].split()[0]
    listed = runner.invoke(cli, ["department-key", "list"], env=env)
    assert key_id in listed.output and "secret" not in listed.output
    assert runner.invoke(cli, ["department-key", "revoke", key_id], env=env).exit_code == 0
    assert "revoked" in runner.invoke(cli, ["department-key", "list"], env=env).output
