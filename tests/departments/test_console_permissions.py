"""Who may do what in the console: operators only in their department, viewers read one college, students nothing."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from server.audit import AuditEntry
from server.identity.models import Staff
from server.items.library import LibraryRecord
from tests.departments.console_client import ConsoleClient
from tests.departments.test_console_operations import make_staff
from tests.factories import make_batch, make_student, set_records

CS, MGMT = "计算机科学与技术学院", "经济管理学院"


def arrange(session):
    batch = make_batch(session)
    ours = make_student(session, batch, student_no="PER0000001", name="本院甲", college=CS)
    theirs = make_student(session, batch, student_no="PER0000002", name="他院乙", college=MGMT)
    set_records(session, ours, {"library": {"owed_books": 1}})
    session.commit()
    return ours, theirs


def library_count(session) -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(LibraryRecord))


def test_finance_operator_cannot_change_library_records(session, app, live):
    arrange(session)
    finance = make_staff(session, "fin2", "operator", department="finance")
    client = ConsoleClient(live.url, app, staff=finance)
    page = client.get("/console/students/PER0000001")
    assert page.status_code == 200 and "更新图书馆记录" not in page.text  # no library form, no library record shown
    response = client.post("/console/students/PER0000001/library", {"owed_books": "0", "owed_fees": "0",
                                                                    "violations": "0", "card_status": "cancelled",
                                                                    "thesis_status": "approved"})
    assert response.status_code == 403
    assert client.get("/console/blocked/library").status_code == 403
    assert client.get("/console/blocked/library.csv").status_code == 403
    session.expire_all()
    assert session.scalars(select(LibraryRecord.owed_books)).one() == 1


def test_college_viewer_reads_one_college_and_changes_nothing(session, app, live):
    arrange(session)
    viewer = make_staff(session, "view1", "viewer", college=CS)
    client = ConsoleClient(live.url, app, staff=viewer)
    assert client.get("/console/students/PER0000001").status_code == 200
    assert client.get("/console/students/PER0000002").status_code == 403
    found = client.get("/console/students?q=PER").text
    assert "本院甲" in found and "他院乙" not in found
    listing = client.get(f"/console/blocked/library?college={MGMT}").text
    assert "本院甲" in listing and "他院乙" not in listing
    rows = list(csv.reader(io.StringIO(client.get("/console/blocked/archives.csv").text.lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == ["PER0000001"]
    for path, form in [("/console/students/PER0000001/library", {"owed_books": "0"}),
                       ("/console/students/PER0000001/apartment/move-out", {}),
                       ("/console/students/PER0000001/finance/clear", {}),
                       ("/console/students/PER0000001/archives/thesis", {"status": "reviewed"}),
                       ("/console/staff", {"username": "x", "role": "admin"})]:
        assert client.post(path, form).status_code == 403, path
    assert client.get("/console/imports").status_code == 403
    assert library_count(session) == 1


def test_students_and_strangers_cannot_reach_the_console(session, app, live):
    ours, _ = arrange(session)
    as_student = ConsoleClient(live.url, app, student_id=ours.id)
    for path in ("/console/", "/console/students/PER0000001", "/console/blocked/library", "/console/imports"):
        response = as_student.get(path)
        assert response.status_code == 403 and "仅供工作人员" in response.text, path
    anonymous = ConsoleClient(live.url, app)
    redirect = anonymous.get("/console/students/PER0000001")
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == "/login?next=%2Fconsole%2Fstudents%2FPER0000001"
    assert anonymous.http.post(live.url + "/console/students/PER0000001/library", timeout=10).status_code in (400,
                                                                                                             401)
    counter = ConsoleClient(live.url, app, staff=make_staff(session, "cnt1", "counter"))
    assert counter.get("/console/students/PER0000001").status_code == 403
    inactive = make_staff(session, "old1", "operator", department="library")
    inactive.active = False
    session.commit()
    assert ConsoleClient(live.url, app, staff=inactive).get("/console/").status_code == 302
    assert library_count(session) == 1


def test_forms_need_the_csrf_token(session, app, live):
    arrange(session)
    librarian = make_staff(session, "lib3", "operator", department="library")
    client = ConsoleClient(live.url, app, staff=librarian)
    response = client.http.post(live.url + "/console/students/PER0000001/library",
                                data={"owed_books": "0", "owed_fees": "0", "violations": "0",
                                      "card_status": "cancelled", "thesis_status": "approved"}, timeout=10)
    assert response.status_code == 400
    session.expire_all()
    assert session.scalars(select(LibraryRecord.owed_books)).one() == 1


def test_admin_manages_staff_roles_audited(session, app, live):
    admin = make_staff(session, "adm2", "admin")
    client = ConsoleClient(live.url, app, staff=admin)
    added = client.post("/console/staff", {"username": "newlib", "name": "新馆员", "role": "operator",
                                           "department": "library"})
    assert added.status_code == 303
    staff = session.scalars(select(Staff).where(Staff.username == "newlib")).one()
    assert (staff.role, staff.department, staff.college) == ("operator", "library", None)
    no_department = client.post("/console/staff", {"username": "nodep", "role": "operator"})
    assert "必须选择部门" in client.get(no_department.headers["Location"]).text
    duplicate = client.post("/console/staff", {"username": "newlib", "role": "counter"})
    assert "已存在" in client.get(duplicate.headers["Location"]).text
    client.post(f"/console/staff/{staff.id}", {"role": "viewer", "college": CS, "active": "1", "name": "新馆员"})
    session.commit()
    session.expire_all()
    staff = session.get(Staff, staff.id)
    assert (staff.role, staff.department, staff.college, staff.active) == ("viewer", None, CS, True)
    client.post(f"/console/staff/{staff.id}", {"role": "viewer", "college": CS})  # unchecked: deactivate
    session.commit()
    session.expire_all()
    assert session.get(Staff, staff.id).active is False
    self_demotion = client.post(f"/console/staff/{admin.id}", {"role": "counter", "active": "1"})
    assert "不能取消自己" in client.get(self_demotion.headers["Location"]).text
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "staff:newlib")
                              .order_by(AuditEntry.id)).all()
    assert actions == ["staff.create", "staff.update", "staff.update"]
    operator = ConsoleClient(live.url, app, staff=make_staff(session, "op9", "operator", department="finance"))
    assert operator.get("/console/staff").status_code == 403
    assert operator.post("/console/staff", {"username": "evil", "role": "admin"}).status_code == 403
