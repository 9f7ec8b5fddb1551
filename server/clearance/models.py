"""Students, batches, item states, transitions and applications (each item's record is in its module)."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime
from server.timeutil import utcnow


def new_version() -> int:
    """A data version (server/clearance/versions.py): random, so a value never comes back after a restore."""
    return secrets.randbits(62)


class Batch(Base):
    """A clearance batch, e.g. "June 2027 graduates", with the window in which students may submit."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_early_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Replaced by every change of this batch (server/clearance/versions.py).
    data_version: Mapped[int] = mapped_column(BigInteger, default=new_version, server_default="0")

    def is_open(self, now: datetime) -> bool:
        """Whether students may submit at `now`."""
        return self.closed_early_at is None and self.opens_at <= now < self.closes_at


class Student(Base):
    """A graduating student as the roster describes them."""

    __tablename__ = "students"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    college: Mapped[str] = mapped_column(String(100), index=True)
    major: Mapped[str] = mapped_column(String(100))
    degree_level: Mapped[str] = mapped_column(String(16))  # master | doctor
    supervisor: Mapped[str] = mapped_column(String(64), default="")
    expected_graduation: Mapped[date] = mapped_column(Date)
    lived_on_campus: Mapped[bool] = mapped_column(Boolean, default=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set by a browser sign-in; token logins leave api_sessions rows instead. Both empty: never logged in.
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Replaced by every change of what the student's status shows (server/clearance/versions.py).
    data_version: Mapped[int] = mapped_column(BigInteger, default=new_version, server_default="0")

    batch: Mapped[Batch | None] = relationship(lazy="raise")


class ItemState(Base):
    """The last computed status of one item for one student; a change here is a transition."""

    __tablename__ = "item_states"
    __table_args__ = (UniqueConstraint("student_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    item: Mapped[str] = mapped_column(String(16))  # an item key
    status: Mapped[str] = mapped_column(String(16), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Transition(Base):
    """An item (or all of them) changing status; written in the transaction that caused it."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    item: Mapped[str] = mapped_column(String(16))  # an item key, or "all" when every item became passed
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Application(Base):
    """A submitted clearance: exactly one per student and batch, with the items as they were."""

    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("student_id", "batch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(16), default="api")

    batch: Mapped[Batch] = relationship(lazy="raise")


class DataEpoch(Base):
    """One row: the epoch of every data version (server/clearance/versions.py); replacing it retires them all."""

    __tablename__ = "data_epoch"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[str] = mapped_column(String(32))
