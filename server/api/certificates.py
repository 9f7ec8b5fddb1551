"""The certificate API: the student's certificate and QR, the counter's verify and hand-over, revocation,
and the published public keys (JWKS_PATH)."""

from __future__ import annotations

from typing import Any, Literal

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from server.api import ratelimit
from server.api.auth import BEARER, current_principal, current_staff, current_student_id, origin
from server.api.schemas import Strict, StudentOut, item_title, student_out
from server.certificates import service, verify
from server.certificates.keys import key_ring
from server.certificates.qr import qr_png, qr_svg
from server.certificates.service import REVOKED, CertificateRecord
from server.certificates.signing import JWKS_PATH, SERIAL_PATTERN
from server.errors import ApiError, ErrorCode, ErrorOut, error_responses
from server.identity.models import Staff
from server.identity.permissions import can_use_counter, is_admin
from server.settings import Settings
from server.state import app_state, db
from server.timeutil import iso, utcnow
from server.vocabulary import HANDOVER_ITEMS

ERRORS = error_responses(400, 401, 403, 404, 503)
HandoverItem = Literal["diploma", "degree_certificate", "archive_transfer", "party_transfer"]
CertificateStatus = Literal["valid", "revoked", "handed_over"]
PNG_RESPONSE = {"description": "The QR code as a PNG image",
                "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}

me_bp = APIBlueprint("certificate_me_api", __name__, url_prefix="/api/v1/me", abp_tags=[Tag(name="student")],
                     abp_security=BEARER, abp_responses=ERRORS)
counter_bp = APIBlueprint("counter_api", __name__, url_prefix="/api/v1/counter", abp_tags=[Tag(name="counter")],
                          abp_security=BEARER, abp_responses=ERRORS)
admin_bp = APIBlueprint("certificate_admin_api", __name__, url_prefix="/api/v1/admin/certificates",
                        abp_tags=[Tag(name="admin")], abp_security=BEARER, abp_responses=ERRORS)
keys_bp = APIBlueprint("certificate_keys", __name__, abp_tags=[Tag(name="certificates")])
# Who is asking comes before what they sent: a stranger's malformed body is a 401, not a 400.


@counter_bp.before_request
def _who_is_asking() -> None:
    current_principal()


class HandoverOut(BaseModel):
    item: HandoverItem
    title: str
    title_en: str
    by: str = Field(description="Name of the staff member who handed it over")
    by_username: str
    at: str


class CertificateOut(BaseModel):
    serial: str
    status: CertificateStatus
    revoked_reason: str | None
    revoked_at: str | None
    handed_over: list[HandoverOut]
    replaces: str | None = Field(None, description="Serial of the revoked certificate this one was re-issued for")
    replaced_by: str | None = Field(None, description="Serial of the certificate re-issued for this revoked one")
    qr_text: str | None = Field(description="The text the QR code holds (the verification URL); null once revoked")
    qr_svg: str | None = Field(description="An inline <svg> element of the QR code; null once revoked")
    verify_url: str | None = Field(description="The verification URL; null once revoked")
    issued_at: str


class CounterCertificateOut(BaseModel):
    serial: str
    status: CertificateStatus
    revoked_reason: str | None
    revoked_at: str | None
    issued_at: str
    handed_over: list[HandoverOut]
    replaces: str | None = Field(None, description="Serial of the revoked certificate this one was re-issued for")
    replaced_by: str | None = Field(None, description="Serial of the certificate re-issued for this revoked one")


class SubmittedItemOut(BaseModel):
    key: str
    title: str
    title_en: str
    status: str
    details: dict[str, Any]
    updated_at: str | None


class SubmittedApplicationOut(BaseModel):
    id: int
    batch_name: str
    submitted_at: str


class CounterOut(BaseModel):
    certificate: CounterCertificateOut
    student: StudentOut
    application: SubmittedApplicationOut
    items: list[SubmittedItemOut] = Field(description="The items as they were when submitted")


class CertificateOnlyOut(BaseModel):
    certificate: CounterCertificateOut


class JwksOut(BaseModel):
    keys: list[dict[str, str]]


class VerifyIn(Strict):
    qr_text: str = Field(max_length=2048, description="What the scanner read: the verification URL or a bare token")


class HandoverIn(Strict):
    serial: str = Field(pattern=f"^{SERIAL_PATTERN}$")
    items: list[HandoverItem] = Field(min_length=1, max_length=len(HANDOVER_ITEMS))


class RevokeIn(Strict):
    reason: str = Field(min_length=2, max_length=200)


class SerialPath(BaseModel):
    serial: str = Field(pattern=f"^{SERIAL_PATTERN}$")


def counter_certificate_out(record: CertificateRecord) -> dict[str, Any]:
    """The certificate as the counter (and the hand-over and revocation answers) show it."""
    c = record.certificate
    return {"serial": c.serial, "status": record.status, "revoked_reason": c.revoked_reason,
            "revoked_at": iso(c.revoked_at), "issued_at": iso(c.issued_at),
            "handed_over": [service.handover_out(e) for e in record.handovers],
            "replaces": record.replaces, "replaced_by": record.replaced_by}


def certificate_out(record: CertificateRecord, settings: Settings) -> dict[str, Any]:
    """The student's certificate with its QR code; a revoked one has none (nothing to show at a counter)."""
    if record.status == REVOKED:
        return {**counter_certificate_out(record), "qr_text": None, "qr_svg": None, "verify_url": None}
    url = service.verify_url(settings, record.certificate)
    return {**counter_certificate_out(record), "qr_text": url, "qr_svg": qr_svg(url), "verify_url": url}


def submitted_items(record: CertificateRecord) -> list[dict[str, Any]]:
    """The items from the application snapshot, with their titles."""
    items = []
    for item in record.application.snapshot.get("items", []):
        title, title_en = item_title(item.get("key", ""))
        items.append({"key": item.get("key", ""), "title": title, "title_en": title_en,
                      "status": item.get("status", ""), "details": item.get("details") or {},
                      "updated_at": item.get("updated_at")})
    return items


def counter_out(record: CertificateRecord) -> dict[str, Any]:
    """Everything the counter sees after a valid scan."""
    return {
        "certificate": counter_certificate_out(record),
        "student": student_out(record.student),
        "application": {"id": record.application.id, "batch_name": record.batch.name,
                        "submitted_at": iso(record.application.submitted_at)},
        "items": submitted_items(record),
    }


def counter_staff() -> Staff:
    """The calling counter staff member or administrator, or 403 (students included)."""
    staff = current_staff()
    if not can_use_counter(staff):
        raise ApiError(403, ErrorCode.FORBIDDEN, "仅窗口工作人员和管理员可以使用",
                       "Counter staff and administrators only")
    return staff


@me_bp.get("/certificate", responses={200: CertificateOut})
def get_certificate():
    """The student's clearance certificate and its QR code; 404 CERTIFICATE_NOT_FOUND before submission."""
    record = service.student_certificate(db(), current_student_id())
    response = jsonify(certificate_out(record, app_state().settings))
    response.headers["Cache-Control"] = "no-store"
    return response


@me_bp.get("/certificate.png", responses={"200": PNG_RESPONSE, 422: ErrorOut})
def get_certificate_png():
    """The QR code as a PNG (the mini-program cannot show inline SVG); 422 CERTIFICATE_REVOKED once revoked."""
    record = service.student_certificate(db(), current_student_id())
    if record.status == REVOKED:
        raise service.revoked_error(record.certificate)
    png = qr_png(service.verify_url(app_state().settings, record.certificate))
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


@counter_bp.post("/verify", responses={200: CounterOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut})
def verify_scan(body: VerifyIn):
    """Verify a scanned QR code (counter staff and administrators); every scan is logged.

    A forged or altered code is 422 CERTIFICATE_INVALID, a genuine signature on a serial not on record is 404
    CERTIFICATE_NOT_FOUND, a revoked certificate is 422 CERTIFICATE_REVOKED with its reason; none of these
    carry student data.
    """
    staff = counter_staff()
    ratelimit.enforce_counter_verify(staff.id)
    session = db()
    outcome = verify.scan(session, app_state().settings, body.qr_text, staff_id=staff.id,
                          channel=f"api-{current_principal().channel}", now=utcnow(), origin=origin())
    session.commit()  # the scan is logged whatever the answer
    refusal = outcome.refusal()
    if refusal is not None:
        raise refusal
    assert outcome.certificate is not None
    return jsonify(counter_out(service.certificate_record(session, outcome.certificate.id)))


@counter_bp.post("/handover", responses={200: CertificateOnlyOut, 409: ErrorOut, 422: ErrorOut})
def handover(body: HandoverIn):
    """Record what was handed over, each item once; any item already recorded is 409 and nothing is written."""
    staff = counter_staff()
    session = db()
    record = service.record_handover(session, body.serial, body.items, staff, utcnow(), origin=origin())
    session.commit()
    return jsonify({"certificate": counter_certificate_out(record)})


@admin_bp.post("/<serial>/revoke", responses={200: CertificateOnlyOut, 409: ErrorOut})
def revoke(path: SerialPath, body: RevokeIn):
    """Revoke a certificate with a reason (administrators only); audited."""
    staff = current_staff()
    if not is_admin(staff):
        raise ApiError(403, ErrorCode.FORBIDDEN, "仅管理员可以撤销离校证明", "Only administrators can revoke")
    session = db()
    record = service.revoke_certificate(session, path.serial, body.reason, staff, utcnow(), origin=origin())
    session.commit()
    return jsonify({"certificate": counter_certificate_out(record)})


@admin_bp.post("/<serial>/reissue", responses={200: CertificateOnlyOut, 409: ErrorOut})
def reissue(path: SerialPath):
    """Re-issue a revoked certificate for the same application (administrators only): a new serial and QR code;
    the revoked one stays revoked and names its replacement. 409 CERTIFICATE_NOT_REVOKED for any certificate
    that is not revoked, 409 ALREADY_REISSUED the second time; audited."""
    staff = current_staff()
    if not is_admin(staff):
        raise ApiError(403, ErrorCode.FORBIDDEN, "仅管理员可以重新签发离校证明", "Only administrators can re-issue")
    session = db()
    record = service.reissue_certificate(session, app_state().settings, path.serial, staff, utcnow(),
                                         origin=origin())
    session.commit()
    return jsonify({"certificate": counter_certificate_out(record)})


@keys_bp.get(JWKS_PATH, responses={200: JwksOut})
def certificate_keys():
    """The public keys that verify certificate QR codes offline (a JWK set of Ed25519 keys)."""
    response = jsonify(key_ring(app_state().settings).jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
