"""WeCom 60020 (this server's IP is not trusted) is held and retried with an alert, never refused for good."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, update

from server.clearance.events import OutboxEvent, event_row, insert_events
from server.messaging.recipients import remember_wecom_user
from server.platforms.common import Outcome, classify
from server.timeutil import utcnow
from tests.factories import make_batch
from tests.messaging.pushes import reachable_student, statuses


@pytest.mark.parametrize(("errcode", "outcome"), [(60020, Outcome.HELD), (40164, Outcome.HELD),
                                                   (81013, Outcome.PERMANENT), (45009, Outcome.TRANSIENT)])
def test_the_error_table(errcode: int, outcome: Outcome) -> None:
    assert classify(errcode) is outcome


def _wecom_push(session, emulator) -> int:  # type: ignore[no-untyped-def]
    student = reachable_student(session, make_batch(session), bound=False)
    remember_wecom_user(session, student.id, "wecom-held-1", utcnow())
    now = utcnow()
    insert_events(session, [event_row(student.id, "item_passed", "item_passed:h:library",
                                      {"batch_id": student.batch_id, "item": "library",
                                       "changed_at": now.isoformat()}, now)])
    session.commit()
    emulator.control("POST", "wecom/members", {"userid": "wecom-held-1"})
    row_id = int(session.scalars(select(OutboxEvent.id)).one())
    session.commit()  # end the read: on SQLite it would hold the worker's writes back
    return row_id


@pytest.mark.parametrize("api", ["wecom_send", "wecom_token"])
def test_60020_holds_the_push_alerts_and_it_goes_once_the_ip_is_trusted(
        app, session, settings, worker, emulator, caplog, api) -> None:
    row_id = _wecom_push(session, emulator)
    emulator.inject_fault(api, errcode=60020, times=3)
    with caplog.at_level(logging.ERROR, logger="server.platforms.common"):
        for _ in range(3):  # three tries, each answered 60020: still pending, never refused or failed
            worker.run_once()
            session.execute(update(OutboxEvent).values(next_attempt_at=utcnow()))  # skip the hold's wait
            session.commit()
    assert statuses(session) == {"pending": 1}
    row = session.get(OutboxEvent, row_id)
    assert row is not None and row.reason == "platform_held" and str(row.last_error).startswith("60020")
    session.commit()
    assert any("企业可信IP" in r.getMessage() for r in caplog.records)  # the alert says what to do
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'lixiao_outbox_held{reason="platform_held"} 1.0' in metrics
    worker.run_once()  # the IP is trusted now
    assert statuses(session) == {"sent": 1}
    assert len(emulator.messages("wecom")) == 1


def test_held_pushes_never_run_out_of_attempts(app, session, settings, worker, emulator) -> None:
    row_id = _wecom_push(session, emulator)
    session.execute(update(OutboxEvent).values(attempts=settings.outbox_max_attempts + 5))
    session.commit()
    emulator.inject_fault("wecom_send", errcode=60020)
    worker.run_once()
    assert statuses(session) == {"pending": 1}
    session.expire_all()
    assert session.get(OutboxEvent, row_id).reason == "platform_held"  # type: ignore[union-attr]
    session.commit()
