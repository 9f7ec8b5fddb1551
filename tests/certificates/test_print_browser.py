"""Headless Chromium prints the certificate page to PDF: the Chinese text is there and the QR code decodes."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image

from tests.certificates.conftest import browser_cookie, require
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def _decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_printed_certificate_has_the_chinese_text_and_a_qr_that_decodes(app, live, submit, chromium_page, tmp_path):
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    done = submit(name="孙某甲", college="安全工程学院", major="消防工程")
    page = chromium_page
    # Sign in as the browser login would leave it (server.web.session.sign_in(student_id=…)).
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "url": live.url,
                               "value": browser_cookie(app, student_id=done.student.id)}])
    response = page.goto(f"{live.url}/me/certificate/print")
    assert response is not None and response.status == 200

    # The QR code as the screen shows it decodes to the certificate's verification URL.
    qr = page.locator(".cert-qr svg")
    assert _decode(qr.screenshot()) == [done.certificate["verify_url"]]

    pdf = tmp_path / "certificate.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / "certificate.pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info and "(A4)" in info
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in ("研究生离校证明", "孙某甲", done.student.student_no, "安全工程学院", "消防工程",
                     "图书馆", "档案馆", "总务部公寓与物业中心", "财务资产部", "通过", "已注销",
                     done.certificate["serial"], "扫码验证真伪", "北京时间"):
        assert expected in text, f"{expected!r} missing from the printed PDF"
    assert "打印 Print" not in text  # the screen-only button is not printed

    # The QR code in the printed PDF decodes too.
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(tmp_path / "printed")],
                       check=True)
        assert _decode((tmp_path / "printed.png").read_bytes()) == [done.certificate["verify_url"]]
