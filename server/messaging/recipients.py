"""Where a student can be reached besides the WeChat binding: the WeCom userid they logged in with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.messaging.models import WecomRecipient


def remember_wecom_user(session: Session, student_id: int, userid: str, now: datetime) -> None:
    """Note a student's WeCom userid (identity's WeCom login calls this); the newest login wins. Does not commit."""
    row = session.scalars(select(WecomRecipient).where(WecomRecipient.student_id == student_id)).one_or_none()
    if row is not None and row.userid == userid:
        row.seen_at = now
        return
    # The userid may have belonged to another student record before (a corrected roster): it moves here.
    session.execute(delete(WecomRecipient).where(WecomRecipient.userid == userid,
                                                 WecomRecipient.student_id != student_id))
    if row is None:
        session.add(WecomRecipient(student_id=student_id, userid=userid, seen_at=now))
    else:
        row.userid, row.seen_at = userid, now
    session.flush()
