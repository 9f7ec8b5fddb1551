"""Delivering one claimed outbox row: choose the channel, render, send, and record what happened.

Channel: a WeChat subscribe message when the student has a WeChat binding and an allowed push left for
the template; otherwise a WeCom text card when the student has logged in through WeCom; otherwise the
notification stays in-app only. Consent is reserved in the same commit that marks the row "sending",
given back if WeChat did not take the message, and reset to 0 when WeChat answers 43101.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.clearance.departments import TITLES
from server.clearance.models import Batch, Student
from server.identity.models import WechatBinding
from server.messaging import claims, consent
from server.messaging.models import OutboxEvent, SubscriptionConsent, WecomRecipient
from server.messaging.outbox import ALL_PASSED, CERTIFICATE_ISSUED, ITEM_PASSED, REMINDER
from server.messaging.ratelimit import SlidingWindowLimiter
from server.messaging.templates import (
    TemplateError,
    get_templates,
    render_subscribe_data,
    render_wecom_textcard,
)
from server.messaging.transport import Abort, Outcome, PushTransport, SendResult
from server.settings import Settings, wx_template_id
from server.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600.0
RATE_LIMITED = "rate_limited"
RETRYING = "retrying"


def build_context(row: OutboxEvent, student: Student, batch_name: str) -> dict[str, Any]:
    """The template variables of an event, from its payload and the student as they are now."""
    payload = row.payload or {}
    ctx: dict[str, Any] = {"student_name": student.name, "student_no": student.student_no,
                           "college": student.college, "batch_name": batch_name}
    if row.event in (ITEM_PASSED, ALL_PASSED):
        ctx["changed_at"] = payload.get("changed_at")
    if row.event == ITEM_PASSED:
        item = str(payload.get("item", ""))
        zh, en = TITLES.get(item, (item, item))
        ctx |= {"item_key": item, "item_title": zh, "item_title_en": en}
    elif row.event == CERTIFICATE_ISSUED:
        ctx |= {"serial": payload.get("serial", ""), "issued_at": payload.get("issued_at")}
    elif row.event == REMINDER:
        ctx["closes_at"] = payload.get("closes_at")
    return ctx


def backoff(settings: Settings, attempts: int, rate_limited: bool) -> float:
    """Seconds until the next try: doubling from the base, capped, longer for rate limits, with jitter."""
    delay = min(settings.outbox_retry_base_seconds * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    if rate_limited:
        delay = max(delay, settings.outbox_retry_base_seconds * 4)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 -- jitter, not secrecy


@dataclass
class _Plan:
    row: OutboxEvent
    student: Student
    channel: str | None
    address: str | None
    reason: str | None
    batch_name: str


class Deliverer:
    """Delivers claimed rows for one worker."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], transport: Callable[[], PushTransport],
                 limiter: SlidingWindowLimiter, worker: str, clock: Callable[[], datetime] = utcnow,
                 pool: ThreadPoolExecutor | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self.new_transport = transport
        self.limiter = limiter
        self.worker = worker
        self.clock = clock
        self.pool = pool  # sends of one batch overlap their network waits; each keeps its own two commits
        self._local = threading.local()

    @property
    def transport(self) -> PushTransport:
        """This thread's transport (requests sessions are not shared between threads)."""
        if not hasattr(self._local, "transport"):
            self._local.transport = self.new_transport()
        return self._local.transport  # type: ignore[no-any-return]

    def deliver(self, row_ids: Sequence[int]) -> list[str]:
        """Handle claimed rows; returns each row's status afterwards ("lost" if it is no longer ours)."""
        with self.sessions() as session:
            plans = self._plans(session, row_ids)
            outcomes = {}
            for plan in plans:  # in-app only: recorded together, in the planning transaction
                if plan.channel is None and claims.finish(session, plan.row.id, self.worker, status=claims.SKIPPED,
                                                          reason=plan.reason):
                    outcomes[plan.row.id] = claims.SKIPPED
            session.commit()  # release the read transaction before any network call
        pushes = [plan for plan in plans if plan.channel is not None]
        done = self.pool.map(self._deliver_one, pushes) if self.pool else map(self._deliver_one, pushes)
        outcomes.update(zip((plan.row.id for plan in pushes), done, strict=True))
        return [outcomes.get(row_id, "lost") for row_id in row_ids]

    def _deliver_one(self, plan: _Plan) -> str:
        # One connection for the push's two transactions (not a pool checkout, ping and reset for each).
        engine = self.sessions.kw["bind"]
        with engine.connect() as connection, self.sessions(bind=connection) as session:
            return self._deliver(session, plan)

    def _deliver(self, session: Session, plan: _Plan) -> str:
        try:
            message = self._render(plan)
        except TemplateError as exc:
            log.error("cannot render outbox row %s: %s", plan.row.id, exc)
            return self._finish(session, plan.row, claims.FAILED, reason="platform_refused", error=f"render: {exc}")
        if plan.channel == "wecom":
            wait = self.limiter.acquire(str(plan.address), self.clock().timestamp())
            if wait > 0:
                return self._finish(session, plan.row, claims.PENDING, reason=RATE_LIMITED,
                                    next_attempt_at=self.clock() + timedelta(seconds=wait))
        return self._send(session, plan, message)

    # ------------------------------------------------------------------ steps

    def _plans(self, session: Session, row_ids: Sequence[int]) -> list[_Plan]:
        """Load the rows still ours, with everything needed to choose their channel, in a few queries."""
        rows = session.scalars(select(OutboxEvent).where(
            OutboxEvent.id.in_(row_ids), OutboxEvent.status == claims.PENDING,
            OutboxEvent.claimed_by == self.worker).order_by(OutboxEvent.id)).all()
        ids = {r.student_id for r in rows}
        if not ids:
            return []
        students = {s.id: s for s in session.scalars(select(Student).where(Student.id.in_(ids)))}
        openids = dict(session.execute(select(WechatBinding.student_id, WechatBinding.openid)
                                       .where(WechatBinding.student_id.in_(ids))).all())
        userids = dict(session.execute(select(WecomRecipient.student_id, WecomRecipient.userid)
                                       .where(WecomRecipient.student_id.in_(ids))).all())
        allowed = {(sid, key): n for sid, key, n in session.execute(
            select(SubscriptionConsent.student_id, SubscriptionConsent.template_key, SubscriptionConsent.remaining)
            .where(SubscriptionConsent.student_id.in_(ids))).all()}
        batch_ids = {(r.payload or {}).get("batch_id") or students[r.student_id].batch_id for r in rows}
        names = dict(session.execute(select(Batch.id, Batch.name).where(Batch.id.in_([b for b in batch_ids if b])))
                     .all())
        plans = []
        for row in rows:
            student = students[row.student_id]
            openid, userid = openids.get(student.id), userids.get(student.id)
            batch_name = names.get((row.payload or {}).get("batch_id") or student.batch_id, "")
            if openid and allowed.get((student.id, row.event), 0) > 0:
                plans.append(_Plan(row, student, "wechat", openid, None, batch_name))
            elif userid:
                plans.append(_Plan(row, student, "wecom", userid, None, batch_name))
            else:
                reason = "no_consent" if openid else "no_wechat_binding"
                plans.append(_Plan(row, student, None, None, reason, batch_name))
        return plans

    def _render(self, plan: _Plan) -> dict[str, Any]:
        template = get_templates()[plan.row.event]
        context = build_context(plan.row, plan.student, plan.batch_name)
        if plan.channel == "wechat":
            return {"template_id": wx_template_id(self.settings, template.template_id_setting),
                    "page": template.page, "data": render_subscribe_data(template, context)}
        return {"card": render_wecom_textcard(template, context, self.settings.public_base_url)}

    def _send(self, session: Session, plan: _Plan, message: dict[str, Any]) -> str:
        row, channel = plan.row, str(plan.channel)
        state = {"sending": False}

        def before_send() -> None:
            # Reserve the consent and mark the row in one commit, right before the request leaves.
            now = self.clock()
            if channel == "wechat" and not consent.reserve(session, row.student_id, row.event, now):
                session.rollback()
                raise Abort("no consent left")
            if not claims.mark_sending(session, row.id, self.worker, channel, now,
                                       self.settings.outbox_lease_seconds):
                session.rollback()
                raise Abort("claim lost")
            session.commit()
            state["sending"] = True

        if channel == "wechat":
            result = self.transport.send_wechat_subscribe(str(plan.address), message["template_id"],
                                                          message["page"], message["data"], before_send=before_send)
        else:
            result = self.transport.send_wecom_textcard(str(plan.address), message["card"], before_send=before_send)
        return self._record(session, row, channel, result, state["sending"])

    def _record(self, session: Session, row: OutboxEvent, channel: str, result: SendResult, sent: bool) -> str:
        now = self.clock()
        wechat = channel == "wechat"
        if result.outcome is Outcome.ABORTED:
            if result.detail == "claim lost":
                return "lost"
            # Consent ran out meanwhile (another push spent it): plan this row again at once.
            return self._finish(session, row, claims.PENDING, next_attempt_at=now)
        if result.outcome is Outcome.OK:
            return self._finish(session, row, claims.SENT, sent_at=now, msgid=result.msgid, channel=channel)
        if result.outcome is Outcome.UNCONFIRMED:
            return self._finish(session, row, claims.UNCONFIRMED, error=result.detail, channel=channel)
        error = f"{result.errcode}: {result.detail}" if result.errcode is not None else result.detail
        if result.outcome is Outcome.NO_CONSENT:
            if wechat:
                consent.reset(session, row.student_id, row.event, now)
            return self._finish(session, row, claims.REFUSED, reason="no_consent", error=error, channel=channel)
        if wechat and sent:
            consent.give_back(session, row.student_id, row.event, now)
        if result.outcome is Outcome.PERMANENT:
            return self._finish(session, row, claims.REFUSED, reason="platform_refused", error=error,
                                channel=channel)
        attempts = row.attempts + 1
        if sent and attempts >= self.settings.outbox_max_attempts:
            return self._finish(session, row, claims.FAILED, reason="platform_refused", error=error,
                                channel=channel)
        delay = backoff(self.settings, attempts, result.rate_limited)
        return self._finish(session, row, claims.PENDING, reason=RATE_LIMITED if result.rate_limited else RETRYING,
                            error=error, next_attempt_at=now + timedelta(seconds=delay))

    def _finish(self, session: Session, row: OutboxEvent, status: str, **values: Any) -> str:
        if not claims.finish(session, row.id, self.worker, status=status, **values):
            session.rollback()
            return "lost"
        session.commit()
        return status
