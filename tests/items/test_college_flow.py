"""The college item end to end, with `college` turned on (in the four-item run as in the five-item one):
a college secretary records what is owed and signs the student off at the console, the student sees it, is
pushed, submits; the administrator sees it in progress, the export and the audit log."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from server.audit import AuditEntry
from server.clearance.events import OutboxEvent
from server.identity.models import Staff
from server.items import registry
from tests.conftest import Api
from tests.departments.console_client import ConsoleClient
from tests.factories import ALL_PASSED, make_batch, make_student, set_records, student_token

COLLEGE = "计算机科学与技术学院"


@pytest.fixture
def settings(settings):
    keys = registry.active(settings).keys
    return settings.with_overrides(items=keys if "college" in keys else (*keys, "college"))


def staff(session, username: str, role: str, **kw) -> Staff:
    person = Staff(username=username, name=kw.pop("name", f"{username}（测试）"), role=role, **kw)
    session.add(person)
    session.commit()
    return person


def college_item(api: Api) -> dict:
    return next(i for i in api.get("/api/v1/me/clearance").json()["items"] if i["key"] == "college")


def test_a_college_secretary_signs_a_student_off(session, app, live, settings):
    student = make_student(session, make_batch(session), student_no="COL0000001", college=COLLEGE)
    set_records(session, student, {k: v for k, v in ALL_PASSED.items() if k != "college"})
    session.commit()
    me = Api(live.url, student_token(session, settings, student))
    before = college_item(me)
    assert (before["status"], before["title"], before["reasons"][0]["code"]) == ("not_passed", "学院审核",
                                                                                  "NOT_SIGNED_OFF")
    assert me.get("/api/v1/me/clearance").json()["can_submit"] is False

    secretary = ConsoleClient(live.url, app, staff=staff(session, "sec1", "secretary", college=COLLEGE,
                                                           name="王秘书"))
    stranger = ConsoleClient(live.url, app, staff=staff(session, "sec2", "secretary", college="外国语言文化学院"))
    librarian = ConsoleClient(live.url, app, staff=staff(session, "lib1", "operator", department="library"))
    sign_off = "/console/students/COL0000001/college/sign-off"
    assert stranger.post(sign_off, {}).status_code == 403  # another college's secretary
    assert librarian.post(sign_off, {}).status_code == 403  # another department's operator
    assert "签字确认离校" in secretary.get("/console/students/COL0000001").text
    assert "签字确认离校" not in librarian.get("/console/students/COL0000001").text

    assert secretary.post("/console/students/COL0000001/college/owed", {"owed": " "}).status_code == 303  # refused
    assert college_item(me)["reasons"][0]["code"] == "NOT_SIGNED_OFF"
    secretary.post("/console/students/COL0000001/college/owed", {"owed": "实验室钥匙 1 把"})
    owed = college_item(me)
    assert owed["reasons"][0]["code"] == "OWED_TO_COLLEGE" and "实验室钥匙" in owed["reasons"][0]["message"]
    assert {"key": "owed", "label": "未清事项", "label_en": "Still owed", "value": "实验室钥匙 1 把",
            "value_en": "实验室钥匙 1 把"} in owed["rows"]

    assert secretary.post(sign_off, {"note": "钥匙已还"}).status_code == 303
    signed = college_item(me)
    assert (signed["status"], signed["status_label"]) == ("passed", "通过")
    assert {(r["label"], r["value"]) for r in signed["rows"]} >= {("学院审核", "已签字"), ("签字人", "王秘书"),
                                                                   ("说明", "钥匙已还")}
    assert me.get("/api/v1/me/clearance").json()["can_submit"] is True

    # The push: an item_passed event for the college and one for "all passed", worded with the item's title.
    session.commit()
    events = {(e.event, (e.payload or {}).get("item")) for e in session.scalars(
        select(OutboxEvent).where(OutboxEvent.student_id == student.id))}
    assert {("item_passed", "college"), ("all_passed", None)} <= events
    session.commit()  # the test's read ends before the app writes again (SQLite)
    titles = [n["title"] for n in me.get("/api/v1/me/notifications").json()["items"]]
    assert "学院审核已通过" in titles

    submitted = me.post("/api/v1/me/application", json={"confirm": True})
    assert submitted.status_code == 201, submitted.text
    assert {"key": "college", "title": "学院审核", "title_en": "College sign-off", "status": "passed"} in \
        submitted.json()["items"]

    admin = ConsoleClient(live.url, app, staff=staff(session, "adm1", "admin"))
    assert "学院审核" in admin.get("/admin/progress").text
    rows = list(csv.reader(io.StringIO(admin.get("/admin/exports/students.csv").content.decode("utf-8-sig"))))
    column = rows[0].index("学院审核 College sign-off")
    assert next(r for r in rows if r[0] == "COL0000001")[column] == "通过 Passed"
    session.commit()
    written = session.scalars(select(AuditEntry).where(AuditEntry.entity == "college_record:COL0000001")).all()
    assert [a.actor for a in written] == ["staff:sec1", "staff:sec1"]
    assert "college_record.write" in admin.get("/admin/audit?entity=college_record").text


def test_a_secretary_sees_only_their_college_and_cannot_import(session, app, live, settings):
    make_student(session, make_batch(session), student_no="COL0000002", college="外国语言文化学院")
    session.commit()
    secretary = ConsoleClient(live.url, app, staff=staff(session, "sec3", "secretary", college=COLLEGE))
    assert secretary.get("/console/students/COL0000002").status_code == 403
    assert secretary.get("/console/imports").status_code == 403
    assert secretary.get("/console/blocked/library").status_code == 403  # only the college's own item
    assert secretary.get("/console/blocked/college").status_code == 200


def test_with_college_off_its_pages_answer_404(session, app, live, settings):
    off = settings.with_overrides(items=tuple(k for k in registry.active(settings).keys if k != "college"))
    from server.app import create_app
    from tests.conftest import LiveServer

    other = create_app(off)
    server = LiveServer(other)
    try:
        make_student(session, make_batch(session), student_no="COL0000003", college=COLLEGE)
        session.commit()
        admin = ConsoleClient(server.url, other, staff=staff(session, "adm2", "admin"))
        assert admin.post("/console/students/COL0000003/college/sign-off", {}).status_code == 404
        assert "学院审核" not in admin.get("/console/students/COL0000003").text
    finally:
        server.stop()
        other.extensions["lixiao"].engine.dispose()
