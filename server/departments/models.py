"""Credentials of departmental systems that push records through the API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime
from server.timeutil import utcnow


class DepartmentCredential(Base):
    """One signing key of one department.

    HMAC verification needs the shared secret itself, so it cannot be stored as a one-way hash: it is kept
    encrypted (Fernet, key derived from LIXIAO_SECRET_KEY) beside a SHA-256 fingerprint that identifies it
    in logs and lets an operator confirm which secret a system holds without decrypting anything.
    """

    __tablename__ = "department_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(40), unique=True)  # public, sent in X-Lixiao-Key
    department: Mapped[str] = mapped_column(String(16), index=True)
    secret_encrypted: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 hex of the secret
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
