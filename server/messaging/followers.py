"""Who follows the university's service account (服务号), and which student each follower is.

A follower's service-account openid is linked to a student in one of two ways:
- by unionid, when the mini-program and the service account sit under one Open Platform account:
  code2session gives the mini-program's unionid at login (`remember_unionid`), user/info gives the
  follower's, and equal unionids are one person;
- by the OAuth (snsapi_base) page the account's menu opens: WeChat tells that page the reader's openid,
  and the page knows the signed-in student (`link_by_oauth`).

Follow and unfollow arrive as callback events (server/web/service_account.py); each carries WeChat's
CreateTime, and an event older than the last one applied changes nothing, so a replayed or late
"subscribe" cannot undo a later "unsubscribe". A send answered 43004 marks the follower unfollowed.
Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.db import Base, UTCDateTime
from server.identity.models import WechatBinding
from server.timeutil import utcnow


class ServiceAccountFollower(Base):
    """One user of the service account: follows or not, and the student it is linked to (if known)."""

    __tablename__ = "service_account_followers"
    __table_args__ = (UniqueConstraint("openid"), UniqueConstraint("student_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))  # the service account's openid (not the mini-program's)
    unionid: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), default=None)
    following: Mapped[bool] = mapped_column(Boolean, default=False)
    linked_via: Mapped[str | None] = mapped_column(String(16), default=None)  # unionid | oauth
    event_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)  # last applied event's time
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MiniProgramUnionid(Base):
    """The unionid code2session gave for a mini-program openid (only under an Open Platform account)."""

    __tablename__ = "wechat_unionids"
    __table_args__ = (UniqueConstraint("openid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))  # the mini-program's openid
    unionid: Mapped[str] = mapped_column(String(64), index=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def remember_unionid(session: Session, openid: str, unionid: str | None, now: datetime) -> None:
    """Note the unionid of a mini-program login, and link a follower with the same unionid to its student."""
    if not unionid:
        return
    row = session.scalars(select(MiniProgramUnionid).where(MiniProgramUnionid.openid == openid)).one_or_none()
    if row is None:
        session.add(MiniProgramUnionid(openid=openid, unionid=unionid, seen_at=now))
    else:
        row.unionid, row.seen_at = unionid, now
    session.flush()
    student_id = session.scalar(select(WechatBinding.student_id).where(WechatBinding.openid == openid))
    if student_id is not None:
        _link_unionid(session, unionid, student_id, now)


def student_of_unionid(session: Session, unionid: str) -> int | None:
    """The bound student whose mini-program login carried this unionid."""
    return session.scalar(select(WechatBinding.student_id)
                          .join(MiniProgramUnionid, MiniProgramUnionid.openid == WechatBinding.openid)
                          .where(MiniProgramUnionid.unionid == unionid, WechatBinding.student_id.is_not(None)))


def _link_unionid(session: Session, unionid: str, student_id: int, now: datetime) -> None:
    follower = session.scalars(select(ServiceAccountFollower)
                               .where(ServiceAccountFollower.unionid == unionid)).first()
    if follower is not None and follower.student_id != student_id:
        _link(session, follower, student_id, "unionid", now)


def _link(session: Session, follower: ServiceAccountFollower, student_id: int, via: str, now: datetime) -> None:
    # A student has one service-account openid: an older link of theirs moves to this one.
    session.execute(update(ServiceAccountFollower)
                    .where(ServiceAccountFollower.student_id == student_id, ServiceAccountFollower.id != follower.id)
                    .values(student_id=None, linked_via=None, updated_at=now))
    session.flush()
    follower.student_id, follower.linked_via, follower.updated_at = student_id, via, now
    session.flush()


def _follower(session: Session, openid: str, now: datetime) -> ServiceAccountFollower:
    follower = session.scalars(select(ServiceAccountFollower)
                               .where(ServiceAccountFollower.openid == openid)).one_or_none()
    if follower is None:
        follower = ServiceAccountFollower(openid=openid, following=False, updated_at=now)
        session.add(follower)
        session.flush()
    return follower


def apply_event(session: Session, openid: str, following: bool, event_at: datetime, now: datetime,
                unionid: str | None = None) -> bool:
    """Apply a follow/unfollow event unless a later one was applied already; returns whether it changed anything."""
    follower = _follower(session, openid, now)
    if follower.event_at is not None and event_at <= follower.event_at:
        return False
    follower.following, follower.event_at, follower.updated_at = following, event_at, now
    if unionid:
        follower.unionid = unionid
    session.flush()
    if unionid and follower.student_id is None:
        student_id = student_of_unionid(session, unionid)
        if student_id is not None:
            _link(session, follower, student_id, "unionid", now)
    return True


def link_by_oauth(session: Session, openid: str, student_id: int, now: datetime) -> ServiceAccountFollower:
    """The signed-in student opened the account's page: this openid is theirs (follow state is unchanged)."""
    follower = _follower(session, openid, now)
    if follower.student_id != student_id:
        _link(session, follower, student_id, "oauth", now)
    return follower


def mark_unfollowed(session: Session, openid: str, now: datetime) -> None:
    """WeChat answered 43004 (not following): the student is no longer reachable through the account."""
    session.execute(update(ServiceAccountFollower).where(ServiceAccountFollower.openid == openid)
                    .values(following=False, updated_at=now))


def following_openids(session: Session, student_ids: set[int]) -> dict[int, str]:
    """The service-account openid of each of these students who follows the account."""
    rows = session.execute(select(ServiceAccountFollower.student_id, ServiceAccountFollower.openid).where(
        ServiceAccountFollower.student_id.in_(student_ids), ServiceAccountFollower.following.is_(True))).all()
    return {int(sid): openid for sid, openid in rows if sid is not None}


def status(session: Session, student_id: int) -> dict[str, object]:
    """What the student's page shows: linked to the account or not, following or not."""
    row = session.scalars(select(ServiceAccountFollower)
                          .where(ServiceAccountFollower.student_id == student_id)).one_or_none()
    return {"linked": row is not None, "following": bool(row and row.following)}

