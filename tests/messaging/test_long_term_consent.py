"""Long-term subscribe templates (长期订阅): one consent, many sends; consent is never used up by a send."""

from __future__ import annotations

from sqlalchemy import select

from server.clearance.events import enqueue_certificate_issued
from server.messaging.models import SubscriptionConsent
from server.messaging.worker import Worker
from server.timeutil import utcnow
from tests.factories import make_batch
from tests.messaging.pushes import drain, openid_of, reachable_student


def _worker(app, settings) -> Worker:  # type: ignore[no-untyped-def]
    state = app.extensions["lixiao"]
    return Worker(settings.with_overrides(wx_long_term_templates="certificate_issued"), engine=state.engine,
                  redis_client=state.redis, sources=state.sources)


def test_one_long_term_consent_covers_every_send(app, session, settings, emulator) -> None:
    student = reachable_student(session, make_batch(session), consents={"certificate_issued": 1})
    emulator.set_quota(openid_of(student), "demo-tmpl-certificate-issued", 10)  # WeChat keeps a long-term one
    for n in range(3):
        enqueue_certificate_issued(session, student, f"LX2027-00000{n}", utcnow())
    session.commit()
    assert drain(_worker(app, settings), session) == {"sent": 3}
    assert session.scalar(select(SubscriptionConsent.remaining)) == 1
    assert len(emulator.messages("wechat")) == 3


def test_a_one_time_template_still_spends_its_consent(app, session, settings, emulator) -> None:
    student = reachable_student(session, make_batch(session), consents={"all_passed": 1, "certificate_issued": 1})
    emulator.set_quota(openid_of(student), "demo-tmpl-certificate-issued", 10)
    for n in range(2):
        enqueue_certificate_issued(session, student, f"LX2027-00000{n}", utcnow())
    session.commit()
    state = app.extensions["lixiao"]
    one_time = Worker(settings, engine=state.engine, redis_client=state.redis, sources=state.sources)
    assert drain(one_time, session) == {"sent": 1, "skipped": 1}


def test_without_consent_a_long_term_template_is_not_sent(app, session, settings, emulator) -> None:
    student = reachable_student(session, make_batch(session))
    enqueue_certificate_issued(session, student, "LX2027-000001", utcnow())
    session.commit()
    assert drain(_worker(app, settings), session) == {"skipped": 1}
    assert emulator.messages() == []
