"""Issued certificates, every scan of one, and what was handed over against it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime
from server.timeutil import utcnow

SCAN_RESULTS = ("valid", "revoked", "unknown", "invalid")


class Certificate(Base):
    """The clearance certificate of one application: a serial and the signed token its QR code carries.

    A revoked certificate may be re-issued once: the new row names it in `replaces_id`. Both guards are keys,
    so two administrators re-issuing at once cannot make two replacements: `replaces_id` is unique, and so is
    (`application_id`, `reissue_no`), which also keeps submission to one original (reissue_no 0).
    """

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("application_id", "reissue_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    reissue_no: Mapped[int] = mapped_column(default=0, server_default="0")  # 0 for the original, then 1, 2…
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), unique=True, default=None)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    token: Mapped[str] = mapped_column(String(512))
    key_id: Mapped[str] = mapped_column(String(8))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(200), default=None)


class CertificateScan(Base):
    """One verification attempt: who scanned what, when, through which channel, and the answer."""

    __tablename__ = "certificate_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), default=None, index=True)
    # A hash and, for certificate URLs only, a short prefix; never the whole text: a scanner types whatever it
    # reads (an ID card, a payment code), and the hash still finds repeated scans of the same text.
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    text_prefix: Mapped[str] = mapped_column(String(24))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    result: Mapped[str] = mapped_column(String(16))  # valid | revoked | unknown | invalid
    reason: Mapped[str | None] = mapped_column(String(32), default=None)  # why invalid (InvalidReason)
    channel: Mapped[str] = mapped_column(String(16))  # public | console | console-wecom | api-<token channel>
    origin: Mapped[str] = mapped_column(String(64), default="")


class Handover(Base):
    """Something handed to the student at the counter against a certificate; recorded once per item."""

    __tablename__ = "handovers"
    __table_args__ = (UniqueConstraint("certificate_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"))
    item: Mapped[str] = mapped_column(String(32))  # one of server/vocabulary.py HANDOVER_ITEMS
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

