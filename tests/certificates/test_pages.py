"""The pages: public verification, the counter console, the administrator's revocation form, the print page."""

from __future__ import annotations

import requests
from sqlalchemy import select

from server.app import create_app
from server.audit import AuditEntry
from server.certificates.models import CertificateScan, Handover
from server.certificates.qr import token_from_scanned_text
from tests.certificates.conftest import browser, csrf_from, make_staff
from tests.conftest import LiveServer
from tests.factories import cleared_student, make_batch


def test_public_page_shows_only_status_and_a_masked_name(session, submit, live):
    done = submit(name="张三甲", college="机密学院")
    response = requests.get(done.certificate["verify_url"].replace("http://127.0.0.1:8000", live.url), timeout=10)
    assert response.status_code == 200
    assert "张*甲" in response.text and "有效" in response.text and "Valid" not in response.text  # one language
    for secret in ("张三甲", done.student.student_no, "机密学院", done.certificate["serial"], "软件工程"):
        assert secret not in response.text
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in response.text
    assert response.headers["Cache-Control"] == "no-store"
    session.expire_all()
    scan = session.scalars(select(CertificateScan)).one()
    assert scan.channel == "public" and scan.result == "valid" and scan.staff_id is None


def test_public_page_for_revoked_forged_and_unknown(session, submit, live, admin_client):
    done = submit(name="李四乙")
    token = token_from_scanned_text(done.certificate["verify_url"])
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = requests.get(f"{live.url}/v/{forged}", timeout=10)
    assert response.status_code == 404 and "无法确认" in response.text and "李*乙" not in response.text
    assert requests.get(f"{live.url}/v/not-a-token", timeout=10).status_code == 404
    admin_client.post(f"/api/v1/admin/certificates/{done.certificate['serial']}/revoke",
                      json={"reason": "内部原因不公开"})
    response = requests.get(f"{live.url}/v/{token}", timeout=10)
    assert response.status_code == 200 and "已撤销" in response.text and "李*乙" in response.text
    assert "内部原因不公开" not in response.text
    session.expire_all()
    assert [s.result for s in session.scalars(select(CertificateScan).order_by(CertificateScan.id))] == [
        "invalid", "invalid", "revoked"]


def test_counter_page_needs_counter_staff(session, app, live, submit):
    done = submit()
    anonymous = requests.get(f"{live.url}/counter", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302 and anonymous.headers["Location"] == "/login?next=%2Fcounter"
    assert browser(app, live, student_id=done.student.id).get(f"{live.url}/counter", timeout=10).status_code == 403
    operator = make_staff(session, "operator", department="library")
    session.commit()
    assert browser(app, live, staff_id=operator.id).get(f"{live.url}/counter", timeout=10).status_code == 403


def test_counter_page_scans_shows_and_hands_over(session, app, live, submit):
    done = submit(name="王五丙")
    staff = make_staff(session, "counter", username="desk1", name="窗口乙")
    session.commit()
    http = browser(app, live, staff_id=staff.id)
    page = http.get(f"{live.url}/counter", timeout=10)
    assert page.status_code == 200 and 'id="qr_text"' in page.text and "autofocus" in page.text
    csrf = csrf_from(page.text)
    assert http.post(f"{live.url}/counter", data={"qr_text": done.certificate["qr_text"]},
                     timeout=10).status_code == 400  # no CSRF token
    # The USB scanner types the URL and Enter (the form submits with the newline trimmed by the browser or not).
    shown = http.post(f"{live.url}/counter", data={"csrf_token": csrf, "qr_text": done.certificate["qr_text"] + "\n",
                                                    "via": "scanner"}, timeout=10)
    assert shown.status_code == 200 and "王五丙" in shown.text and done.certificate["serial"] in shown.text
    assert 'name="items" value="diploma"' in shown.text
    forged = http.post(f"{live.url}/counter", data={"csrf_token": csrf, "qr_text": done.certificate["qr_text"][:-2]},
                       timeout=10)
    assert forged.status_code == 422 and "王五丙" not in forged.text and "无效" in forged.text
    saved = http.post(f"{live.url}/counter/handover",
                      data={"csrf_token": csrf, "serial": done.certificate["serial"], "items": ["diploma"]},
                      timeout=10)
    assert saved.status_code == 200 and "已登记交接" in saved.text and "已由 窗口乙" in saved.text
    assert 'value="diploma"' not in saved.text  # no longer offered
    again = http.post(f"{live.url}/counter/handover",
                      data={"csrf_token": csrf, "serial": done.certificate["serial"],
                            "items": ["diploma", "degree_certificate"]}, timeout=10)
    assert again.status_code == 409 and "不能重复登记" in again.text
    session.expire_all()
    assert [h.item for h in session.scalars(select(Handover))] == ["diploma"]
    assert [s.channel for s in session.scalars(select(CertificateScan).order_by(CertificateScan.id))] == [
        "console", "console"]


def test_admin_revokes_from_the_console(session, app, live, submit):
    done = submit()
    serial = done.certificate["serial"]
    admin = make_staff(session, "admin", username="boss", name="管理员乙")
    counter = make_staff(session, "counter")
    session.commit()
    assert browser(app, live, staff_id=counter.id).get(f"{live.url}/console/certificates/{serial}",
                                                       timeout=10).status_code == 403
    http = browser(app, live, staff_id=admin.id)
    found = http.get(f"{live.url}/console/certificates", params={"serial": serial.lower()}, timeout=10)
    assert found.status_code == 200 and found.url.endswith(f"/console/certificates/{serial}")
    csrf = csrf_from(found.text)
    short = http.post(f"{live.url}/console/certificates/{serial}/revoke", data={"csrf_token": csrf, "reason": "x"},
                      timeout=10)
    assert short.status_code == 200 and "撤销原因" in short.text and "已于" not in short.text
    revoked = http.post(f"{live.url}/console/certificates/{serial}/revoke",
                        data={"csrf_token": csrf, "reason": "证明信息有误"}, timeout=10)
    assert revoked.status_code == 200 and "离校证明已撤销" in revoked.text and "证明信息有误" in revoked.text
    session.expire_all()
    [audit] = session.scalars(select(AuditEntry).where(AuditEntry.action == "certificate.revoke")).all()
    assert audit.actor == "staff:boss"
    assert requests.get(f"{live.url}/v/{token_from_scanned_text(done.certificate['qr_text'])}",
                        timeout=10).text.count("已撤销") >= 1


def test_print_page_needs_the_signed_in_student_with_a_certificate(session, app, live, submit):
    done = submit(name="赵六丁")
    anonymous = requests.get(f"{live.url}/me/certificate/print", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/login?next=%2Fme%2Fcertificate%2Fprint"
    other = cleared_student(session, make_batch(session))
    session.commit()
    assert browser(app, live, student_id=other.id).get(f"{live.url}/me/certificate/print",
                                                        timeout=10).status_code == 404
    page = browser(app, live, student_id=done.student.id).get(f"{live.url}/me/certificate/print", timeout=10)
    assert page.status_code == 200
    for text in ("研究生离校证明", "赵六丁", done.student.student_no, done.certificate["serial"], "图书馆", "档案馆",
                 "总务部公寓与物业中心", "财务资产部", "已注销", "<svg", "certificate.css"):
        assert text in page.text


def test_public_page_is_rate_limited_per_address(settings, submit):
    done = submit()
    app = create_app(settings.with_overrides(rate_limit_per_ip=2))
    server = LiveServer(app)
    try:
        path = f"{server.url}/v/{token_from_scanned_text(done.certificate['qr_text'])}"
        assert [requests.get(path, timeout=10).status_code for _ in range(3)] == [200, 200, 429]
    finally:
        server.stop()
        app.extensions["lixiao"].engine.dispose()
