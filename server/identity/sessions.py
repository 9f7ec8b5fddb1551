"""Signed-in devices: browser sessions and API tokens are rows that their owner, or an administrator, can end.

A browser's cookie names a `web` row, a bearer token an `api` row (server/identity/tokens.py); either carries
only the row's random id, signed. The row is the truth: ending it signs that device out at once, whatever copy
of the cookie or token anyone kept. Each device is shown by a handle (a digest of the id), never the id itself,
so the page that lists them hands out nothing that signs anybody in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from server.audit import record_audit
from server.db import rows_matched
from server.errors import ApiError, ErrorCode
from server.identity.models import ApiSession, Staff
from server.identity.permissions import is_admin
from server.vocabulary import SESSION_CHANNEL_LABELS, code_label

WEB, API = "web", "api"

# What a session can be started through (its words: SESSION_CHANNEL_LABELS, keyed "<kind>:<channel>").
CHANNELS = ((WEB, "browser"), (WEB, "wecom"), (API, "wechat"), (API, "wecom"))


@dataclass(frozen=True)
class Device:
    """One live session of a person, as the devices page and the API show it."""

    handle: str
    kind: str
    channel: str
    label: tuple[str, str]
    device: str
    created_at: datetime
    expires_at: datetime
    current: bool


def handle_of(session_id: str) -> str:
    """The public name of a session: enough to end it by, useless to sign in with."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:24]


_AGENTS = [("wxwork", "企业微信 WeCom"), ("MicroMessenger", "微信 WeChat"), ("Edg/", "Edge"), ("Firefox/", "Firefox"),
           ("Chrome/", "Chrome"), ("Safari/", "Safari")]
_SYSTEMS = [("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("HarmonyOS", "HarmonyOS"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]


def describe_agent(user_agent: str | None) -> str | None:
    """A short, recognisable name for a device from its User-Agent ("Chrome · Windows"), or None."""
    text = (user_agent or "")[:512]
    agent = next((name for mark, name in _AGENTS if mark in text), None)
    system = next((name for mark, name in _SYSTEMS if mark in text), None)
    found = " · ".join(n for n in (agent, system) if n)
    return found or (re.sub(r"[^\w./ -]", "", text)[:40] or None)


def start_web_session(session: Session, *, student_id: int | None, staff_id: int | None, channel: str,
                      user_agent: str | None, now: datetime, ttl_seconds: int) -> ApiSession:
    """A new browser session row; its id goes into the signed cookie."""
    row = ApiSession(id=secrets.token_urlsafe(32), kind=WEB, channel=channel, student_id=student_id,
                     staff_id=staff_id, created_at=now, expires_at=now + timedelta(seconds=ttl_seconds),
                     device=describe_agent(user_agent))
    session.add(row)
    session.flush()
    return row


def live_web_session(session: Session, session_id: object, now: datetime) -> ApiSession | None:
    """The browser session a cookie names, if it is still live (not ended, not expired)."""
    if not isinstance(session_id, str) or not 20 <= len(session_id) <= 43:
        return None
    row = session.get(ApiSession, session_id)
    if row is None or row.kind != WEB or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def end(row: ApiSession, now: datetime) -> None:
    """End one session (logging out, or its owner ending it from another device)."""
    if row.revoked_at is None:
        row.revoked_at = now


def _live(now: datetime) -> ColumnElement[bool]:
    """The SQL condition of a session that still counts."""
    return (ApiSession.revoked_at.is_(None)) & (ApiSession.expires_at > now)


def student_devices(session: Session, student_id: int, *, now: datetime, current: str | None) -> list[Device]:
    """The student's live sessions, newest first; `current` is the id of the session asking."""
    rows = session.scalars(select(ApiSession).where(ApiSession.student_id == student_id, _live(now))
                           .order_by(ApiSession.created_at.desc(), ApiSession.id))
    return [Device(handle=handle_of(r.id), kind=r.kind, channel=r.channel,
                   label=code_label(SESSION_CHANNEL_LABELS, f"{r.kind}:{r.channel}"), device=r.device or "",
                   created_at=r.created_at, expires_at=r.expires_at, current=r.id == current) for r in rows]


def end_student_device(session: Session, student_id: int, handle: str, *, now: datetime) -> None:
    """End one of the student's live sessions by its handle, or 404 (also for someone else's)."""
    rows = session.scalars(select(ApiSession).where(ApiSession.student_id == student_id, _live(now)))
    row = next((r for r in rows if secrets.compare_digest(handle_of(r.id), handle[:64])), None)
    if row is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "没有这个登录设备，或它已退出",
                       "No such signed-in device, or it has ended")
    end(row, now)
    session.flush()


def end_other_student_devices(session: Session, student_id: int, *, now: datetime, keep: str | None) -> int:
    """End every live session of the student but `keep` (the one asking); how many were ended."""
    condition = (ApiSession.student_id == student_id) & _live(now)
    if keep is not None:
        condition &= ApiSession.id != keep
    return rows_matched(session.execute(update(ApiSession).where(condition).values(revoked_at=now)))


def end_staff_sessions(session: Session, actor: Staff, staff_id: int, *, now: datetime, origin: str = "") -> int:
    """An administrator ends every live session of a staff member (browser and API), audited; how many."""
    if not is_admin(actor):
        raise ApiError(403, ErrorCode.FORBIDDEN, "仅管理员可以管理工作人员", "Only administrators manage staff")
    target = session.get(Staff, staff_id)
    if target is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "未找到该工作人员", "No such staff account")
    condition = (ApiSession.staff_id == staff_id) & _live(now)
    live = session.scalar(select(func.count()).select_from(ApiSession).where(condition)) or 0
    session.execute(update(ApiSession).where(condition).values(revoked_at=now))
    record_audit(session, actor=f"staff:{actor.username}", action="staff.sessions_end",
                 entity=f"staff:{target.username}", before={"live_sessions": live}, after={"live_sessions": 0},
                 origin=origin)
    return live
