"""API sessions (our tokens), WeChat bindings and staff accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime
from server.timeutil import utcnow


class ApiSession(Base):
    """What a bearer token or a browser's session cookie stands for; revoking the row signs that device out.

    The cookie or token carries only the random id (signed); who it is, and whether it still counts, is read here.
    """

    __tablename__ = "api_sessions"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)  # random, never derived from identity
    channel: Mapped[str] = mapped_column(String(16))  # wechat | wecom | browser
    kind: Mapped[str] = mapped_column(String(8), default="api", server_default="api")  # api (bearer) | web (cookie)
    openid: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), default=None, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    device: Mapped[str | None] = mapped_column(String(120), default=None)  # from its User-Agent, shown to the owner


class WechatBinding(Base):
    """One WeChat identity ↔ one person (a student, or a staff member using the counter mode), unique both ways."""

    __tablename__ = "wechat_bindings"
    __table_args__ = (
        UniqueConstraint("openid"),
        UniqueConstraint("student_id"),
        UniqueConstraint("staff_id"),
        CheckConstraint("(student_id IS NULL) <> (staff_id IS NULL)", name="one_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), default=None)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Staff(Base):
    """A staff account: administrator, department operator, counter staff or college viewer."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # the CAS username and WeCom userid
    name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16))  # admin | operator | counter | viewer
    department: Mapped[str | None] = mapped_column(String(16), default=None)  # for operators
    college: Mapped[str | None] = mapped_column(String(100), default=None)  # for college viewers
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
