"""Push problems on the dashboard: unconfirmed pushes listed, counted in /metrics and resent (audited);
WeChat's one-consent-one-message quota refusing a resend whose first send arrived; 41030 explained."""

from __future__ import annotations

from datetime import timedelta

import requests
from sqlalchemy import select, update

from server.audit import AuditEntry
from server.clearance.events import OutboxEvent, event_row, insert_events
from server.messaging import claims, consent
from server.messaging.models import SubscriptionConsent
from server.timeutil import utcnow
from tests.factories import make_batch, sign_in_client
from tests.messaging.pushes import drain, openid_of, reachable_student, statuses
from tests.web.conftest import csrf_for, csrf_of, make_staff

TEMPLATE = "demo-tmpl-item-passed"


def _admin(app, session):  # type: ignore[no-untyped-def]
    client = app.test_client()
    staff = make_staff(session, "push-admin", "admin")
    return sign_in_client(client, app, staff_id=staff.id)


def _event(session, student, item: str = "library") -> int:  # type: ignore[no-untyped-def]
    now = utcnow()
    insert_events(session, [event_row(student.id, "item_passed", f"item_passed:{student.batch_id}:{item}",
                                      {"batch_id": student.batch_id, "item": item, "changed_at": now.isoformat()},
                                      now)])
    session.commit()
    return session.scalars(select(OutboxEvent.id).where(OutboxEvent.student_id == student.id)).one()


def _killed_after_the_bytes_left(session, row_id: int) -> None:  # type: ignore[no-untyped-def]
    """The state a worker killed after its request left (before recording the answer) ends in."""
    session.execute(update(OutboxEvent).where(OutboxEvent.id == row_id).values(
        status=claims.UNCONFIRMED, sent_at=None, platform_msgid=None, last_error="worker stopped while sending"))
    session.commit()


def _killed_before_the_bytes_left(session, row_id: int) -> None:  # type: ignore[no-untyped-def]
    """A worker committed "sending" (reserving the consent) and died before its request left; the lease ran out."""
    now = utcnow()
    assert claims.claim(session, "dead-worker", now, 1, 10) == [row_id]
    row = session.get(OutboxEvent, row_id)
    assert consent.reserve(session, row.student_id, row.event, now)
    assert claims.mark_sending(session, row_id, "dead-worker", "wechat", now, 1)
    session.commit()
    assert claims.recover_abandoned(session, now + timedelta(seconds=5)) == 1


def test_unconfirmed_pushes_are_listed_counted_and_resent_and_wechat_refuses_the_duplicate(
        app, session, settings, worker, emulator, live) -> None:
    batch = make_batch(session)
    arrived, lost = (reachable_student(session, batch, consents={"item_passed": 1}) for _ in range(2))
    session.commit()
    for student in (arrived, lost):
        emulator.consent(openid_of(student), TEMPLATE)  # one tap on 允许 each: one message each
    first = _event(session, arrived)
    assert drain(worker, session) == {"sent": 1} and len(emulator.messages("wechat")) == 1
    _killed_after_the_bytes_left(session, first)
    second = _event(session, lost)
    _killed_before_the_bytes_left(session, second)
    assert statuses(session) == {"unconfirmed": 2}

    admin = _admin(app, session)
    page = admin.get("/admin/pushes").get_data(as_text=True)
    assert 'id="count-unconfirmed">2<' in page and f'id="push-{first}"' in page and f'id="push-{second}"' in page
    assert page.count("重发安全：") == 2  # neither student has a consent left: WeChat refuses a duplicate
    metrics = requests.get(f"{live.url}/metrics", timeout=10).text
    assert 'lixiao_outbox_events{status="unconfirmed"} 2.0' in metrics

    answer = admin.post("/admin/pushes/resend", data={"csrf_token": csrf_of(admin, "/admin/pushes"),
                                                      "id": [str(first), str(second)]})
    assert answer.status_code == 303
    session.expire_all()
    audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "push.resend")).all()
    assert sorted(a.entity for a in audits) == sorted([f"outbox:{first}", f"outbox:{second}"])
    assert {a.actor for a in audits} == {"staff:push-admin"}
    assert all(a.before["status"] == "unconfirmed" for a in audits)
    session.commit()

    drain(worker, session)
    rows = {r.id: r for r in session.scalars(select(OutboxEvent))}
    assert rows[second].status == "sent"  # it never arrived: now it has, once
    assert rows[first].status == "refused" and rows[first].last_error.startswith("43101")  # it had arrived
    by_student = [m["touser"] for m in emulator.messages("wechat")]
    assert sorted(by_student) == sorted([openid_of(arrived), openid_of(lost)])  # nobody got one twice
    assert session.scalars(select(SubscriptionConsent.remaining)).all() == [0, 0]
    session.commit()

    page = admin.get("/admin/pushes").get_data(as_text=True)
    assert 'id="count-unconfirmed">0<' in page and 'id="count-refused">1<' in page
    assert "第一次推送已经送达" in page
    metrics = requests.get(f"{live.url}/metrics", timeout=10).text
    assert 'lixiao_outbox_resent_events{status="refused"} 1.0' in metrics
    assert 'lixiao_outbox_resent_events{status="sent"} 1.0' in metrics


def test_a_resend_may_duplicate_when_the_student_has_consent_left(app, session, worker, emulator) -> None:
    student = reachable_student(session, make_batch(session), consents={"item_passed": 2})
    session.commit()
    emulator.set_quota(openid_of(student), TEMPLATE, 2)
    row = _event(session, student)
    drain(worker, session)
    _killed_after_the_bytes_left(session, row)
    page = _admin(app, session).get("/admin/pushes").get_data(as_text=True)
    assert "重发可能重复送达" in page and "重发安全" not in page


def test_41030_before_the_first_release_is_explained(app, session, worker, emulator) -> None:
    emulator.release([])  # no released version yet, and LIXIAO_WX_MINIPROGRAM_STATE is "formal"
    student = reachable_student(session, make_batch(session), consents={"item_passed": 1})
    session.commit()
    emulator.consent(openid_of(student), TEMPLATE)
    _event(session, student)
    assert drain(worker, session) == {"refused": 1}
    admin = _admin(app, session)
    page = admin.get("/admin/pushes").get_data(as_text=True)
    assert "41030" in page
    assert "小程序尚未发布正式版" in page
    english = admin.get("/admin/pushes", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "before its first release" in english and "小程序尚未发布正式版" not in english
    assert "LIXIAO_WX_MINIPROGRAM_STATE" in page


def test_resend_refuses_bad_input_and_ignores_rows_that_are_fine(app, session, worker, emulator) -> None:
    student = reachable_student(session, make_batch(session), consents={"item_passed": 1})
    session.commit()
    emulator.consent(openid_of(student), TEMPLATE)
    row = _event(session, student)
    assert drain(worker, session) == {"sent": 1}
    admin = _admin(app, session)
    token = csrf_for(app, admin)  # the page has no form when nothing is wrong
    for bad in ({}, {"id": "abc"}, {"id": "-1"}):
        answer = admin.post("/admin/pushes/resend", data={"csrf_token": token, **bad})
        assert answer.status_code == 400 and "VALIDATION_ERROR" in answer.get_data(as_text=True)
    assert admin.post("/admin/pushes/resend", data={"csrf_token": token, "id": str(row)}).status_code == 303
    session.expire_all()
    assert statuses(session) == {"sent": 1}  # a sent push is never sent again
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "push.resend")).all() == []
