"""Verifying a scanned certificate against the signature and the database, and logging every scan."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.certificates.keys import key_ring
from server.certificates.models import Certificate, CertificateScan
from server.certificates.qr import token_from_scanned_text
from server.certificates.signing import REASON_MESSAGES, InvalidCertificate, InvalidReason, verify_token
from server.errors import ApiError, ErrorCode
from server.settings import Settings

VALID, REVOKED, UNKNOWN, INVALID = "valid", "revoked", "unknown", "invalid"
_PREFIX_LENGTH = 24


@dataclass(frozen=True)
class ScanOutcome:
    """What a scan found: valid | revoked (with the certificate, and the serial of its re-issue if any) or
    unknown | invalid (without)."""

    result: str
    certificate: Certificate | None = None
    reason: InvalidReason | None = None
    replaced_by: str | None = None

    def refusal(self) -> ApiError | None:
        """The API error for anything but a valid certificate; never carries student data."""
        if self.result == INVALID:
            reason = self.reason or InvalidReason.MALFORMED
            message, message_en = REASON_MESSAGES[reason]
            return ApiError(422, ErrorCode.CERTIFICATE_INVALID, message, message_en, reason=reason.value)
        if self.result == UNKNOWN:
            return ApiError(404, ErrorCode.CERTIFICATE_NOT_FOUND, "系统中没有这张离校证明，请核实来源",
                            "This certificate is not on record; check where it came from")
        if self.result == REVOKED and self.certificate is not None:
            c = self.certificate
            certificate = {"serial": c.serial, "status": REVOKED, "revoked_reason": c.revoked_reason,
                           "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
                           "replaced_by": self.replaced_by}
            if self.replaced_by:
                # Still a refusal, but not a dead end: the counter asks for the new one by its serial.
                return ApiError(422, ErrorCode.CERTIFICATE_REVOKED,
                                f"该离校证明已被撤销，并由新证明 {self.replaced_by} 替代：请学生出示新证明",
                                f"This certificate was revoked and replaced by {self.replaced_by}: "
                                "ask the student to show the new one", certificate=certificate)
            return ApiError(422, ErrorCode.CERTIFICATE_REVOKED, f"该离校证明已被撤销：{c.revoked_reason}",
                            f"This certificate was revoked: {c.revoked_reason}", certificate=certificate)
        return None


def check_scanned_text(session: Session, settings: Settings, text: str) -> ScanOutcome:
    """Signature first, then the database: a genuine signature on a serial we never issued is unknown."""
    token = token_from_scanned_text(text)
    if token is None:
        return ScanOutcome(INVALID, reason=InvalidReason.MALFORMED)
    try:
        payload = verify_token(token, key_ring(settings).verifying)
    except InvalidCertificate as exc:
        return ScanOutcome(INVALID, reason=exc.reason)
    certificate = session.scalars(select(Certificate).where(Certificate.serial == payload.serial)).first()
    # The stored token must be the scanned one byte for byte: a second validly signed token for the same
    # serial (a leaked key, a re-issue) is not this certificate.
    if certificate is None or not hmac.compare_digest(certificate.token.encode(), token.encode()):
        return ScanOutcome(UNKNOWN)
    if certificate.revoked_at is None:
        return ScanOutcome(VALID, certificate)
    replaced_by = session.scalar(select(Certificate.serial).where(Certificate.replaces_id == certificate.id))
    return ScanOutcome(REVOKED, certificate, replaced_by=replaced_by)


def log_scan(session: Session, text: str, outcome: ScanOutcome, *, staff_id: int | None, channel: str,
             now: datetime, origin: str = "") -> CertificateScan:
    """Add the scan to the log: who, when, through what, and the answer (the text only as hash and prefix)."""
    raw = text if isinstance(text, str) else ""
    stripped = raw.strip()
    row = CertificateScan(
        certificate_id=outcome.certificate.id if outcome.certificate else None,
        text_sha256=hashlib.sha256(stripped.encode("utf-8", "replace")).hexdigest(),
        text_prefix=_prefix(stripped), staff_id=staff_id, at=now, result=outcome.result,
        reason=outcome.reason.value if outcome.reason else None, channel=channel[:16], origin=origin[:64],
    )
    session.add(row)
    session.flush()
    return row


def _prefix(text: str) -> str:
    """The start of a certificate URL or token (a host name, no secret); nothing of any other text."""
    if token_from_scanned_text(text) is not None:
        return text[:_PREFIX_LENGTH]
    return f"(other text, {len(text)} chars)"[:_PREFIX_LENGTH]


def scan(session: Session, settings: Settings, text: str, *, staff_id: int | None, channel: str, now: datetime,
         origin: str = "") -> ScanOutcome:
    """Check what was scanned and log it; the caller commits the log even when the answer is a refusal."""
    outcome = check_scanned_text(session, settings, text)
    log_scan(session, text, outcome, staff_id=staff_id, channel=channel, now=now, origin=origin)
    return outcome


def mask_name(name: str) -> str:
    """Keep only the first and last character: 张三甲 → 张*甲, 李四 → 李*, 欧阳娜娜 → 欧**娜."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * min(len(name) - 2, 4) + name[-1]
