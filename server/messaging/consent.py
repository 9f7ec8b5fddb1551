"""Subscribe-message consent: one push per acceptance the mini-program reports, spent one per push.

The count is our best knowledge of WeChat's own quota: WeChat answers 43101 when it disagrees, and then
the count goes back to 0 until the student accepts again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db import rows_matched, table_of
from server.messaging.models import SubscriptionConsent
from server.messaging.templates import EVENT_KEYS, get_templates
from server.settings import Settings, long_term_templates, wx_template_id

# What the mini-program shows beside each subscription switch.
TEMPLATE_TITLES: dict[str, tuple[str, str]] = {
    "item_passed": ("离校事项通过提醒", "A clearance item passed"),
    "all_passed": ("可以提交离校申请提醒", "All items passed: you can submit"),
    "certificate_issued": ("离校证明签发提醒", "Clearance certificate issued"),
    "batch_closing_reminder": ("离校办理截止提醒", "Clearance batch closing soon"),
    "wechat_bound": ("账号绑定新微信提醒", "Your account was bound to a new WeChat"),
}

# What each one is for, said beside it when the student is asked (a one-time subscription is one push).
TEMPLATE_PURPOSES: dict[str, tuple[str, str]] = {
    "item_passed": ("每有一个离校事项通过，通知你一次", "One message each time one of your clearance items passes"),
    "all_passed": ("全部事项通过、可以提交离校申请时通知你",
                   "One message when every item has passed and you can submit"),
    "certificate_issued": ("离校证明签发后通知你去出示", "One message when your clearance certificate is issued"),
    "batch_closing_reminder": ("办理截止前提醒你尚未办完的事项",
                               "A reminder before your batch closes if you have not submitted"),
    "wechat_bound": ("你的账号被绑定到新的微信时提醒你（防止他人冒用）",
                     "A warning when your account is bound to a new WeChat (in case it was not you)"),
}


def accept(session: Session, student_id: int, keys: Iterable[str], now: datetime) -> None:
    """Count one more allowed push for every accepted template key."""
    for key in keys:
        if key not in EVENT_KEYS:
            raise KeyError(key)
        bumped = rows_matched(session.execute(
            update(SubscriptionConsent)
            .where(SubscriptionConsent.student_id == student_id, SubscriptionConsent.template_key == key)
            .values(remaining=SubscriptionConsent.remaining + 1, updated_at=now)
        ))
        if bumped:
            continue
        try:
            with session.begin_nested():  # a concurrent first acceptance may insert the same row
                session.add(SubscriptionConsent(student_id=student_id, template_key=key, remaining=1, updated_at=now))
        except IntegrityError:
            session.execute(
                update(SubscriptionConsent)
                .where(SubscriptionConsent.student_id == student_id, SubscriptionConsent.template_key == key)
                .values(remaining=SubscriptionConsent.remaining + 1, updated_at=now)
            )


def remaining(session: Session, student_id: int) -> dict[str, int]:
    """Allowed pushes per template key (0 for templates never accepted)."""
    rows = session.execute(
        select(SubscriptionConsent.template_key, SubscriptionConsent.remaining)
        .where(SubscriptionConsent.student_id == student_id)
    ).all()
    counts = dict.fromkeys(EVENT_KEYS, 0)
    counts.update({key: count for key, count in rows if key in counts})
    return counts


def describe(settings: Settings, counts: dict[str, int]) -> list[dict[str, Any]]:
    """The subscription list the API answers with: template ids for wx.requestSubscribeMessage and counts."""
    templates, long_term = get_templates(), long_term_templates(settings)
    return [
        {"key": key, "template_id": wx_template_id(settings, templates[key].template_id_setting),
         "title": TEMPLATE_TITLES[key][0], "title_en": TEMPLATE_TITLES[key][1],
         "purpose": TEMPLATE_PURPOSES.get(key, ("", ""))[0], "purpose_en": TEMPLATE_PURPOSES.get(key, ("", ""))[1],
         "remaining": counts[key], "long_term": key in long_term}
        for key in EVENT_KEYS
    ]


_C = table_of(SubscriptionConsent)
# Built once: they run for pushes, on a session or on the worker's bare connection.
_RESERVE = (
    update(_C)
    .where(_C.c.student_id == bindparam("sid"), _C.c.template_key == bindparam("key"), _C.c.remaining > 0)
    .values(remaining=_C.c.remaining - 1, updated_at=bindparam("now"))
)
_HAS_CONSENT = select(_C.c.id).where(_C.c.student_id == bindparam("sid"), _C.c.template_key == bindparam("key"),
                                     _C.c.remaining > 0)
_GIVE_BACK = (
    update(_C)
    .where(_C.c.student_id == bindparam("sid"), _C.c.template_key == bindparam("key"))
    .values(remaining=_C.c.remaining + 1, updated_at=bindparam("now"))
)
_RESET = (
    update(_C)
    .where(_C.c.student_id == bindparam("sid"), _C.c.template_key == bindparam("key"))
    .values(remaining=0, updated_at=bindparam("now"))
)


def reserve(db: Session | Connection, student_id: int, key: str, now: datetime, *, long_term: bool = False) -> bool:
    """Take one allowed push before sending; False when none is left. A long-term template's consent is not
    used up: it only has to be there."""
    if long_term:
        return bool(db.execute(_HAS_CONSENT, {"sid": student_id, "key": key}).first())
    return bool(rows_matched(db.execute(_RESERVE, {"sid": student_id, "key": key, "now": now})))


def give_back(db: Session | Connection, student_id: int, key: str, now: datetime) -> None:
    """Return a reserved push that WeChat did not deliver (its own quota was not spent either)."""
    db.execute(_GIVE_BACK, {"sid": student_id, "key": key, "now": now})


def reset(db: Session | Connection, student_id: int, key: str, now: datetime) -> None:
    """WeChat said 43101: the student has no quota left for this template, whatever we counted."""
    db.execute(_RESET, {"sid": student_id, "key": key, "now": now})
