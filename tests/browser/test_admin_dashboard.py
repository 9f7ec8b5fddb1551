"""An administrator's dashboard in Chromium: progress with its chart, drill-down, never-logged-in, exports,
batches and the audit log; and a college viewer on a phone."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from server.identity.models import Staff
from tests.browser.conftest import SHOTS, cas_sign_in, check_page
from tests.factories import make_batch, make_student
from tests.web.conftest import set_states

pytestmark = pytest.mark.browser

COLLEGES = ("计算机科学与技术学院", "安全工程学院")


@pytest.fixture
def cohort(session):
    """Two colleges, 60 students blocked on the library in one of them (two pages), various other states."""
    batch = make_batch(session, name="2027 年 6 月毕业研究生")
    for i in range(60):
        student = make_student(session, batch, college=COLLEGES[0], student_no=f"2027{i:06d}", name=f"学生{i}")
        set_states(session, student, {"library": "not_passed", "archives": "passed", "apartment": "unavailable",
                                      "finance": "passed"})
    for i in range(15):
        student = make_student(session, batch, college=COLLEGES[1], student_no=f"2028{i:06d}", name=f"同学{i}")
        set_states(session, student, dict.fromkeys(("library", "archives", "apartment", "finance"), "passed"))
    session.add_all([Staff(username="admin", name="管理员", role="admin"),
                     Staff(username="viewer", name="学院查看", role="viewer", college=COLLEGES[1])])
    session.commit()
    return batch


def _download(page, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    path = SHOTS / download.suggested_filename
    download.save_as(str(path))
    return path.read_bytes()


def test_administrator_dashboard_drill_down_and_export(portal, desktop, cohort):
    page = desktop
    cas_sign_in(page, portal, "/admin/progress", "admin")
    assert page.locator(".chart svg[role=img]").count() == 1
    table = page.inner_text("table")
    assert COLLEGES[0] in table and COLLEGES[1] in table
    check_page(page, "admin-1-progress")

    # Drill down: the 60 students blocked on the library, 50 a page.
    page.click('a[href*="college=%E8%AE%A1"][href*="item=library"][href*="status=not_passed"]')
    page.wait_for_url("**/admin/progress/blocked?**")
    assert page.locator("tbody tr").count() == 50 and "2027000000" in page.inner_text("tbody")
    check_page(page, "admin-2-blocked")
    page.click("a[rel=next]")
    page.wait_for_url("**page=2**")
    assert page.locator("tbody tr").count() == 10 and "2027000059" in page.inner_text("tbody")

    page.goto(portal.url + "/admin/progress/never-logged-in")
    assert "2027000000" in page.inner_text("tbody") and "共 75 人" in page.inner_text(".pager")
    check_page(page, "admin-3-never-logged-in")

    # Export: CSV and XLSX download with every student of the batch.
    page.goto(portal.url + "/admin/exports")
    check_page(page, "admin-4-exports")
    rows = list(csv.reader(io.StringIO(_download(page, "#export-csv").decode("utf-8-sig"))))
    assert len(rows) == 76 and rows[1][0] == "2027000000" and rows[1][6] == "未通过 Not passed"
    sheet = load_workbook(io.BytesIO(_download(page, "#export-xlsx")), read_only=True).active
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == 76

    # Batches: create one through the form.
    page.goto(portal.url + "/admin/batches")
    page.fill("#name", "2027 年 12 月毕业研究生")
    page.fill("#opens_at", "2027-12-01T08:00")
    page.fill("#closes_at", "2027-12-31T18:00")
    page.click("form[action='/admin/batches'] button[type=submit]")
    page.wait_for_url("**/admin/batches/*")
    assert "批次已创建" in page.inner_text(".flash") or "已创建批次" in page.inner_text(".flash")
    check_page(page, "admin-5-batch")

    # The audit log shows the export and the new batch; filter by action.
    page.goto(portal.url + "/admin/audit")
    page.select_option("#action", "batch.create")
    page.click("form[action='/admin/audit'] button[type=submit]")
    page.wait_for_url("**action=batch.create**")
    assert page.locator("tbody tr").count() == 1 and "staff:admin" in page.inner_text("tbody")
    check_page(page, "admin-6-audit")

    page.goto(portal.url + "/admin/certificates")
    check_page(page, "admin-7-certificates")

    page.goto(portal.url + "/admin/pushes")
    assert "推送问题" in page.inner_text("h1")
    check_page(page, "admin-8-pushes")


def test_college_viewer_on_a_phone(portal, phone, cohort):
    page = phone
    portal.emulator.add_cas_users({"username": "viewer", "password": "demo", "attributes": {"cn": "学院查看"}})
    cas_sign_in(page, portal, "/admin/progress", "viewer")
    assert COLLEGES[1] in page.inner_text("main") and COLLEGES[0] not in page.inner_text("main")
    assert page.locator('nav a[href="/admin/audit"]').count() == 0
    check_page(page, "viewer-1-progress-phone")
    response = page.goto(portal.url + "/admin/progress?college=" + COLLEGES[0])
    assert response.status == 403
    check_page(page, "viewer-2-forbidden")
