"""A bulk import turns 1,000 items green: one push per transition for students with consent, in-app for all."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from server.clearance.events import OutboxEvent
from tests.factories import ITEM_KEYS, make_batch, student_token
from tests.messaging.pushes import delivered_keys, drain, inbox, openid_of, reachable_student, turn_green

STUDENTS = 250  # four items each: 1,000 items turn green

EVENTS = len(ITEM_KEYS) + 1  # every item turns green, then "all passed"


@pytest.mark.slow
def test_thousand_items_turned_green_push_once_each(app, session, settings, worker, emulator, api) -> None:
    batch = make_batch(session)
    consenting, unconsenting, unbound = [], [], []
    for i in range(STUDENTS):
        if i % 2 == 0:
            consenting.append(reachable_student(session, batch,
                                                consents={"item_passed": len(ITEM_KEYS), "all_passed": 1}))
        elif i % 4 == 1:
            unconsenting.append(reachable_student(session, batch))
        else:
            unbound.append(reachable_student(session, batch, bound=False))
    session.commit()
    for student in consenting:  # WeChat's own count of the student's acceptances
        emulator.set_quota(openid_of(student), "demo-tmpl-item-passed", len(ITEM_KEYS))
        emulator.set_quota(openid_of(student), "demo-tmpl-all-passed", 1)
    students = consenting + unconsenting + unbound
    for start in range(0, STUDENTS, 100):  # an import commits in chunks
        turn_green(session, settings, students[start:start + 100])
        session.commit()

    counts = drain(worker, session, timeout=120)

    assert counts == {"sent": EVENTS * len(consenting), "skipped": EVENTS * (len(unconsenting) + len(unbound))}
    messages = emulator.messages("wechat")
    per_message = delivered_keys(messages)
    assert len(messages) == EVENTS * len(consenting) and set(per_message.values()) == {1}
    per_student = Counter((m["touser"], m["template_id"]) for m in messages)
    assert per_student == {**{(openid_of(s), "demo-tmpl-item-passed"): len(ITEM_KEYS) for s in consenting},
                           **{(openid_of(s), "demo-tmpl-all-passed"): 1 for s in consenting}}
    assert emulator.stats()["calls"]["subscribe_send"] == len(messages)  # no retry, no refusal

    reasons = Counter()
    for student in students:
        items = inbox(session, student.id)
        assert len(items) == EVENTS and {i["event"] for i in items} == {"item_passed", "all_passed"}
        reasons.update((i["pushed"], i["not_pushed_reason"]) for i in items)
    assert reasons == {(True, None): EVENTS * len(consenting), (False, "no_consent"): EVENTS * len(unconsenting),
                       (False, "no_wechat_binding"): EVENTS * len(unbound)}
    # …and the same through the API, for one student of each kind.
    for student in (consenting[0], unconsenting[0], unbound[0]):
        answer = api(student_token(session, settings, student)).get("/api/v1/me/notifications")
        assert answer.status_code == 200
        assert len(answer.json()["items"]) == EVENTS
    rows = session.scalars(select(OutboxEvent).where(OutboxEvent.student_id == consenting[0].id)).all()
    assert all(r.channel == "wechat" and r.sent_at is not None for r in rows)
