"""Imports through the console over HTTP: the report page, applying the valid rows later, size limit, permissions."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from server.app import create_app
from server.clearance.models import Student
from server.items.library import LibraryRecord
from tests.conftest import LiveServer
from tests.departments.console_client import ConsoleClient
from tests.departments.test_console_operations import make_staff
from tests.factories import make_batch, make_student

LIBRARY = ("学号,欠书,欠费,违章,借书证状态,论文提交状态\n"
           "UPL0000001,0,0,0,已注销,记录审核通过\nUPL0000002,0,0,0,已注销,审核通过\n")


def count(session, model) -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(model))


def upload(client: ConsoleClient, kind: str, data: bytes, name: str = "records.csv", **form):
    return client.post("/console/imports", {"kind": kind, **form}, files={"file": (name, data, "text/csv")})


def test_upload_reject_then_apply_valid_rows(session, app, live):
    batch = make_batch(session)
    for no in ("UPL0000001", "UPL0000002"):
        make_student(session, batch, student_no=no)
    session.commit()
    librarian = make_staff(session, "libu", "operator", department="library")
    client = ConsoleClient(live.url, app, staff=librarian)
    data = (LIBRARY + "UPL0000003,0,0,0,已注销,记录审核通过\n").encode("gbk")
    report = upload(client, "library", data)
    assert report.status_code == 422
    assert "<td>4</td><td>UPL0000003</td>" in report.text and "学号不存在" in report.text
    assert "gb18030" in report.text and count(session, LibraryRecord) == 0
    token = re.search(r'action="/console/imports/([^/]+)/apply"', report.text).group(1)
    applied = client.post(f"/console/imports/{token}/apply")
    assert applied.status_code == 200 and 'data-count="created">2<' in applied.text
    assert count(session, LibraryRecord) == 2
    assert client.post(f"/console/imports/{token}/apply").status_code == 404  # used once
    again = upload(client, "library", LIBRARY.encode())
    assert again.status_code == 200 and 'data-count="unchanged">2<' in again.text


def test_operators_import_only_their_department_and_admins_the_roster(session, app, live):
    make_batch(session, name="2027届")
    session.commit()
    finance = ConsoleClient(live.url, app, staff=make_staff(session, "finu", "operator", department="finance"))
    form = finance.get("/console/imports").text
    assert 'value="finance"' in form and 'value="library"' not in form and 'value="roster"' not in form
    assert upload(finance, "library", LIBRARY.encode()).status_code == 403
    assert upload(finance, "roster", b"x").status_code == 403
    admin = ConsoleClient(live.url, app, staff=make_staff(session, "admu", "admin"))
    roster = ("学号,姓名,学院,专业,学位类别,预计毕业日期\nUPL0000009,上传甲,学院,专业,硕士,2027-06-30\n").encode()
    response = upload(admin, "roster", roster, batch="2027届")
    assert response.status_code == 200 and count(session, Student) == 1


def test_garbage_upload_is_explained(session, app, live):
    client = ConsoleClient(live.url, app, staff=make_staff(session, "libg", "operator", department="library"))
    response = upload(client, "library", b"\x00\x9f\x92\x96garbage\xff" * 50)
    assert response.status_code == 400 and "无法识别文件编码" in response.text and 'id="import-error"' in response.text


def test_upload_over_the_size_limit_gets_a_clear_413(session, settings):
    app = create_app(settings.with_overrides(upload_limit_bytes=2048))
    server = LiveServer(app)
    try:
        client = ConsoleClient(server.url, app, staff=make_staff(session, "libl", "operator", department="library"))
        response = upload(client, "library", b"a" * 10_000)
        assert response.status_code == 413
        assert "上传的文件太大" in response.text and "2 KB" in response.text
        assert count(session, LibraryRecord) == 0
    finally:
        server.stop()
        app.extensions["lixiao"].engine.dispose()
