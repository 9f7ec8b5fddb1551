"""A student's whole path on a phone: CAS login, the items, card cancellation, submission, the certificate, print."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from server.certificates.models import Certificate
from server.clearance.models import Application
from tests.browser.conftest import SHOTS, cas_sign_in, check_page
from tests.factories import ALL_PASSED, ITEM_KEYS, make_batch, make_student, set_records

pytestmark = pytest.mark.browser

CARD_ACTIVE = {**ALL_PASSED, "library": {**ALL_PASSED["library"], "card_status": "active"}}


def _qr_text(png: bytes) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)]


def test_student_path_on_a_phone(portal, phone, session):
    batch = make_batch(session, name="2027 年 6 月毕业研究生")
    student = make_student(session, batch, name="林某乙", college="计算机科学与技术学院", student_no="2027990042")
    set_records(session, student, CARD_ACTIVE)
    session.commit()
    portal.emulator.add_cas_users({"username": student.student_no, "password": "demo",
                                   "attributes": {"cn": "林某乙", "userType": "student"}})
    page = phone

    # Log in through CAS and read the four items: only the library is red, because the card is active.
    cas_sign_in(page, portal, "/me", student.student_no)
    assert page.locator("h1").inner_text().startswith("我的离校")
    assert page.locator("section.item h3").count() == len(ITEM_KEYS)
    library = page.locator("#item-library")
    assert "未通过" in library.locator(".badge").inner_text()
    assert "借书证尚未注销" in library.inner_text()
    assert library.locator('a[href^="tel:"]').count() == 1
    assert page.locator('a[href="/me/submit"]').count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    check_page(page, "student-1-items")

    # Keyboard: the first Tab reaches the skip link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"

    # Cancel the card: a confirmation page says it cannot be undone; confirm with the keyboard.
    library.locator('a[href="/me/library-card/cancel"]').click()
    page.wait_for_url(portal.url + "/me/library-card/cancel")
    assert "注销后不可恢复" in page.inner_text("main")
    check_page(page, "student-2-cancel-card")
    page.focus("button[name=confirm]")
    page.keyboard.press("Enter")
    page.wait_for_url(portal.url + "/me")
    assert page.locator(".flash").is_visible()  # at the top of the page, not scrolled away
    assert "借书证已注销" in page.inner_text(".flash")
    assert "通过" in page.locator("#item-library .badge").inner_text()

    # Submit, after the confirmation step.
    page.click('a[href="/me/submit"]')
    page.wait_for_url(portal.url + "/me/submit")
    assert "只能提交一次" in page.inner_text("main")
    check_page(page, "student-3-submit")
    page.click("form[action='/me/submit'] button[type=submit]")
    page.wait_for_url(portal.url + "/me/certificate")
    session.expire_all()
    application = session.scalars(select(Application)).one()
    assert application.channel == "browser"
    serial = session.scalars(select(Certificate.serial)).one()

    # The certificate: its QR code decodes to the verification URL.
    assert serial in page.inner_text("main")
    check_page(page, "student-4-certificate")
    decoded = _qr_text(page.locator(".qr-code svg").screenshot())
    assert len(decoded) == 1 and decoded[0].startswith(portal.url + "/v/")

    # Completed items and messages.
    page.click(".menu > summary")  # the menu is one tap away on a phone
    page.click('nav a[href="/me/applications"]')
    page.wait_for_url(portal.url + "/me/applications")
    assert "2027 年 6 月毕业研究生" in page.inner_text("main") and serial in page.inner_text("main")
    check_page(page, "student-5-applications")
    page.click(".menu > summary")
    page.click('nav a[href="/me/notifications"]')
    page.wait_for_url(portal.url + "/me/notifications")
    assert "图书馆" in page.inner_text("main")
    check_page(page, "student-6-notifications")

    # Open the print page and print it (to PDF, as headless Chromium prints).
    page.goto(portal.url + "/me/certificate")
    page.click('a[href="/me/certificate/print"]')
    page.wait_for_url(portal.url + "/me/certificate/print")
    assert serial in page.inner_text("body") and "林某乙" in page.inner_text("body")
    check_page(page, "student-7-print")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    (SHOTS / "student-certificate.pdf").write_bytes(pdf)


def test_inside_wecom_the_student_lands_on_their_items_and_submits(portal, phone, session):
    student = make_student(session, make_batch(session), name="企业微信丙", student_no="2027990043")
    set_records(session, student, ALL_PASSED)
    session.commit()
    portal.emulator.add_cas_users({"username": student.student_no, "password": "demo", "wecom_member": True})
    page = phone
    # The WeCom client opens the app's H5 entry; the emulated authorize page knows who is using WeCom.
    page.context.add_cookies([{"name": "emu_wecom_userid", "value": student.student_no,
                               "url": portal.emulator.url + "qy/connect/oauth2/authorize"}])
    page.goto(portal.url + "/wecom/login?next=/me")
    # The browser carries the authorize URL's "#wechat_redirect" fragment across the redirects, as WeCom's does.
    assert page.url.split("#")[0] == portal.url + "/me"
    assert "企业微信丙" in page.inner_text("main")
    check_page(page, "wecom-1-items")
    page.click('a[href="/me/submit"]')
    page.click("form[action='/me/submit'] button[type=submit]")
    page.wait_for_url(portal.url + "/me/certificate")
    session.expire_all()
    assert session.scalars(select(Application.channel)).one() == "wecom"
