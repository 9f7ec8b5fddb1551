"""A new WeChat binding is announced to the student on every channel they have (review F1), never to the new WeChat."""

from __future__ import annotations

from sqlalchemy import select

from server.audit import AuditEntry
from server.identity.accounts import Person
from server.identity.binding import bind_openid
from server.identity.models import ApiSession
from server.identity.tokens import issue_token, live_session
from server.messaging.recipients import remember_wecom_user
from server.timeutil import utcnow
from tests.factories import make_batch
from tests.messaging.pushes import drain, inbox, openid_of, reachable_student

BOUND_TEMPLATE = "demo-tmpl-wechat-bound"


def _bind(session, settings, student, openid: str) -> None:  # type: ignore[no-untyped-def]
    """What /bind/cas/callback does once CAS confirmed a fresh login: bind the mini-program session's openid."""
    now = utcnow()
    token = issue_token(session, settings.secret_key, channel="wechat", now=now, ttl_seconds=600, openid=openid)
    row = live_session(session, settings.secret_key, token, now=now, ttl_seconds=600)
    assert isinstance(row, ApiSession)
    bind_openid(session, row, Person(student=student), now=now, origin="test")
    session.commit()


def test_a_moved_binding_reaches_wecom_and_the_previous_wechat_never_the_new_one(app, session, settings, worker,
                                                                                 emulator) -> None:
    student = reachable_student(session, make_batch(session), consents={"wechat_bound": 1})
    remember_wecom_user(session, student.id, "wecom-victim", utcnow())
    session.commit()
    emulator.control("POST", "wecom/members", {"userid": "wecom-victim"})
    emulator.set_quota(openid_of(student), BOUND_TEMPLATE, 1)
    emulator.set_quota("o-thief", BOUND_TEMPLATE, 5)  # the new WeChat allowing it changes nothing
    _bind(session, settings, student, "o-thief")
    assert drain(worker, session) == {"sent": 2}
    wechat, wecom = emulator.messages("wechat"), emulator.messages("wecom")
    assert [(m["touser"], m["template_id"]) for m in wechat] == [(openid_of(student), BOUND_TEMPLATE)]
    assert wechat[0]["data"]["character_string2"]["value"] == student.student_no
    assert [m["touser"] for m in wecom] == ["wecom-victim"]
    assert "绑定到一个新的微信" in wecom[0]["msg"]["description"]
    [note] = inbox(session, student.id)  # the WeCom copy is not listed twice
    assert note["event"] == "wechat_bound" and note["title"] == "离校账号已绑定新的微信"
    assert note["pushed"] is True and note["channel"] == "wechat"
    assert "If this was not you" in note["body_en"]


def test_a_first_binding_is_always_in_app_and_goes_to_wecom(app, session, settings, worker, emulator) -> None:
    student = reachable_student(session, make_batch(session), bound=False, consents={"wechat_bound": 3})
    remember_wecom_user(session, student.id, "wecom-first", utcnow())
    session.commit()
    emulator.control("POST", "wecom/members", {"userid": "wecom-first"})
    emulator.set_quota("o-first", BOUND_TEMPLATE, 5)
    _bind(session, settings, student, "o-first")
    assert drain(worker, session) == {"sent": 1, "skipped": 1}
    assert emulator.messages("wechat") == []  # no WeChat was bound before: nobody else to tell there
    assert [m["touser"] for m in emulator.messages("wecom")] == ["wecom-first"]
    [note] = inbox(session, student.id)
    assert note["event"] == "wechat_bound" and not note["pushed"]
    assert note["not_pushed_reason"] == "no_wechat_binding"


def test_without_wecom_or_consent_the_notification_stays_in_app(app, session, settings, worker, emulator) -> None:
    student = reachable_student(session, make_batch(session))  # bound before, allowed no push of this kind
    session.commit()
    _bind(session, settings, student, "o-other")
    assert drain(worker, session) == {"skipped": 2}
    assert emulator.messages() == []
    [note] = inbox(session, student.id)
    assert note["not_pushed_reason"] == "no_consent"


def test_rebinding_the_same_pair_announces_nothing_and_each_new_binding_once(app, session, settings) -> None:
    student = reachable_student(session, make_batch(session), bound=False)
    session.commit()
    _bind(session, settings, student, "o-one")
    _bind(session, settings, student, "o-one")  # the same pair again: nothing new
    assert len(inbox(session, student.id)) == 1
    _bind(session, settings, student, "o-two")
    assert len(inbox(session, student.id)) == 2
    assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "wechat.rebind")).all()) == 1
