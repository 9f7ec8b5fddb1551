"""Re-issuing a revoked certificate (#17.7): once per revoked certificate, administrators only, audited; the
counter, the student's pages and the API then point at the replacement."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.audit import AuditEntry
from server.certificates import service
from server.certificates.models import Certificate
from server.certificates.qr import token_from_scanned_text
from server.errors import ApiError, ErrorCode
from server.timeutil import utcnow
from tests.certificates.conftest import browser, csrf_from, make_staff, staff_token


def revoke(admin_client, serial: str, reason: str = "学籍信息有误") -> None:
    response = admin_client.post(f"/api/v1/admin/certificates/{serial}/revoke", json={"reason": reason})
    assert response.status_code == 200, response.text


def reissue(client, serial: str) -> requests.Response:
    return client.post(f"/api/v1/admin/certificates/{serial}/reissue")


def certificates(session) -> list[Certificate]:
    session.rollback()  # end the test's read snapshot: the server wrote in between
    return list(session.scalars(select(Certificate).order_by(Certificate.id)))


def reissue_audits(session) -> list[AuditEntry]:
    session.rollback()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "certificate.reissue")))


def test_admin_reissues_a_revoked_certificate_and_the_student_sees_the_new_one(session, submit, api, admin_client):
    done = submit()
    old_serial = done.certificate["serial"]
    revoke(admin_client, old_serial)
    response = reissue(admin_client, old_serial)
    assert response.status_code == 200, response.text
    new = response.json()["certificate"]
    assert new["serial"] != old_serial and new["serial"].startswith(old_serial[:2])
    assert new["status"] == "valid" and new["revoked_reason"] is None and new["replaces"] == old_serial
    old_row, new_row = certificates(session)
    assert old_row.revoked_at is not None and old_row.revoked_reason == "学籍信息有误"  # stays revoked
    assert new_row.replaces_id == old_row.id and new_row.application_id == old_row.application_id
    assert new_row.token != old_row.token and new_row.serial == new["serial"]
    [audit] = reissue_audits(session)
    assert audit.actor == "staff:admin" and audit.entity == f"certificate:{old_serial}"
    assert audit.before == {"replaced_by": None} and audit.after["replaced_by"] == new["serial"]
    student = api(done.token)
    mine = student.get("/api/v1/me/certificate").json()
    assert mine["serial"] == new["serial"] and mine["status"] == "valid" and mine["replaces"] == old_serial
    listed = student.get("/api/v1/me/applications").json()["applications"]
    assert [a["certificate"] for a in listed] == [{"serial": new["serial"], "status": "valid"}]
    assert student.get("/api/v1/me/clearance").json()["application"]["certificate"]["serial"] == new["serial"]


def test_the_replacement_verifies_at_the_counter_and_the_old_one_names_it(submit, admin_client, counter_client,
                                                                          api):
    done = submit()
    revoke(admin_client, done.certificate["serial"])
    new_serial = reissue(admin_client, done.certificate["serial"]).json()["certificate"]["serial"]
    new_qr = api(done.token).get("/api/v1/me/certificate").json()["qr_text"]
    old = counter_client.post("/api/v1/counter/verify", json={"qr_text": done.certificate["qr_text"]})
    assert old.status_code == 422
    error = old.json()["error"]
    assert error["code"] == "CERTIFICATE_REVOKED" and error["certificate"]["replaced_by"] == new_serial
    assert new_serial in error["message"] and new_serial in error["message_en"]
    valid = counter_client.post("/api/v1/counter/verify", json={"qr_text": new_qr})
    assert valid.status_code == 200 and valid.json()["certificate"]["serial"] == new_serial
    handed = counter_client.post("/api/v1/counter/handover", json={"serial": new_serial, "items": ["diploma"]})
    assert handed.status_code == 200, handed.text


def test_reissuing_twice_is_refused_and_writes_nothing(session, submit, admin_client):
    done = submit()
    serial = done.certificate["serial"]
    revoke(admin_client, serial)
    assert reissue(admin_client, serial).status_code == 200
    again = reissue(admin_client, serial)
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "ALREADY_REISSUED" and error["message"] and error["message_en"]
    assert len(certificates(session)) == 2 and len(reissue_audits(session)) == 1


def test_concurrent_reissues_make_one_replacement(session, settings, api, submit, admin_client):
    done = submit()
    serial = done.certificate["serial"]
    revoke(admin_client, serial)
    other = api(staff_token(session, settings, make_staff(session, "admin", username="admin2")))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda client: reissue(client, serial), [admin_client, other]))
    assert sorted(r.status_code for r in results) == [200, 409]
    assert len(certificates(session)) == 2


def test_only_a_revoked_certificate_can_be_reissued(session, submit, admin_client):
    done = submit()
    serial = done.certificate["serial"]
    refused = reissue(admin_client, serial)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "CERTIFICATE_NOT_REVOKED"
    assert "撤销" in error["message"] and "revoked" in error["message_en"]
    revoke(admin_client, serial)
    new_serial = reissue(admin_client, serial).json()["certificate"]["serial"]
    assert reissue(admin_client, new_serial).json()["error"]["code"] == "CERTIFICATE_NOT_REVOKED"
    # The replacement can be revoked and re-issued in its turn.
    revoke(admin_client, new_serial, "二次核实有误")
    third = reissue(admin_client, new_serial)
    assert third.status_code == 200 and third.json()["certificate"]["replaces"] == new_serial
    assert len({c.serial for c in certificates(session)}) == 3
    missing = reissue(admin_client, "LX2027-999999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "CERTIFICATE_NOT_FOUND"


def test_only_administrators_reissue(session, submit, api, admin_client, counter_client):
    done = submit()
    serial = done.certificate["serial"]
    revoke(admin_client, serial)
    assert reissue(counter_client, serial).status_code == 403
    assert reissue(api(done.token), serial).status_code == 403
    assert reissue(api(None), serial).status_code == 401
    assert len(certificates(session)) == 1 and reissue_audits(session) == []


def test_the_database_refuses_a_second_replacement(session, settings, submit, admin_client):
    """The guard is the unique key on replaces_id, not a Python check: a direct insert fails too."""
    done = submit()
    serial = done.certificate["serial"]
    revoke(admin_client, serial)
    admin = make_staff(session, "admin")
    record = service.reissue_certificate(session, settings, serial, admin, utcnow())
    session.commit()
    old = session.scalars(select(Certificate).where(Certificate.serial == serial)).one()
    twin = Certificate(serial="LX2027-TWIN-01", application_id=old.application_id, student_id=old.student_id,
                       token="x", key_id="k", issued_at=utcnow(), replaces_id=old.id, reissue_no=9)
    session.add(twin)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    with pytest.raises(ApiError) as refused:
        service.reissue_certificate(session, settings, serial, admin, utcnow())
    assert refused.value.status == 409 and refused.value.code is ErrorCode.ALREADY_REISSUED
    assert record.certificate.serial in refused.value.message
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Certificate)) == 2


# --- pages -------------------------------------------------------------------------------------------------


def test_admin_reissues_from_the_console_with_a_confirmation(session, app, live, submit, admin_client):
    done = submit()
    serial = done.certificate["serial"]
    admin = make_staff(session, "admin", username="boss", name="管理员乙")
    session.commit()
    http = browser(app, live, staff_id=admin.id)
    valid_page = http.get(f"{live.url}/console/certificates/{serial}", timeout=10)
    assert "/reissue" not in valid_page.text  # nothing to re-issue while it is valid
    revoke(admin_client, serial)
    page = http.get(f"{live.url}/console/certificates/{serial}", timeout=10)
    assert page.status_code == 200 and f"/console/certificates/{serial}/reissue" in page.text
    assert 'name="confirm"' in page.text and "重新签发" in page.text
    csrf = csrf_from(page.text)
    assert http.post(f"{live.url}/console/certificates/{serial}/reissue", data={"confirm": "yes"},
                     timeout=10).status_code == 400  # no CSRF token
    unconfirmed = http.post(f"{live.url}/console/certificates/{serial}/reissue", data={"csrf_token": csrf},
                            timeout=10)
    assert unconfirmed.status_code == 200 and "请勾选确认" in unconfirmed.text and len(certificates(session)) == 1
    done_page = http.post(f"{live.url}/console/certificates/{serial}/reissue",
                          data={"csrf_token": csrf, "confirm": "yes"}, timeout=10)
    _old, new = certificates(session)
    assert done_page.status_code == 200 and done_page.url.endswith(f"/console/certificates/{new.serial}")
    assert "已重新签发" in done_page.text and serial in done_page.text  # the new one says what it replaces
    old_page = http.get(f"{live.url}/console/certificates/{serial}", timeout=10)
    assert new.serial in old_page.text and f"/console/certificates/{serial}/reissue" not in old_page.text
    again = http.post(f"{live.url}/console/certificates/{serial}/reissue",
                      data={"csrf_token": csrf, "confirm": "yes"}, timeout=10)
    assert again.status_code == 200 and "已重新签发过" in again.text and "Traceback" not in again.text
    assert len(certificates(session)) == 2 and len(reissue_audits(session)) == 1
    english = http.post(f"{live.url}/console/certificates/{serial}/reissue",
                        data={"csrf_token": csrf, "confirm": "yes"}, headers={"Accept-Language": "en"}, timeout=10)
    assert "already been re-issued" in english.text


def test_counter_page_shows_the_replacement_in_amber(session, app, live, submit, admin_client):
    done = submit(name="王五丙")
    serial = done.certificate["serial"]
    revoke(admin_client, serial)
    staff = make_staff(session, "counter", username="desk1")
    session.commit()
    http = browser(app, live, staff_id=staff.id)
    csrf = csrf_from(http.get(f"{live.url}/counter", timeout=10).text)
    plain = http.post(f"{live.url}/counter", data={"csrf_token": csrf, "qr_text": done.certificate["qr_text"]},
                      timeout=10)
    assert plain.status_code == 422 and "verdict-revoked" in plain.text and "已被替代" not in plain.text
    new_serial = reissue(admin_client, serial).json()["certificate"]["serial"]
    shown = http.post(f"{live.url}/counter", data={"csrf_token": csrf, "qr_text": done.certificate["qr_text"]},
                      timeout=10)
    assert shown.status_code == 422 and "verdict-revoked" in shown.text  # amber, not the red of a forgery
    assert "已被替代" in shown.text and new_serial in shown.text and "请学生出示新证明" in shown.text
    assert "王五丙" not in shown.text and 'name="items"' not in shown.text


def test_student_pages_show_why_and_what_to_do_then_the_replacement(session, app, live, submit, admin_client):
    done = submit()
    serial = done.certificate["serial"]
    revoke(admin_client, serial, "学籍信息有误")
    http = browser(app, live, student_id=done.student.id)
    page = http.get(f"{live.url}/me/certificate", timeout=10).text
    assert "学籍信息有误" in page and "研究生院" in page
    assert "请在办理柜台出示" not in page and "/me/certificate/print" not in page.split("<main", 1)[-1]
    listed = http.get(f"{live.url}/me/applications", timeout=10).text
    assert serial in listed and "/me/certificate/print" not in listed.split("<main", 1)[-1]
    printed = http.get(f"{live.url}/me/certificate/print", timeout=10)
    assert "print-button" not in printed.text and "<svg" not in printed.text and "学籍信息有误" in printed.text
    new_serial = reissue(admin_client, serial).json()["certificate"]["serial"]
    page = http.get(f"{live.url}/me/certificate", timeout=10).text
    assert new_serial in page and "请在办理柜台出示" in page and "学籍信息有误" not in page
    assert "/me/certificate/print" in page and serial in page  # says which certificate it replaces
    listed = http.get(f"{live.url}/me/applications", timeout=10).text
    assert new_serial in listed and listed.count("研究生离校服务 ·") == 1
    assert "/me/certificate/print" in listed.split("<main", 1)[-1]
    printed = http.get(f"{live.url}/me/certificate/print", timeout=10).text
    assert new_serial in printed and "<svg" in printed


def test_public_page_says_a_replaced_certificate_was_replaced(submit, live, admin_client):
    done = submit()
    serial = done.certificate["serial"]
    revoke(admin_client, serial, "内部原因不公开")
    reissue(admin_client, serial)
    page = requests.get(f"{live.url}/v/{token_from_scanned_text(done.certificate['qr_text'])}", timeout=10)
    assert page.status_code == 200 and "已撤销" in page.text and "新证明" in page.text
    assert "内部原因不公开" not in page.text and serial not in page.text


def test_what_was_handed_over_stays_handed_over_on_the_replacement(session, submit, admin_client, counter_client,
                                                                   api):
    """A re-issue is a new piece of paper, not a second diploma: hand-overs follow the application."""
    done = submit()
    serial = done.certificate["serial"]
    assert counter_client.post("/api/v1/counter/handover",
                               json={"serial": serial, "items": ["diploma"]}).status_code == 200
    revoke(admin_client, serial)
    new = reissue(admin_client, serial).json()["certificate"]
    assert new["status"] == "handed_over" and [h["item"] for h in new["handed_over"]] == ["diploma"]
    new_qr = api(done.token).get("/api/v1/me/certificate").json()["qr_text"]
    scanned = counter_client.post("/api/v1/counter/verify", json={"qr_text": new_qr}).json()
    assert [h["item"] for h in scanned["certificate"]["handed_over"]] == ["diploma"]
    again = counter_client.post("/api/v1/counter/handover", json={"serial": new["serial"], "items": ["diploma"]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "ALREADY_HANDED_OVER"
    listed = api(done.token).get("/api/v1/me/applications").json()["applications"]
    assert [a["certificate"] for a in listed] == [{"serial": new["serial"], "status": "handed_over"}]
