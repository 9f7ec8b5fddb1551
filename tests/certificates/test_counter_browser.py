"""The counter console in headless Chromium: a USB scanner typing into the field, and WeCom's scanQRCode."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.certificates.models import CertificateScan
from server.web.counter_pages import JSSDK_CONFIG_EXTENSION
from tests.certificates.conftest import cas_sign_in, make_staff

pytestmark = pytest.mark.browser
JWEIXIN = "https://res.wx.qq.com/open/js/jweixin-1.2.0.js"
# WeCom's JS-SDK is the platform's code, not ours: this stand-in answers scanQRCode with what the camera read.
FAKE_JWEIXIN = """
window.wx = {
  configured: null,
  config: function (c) { window.wx.configured = c; },
  ready: function (f) { setTimeout(f, 0); },
  scanQRCode: function (o) { o.success({resultStr: window.cameraSees}); }
};
"""


def sign_in_staff(page, portal, session):
    """Log in through /login and the CAS emulator as the demo counter account."""
    staff = make_staff(session, "counter", username="counter", name="窗口丙")
    session.commit()
    cas_sign_in(page, portal, "/counter", "counter")
    return staff


def test_usb_scanner_types_the_url_and_enter(portal, session, submit, chromium_page):
    done = submit(name="周某乙")
    page = chromium_page
    sign_in_staff(page, portal, session)
    assert page.evaluate("document.activeElement.id") == "qr_text"  # ready for the scanner without a click
    assert page.locator("#scan-camera").is_hidden()  # no WeCom here
    page.keyboard.type(done.certificate["qr_text"] + "\n")
    page.wait_for_selector(".counter-result")
    assert page.locator(".student-name").inner_text() == "周某乙"
    assert page.evaluate("document.activeElement.id") == "qr_text"  # and ready for the next one
    page.locator('input[value="diploma"]').check()
    page.get_by_role("button", name="确认交接").click()
    page.wait_for_selector(".handovers")
    assert "已由 窗口丙" in page.locator(".handovers").inner_text()


def test_wecom_camera_scan_submits_the_result(portal, session, submit, chromium_page):
    done = submit(name="吴某丙")
    portal.app.extensions[JSSDK_CONFIG_EXTENSION] = lambda url: {
        "beta": True, "debug": False, "appId": "ww00000000demo0001", "timestamp": 1, "nonceStr": "n",
        "signature": f"sig-for-{url}", "jsApiList": ["scanQRCode"]}
    page = chromium_page
    page.route(JWEIXIN, lambda route: route.fulfill(status=200, content_type="application/javascript",
                                                    body=FAKE_JWEIXIN))
    page.add_init_script(f"window.cameraSees = {done.certificate['qr_text']!r};")
    staff = sign_in_staff(page, portal, session)
    assert page.evaluate("wx.configured.signature") == f"sig-for-{portal.url}/counter"
    page.get_by_role("button", name="扫一扫").click()
    page.wait_for_selector(".counter-result")
    assert page.locator(".student-name").inner_text() == "吴某丙"
    session.expire_all()
    scan = session.scalars(select(CertificateScan)).one()
    assert (scan.channel, scan.result, scan.staff_id) == ("console-wecom", "valid", staff.id)
