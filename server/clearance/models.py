"""Students, batches, the four departmental records, item states and applications."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime
from server.timeutil import utcnow


class Batch(Base):
    """A clearance batch, e.g. "June 2027 graduates", with the window in which students may submit."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_early_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

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

    batch: Mapped[Batch | None] = relationship(lazy="raise")


class _RecordColumns:
    """What every departmental record carries besides its own fields."""

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), unique=True)
    source: Mapped[str] = mapped_column(String(40))  # local | console:<staff> | import | api | http | fake
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last successful read or write
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    fail_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    known: Mapped[bool] = mapped_column(Boolean, default=True)  # False: the source said "no such student"


class LibraryRecord(_RecordColumns, Base):
    """Loans, fees, violations, card and thesis deposit at the library."""

    __tablename__ = "library_records"

    owed_books: Mapped[int] = mapped_column(Integer, default=0)
    owed_fees_cents: Mapped[int] = mapped_column(Integer, default=0)
    violations: Mapped[int] = mapped_column(Integer, default=0)
    card_status: Mapped[str] = mapped_column(String(16), default="active")  # active | cancelled
    thesis_status: Mapped[str] = mapped_column(String(16), default="not_submitted")


class ArchivesRecord(_RecordColumns, Base):
    """Whether the archives has the thesis and has reviewed it."""

    __tablename__ = "archives_records"

    thesis_status: Mapped[str] = mapped_column(String(16), default="not_submitted")


class ApartmentRecord(_RecordColumns, Base):
    """The move-out from campus housing."""

    __tablename__ = "apartment_records"

    building: Mapped[str | None] = mapped_column(String(64), default=None)
    move_out_date: Mapped[date | None] = mapped_column(Date, default=None)
    move_out_handler: Mapped[str | None] = mapped_column(String(64), default=None)


class FinanceRecord(_RecordColumns, Base):
    """Fee lines and what is still owed."""

    __tablename__ = "finance_records"

    arrears_cents: Mapped[int] = mapped_column(Integer, default=0)
    fee_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


RECORD_MODELS: dict[str, type[_RecordColumns]] = {
    "library": LibraryRecord,
    "archives": ArchivesRecord,
    "apartment": ApartmentRecord,
    "finance": FinanceRecord,
}


class ItemState(Base):
    """The last computed status of one item for one student; a change here is a transition."""

    __tablename__ = "item_states"
    __table_args__ = (UniqueConstraint("student_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    item: Mapped[str] = mapped_column(String(16))  # library | archives | apartment | finance
    status: Mapped[str] = mapped_column(String(16), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Transition(Base):
    """An item (or all four) changing status; written in the transaction that caused it."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    item: Mapped[str] = mapped_column(String(16))  # an item key, or "all" when all four became passed
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
