"""Issue 15.3: a move-out date without its handler is refused by every write path, and never shown as a move-out."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from server.departments.credentials import create_key
from server.imports.records import import_file
from server.items import registry
from server.items.apartment import ApartmentData, ApartmentRecord
from server.sources import build_sources
from server.timeutil import utcnow
from tests.departments.signing import signed
from tests.factories import make_batch, make_student


def test_import_refuses_a_date_without_handler_with_a_per_row_reason(session, settings, app):
    batch = make_batch(session)
    for no in ("APT0000001", "APT0000002"):
        make_student(session, batch, student_no=no)
    session.commit()
    data = ("学号,宿舍楼,退宿日期,退宿办理人\n"
            "APT0000001,竹园1号楼,2027-06-20,王管理员\nAPT0000002,竹园1号楼,2027-06-20,\n")
    report = import_file(session, settings, build_sources(settings), "apartment", data.encode(), "a.csv",
                         actor="test", origin="test", now=utcnow())
    session.commit()
    assert not report.applied
    assert [(r.row, r.student_no) for r in report.rejected] == [(3, "APT0000002")]
    assert "handler" in report.rejected[0].message_en and "办理人" in report.rejected[0].message
    assert session.scalar(select(func.count()).select_from(ApartmentRecord)) == 0


def test_api_refuses_a_date_without_handler(session, settings, live):
    make_student(session, make_batch(session), student_no="APT0000003")
    key = create_key(session, settings.secret_key, "apartment", now=utcnow())
    session.commit()
    response = signed(live.url, "PUT", "/api/v1/departments/apartment/records/APT0000003",
                      {"move_out_date": "2027-06-20"}, key_id=key.key_id, secret=key.secret)
    assert response.status_code == 400, response.text
    assert "move_out_handler" in response.text
    assert session.scalar(select(func.count()).select_from(ApartmentRecord)) == 0


def test_the_import_page_says_the_rule():
    help = registry.get("apartment").import_columns["move_out_date"].help
    assert help is not None and "办理人" in help.text("zh") and "handler" in help.text("en")


def test_a_stored_date_without_handler_is_not_shown():
    details = registry.get("apartment").details(ApartmentData(True, "竹园1号楼", date(2027, 6, 20), None))
    assert details["move_out_date"] is None and details["move_out_handler"] is None
