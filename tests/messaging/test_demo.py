"""The demo binds a few students with a red item and allows their pushes on both sides."""

from __future__ import annotations

from server.messaging import consent
from server.messaging.demo import DEMO_CONSENTS, prepare_demo_pushes
from server.timeutil import utcnow
from tests.factories import make_batch
from tests.messaging.pushes import RED, import_records, reachable_student


def test_prepare_demo_pushes(app, session, settings, emulator) -> None:
    batch = make_batch(session)
    red = reachable_student(session, batch, bound=False)
    import_records(session, settings, [red], RED)
    reachable_student(session, batch, bound=False)  # nothing red: not chosen
    session.commit()
    assert prepare_demo_pushes(session, settings, emulator.url, utcnow()) == [red.student_no]
    assert prepare_demo_pushes(session, settings, emulator.url, utcnow()) == [red.student_no]  # repeatable
    assert set(consent.remaining(session, red.id).values()) == {DEMO_CONSENTS}
    quotas = emulator.control("GET", "wx/quota")
    assert {(q["openid"], q["count"]) for q in quotas} == {(f"o-demo-{red.student_no}", DEMO_CONSENTS)}
    assert len(quotas) == 5  # one per template
