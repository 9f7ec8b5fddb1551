"""Make pushes visible in the demo: a few demo students bound to WeChat, with consent on both sides."""

from __future__ import annotations

from datetime import datetime

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clearance.models import ItemState, Student
from server.identity.models import WechatBinding
from server.messaging import consent
from server.messaging.models import SubscriptionConsent
from server.messaging.templates import EVENT_KEYS, get_templates
from server.settings import Settings, wx_template_id

DEMO_CONSENTS = 20  # acceptances per template: plenty for a demo session


def prepare_demo_pushes(session: Session, settings: Settings, emulator_url: str, now: datetime,
                        count: int = 5) -> list[str]:
    """Bind `count` demo students with a red item to WeChat and allow pushes; returns their student numbers.

    The emulator is told the same quota, as WeChat would be after the student tapped "allow". Commits.
    """
    red = (select(Student).join(ItemState, ItemState.student_id == Student.id)
           .where(ItemState.status == "not_passed").distinct().order_by(Student.id).limit(count))
    students = list(session.scalars(red))
    http = requests.Session()
    templates = get_templates()
    for student in students:
        openid = session.scalar(select(WechatBinding.openid).where(WechatBinding.student_id == student.id))
        if openid is None:
            openid = f"o-demo-{student.student_no}"
            session.add(WechatBinding(openid=openid, student_id=student.id, bound_at=now))
        have = consent.remaining(session, student.id)
        for key in EVENT_KEYS:
            if have[key] < DEMO_CONSENTS:
                session.add(_consent_row(session, student.id, key, now))
            http.put(emulator_url.rstrip("/") + "/_control/wx/quota", timeout=5, json={
                "openid": openid, "count": DEMO_CONSENTS,
                "template_id": wx_template_id(settings, templates[key].template_id_setting)}).raise_for_status()
    session.commit()
    return [s.student_no for s in students]


def _consent_row(session: Session, student_id: int, key: str, now: datetime) -> SubscriptionConsent:
    row = session.scalars(select(SubscriptionConsent).where(SubscriptionConsent.student_id == student_id,
                                                            SubscriptionConsent.template_key == key)).one_or_none()
    if row is None:
        row = SubscriptionConsent(student_id=student_id, template_key=key)
    row.remaining, row.updated_at = DEMO_CONSENTS, now
    return row
