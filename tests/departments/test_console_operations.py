"""The departments' real-life changes through the console over HTTP: each audited, each recomputing the item."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from server.audit import AuditEntry
from server.clearance.models import ItemState, Transition
from server.identity.models import Staff
from server.items.apartment import ApartmentRecord
from server.items.archives import ArchivesRecord
from server.items.finance import FinanceRecord
from server.items.library import LibraryRecord
from server.timeutil import SHANGHAI, utcnow
from tests.departments.console_client import ConsoleClient
from tests.factories import ALL_PASSED, make_batch, make_student, set_records


def make_staff(session, username: str, role: str, *, department: str | None = None, college: str | None = None,
               name: str = "") -> Staff:
    staff = Staff(username=username, name=name or f"{username}（测试）", role=role, department=department,
                  college=college)
    session.add(staff)
    session.commit()
    return staff


@pytest.fixture
def student(session):
    student = make_student(session, make_batch(session), student_no="CON0000001", name="控制台甲")
    set_records(session, student, {k: v for k, v in ALL_PASSED.items() if k != "apartment"})
    set_records(session, student, {"apartment": {"building": "竹园1号楼", "move_out_date": None,
                                                 "move_out_handler": None}})
    session.commit()
    return student


def state(session, student, item: str) -> str:
    session.commit()
    return session.scalars(select(ItemState.status).where(ItemState.student_id == student.id,
                                                          ItemState.item == item)).one()


def test_apartment_move_out_today_and_on_a_given_date(session, app, live, student):
    manager = make_staff(session, "apt1", "operator", department="apartment", name="王管理员")
    client = ConsoleClient(live.url, app, staff=manager)
    page = client.get("/console/students/CON0000001")
    assert page.status_code == 200 and "记录退宿" in page.text and "最后读取" in page.text
    response = client.post("/console/students/CON0000001/apartment/move-out", {"move_out_date": ""})
    assert response.status_code == 303
    session.commit()
    record = session.scalars(select(ApartmentRecord).where(ApartmentRecord.student_id == student.id)).one()
    assert record.move_out_handler == "王管理员" and record.move_out_date == utcnow().astimezone(SHANGHAI).date()
    assert record.source == "console:apt1" and state(session, student, "apartment") == "passed"
    transitions = session.scalars(select(Transition).where(Transition.student_id == student.id)
                                  .order_by(Transition.id)).all()
    assert ("apartment", "passed") in [(t.item, t.to_status) for t in transitions]
    assert transitions[-1].item == "all"  # all four passed now
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity == "apartment_record:CON0000001")
                            .order_by(AuditEntry.id.desc())).first()
    assert audit.actor == "staff:apt1" and audit.after["move_out_handler"] == "王管理员"
    earlier = (utcnow().astimezone(SHANGHAI).date() - timedelta(days=3)).isoformat()
    client.post("/console/students/CON0000001/apartment/move-out", {"move_out_date": earlier})
    session.commit()
    session.expire_all()
    assert session.get(ApartmentRecord, record.id).move_out_date == date.fromisoformat(earlier)
    future = client.post("/console/students/CON0000001/apartment/move-out", {"move_out_date": "2999-01-01"})
    assert "不能晚于今天" in client.get(future.headers["Location"]).text
    page = client.get("/console/students/CON0000001").text
    assert "总务部公寓与物业中心记录更新" in page  # the audit action in words, not its code


def test_finance_payment_and_clearing(session, app, live, student):
    set_records(session, student, {"finance": {"arrears_cents": 50000, "fee_items": []}})
    session.commit()
    cashier = make_staff(session, "fin1", "operator", department="finance")
    client = ConsoleClient(live.url, app, staff=cashier)
    too_much = client.post("/console/students/CON0000001/finance/payment", {"amount": "600"})
    assert "超过欠费" in client.get(too_much.headers["Location"]).text
    client.post("/console/students/CON0000001/finance/payment", {"amount": "200.50", "fee_name": "住宿费"})
    session.commit()
    record = session.scalars(select(FinanceRecord).where(FinanceRecord.student_id == student.id)).one()
    assert record.arrears_cents == 50000 - 20050 and record.fee_items[-1]["paid_cents"] == 20050
    assert state(session, student, "finance") == "not_passed"
    client.post("/console/students/CON0000001/finance/clear", {"note": "学院减免"})
    session.commit()
    session.expire_all()
    assert session.get(FinanceRecord, record.id).arrears_cents == 0
    assert state(session, student, "finance") == "passed"
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "finance.clear_arrears")).one().after[
        "note"] == "学院减免"


def test_archives_and_library_changes(session, app, live, student):
    archivist = make_staff(session, "arc1", "operator", department="archives")
    librarian = make_staff(session, "lib1", "operator", department="library")
    ConsoleClient(live.url, app, staff=archivist).post("/console/students/CON0000001/archives/thesis",
                                                       {"status": "received"})
    session.commit()
    assert session.scalars(select(ArchivesRecord.thesis_status)).one() == "received"
    assert state(session, student, "archives") == "not_passed"
    client = ConsoleClient(live.url, app, staff=librarian)
    client.post("/console/students/CON0000001/library", {"owed_books": "2", "owed_fees": "3.5", "violations": "1",
                                                         "card_status": "active", "thesis_status": "submitted"})
    session.commit()
    record = session.scalars(select(LibraryRecord)).one()
    assert (record.owed_books, record.owed_fees_cents, record.violations, record.thesis_status) == (2, 350, 1,
                                                                                                    "submitted")
    assert state(session, student, "library") == "not_passed"
    bad = client.post("/console/students/CON0000001/library", {"owed_books": "-1", "owed_fees": "0",
                                                               "violations": "0", "card_status": "active",
                                                               "thesis_status": "approved"})
    assert "owed_books" in client.get(bad.headers["Location"]).text
    session.expire_all()
    assert session.scalars(select(LibraryRecord.owed_books)).one() == 2


def test_a_department_read_from_elsewhere_is_read_only(session, settings, student):
    from dataclasses import replace

    from server.app import create_app
    from tests.conftest import LiveServer

    departments = dict(settings.departments)
    departments["apartment"] = replace(settings.department("apartment"), source="http", url="http://127.0.0.1:9/apt")
    app = create_app(settings.with_overrides(departments=departments))
    server = LiveServer(app)
    try:
        manager = make_staff(session, "apt2", "operator", department="apartment")
        client = ConsoleClient(server.url, app, staff=manager)
        page = client.get("/console/students/CON0000001")
        assert "此处只读" in page.text and "记录退宿" not in page.text
        refused = client.post("/console/students/CON0000001/apartment/move-out", {})
        assert refused.status_code == 409 and "自有系统" in refused.text
    finally:
        server.stop()
        app.extensions["lixiao"].engine.dispose()


def test_search_by_number_and_name(session, app, live, student):
    make_student(session, None, student_no="CON0000002", name="控制台乙")
    session.commit()
    admin = make_staff(session, "adm1", "admin")
    client = ConsoleClient(live.url, app, staff=admin)
    by_number = client.get("/console/students?q=CON00000").text
    assert "控制台甲" in by_number and "控制台乙" in by_number
    by_name = client.get("/console/students?q=乙").text
    assert "控制台乙" in by_name and "控制台甲" not in by_name
    assert "共 0 人" in client.get("/console/students?q=%25").text  # a wildcard is taken literally
