"""Headless Chromium prints the certificate page to PDF: the Chinese text is there and the QR code decodes."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image

from tests.certificates.conftest import cas_sign_in, require
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def _decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)]


def test_printed_certificate_has_the_chinese_text_and_a_qr_that_decodes(portal, submit, chromium_page, settings,
                                                                       tmp_path):
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    done = submit(name="孙某甲", college="安全工程学院", major="消防工程")
    portal.emulator.add_cas_users({"username": done.student.student_no, "password": "demo",
                                   "attributes": {"cn": "孙某甲", "userType": "student"}})
    page = chromium_page
    # The student opens the print page, is sent through /login to the CAS emulator, logs in, and comes back.
    cas_sign_in(page, portal, "/me/certificate/print", done.student.student_no)
    expected = done.certificate["verify_url"].replace(settings.public_base_url, portal.url)

    # The QR code as the screen shows it decodes to the certificate's verification URL.
    qr = page.locator(".cert-qr svg")
    assert _decode(qr.screenshot()) == [expected]

    pdf = tmp_path / "certificate.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / "certificate.pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info and "(A4)" in info
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for wanted in ("研究生离校证明", "孙某甲", done.student.student_no, "安全工程学院", "消防工程",
                   "图书馆", "档案馆", "总务部公寓与物业中心", "财务资产部", "通过", "已注销",
                   done.certificate["serial"], "扫码验证真伪", "北京时间"):
        assert wanted in text, f"{wanted!r} missing from the printed PDF"
    assert "打印 Print" not in text  # the screen-only button is not printed

    # The QR code in the printed PDF decodes too.
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(tmp_path / "printed")],
                       check=True)
        assert _decode((tmp_path / "printed.png").read_bytes()) == [expected]
