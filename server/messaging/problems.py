"""Pushes that need an administrator: unconfirmed ones to resend or let be, and platform refusals explained.

Policy for `unconfirmed` rows (a worker died, or the platform did not answer, after the request may have left;
see worker.py): they are never resent automatically, because neither platform can say whether a message
arrived, and measured kills left about two delivered rows for every lost one. An administrator sees them
at /admin/pushes (counted in /metrics as `lixiao_outbox_events{status="unconfirmed"}`) and may send them
again; every resend is audited (`push.resend`). How safe a resend is depends on the channel:
- a WeChat subscribe message whose student has no further consent for that template is safe: the resend
  spends the consent the first attempt reserved, and if the first one arrived WeChat itself refuses the
  second with 43101 (one consent, one message), which the page shows as "the first one arrived";
- a WeChat message whose student has further consents, and any WeCom card, may arrive twice.
Refused rows can be sent again too, once their cause is fixed (41030 after the first release, 47003 after the
template mapping is corrected); their consent was given back when they were refused.
Services here flush, never commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.audit import record_audit
from server.clearance.events import OutboxEvent
from server.clearance.models import Student
from server.messaging import claims, consent
from server.messaging.models import SubscriptionConsent

RESENDABLE = (claims.UNCONFIRMED, claims.REFUSED, claims.FAILED)
LIST_LIMIT = 200  # rows shown per status; the counts above the lists are exact

# What a platform's answer means for an operator, and what to do (WeChat and WeCom error codes).
EXPLANATIONS: dict[int, tuple[str, str]] = {
    41030: ("页面路径无效：小程序尚未发布正式版（首次发布之前），或消息打开的页面不在已发布的版本中。"
            "首次发布前请将 LIXIAO_WX_MINIPROGRAM_STATE 设为 trial 或 developer；发布后改回 formal，再重发这些消息。",
            "Invalid page: the mini-program has no released version yet (before its first release), or the page "
            "the message opens is not in the released version. Before the first release set "
            "LIXIAO_WX_MINIPROGRAM_STATE to trial or developer; after it, set formal again and resend these."),
    43101: ("学生没有可用的订阅次数（未同意或已用完，一次同意只能发送一条）。"
            "消息保留在应用内通知中；学生再次订阅后才能推送。",
            "The student has no subscription left for this template (never accepted, or used up: one consent, one "
            "message). The notification stays in the app; pushes resume when the student subscribes again."),
    47003: ("模板参数不正确（微信的 errmsg 指出字段）。请核对订阅消息模板的关键词配置，修正后重发。",
            "A template value or keyword is wrong (WeChat's errmsg names the field). Check the template keyword "
            "mapping, then resend."),
    40003: ("openid 无效：绑定来自另一个小程序（AppID），或学生已注销。",
            "Invalid openid: the binding comes from another mini-program (AppID), or the user is gone."),
    40037: ("模板 ID 无效：请核对 LIXIAO_WX_TEMPLATE_* 设置与公众平台中的模板。",
            "Invalid template id: check the LIXIAO_WX_TEMPLATE_* settings against the account's templates."),
    60020: ("企业微信：服务器 IP 不在应用的可信 IP 列表中。请在企业微信管理后台添加出口 IP。",
            "WeCom: the server's IP is not among the app's trusted IPs. Add the outgoing IP in the WeCom admin."),
    81013: ("企业微信：该成员不在应用的可见范围内。", "WeCom: the member is outside the app's visible range."),
}
RESENT_REFUSED = ("重发被微信拒绝（43101）：第一次推送已经送达，并用掉了学生的这次订阅，所以没有重复推送。",
                  "WeChat refused the resend (43101): the first push had arrived and used the student's consent, "
                  "so no duplicate was sent.")
ERRCODE = re.compile(r"^(-?\d+):")
NO_CONSENT = 43101  # WeChat: no subscription left for this template


@dataclass(frozen=True)
class ProblemRow:
    """One outbox row as the push-problems page shows it."""

    id: int
    student_no: str
    student_name: str
    event: str
    channel: str | None
    status: str
    errcode: int | None
    last_error: str | None
    created_at: datetime
    resent_at: datetime | None
    duplicate_possible: bool  # a resend might deliver it a second time (see the module's policy)
    explanation: tuple[str, str] | None


def errcode_of(last_error: str | None) -> int | None:
    """The platform's errcode at the front of `last_error` ("41030: invalid page …"), if any."""
    found = ERRCODE.match(last_error or "")
    return int(found.group(1)) if found else None


def explain(row: OutboxEvent) -> tuple[str, str] | None:
    """What the row's refusal means and what to do, in Chinese and English."""
    code = errcode_of(row.last_error)
    if code == NO_CONSENT and row.resent_at is not None and row.status == claims.REFUSED:
        return RESENT_REFUSED
    return EXPLANATIONS.get(code) if code is not None else None


def counts(session: Session) -> dict[str, int]:
    """Rows per problem status, and how many resends arrived or were refused."""
    found = dict.fromkeys(RESENDABLE, 0)
    found.update({str(s): int(n) for s, n in session.execute(
        select(OutboxEvent.status, func.count()).where(OutboxEvent.status.in_(RESENDABLE))
        .group_by(OutboxEvent.status)).all()})
    return found


def problem_rows(session: Session, status: str, limit: int = LIST_LIMIT) -> list[ProblemRow]:
    """The newest rows of one problem status, with what a resend risks and what a refusal means."""
    rows = session.execute(
        select(OutboxEvent, Student.student_no, Student.name).join(Student, Student.id == OutboxEvent.student_id)
        .where(OutboxEvent.status == status).order_by(OutboxEvent.id.desc()).limit(limit)).all()
    left = _consent_left(session, {(row.student_id, row.event) for row, _, _ in rows})
    return [ProblemRow(row.id, no, name, row.event, row.channel, row.status, errcode_of(row.last_error),
                       row.last_error, row.created_at, row.resent_at,
                       row.channel != "wechat" or left.get((row.student_id, row.event), 0) > 0, explain(row))
            for row, no, name in rows]


def _consent_left(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    if not keys:
        return {}
    found = session.execute(select(SubscriptionConsent.student_id, SubscriptionConsent.template_key,
                                   SubscriptionConsent.remaining)
                            .where(SubscriptionConsent.student_id.in_({sid for sid, _ in keys}))).all()
    return {(sid, key): n for sid, key, n in found}


def resend(session: Session, row_ids: Iterable[int], *, actor: str, origin: str, now: datetime) -> list[int]:
    """Queue rows again for the worker; returns the ids queued (rows not in a resendable status are left alone).

    An unconfirmed WeChat row gets back the consent its first attempt reserved, so the resend is judged by
    WeChat's own quota (43101 if the first one arrived and it was the last consent).
    """
    ids = sorted({int(i) for i in row_ids})
    rows: Sequence[OutboxEvent] = session.scalars(select(OutboxEvent).where(
        OutboxEvent.id.in_(ids), OutboxEvent.status.in_(RESENDABLE)).with_for_update()).all() if ids else []
    queued = []
    for row in rows:
        before = {"status": row.status, "channel": row.channel, "last_error": row.last_error}
        if row.status == claims.UNCONFIRMED and row.channel == "wechat":
            consent.give_back(session, row.student_id, row.event, now)
        session.execute(update(OutboxEvent).where(OutboxEvent.id == row.id, OutboxEvent.status == row.status).values(
            status=claims.PENDING, reason="resent", claimed_by=None, claimed_until=None, next_attempt_at=now,
            resent_at=now, resent_by=actor[:80]).execution_options(synchronize_session=False))
        record_audit(session, actor=actor, action="push.resend", entity=f"outbox:{row.id}", before=before,
                     after={"status": claims.PENDING, "student_id": row.student_id, "event": row.event},
                     origin=origin)
        queued.append(row.id)
    session.flush()
    return queued
