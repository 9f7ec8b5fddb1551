"""Issuing on submission, the student's certificate API, the QR image, and offline verification."""

from __future__ import annotations

import io
import re
from datetime import datetime

import requests
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from server.audit import AuditEntry
from server.certificates.models import Certificate
from server.certificates.qr import token_from_scanned_text
from server.certificates.signing import JWKS_PATH, public_keys_from_jwks, verify_token
from tests.factories import ITEM_KEYS, cleared_student, make_batch, student_token


def test_submission_issues_a_certificate_with_a_serial_and_a_signed_token(session, settings, submit):
    done = submit(name="张三甲")
    cert = done.certificate
    assert re.fullmatch(r"LX20\d\d-\d{6}", cert["serial"])
    assert cert["serial"].endswith(f"-{done.application['id']:06d}")
    assert cert["status"] == "valid" and cert["handed_over"] == [] and cert["revoked_reason"] is None
    assert cert["qr_text"] == cert["verify_url"]
    assert cert["verify_url"].startswith(f"{settings.public_base_url}/v/v1.")
    assert cert["qr_svg"].startswith("<svg") and "aria-label" in cert["qr_svg"]
    assert datetime.fromisoformat(cert["issued_at"]).utcoffset().total_seconds() == 8 * 3600
    assert done.application["certificate"] == {"serial": cert["serial"], "status": "valid"}
    row = session.scalars(select(Certificate)).one()
    assert row.student_id == done.student.id and row.application_id == done.application["id"]
    assert session.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.action == "certificate.issue")) == 1


def test_no_certificate_before_submission(session, settings, api):
    student = cleared_student(session, make_batch(session))
    client = api(student_token(session, settings, student))
    for path in ("/api/v1/me/certificate", "/api/v1/me/certificate.png"):
        response = client.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "CERTIFICATE_NOT_FOUND"


def test_clearance_and_applications_carry_the_certificate(submit, api):
    done = submit()
    client = api(done.token)
    brief = {"serial": done.certificate["serial"], "status": "valid"}
    assert client.get("/api/v1/me/clearance").json()["application"]["certificate"] == brief
    listed = client.get("/api/v1/me/applications").json()["applications"]
    assert [a["certificate"] for a in listed] == [brief]


def test_png_decodes_and_verifies_through_the_counter_api(submit, api, counter_client):
    done = submit(name="李四乙")
    response = api(done.token).get("/api/v1/me/certificate.png")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(decoded) == 1
    text = decoded[0].text
    assert text == done.certificate["qr_text"]
    verified = counter_client.post("/api/v1/counter/verify", json={"qr_text": text})
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["certificate"]["serial"] == done.certificate["serial"]
    assert body["certificate"]["status"] == "valid"
    assert body["student"]["name"] == "李四乙" and body["student"]["student_no"] == done.student.student_no
    assert [i["key"] for i in body["items"]] == list(ITEM_KEYS)
    assert {i["status"] for i in body["items"]} == {"passed"}


def test_verified_offline_with_nothing_but_the_published_key(submit, live):
    done = submit()
    response = requests.get(live.url + JWKS_PATH, timeout=10)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    jwks = response.json()
    assert all("d" not in jwk for jwk in jwks["keys"])
    token = token_from_scanned_text(done.certificate["qr_text"])
    payload = verify_token(token, public_keys_from_jwks(jwks))
    assert payload.serial == done.certificate["serial"] and payload.student_no == done.student.student_no


def test_submitting_twice_issues_one_certificate(session, submit, api):
    done = submit()
    again = api(done.token).post("/api/v1/me/application", json={"confirm": True})
    assert again.status_code == 409
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Certificate)) == 1
