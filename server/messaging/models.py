"""Push consent counts, periodic-job leases and WeCom recipients (the events pushed are the core's:
server.clearance.events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime
from server.timeutil import utcnow


class SubscriptionConsent(Base):
    """How many more subscribe messages of one template a student has allowed (one per acceptance)."""

    __tablename__ = "subscription_consents"
    __table_args__ = (UniqueConstraint("student_id", "template_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    template_key: Mapped[str] = mapped_column(String(40))  # an event key of templates_msg/
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobRun(Base):
    """A periodic job's lease: whoever holds it runs the job; the lease expires if its worker dies."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_result: Mapped[str | None] = mapped_column(String(200), default=None)


class WecomRecipient(Base):
    """The WeCom userid a student last logged in with, so pushes can reach them as WeCom app messages.

    Identity's WeCom login calls `remember_wecom_user`; staff need no row (their username is their userid).
    """

    __tablename__ = "wecom_recipients"
    __table_args__ = (UniqueConstraint("userid"), UniqueConstraint("student_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
