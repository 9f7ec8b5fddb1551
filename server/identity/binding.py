"""Binding a WeChat identity (openid) to one person after a fresh unified-auth login, and unbinding it.

The unique constraints of `wechat_bindings` keep one person per openid and one openid per person; a new
binding that collides with an old one moves it (deleting the old row first), revokes the WeChat sessions
that named the old pairing, and is audited. Services flush, the view commits.

A student whose account is bound to a new WeChat identity is told on every channel they have (review F1: a
binding made from someone else's browser must not stay silent): an in-app notification always, a WeCom card
when they have logged in through WeCom, and a subscribe message to the WeChat that was bound *before*, when
they allowed it. Never to the WeChat just bound: that may be whoever took the account.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.audit import record_audit
from server.clearance.events import WECHAT_BOUND, event_row, insert_events
from server.clearance.models import Student
from server.errors import ApiError, ErrorCode
from server.identity.accounts import Person
from server.identity.models import ApiSession, Staff, WechatBinding
from server.identity.tokens import Principal

CHANNEL = "wechat"


def binding_of_openid(session: Session, openid: str) -> WechatBinding | None:
    """The binding of a WeChat identity, if any."""
    return session.scalars(select(WechatBinding).where(WechatBinding.openid == openid)).one_or_none()


def openid_of_student(session: Session, student_id: int) -> str | None:
    """The openid a student bound, i.e. where their subscribe messages go (None: not bound)."""
    return session.scalar(select(WechatBinding.openid).where(WechatBinding.student_id == student_id))


def openid_of_staff(session: Session, staff_id: int) -> str | None:
    """The openid a staff member bound for the counter mode (None: not bound)."""
    return session.scalar(select(WechatBinding.openid).where(WechatBinding.staff_id == staff_id))


def _binding_of_person(session: Session, person: Person) -> WechatBinding | None:
    column = WechatBinding.staff_id if person.staff else WechatBinding.student_id
    person_id = person.staff.id if person.staff else person.student.id  # type: ignore[union-attr]
    return session.scalars(select(WechatBinding).where(column == person_id).with_for_update()).one_or_none()


def _who(session: Session, binding: WechatBinding) -> str:
    if binding.staff_id is not None:
        staff = session.get(Staff, binding.staff_id)
        return f"staff:{staff.username if staff else binding.staff_id}"
    student = session.get(Student, binding.student_id)
    return f"student:{student.student_no if student else binding.student_id}"


def _revoke_wechat_sessions(session: Session, openid: str, *, now: datetime, keep: str | None = None) -> None:
    """End every live mini-program session of an openid (but `keep`)."""
    query = update(ApiSession).where(ApiSession.channel == CHANNEL, ApiSession.openid == openid,
                                     ApiSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(ApiSession.id != keep)
    session.execute(query.values(revoked_at=now))


def bind_openid(session: Session, api_session: ApiSession, person: Person, *, now: datetime,
                origin: str) -> WechatBinding:
    """Bind the openid of `api_session` to `person` (their CAS login was just checked); that session now names them.

    An openid bound to someone else, or a person bound to another openid, is moved: the old row goes, the
    sessions that named the old pairing are revoked, and the move is audited.
    """
    openid = api_session.openid
    if api_session.channel != CHANNEL or not openid:
        raise ApiError(403, ErrorCode.FORBIDDEN, "只能在小程序中绑定微信", "Only the mini-program can bind WeChat")
    by_openid = session.scalars(select(WechatBinding).where(WechatBinding.openid == openid)
                                .with_for_update()).one_or_none()
    by_person = _binding_of_person(session, person)
    api_session.student_id, api_session.staff_id = person.ids()["student_id"], person.ids()["staff_id"]
    if by_openid is not None and by_openid is by_person:
        session.flush()
        return by_openid
    before = {
        "openid_was_bound_to": _who(session, by_openid) if by_openid else None,
        "person_was_bound_to_openid": by_person.openid if by_person else None,
    }
    for old in (by_openid, by_person):
        if old is not None:
            session.delete(old)
    session.flush()  # the old rows go first, so the unique constraints never see two
    if by_openid is not None:
        _revoke_wechat_sessions(session, openid, now=now, keep=api_session.id)
    if by_person is not None:
        _revoke_wechat_sessions(session, by_person.openid, now=now)
    binding = WechatBinding(openid=openid, bound_at=now, **person.ids())
    session.add(binding)
    session.flush()
    if person.student is not None:
        _announce(session, person.student, previous_openid=by_person.openid if by_person else None, now=now)
    moved = by_openid is not None or by_person is not None
    record_audit(session, actor=person.actor, action="wechat.rebind" if moved else "wechat.bind",
                 entity=f"wechat_binding:{openid}", before=before if moved else None,
                 after={"openid": openid, "person": person.actor}, origin=origin)
    return binding


def _announce(session: Session, student: Student, *, previous_openid: str | None, now: datetime) -> None:
    """Outbox rows telling the student of a new binding: the notification (pushed to the previous WeChat only)
    and its copy for WeCom, which the in-app list does not show twice."""
    key = f"{WECHAT_BOUND}:{now:%Y%m%dT%H%M%S%f}"  # binding ids may be reused (SQLite), moments are not
    payload = {"changed_at": now.isoformat(), "batch_id": student.batch_id or 0}
    insert_events(session, [
        event_row(student.id, WECHAT_BOUND, key, {**payload, "channel": "wechat", "previous_openid": previous_openid},
                  now),
        event_row(student.id, WECHAT_BOUND, f"{key}:wecom", {**payload, "channel": "wecom"}, now),
    ])


def unbind(session: Session, principal: Principal, *, now: datetime, origin: str) -> None:
    """Remove the caller's WeChat binding and end every mini-program session of that openid; 404 if none."""
    if principal.staff_id is not None:
        binding = session.scalars(select(WechatBinding).where(WechatBinding.staff_id == principal.staff_id)
                                  .with_for_update()).one_or_none()
    else:
        binding = session.scalars(select(WechatBinding).where(WechatBinding.student_id == principal.student_id)
                                  .with_for_update()).one_or_none()
    if binding is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "您没有绑定微信", "No WeChat identity is bound to you")
    who, openid = _who(session, binding), binding.openid
    session.delete(binding)
    _revoke_wechat_sessions(session, openid, now=now)
    session.flush()
    record_audit(session, actor=who, action="wechat.unbind", entity=f"wechat_binding:{openid}",
                 before={"openid": openid, "person": who}, after=None, origin=origin)
