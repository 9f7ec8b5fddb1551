"""The outbox row's life, as conditional UPDATEs that several workers can race on safely.

    pending ──claim──▶ pending (claimed_by, claimed_until) ──mark_sending──▶ sending ──finish──▶ sent
       ▲                     │ lease expires: anyone may claim it again            │ refused | failed
       └──── transient error, rate limit (next_attempt_at later) ◀─────────────────┘
    pending ──no channel──▶ skipped          sending, lease expired (worker died) ──▶ unconfirmed

Claiming uses `SELECT … FOR UPDATE SKIP LOCKED` where the database has it (MariaDB, MySQL, PostgreSQL);
on SQLite every write transaction already holds the database's one write lock (BEGIN IMMEDIATE). In both
cases the UPDATE repeats the claimable condition, and the step that matters — pending → sending — is
conditional on the row still being pending and claimed by this worker, so a row is sent by one worker
only, even if two workers were to believe they had claimed it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from server.clearance.events import OutboxEvent
from server.db import rows_matched, table_of

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
UNCONFIRMED = "unconfirmed"  # the worker died (or the platform did not answer) after the request left
SKIPPED = "skipped"  # no channel to push on: in-app only
REFUSED = "refused"  # the platform refused it for good (43101, 47003, bad openid …)
FAILED = "failed"  # transient errors until the attempts ran out, or it could not be rendered
FINAL = (SENT, UNCONFIRMED, SKIPPED, REFUSED, FAILED)
RECOVER_LIMIT = 500  # abandoned rows turned unconfirmed per round; more wait for the next round


def _claimable(now: datetime):
    return and_(
        OutboxEvent.status == PENDING,
        OutboxEvent.next_attempt_at <= now,
        or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now),
    )


def claim(session: Session, worker: str, now: datetime, lease_seconds: float, limit: int) -> list[int]:
    """Lease up to `limit` due rows to `worker`; returns their ids, oldest due first. Commits."""
    query = (
        select(OutboxEvent.id).where(_claimable(now))
        .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id).limit(limit)
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        session.commit()
        return []
    until = (now + timedelta(seconds=lease_seconds)).replace(microsecond=0)  # MySQL DATETIME keeps whole seconds
    session.execute(
        update(OutboxEvent).where(OutboxEvent.id.in_(ids), _claimable(now))
        .values(claimed_by=worker, claimed_until=until).execution_options(synchronize_session=False)
    )
    mine = list(session.scalars(
        select(OutboxEvent.id).where(OutboxEvent.id.in_(ids), OutboxEvent.claimed_by == worker,
                                     OutboxEvent.claimed_until == until).order_by(OutboxEvent.id)
    ))
    session.commit()
    return mine


def recover_abandoned(session: Session, now: datetime) -> int:
    """Rows left in `sending` by a worker whose lease ran out become `unconfirmed` (never re-sent). Commits.

    The candidates are found by a plain read and updated by primary key: an UPDATE that searched the status
    index itself would lock index entries that other workers' finishing UPDATEs (which hold the row first)
    need, and MariaDB would break the tie by killing one of them (error 1213).
    """
    expired = and_(OutboxEvent.status == SENDING, OutboxEvent.claimed_until < now)
    ids = list(session.scalars(select(OutboxEvent.id).where(expired).limit(RECOVER_LIMIT)))
    count = 0
    if ids:
        count = rows_matched(session.execute(
            update(OutboxEvent).where(OutboxEvent.id.in_(ids), expired)
            .values(status=UNCONFIRMED, reason=None, last_error="worker stopped while sending")
            .execution_options(synchronize_session=False)
        ))
    session.commit()
    return int(count or 0)


# The per-push statements are built once (Core, bound parameters): building ORM statements anew for
# every push cost more CPU than executing them.
_T = table_of(OutboxEvent)
_MARK_SENDING = (
    update(_T)
    .where(_T.c.id == bindparam("row_id"), _T.c.status == PENDING, _T.c.claimed_by == bindparam("worker"))
    .values(status=SENDING, channel=bindparam("channel"), attempts=_T.c.attempts + 1,
            claimed_until=bindparam("until"))
)
_FINISH = (
    update(_T)
    .where(_T.c.id == bindparam("row_id"), _T.c.claimed_by == bindparam("worker"),
           _T.c.status.in_((PENDING, SENDING, UNCONFIRMED)))
    .values(status=bindparam("new_status"), reason=bindparam("new_reason"), claimed_by=None, claimed_until=None,
            sent_at=func.coalesce(bindparam("sent_at", type_=_T.c.sent_at.type), _T.c.sent_at),
            last_error=func.coalesce(bindparam("error", type_=_T.c.last_error.type), _T.c.last_error),
            platform_msgid=func.coalesce(bindparam("msgid", type_=_T.c.platform_msgid.type), _T.c.platform_msgid),
            channel=func.coalesce(bindparam("new_channel", type_=_T.c.channel.type), _T.c.channel),
            next_attempt_at=func.coalesce(bindparam("next_at", type_=_T.c.next_attempt_at.type),
                                          _T.c.next_attempt_at))
)


def mark_sending(db: Session | Connection, row_id: int, worker: str, channel: str, now: datetime,
                 lease_seconds: float) -> bool:
    """pending → sending, only if the row is still this worker's; does not commit."""
    until = now + timedelta(seconds=lease_seconds)
    return bool(rows_matched(db.execute(_MARK_SENDING, {"row_id": row_id, "worker": worker, "channel": channel,
                                                "until": until})))


def finish(db: Session | Connection, row_id: int, worker: str, *, status: str, reason: str | None = None,
           sent_at: datetime | None = None, error: str | None = None, msgid: str | None = None,
           channel: str | None = None, next_attempt_at: datetime | None = None) -> bool:
    """Record what became of a row this worker holds, and give up the lease; does not commit."""
    return bool(rows_matched(db.execute(_FINISH, {
        "row_id": row_id, "worker": worker, "new_status": status, "new_reason": reason, "sent_at": sent_at,
        "error": error[:200] if error is not None else None, "msgid": msgid[:64] if msgid is not None else None,
        "new_channel": channel, "next_at": next_attempt_at})))
