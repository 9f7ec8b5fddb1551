"""Phone first (#17): the student's standing and next steps on the first screen, the menu one tap away."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.clearance.records import record_failure
from server.items import registry
from server.timeutil import utcnow
from tests.browser.conftest import PHONE, cas_sign_in, check_page
from tests.factories import ALL_PASSED, ITEM_KEYS, make_batch, make_student, set_records

pytestmark = pytest.mark.browser

# The library blocked on every count at once: the longest next steps the seed's rule writes.
BLOCKED = {**ALL_PASSED, "library": {**ALL_PASSED["library"], "owed_books": 2, "owed_fees_cents": 1250,
                                     "violations": 1, "card_status": "active", "thesis_status": "submitted"}}


def _blocked_and_unavailable(session, student_no: str):
    student = make_student(session, make_batch(session), name="手机甲", student_no=student_no)
    set_records(session, student, BLOCKED, now=utcnow() - timedelta(hours=3))
    grey = next(k for k in ITEM_KEYS if k != "library")
    row = session.scalars(select(registry.get(grey).record).where(registry.get(grey).record.student_id == student.id)
                          ).one()
    record_failure(session, student, grey, row, "timeout", utcnow())
    session.commit()
    return student, grey


def test_the_answer_is_on_the_first_phone_screen(portal, phone, session):
    student, grey = _blocked_and_unavailable(session, "2027990101")
    portal.emulator.add_cas_users({"username": student.student_no, "password": "demo"})
    page = phone
    cas_sign_in(page, portal, "/me", student.student_no)

    # The tally and one row per item, every row inside the first 390×844 viewport, without scrolling.
    assert page.evaluate("window.scrollY") == 0
    tally = page.locator(".tally")
    assert tally.inner_text().strip() == f"已通过 {len(ITEM_KEYS) - 2} / {len(ITEM_KEYS)} 项"
    rows = page.locator(".status-row")
    assert rows.count() == len(ITEM_KEYS)
    for i in range(rows.count()):
        box = rows.nth(i).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (i, box)
    library = page.locator(".status-row").filter(has_text="图书馆").first
    assert "未通过" in library.inner_text() and "请到" in library.inner_text()  # its next step, not just a colour
    assert "暂不可查" in page.locator(".status-row.row-unavailable").inner_text()
    # Submitting is locked, and the page says so before anything else.
    locked = page.locator(".submit-locked")
    assert "提交已锁定" in locked.inner_text()
    assert locked.bounding_box()["y"] < PHONE["height"]

    # The menu is collapsed on the phone and opens with one tap.
    assert not page.locator('.menu nav a[href="/me/certificate"]').is_visible()
    page.locator(".menu > summary").click()
    assert page.locator('.menu nav a[href="/me/certificate"]').is_visible()

    # The grey item says its values are the last known ones, with their time.
    assert "以下为最后已知数据，截至 " in page.locator(f"#item-{grey}").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check_page(page, "phone-first-blocked")


def test_the_menu_is_open_on_a_wide_screen(portal, desktop, session):
    student, _grey = _blocked_and_unavailable(session, "2027990102")
    portal.emulator.add_cas_users({"username": student.student_no, "password": "demo"})
    cas_sign_in(desktop, portal, "/me", student.student_no)
    assert desktop.locator('.menu nav a[href="/me/certificate"]').is_visible()
    assert not desktop.locator(".menu > summary").is_visible()
    check_page(desktop, "phone-first-desktop")


def test_the_print_button_prints_one_a4_page_under_the_pages_csp(portal, browser, session):
    from tests.factories import cleared_student

    student = cleared_student(session, make_batch(session), name="打印乙", student_no="2027990103")
    session.commit()
    portal.emulator.add_cas_users({"username": student.student_no, "password": "demo"})
    # The page's own CSP applies here (no bypass_csp): an inline onclick would be refused.
    ctx = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True)
    page = ctx.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script("window.__printed = 0; window.print = () => { window.__printed += 1; };")
    cas_sign_in(page, portal, "/me", student.student_no)
    page.goto(portal.url + "/me/submit")
    page.click("form[action='/me/submit'] button[type=submit]")
    page.wait_for_url(portal.url + "/me/certificate")
    page.click('a[href="/me/certificate/print"]')
    page.wait_for_url(portal.url + "/me/certificate/print")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") == 1 and refused == []
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # one A4 page
    ctx.close()
