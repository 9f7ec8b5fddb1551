"""Certificate operations: issue on submission, look up, hand over, revoke, re-issue.

Services flush and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from server.audit import record_audit
from server.certificates.keys import key_ring
from server.certificates.models import Certificate, Handover
from server.certificates.qr import verification_url
from server.certificates.signing import CertificatePayload, sign_certificate
from server.clearance.events import enqueue_certificate_issued
from server.clearance.models import Application, Batch, Student
from server.errors import ApiError, ErrorCode
from server.identity.models import Staff
from server.settings import Settings
from server.timeutil import SHANGHAI, iso
from server.vocabulary import HANDOVER_ITEMS, HANDOVER_LABELS

SERIAL_PREFIX = "LX"
VALID, REVOKED, HANDED_OVER = "valid", "revoked", "handed_over"


@dataclass(frozen=True)
class HandoverEntry:
    """One item handed over, with who did it."""

    item: str
    staff: Staff
    at: datetime


@dataclass(frozen=True)
class CertificateRecord:
    """A certificate with everything shown beside it: the student, the application and the hand-overs."""

    certificate: Certificate
    student: Student
    application: Application
    batch: Batch
    handovers: list[HandoverEntry]
    replaces: str | None = None  # the serial of the revoked certificate this one was re-issued for
    replaced_by: str | None = None  # the serial of the certificate re-issued for this (revoked) one

    @property
    def status(self) -> str:
        """valid, revoked, or handed_over once anything was handed over."""
        return certificate_status(self.certificate, bool(self.handovers))


def certificate_status(certificate: Certificate, any_handed_over: bool) -> str:
    """Revoked wins over handed over; handed over means at least one item left the counter."""
    if certificate.revoked_at is not None:
        return REVOKED
    return HANDED_OVER if any_handed_over else VALID


def serial_for(application_id: int, issued_at: datetime) -> str:
    """`LX<year>-<application id, 6+ digits>`: unique because the application id is, so no race and no counter."""
    return f"{SERIAL_PREFIX}{issued_at.astimezone(SHANGHAI).year}-{application_id:06d}"


def reissue_serial(application_id: int, issued_at: datetime, reissue_no: int) -> str:
    """`LX<year>-<application id>-R<n>`: unique because (application id, n) is a key."""
    return f"{serial_for(application_id, issued_at)}-R{reissue_no}"


def _signed(settings: Settings, application: Application, student: Student, now: datetime, *,
            reissue_no: int = 0, replaces_id: int | None = None) -> Certificate:
    issued_at = now.replace(microsecond=0)  # the token carries whole seconds; keep the row identical
    ring = key_ring(settings)
    serial = (reissue_serial(application.id, issued_at, reissue_no) if reissue_no
              else serial_for(application.id, issued_at))
    payload = CertificatePayload(serial=serial, student_no=student.student_no, batch_id=application.batch_id,
                                 issued_at=int(issued_at.timestamp()))
    return Certificate(serial=serial, application_id=application.id, student_id=student.id,
                       token=sign_certificate(ring.signing, payload), key_id=ring.kid, issued_at=issued_at,
                       reissue_no=reissue_no, replaces_id=replaces_id)


def issue_certificate(session: Session, settings: Settings, application: Application, student: Student,
                      now: datetime) -> Certificate:
    """Sign and store the certificate of a just-submitted application, in the caller's transaction."""
    certificate = _signed(settings, application, student, now)
    session.add(certificate)
    session.flush()
    record_audit(session, actor="system:certificates", action="certificate.issue",
                 entity=f"certificate:{certificate.serial}", before=None,
                 after={"application_id": application.id, "key_id": certificate.key_id}, origin="")
    enqueue_certificate_issued(session, student, certificate.serial, certificate.issued_at)
    return certificate


def verify_url(settings: Settings, certificate: Certificate) -> str:
    """The URL the QR code holds: `{public_base_url}/v/{token}`."""
    return verification_url(settings.public_base_url, certificate.token)


def _handovers(session: Session, application_id: int) -> list[HandoverEntry]:
    """What was handed over for the application, against any of its certificates: a diploma handed over before
    a revocation stays handed over on the re-issued certificate."""
    rows = session.execute(
        select(Handover, Staff).join(Staff, Handover.staff_id == Staff.id)
        .join(Certificate, Handover.certificate_id == Certificate.id)
        .where(Certificate.application_id == application_id).order_by(Handover.at, Handover.id)
    ).all()
    return [HandoverEntry(h.item, s, h.at) for h, s in rows]


def _handed_over() -> ColumnElement[bool]:
    """Anything handed over for the application of the certificate in the query, against any of its certificates."""
    sibling = aliased(Certificate)
    return (exists().where(Handover.certificate_id == sibling.id)
            .where(sibling.application_id == Certificate.application_id))


def _current() -> ColumnElement[bool]:
    """Not replaced by a re-issue: each application has exactly one such certificate, the one that counts."""
    successor = aliased(Certificate)
    return ~exists().where(successor.replaces_id == Certificate.id)


def _record(session: Session, where: Any) -> CertificateRecord | None:
    previous, successor = aliased(Certificate), aliased(Certificate)
    found = session.execute(
        select(Certificate, Student, Application, Batch, previous.serial, successor.serial)
        .join(Student, Certificate.student_id == Student.id)
        .join(Application, Certificate.application_id == Application.id)
        .join(Batch, Application.batch_id == Batch.id)
        .outerjoin(previous, Certificate.replaces_id == previous.id)
        .outerjoin(successor, successor.replaces_id == Certificate.id)
        .where(where).order_by(Certificate.issued_at.desc(), Certificate.id.desc()).limit(1)
    ).first()
    if found is None:
        return None
    certificate, student, application, batch, replaces, replaced_by = found
    return CertificateRecord(certificate, student, application, batch, _handovers(session, application.id),
                             replaces=replaces, replaced_by=replaced_by)


def _not_found() -> ApiError:
    return ApiError(404, ErrorCode.CERTIFICATE_NOT_FOUND, "未找到离校证明", "Certificate not found")


def student_certificate(session: Session, student_id: int) -> CertificateRecord:
    """The student's newest current certificate (a re-issue, not the revoked one it replaced), or 404
    CERTIFICATE_NOT_FOUND (nothing submitted yet)."""
    record = _record(session, and_(Certificate.student_id == student_id, _current()))
    if record is None:
        raise ApiError(404, ErrorCode.CERTIFICATE_NOT_FOUND, "尚未提交离校申请，还没有离校证明",
                       "No certificate yet: the clearance has not been submitted")
    return record


def certificate_by_serial(session: Session, serial: str) -> CertificateRecord:
    """A certificate by its serial, or 404."""
    record = _record(session, Certificate.serial == serial)
    if record is None:
        raise _not_found()
    return record


def certificate_record(session: Session, certificate_id: int) -> CertificateRecord:
    """A certificate by id (after a scan found it)."""
    record = _record(session, Certificate.id == certificate_id)
    if record is None:
        raise _not_found()
    return record


def certificate_briefs(session: Session, application_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """`{application_id: {"serial", "status"}}` of each application's current certificate, in one query."""
    ids = list(application_ids)
    if not ids:
        return {}
    handed = _handed_over()
    rows = session.execute(
        select(Certificate, handed.label("handed")).where(Certificate.application_id.in_(ids), _current())
    ).all()
    return {c.application_id: {"serial": c.serial, "status": certificate_status(c, bool(h))} for c, h in rows}


def list_applications_with_certificates(session: Session, student_id: int
                                        ) -> list[tuple[Application, Batch, dict[str, str] | None]]:
    """The completed items list with each current certificate's serial and status, in one joined query."""
    handed = _handed_over()
    rows = session.execute(
        select(Application, Batch, Certificate, handed.label("handed"))
        .join(Batch, Application.batch_id == Batch.id)
        .outerjoin(Certificate, and_(Certificate.application_id == Application.id, _current()))
        .where(Application.student_id == student_id).order_by(Application.submitted_at.desc())
    ).all()
    return [(a, b, {"serial": c.serial, "status": certificate_status(c, bool(h))} if c is not None else None)
            for a, b, c, h in rows]


def _lock(session: Session, serial: str) -> Certificate:
    """The certificate row, locked so concurrent hand-overs and revocations serialise."""
    certificate = session.scalars(select(Certificate).where(Certificate.serial == serial).with_for_update()).first()
    if certificate is None:
        raise _not_found()
    return certificate


def revoked_error(certificate: Certificate) -> ApiError:
    """422 CERTIFICATE_REVOKED with the reason: whatever was asked of a revoked certificate."""
    return ApiError(422, ErrorCode.CERTIFICATE_REVOKED,
                    f"该离校证明已被撤销：{certificate.revoked_reason}",
                    f"This certificate was revoked: {certificate.revoked_reason}",
                    certificate={"serial": certificate.serial, "status": REVOKED,
                                 "revoked_reason": certificate.revoked_reason})


def record_handover(session: Session, serial: str, items: Sequence[str], staff: Staff, now: datetime, *,
                    origin: str = "") -> CertificateRecord:
    """Record each item handed over, all or nothing: any item already recorded is a 409 naming who and when."""
    unknown = [i for i in items if i not in HANDOVER_ITEMS]
    if not items or unknown:
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, "请选择要登记的交接事项", "Choose what was handed over",
                       items=unknown)
    wanted = list(dict.fromkeys(items))  # a repeated item in one request means it once
    certificate = _lock(session, serial)
    if certificate.revoked_at is not None:
        raise revoked_error(certificate)
    done = [e for e in _handovers(session, certificate.application_id) if e.item in wanted]
    if done:
        raise _already_handed_over(done)
    session.add_all([Handover(certificate_id=certificate.id, item=i, staff_id=staff.id, at=now) for i in wanted])
    try:
        session.flush()
    except IntegrityError as exc:  # the unique constraint still guards a writer that slipped past the lock
        raise ApiError(409, ErrorCode.ALREADY_HANDED_OVER, "已登记过交接，请刷新后查看",
                       "Already handed over; reload to see by whom") from exc
    record_audit(session, actor=f"staff:{staff.username}", action="certificate.handover",
                 entity=f"certificate:{serial}", before=None, after={"items": wanted}, origin=origin)
    return certificate_record(session, certificate.id)


def _already_handed_over(done: list[HandoverEntry]) -> ApiError:
    first = done[0]
    title, title_en = HANDOVER_LABELS[first.item]
    who = first.staff.name or first.staff.username
    at = first.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return ApiError(409, ErrorCode.ALREADY_HANDED_OVER, f"{title}已于 {at} 由 {who} 交接，不能重复登记",
                    f"{title_en} was already handed over by {who} at {at}",
                    handed_over=[handover_out(e) for e in done])


def handover_out(entry: HandoverEntry) -> dict[str, Any]:
    """One hand-over as the API shows it."""
    title, title_en = HANDOVER_LABELS[entry.item]
    return {"item": entry.item, "title": title, "title_en": title_en,
            "by": entry.staff.name or entry.staff.username, "by_username": entry.staff.username,
            "at": iso(entry.at)}


def revoke_certificate(session: Session, serial: str, reason: str, staff: Staff, now: datetime, *,
                       origin: str = "") -> CertificateRecord:
    """Revoke with a reason (administrators only; the view checks), audited; revoking twice is a 409."""
    reason = reason.strip()
    if not 2 <= len(reason) <= 200:
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, "请填写撤销原因（2–200 字）",
                       "Give a reason for the revocation (2–200 characters)")
    certificate = _lock(session, serial)
    if certificate.revoked_at is not None:
        raise ApiError(409, ErrorCode.ALREADY_REVOKED, "该离校证明已被撤销", "This certificate is already revoked",
                       revoked_reason=certificate.revoked_reason)
    certificate.revoked_at = now
    certificate.revoked_by = staff.id
    certificate.revoked_reason = reason
    session.flush()
    record_audit(session, actor=f"staff:{staff.username}", action="certificate.revoke",
                 entity=f"certificate:{serial}", before={"revoked": False},
                 after={"revoked": True, "reason": reason}, origin=origin)
    return certificate_record(session, certificate.id)


def reissue_certificate(session: Session, settings: Settings, serial: str, staff: Staff, now: datetime, *,
                        origin: str = "") -> CertificateRecord:
    """Issue a new certificate (new serial and QR) for the application of a revoked one (administrators only;
    the view checks); audited. The revoked one stays revoked; re-issuing it again is a 409, anything not
    revoked a 409 too."""
    old = _lock(session, serial)
    if old.revoked_at is None:
        raise ApiError(409, ErrorCode.CERTIFICATE_NOT_REVOKED, "只有已撤销的离校证明才能重新签发，该证明仍然有效",
                       "Only a revoked certificate can be re-issued; this one is still valid",
                       certificate={"serial": old.serial, "status": VALID})
    application = session.get_one(Application, old.application_id)
    student = session.get_one(Student, old.student_id)
    new = _signed(settings, application, student, now, reissue_no=old.reissue_no + 1, replaces_id=old.id)
    try:
        # No Python check for an earlier re-issue: the unique keys on replaces_id and (application_id,
        # reissue_no) refuse it, for a writer the row lock did not stop too. The savepoint keeps the caller's
        # transaction usable for the answer.
        with session.begin_nested():
            session.add(new)
    except IntegrityError as exc:
        raise _already_reissued(session, old) from exc
    record_audit(session, actor=f"staff:{staff.username}", action="certificate.reissue",
                 entity=f"certificate:{old.serial}", before={"replaced_by": None},
                 after={"replaced_by": new.serial, "key_id": new.key_id}, origin=origin)
    enqueue_certificate_issued(session, student, new.serial, new.issued_at)
    return certificate_record(session, new.id)


def _already_reissued(session: Session, old: Certificate) -> ApiError:
    replacement = session.scalar(select(Certificate.serial).where(Certificate.replaces_id == old.id)) or "—"
    return ApiError(409, ErrorCode.ALREADY_REISSUED,
                    f"该离校证明已重新签发过（新证明 {replacement}），不能再次签发",
                    f"This certificate has already been re-issued (as {replacement}); it cannot be re-issued again",
                    certificate={"serial": old.serial, "status": REVOKED, "replaced_by": replacement})
