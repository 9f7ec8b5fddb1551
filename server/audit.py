"""The audit trail: who or what changed what, from what to what, when and from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.db import Base, UTCDateTime, insert_rows, table_of
from server.timeutil import utcnow


class AuditEntry(Base):
    """One audited change."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)  # e.g. student:2027990001, staff:library, system:worker
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity: Mapped[str] = mapped_column(String(80), index=True)  # e.g. library_record:2027990001
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    origin: Mapped[str] = mapped_column(String(64), default="")  # IP address or system name


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    origin: str = "",
) -> AuditEntry:
    """Add an audit row to the caller's transaction."""
    entry = AuditEntry(actor=actor, action=action, entity=entity, before=before, after=after, origin=origin)
    session.add(entry)
    return entry


# The columns `audit_values` gives, in order; `record_audits` puts the time in front.
AUDIT_COLUMNS = ("actor", "action", "entity", "before", "after", "origin")


def audit_values(*, actor: str, action: str, entity: str, before: dict[str, Any] | None,
                 after: dict[str, Any] | None, origin: str = "") -> tuple[Any, ...]:
    """The columns of one audit row (AUDIT_COLUMNS), for `record_audits`."""
    return actor, action, entity, before, after, origin


def record_audits(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Add many audit rows to the caller's transaction with one executemany (bulk imports write one per change)."""
    if rows:
        at = (utcnow(),)  # one stamp for the statement, as one flush would give
        insert_rows(session, table_of(AuditEntry), ("at", *AUDIT_COLUMNS), [at + row for row in rows])
