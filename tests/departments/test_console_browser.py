"""The console in real headless Chromium: staff log in through the CAS emulator, record a move-out, import a file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import func, select

from server.app import create_app
from server.emulators.testing import running_emulator
from server.items.library import LibraryRecord
from tests.conftest import ARTIFACTS, Api, LiveServer
from tests.departments.test_console_operations import make_staff
from tests.factories import ALL_PASSED, make_batch, make_student, set_records, student_token

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def site(app, settings) -> Iterator[tuple[object, LiveServer]]:
    """The service on a loopback port, logging staff in through a CAS emulator."""
    with running_emulator() as emulator:
        application = create_app(settings.with_overrides(cas_server_url=emulator.cas_url))
        server = LiveServer(application)
        state = application.extensions["lixiao"]
        state.settings = state.settings.with_overrides(public_base_url=server.url)  # CAS service URLs point here
        try:
            yield application, server
        finally:
            server.stop()
            state.engine.dispose()


@pytest.fixture
def page() -> Iterator[Page]:
    """A Chromium page that may only reach loopback addresses."""
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
        tab = context.new_page()
        tab.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            ("http://127.0.0.1", "data:")) else route.abort())
        tab.set_default_timeout(15_000)
        yield tab
        browser.close()


def cas_login(page: Page, start_url: str, username: str) -> None:
    """Open a console page, get sent to the CAS emulator, log in with the demo password, come back."""
    page.goto(start_url)
    page.wait_for_selector("#username")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(start_url)


def test_apartment_operator_records_a_move_out(session, settings, site, page):
    _app, server = site
    student = make_student(session, make_batch(session), student_no="BRW0000001", name="浏览器甲")
    set_records(session, student, {k: v for k, v in ALL_PASSED.items() if k != "apartment"})
    set_records(session, student, {"apartment": {"building": "竹园3号楼"}})
    make_staff(session, "apartment", "operator", department="apartment", name="公寓管理员乙")
    student_api = Api(server.url, student_token(session, settings, student))
    before = {i["key"]: i["status"] for i in student_api.get("/api/v1/me/clearance").json()["items"]}
    assert before["apartment"] == "not_passed"

    url = f"{server.url}/console/students/BRW0000001"
    cas_login(page, url, "apartment")
    assert page.locator('[data-item="apartment"]').get_attribute("class").endswith("status-not_passed")
    assert page.locator("#record-library").count() == 0  # an apartment operator sees only the apartment record
    page.screenshot(path=str(ARTIFACTS / "console-student-before-move-out.png"), full_page=True)
    page.get_by_role("button", name="确认退宿").click()
    page.wait_for_selector("text=已保存")
    assert page.locator('[data-item="apartment"]').get_attribute("class").endswith("status-passed")
    assert page.locator("#record-apartment").get_by_text("公寓管理员乙").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "console-student-after-move-out.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # the same page on a phone
    page.screenshot(path=str(ARTIFACTS / "console-student-phone.png"), full_page=True)

    item = next(i for i in student_api.get("/api/v1/me/clearance").json()["items"] if i["key"] == "apartment")
    assert item["status"] == "passed" and item["details"]["move_out_handler"] == "公寓管理员乙"
    assert student_api.get("/api/v1/me/clearance").json()["can_submit"] is True


def test_import_with_a_bad_row_is_rejected_and_writes_nothing(session, site, page, tmp_path):
    _app, server = site
    batch = make_batch(session)
    for no in ("BRW0000011", "BRW0000012"):
        make_student(session, batch, student_no=no)
    make_staff(session, "library", "operator", department="library", name="图书馆员丙")
    csv_file = tmp_path / "图书馆记录.csv"
    csv_file.write_bytes(("学号,欠书,欠费(元),违章,借书证状态,论文提交状态\n"
                          "BRW0000011,0,0,0,已注销,记录审核通过\n"
                          "BRW0000012,两本,0,0,正常,未提交\n").encode("gbk"))

    url = f"{server.url}/console/imports"
    cas_login(page, url, "library")
    page.select_option("#kind", "library")
    page.set_input_files("#file", str(csv_file))
    page.screenshot(path=str(ARTIFACTS / "console-import-form.png"), full_page=True)
    page.get_by_role("button", name="检查并导入").click()
    page.wait_for_selector("#import-outcome")
    assert "未写入任何数据" in page.inner_text("#import-outcome")
    rejected = page.locator("#rejected-rows tbody tr")
    assert rejected.count() == 1
    cells = rejected.first.locator("td").all_inner_texts()
    assert cells[0] == "3" and cells[1] == "BRW0000012" and "owed_books" in cells[2] and "两本" in cells[2]
    assert "gb18030" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "console-import-rejected.png"), full_page=True)
    session.commit()
    assert session.scalar(select(func.count()).select_from(LibraryRecord)) == 0
