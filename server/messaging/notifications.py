"""In-app notifications: every outbox event of a student, pushed or not, and why not."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clearance.events import WECHAT_BOUND, OutboxEvent
from server.clearance.models import Batch, Student
from server.messaging import claims
from server.messaging.delivery import RATE_LIMITED, build_context
from server.messaging.templates import TemplateError, get_templates, render_inapp
from server.timeutil import iso

NOT_PUSHED_REASONS = ("no_consent", "platform_refused", "rate_limited_retrying", "pending", "no_wechat_binding")


def not_pushed_reason(row: OutboxEvent) -> str | None:
    """Why a notification has not reached the phone: None once it was pushed."""
    if row.status in (claims.SENT, claims.UNCONFIRMED):
        return None
    if row.status in (claims.PENDING, claims.SENDING):
        return "rate_limited_retrying" if row.reason == RATE_LIMITED else "pending"
    if row.reason in ("no_consent", "no_wechat_binding"):
        return row.reason
    return "platform_refused"


def list_notifications(session: Session, student_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The student's notifications, newest first, rendered in both languages."""
    student = session.get(Student, student_id)
    if student is None:
        return []
    rows = session.scalars(
        select(OutboxEvent).where(OutboxEvent.student_id == student_id)
        .order_by(OutboxEvent.created_at.desc(), OutboxEvent.id.desc()).limit(limit)
    ).all()
    batch_ids = {(r.payload or {}).get("batch_id") or student.batch_id for r in rows}
    names: dict[int | None, str] = dict(
        session.execute(select(Batch.id, Batch.name).where(Batch.id.in_([b for b in batch_ids if b]))).all())
    templates = get_templates()
    items = []
    for row in rows:
        if row.event == WECHAT_BOUND and (row.payload or {}).get("channel") == "wecom":
            continue  # the WeCom copy of a binding announcement: the student sees it once
        batch_name = names.get((row.payload or {}).get("batch_id") or student.batch_id, "")
        try:
            texts = render_inapp(templates[row.event], build_context(row, student, batch_name))
        except (KeyError, TemplateError):
            texts = {"title": "离校通知", "title_en": "Clearance notice", "body": "", "body_en": ""}
        reason = not_pushed_reason(row)
        template = templates.get(row.event)
        links = {"page": template.page, "link": template.link} if template else {"page": None, "link": None}
        items.append({"id": row.id, "event": row.event, **texts, **links, "created_at": iso(row.created_at),
                      "pushed": reason is None, "not_pushed_reason": reason, "channel": row.channel})
    return items
