"""The audit log, filtered by actor, action, entity and a date range, newest first, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server.audit import AuditEntry
from server.timeutil import SHANGHAI

PER_PAGE = 50


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page narrows to; empty fields do not narrow. Dates are Shanghai calendar days."""

    actor: str = ""
    action: str = ""
    entity: str = ""
    since: date | None = None
    until: date | None = None


@dataclass
class AuditPage:
    """One page of entries; `has_next` says whether older entries remain."""

    entries: list[AuditEntry]
    page: int
    has_next: bool


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def audit_query(f: AuditFilter) -> Select[AuditEntry]:
    """Entries matching the filter: actor and entity by prefix (e.g. "staff:" or "student:2027"), action exactly."""
    stmt = select(AuditEntry)
    if f.actor:
        stmt = stmt.where(AuditEntry.actor.like(_escape_like(f.actor) + "%", escape="\\"))
    if f.action:
        stmt = stmt.where(AuditEntry.action == f.action)
    if f.entity:
        stmt = stmt.where(AuditEntry.entity.like(_escape_like(f.entity) + "%", escape="\\"))
    if f.since:
        stmt = stmt.where(AuditEntry.at >= _day_start(f.since))
    if f.until:
        stmt = stmt.where(AuditEntry.at < _day_start(f.until + timedelta(days=1)))
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def audit_page(session: Session, f: AuditFilter, page: int = 1, per_page: int = PER_PAGE) -> AuditPage:
    """One page, found without counting the whole log (one extra row says whether there is a next page)."""
    page = max(1, page)
    rows = list(session.scalars(audit_query(f).limit(per_page + 1).offset((page - 1) * per_page)))
    return AuditPage(entries=rows[:per_page], page=page, has_next=len(rows) > per_page)


def audit_actions(session: Session) -> list[str]:
    """Every action recorded so far, for the filter's choices."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
