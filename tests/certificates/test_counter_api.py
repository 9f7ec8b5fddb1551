"""The counter API: forgeries refused without student data, who may call it, every scan logged."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from server.certificates.keys import parse_private_key
from server.certificates.models import CertificateScan
from server.certificates.qr import token_from_scanned_text, verification_url
from server.certificates.signing import CertificatePayload, sign_certificate
from tests.certificates.conftest import make_staff, staff_token


def scans(session) -> list[CertificateScan]:
    session.expire_all()
    return list(session.scalars(select(CertificateScan).order_by(CertificateScan.id)))


def assert_refused(response, status: int, code: str, student) -> dict:
    """The refusal has the right status and code and carries no student data."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert student.name not in response.text and student.student_no not in response.text
    assert "student" not in body["error"]
    return body["error"]


def flip(text: str, index: int) -> str:
    """Change one character (to another base64url character)."""
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1:]


@pytest.mark.parametrize("part", ["payload", "signature", "version"])
def test_one_changed_character_is_refused(submit, counter_client, part):
    done = submit(name="王五丙")
    url = done.certificate["qr_text"]
    token = token_from_scanned_text(url)
    version, body, signature = token.split(".")
    index = {"payload": len(f"{version}.") + len(body) // 2,
             "signature": len(f"{version}.{body}.") + len(signature) // 3,
             "version": 1}[part]
    forged = url.replace(token, flip(token, index) if part != "version" else "v2" + token[2:])
    error = assert_refused(counter_client.post("/api/v1/counter/verify", json={"qr_text": forged}), 422,
                           "CERTIFICATE_INVALID", done.student)
    assert error["reason"] in {"malformed", "bad_signature", "unsupported_version"}


def test_another_keys_signature_is_refused(session, submit, counter_client, settings):
    done = submit()
    genuine = token_from_scanned_text(done.certificate["qr_text"])
    other = Ed25519PrivateKey.generate()
    # The same claims under another key: its kid is unknown to the service.
    payload = CertificatePayload(done.certificate["serial"], done.student.student_no, done.student.batch_id,
                                 1_780_000_000)
    resigned = verification_url(settings.public_base_url, sign_certificate(other, payload))
    error = assert_refused(counter_client.post("/api/v1/counter/verify", json={"qr_text": resigned}), 422,
                           "CERTIFICATE_INVALID", done.student)
    assert error["reason"] == "unknown_key"
    # The genuine body (naming the service's kid) with a signature from another key.
    version, body, _ = genuine.split(".")
    signature = base64.urlsafe_b64encode(other.sign(f"{version}.{body}".encode())).rstrip(b"=").decode()
    swapped = f"{version}.{body}.{signature}"
    error = assert_refused(counter_client.post("/api/v1/counter/verify", json={"qr_text": swapped}), 422,
                           "CERTIFICATE_INVALID", done.student)
    assert error["reason"] == "bad_signature"


def test_validly_signed_unknown_serial_is_404(session, submit, counter_client, settings):
    done = submit()
    key = parse_private_key(settings.certificate_private_key)
    payload = CertificatePayload("LX2027-999999", done.student.student_no, done.student.batch_id, 1_780_000_000)
    token = sign_certificate(key, payload)
    assert_refused(counter_client.post("/api/v1/counter/verify", json={"qr_text": token}), 404,
                   "CERTIFICATE_NOT_FOUND", done.student)
    # A second validly signed token for an existing serial is not that certificate either.
    body = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    twin = CertificatePayload(done.certificate["serial"], done.student.student_no, done.student.batch_id,
                              body["t"] + 1)
    assert_refused(counter_client.post("/api/v1/counter/verify", json={"qr_text": sign_certificate(key, twin)}),
                   404, "CERTIFICATE_NOT_FOUND", done.student)


@pytest.mark.parametrize("alter", [
    lambda u: u + "?x=1", lambda u: u + "#frag", lambda u: u.replace("/v/", "/w/"), lambda u: u + "/more",
    lambda u: u.replace("http://", "ftp://"), lambda u: u[:-1], lambda u: "", lambda u: "x" * 3000,
])
def test_altered_url_is_refused(submit, counter_client, alter):
    done = submit()
    response = counter_client.post("/api/v1/counter/verify", json={"qr_text": alter(done.certificate["qr_text"])})
    if response.status_code == 400:  # longer than the field allows: refused before parsing
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        return
    assert_refused(response, 422, "CERTIFICATE_INVALID", done.student)


def test_revoked_certificate_says_so_with_the_reason(submit, counter_client, admin_client):
    done = submit()
    serial = done.certificate["serial"]
    revoked = admin_client.post(f"/api/v1/admin/certificates/{serial}/revoke",
                                json={"reason": "学籍信息有误，需重新办理"})
    assert revoked.status_code == 200, revoked.text
    error = assert_refused(counter_client.post("/api/v1/counter/verify", json={"qr_text": done.certificate["qr_text"]}),
                           422, "CERTIFICATE_REVOKED", done.student)
    assert error["certificate"]["serial"] == serial and error["certificate"]["status"] == "revoked"
    assert error["certificate"]["revoked_reason"] == "学籍信息有误，需重新办理"
    assert "学籍信息有误" in error["message"]


def test_a_scanner_trailing_newline_and_a_bare_token_verify(submit, counter_client):
    done = submit()
    url = done.certificate["qr_text"]
    for text in (url + "\r\n", "  " + url, token_from_scanned_text(url)):
        response = counter_client.post("/api/v1/counter/verify", json={"qr_text": text})
        assert response.status_code == 200, response.text


def test_only_counter_staff_and_admins_may_verify(session, settings, submit, api, admin_client):
    done = submit()
    body = {"qr_text": done.certificate["qr_text"]}
    assert admin_client.post("/api/v1/counter/verify", json=body).status_code == 200
    before = len(scans(session))
    student = api(done.token).post("/api/v1/counter/verify", json=body)
    assert student.status_code == 403 and student.json()["error"]["code"] == "FORBIDDEN"
    assert done.student.name not in student.text
    for role, extra in (("operator", {"department": "library"}), ("viewer", {"college": "x"})):
        client = api(staff_token(session, settings, make_staff(session, role, **extra)))
        assert client.post("/api/v1/counter/verify", json=body).status_code == 403
    inactive = make_staff(session, "counter", active=False)
    assert api(staff_token(session, settings, inactive)).post("/api/v1/counter/verify", json=body).status_code == 403
    assert api().post("/api/v1/counter/verify", json=body).status_code == 401
    assert api(done.token).post("/api/v1/counter/handover", json={"serial": done.certificate["serial"],
                                                                   "items": ["diploma"]}).status_code == 403
    assert len(scans(session)) == before  # refused callers never reach the scan


def test_every_scan_is_logged_with_who_when_and_result(session, submit, counter_client, admin_client):
    done = submit()
    url = done.certificate["qr_text"]
    admin_client.post("/api/v1/counter/verify", json={"qr_text": url})
    counter_client.post("/api/v1/counter/verify", json={"qr_text": url + "?x"})
    counter_client.post("/api/v1/counter/verify", json={"qr_text": "一张身份证 ID 110101199001011234"})
    logged = scans(session)
    assert [s.result for s in logged] == ["valid", "invalid", "invalid"]
    assert [s.reason for s in logged] == [None, "malformed", "malformed"]
    assert logged[0].certificate_id is not None and logged[1].certificate_id is None
    assert logged[0].staff_id != logged[1].staff_id and all(s.staff_id for s in logged)
    assert all(s.channel == "api-browser" and s.at is not None for s in logged)
    # Only a hash and a short prefix of what was scanned are kept.
    token = token_from_scanned_text(url)
    assert all(token not in s.text_prefix and len(s.text_prefix) <= 24 and len(s.text_sha256) == 64 for s in logged)
    assert logged[2].text_prefix.startswith("(other text") and "1101" not in logged[2].text_prefix
    assert logged[0].text_prefix.startswith("http://127.0.0.1")


def test_bad_bodies_are_400(counter_client):
    for body in ({}, {"qr_text": 5}, {"qr_text": "x", "extra": 1}):
        response = counter_client.post("/api/v1/counter/verify", json=body)
        assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_counter_verify_has_its_own_limit_per_staff_member(app, session, settings, api, counter_client, monkeypatch):
    """Review I-4: verification is limited per counter staff member, whatever the address limit allows."""
    state = app.extensions["lixiao"]
    monkeypatch.setattr(state, "settings", state.settings.with_overrides(counter_verify_per_minute=3))
    answers = [counter_client.post("/api/v1/counter/verify", json={"qr_text": "v1.x.y"}).status_code
               for _ in range(4)]
    assert answers == [422, 422, 422, 429]
    other = api(staff_token(session, settings, make_staff(session, "counter", username="counter2", name="窗口乙")))
    assert other.post("/api/v1/counter/verify", json={"qr_text": "v1.x.y"}).status_code == 422
