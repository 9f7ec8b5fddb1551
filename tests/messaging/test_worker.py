"""The worker against the emulator: token expiry, rate limits, refusals, value limits, concurrency."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import select

from server.clearance.events import OutboxEvent, enqueue_certificate_issued, event_row, insert_events
from server.messaging.models import SubscriptionConsent, WecomRecipient
from server.messaging.recipients import remember_wecom_user
from server.messaging.worker import Worker, run_in_thread
from server.timeutil import utcnow
from tests.factories import ITEM_KEYS, make_batch
from tests.messaging.pushes import delivered_keys, drain, inbox, openid_of, reachable_student, statuses, turn_green

ITEM_TEMPLATE = "demo-tmpl-item-passed"


def _enqueue_items(session, students, per_student: int = 4) -> None:  # type: ignore[no-untyped-def]
    """Queue `per_student` distinct item_passed events per student (distinct keys, distinct titles)."""
    now = utcnow()
    items = ("library", "archives", "apartment", "finance", "library", "archives", "apartment", "finance")
    rows = [event_row(s.id, "item_passed", f"item_passed:{round_}:{items[round_]}",
                      {"batch_id": s.batch_id, "item": items[round_], "changed_at": now.isoformat()}, now)
            for s in students for round_ in range(per_student)]
    insert_events(session, rows)
    session.commit()


def _consenting(session, emulator, count: int, quota: int = 4) -> list:  # type: ignore[no-untyped-def]
    batch = make_batch(session)
    students = [reachable_student(session, batch, consents={"item_passed": quota}) for _ in range(count)]
    session.commit()
    for s in students:
        emulator.set_quota(openid_of(s), ITEM_TEMPLATE, quota)
    return students


def test_access_token_expiring_mid_batch_is_refreshed_once_and_sending_continues(
        app, session, settings, emulator, clock) -> None:
    students = _consenting(session, emulator, 5)
    _enqueue_items(session, students)
    state = app.extensions["lixiao"]
    worker = Worker(settings.with_overrides(outbox_batch_size=8), engine=state.engine, redis_client=state.redis)
    assert worker.run_once() == 8
    clock.advance(7300)  # the platform's token (and its stable-token successor) expire; ours is still cached
    assert drain(worker, session) == {"sent": 20}
    stats = emulator.stats()
    assert stats["token_fetches"]["wechat_stable"] == 2  # the first token and exactly one refresh
    assert stats["tokens_issued"]["wechat"] == 0  # never the classic getAccessToken, which kills other tokens
    # The sends in flight when the token died were answered 42001, then retried once each.
    assert 20 < stats["calls"]["subscribe_send"] <= 20 + settings.worker_threads
    assert set(delivered_keys(emulator.messages()).values()) == {1}


def test_platform_rate_limit_backs_off_and_drops_nothing(app, session, settings, worker, emulator) -> None:
    students = _consenting(session, emulator, 3)
    _enqueue_items(session, students)
    emulator.inject_fault("subscribe_send", 45009, times=4)
    worker.run_once()
    waiting = [i for s in students for i in inbox(session, s.id) if not i["pushed"]]
    assert waiting and {i["not_pushed_reason"] for i in waiting} == {"rate_limited_retrying"}
    assert drain(worker, session) == {"sent": 12}
    assert len(emulator.messages()) == 12
    assert set(delivered_keys(emulator.messages()).values()) == {1}
    consents = session.scalars(select(SubscriptionConsent.remaining)).all()
    assert consents == [0, 0, 0]  # spent once per delivered push, never on a refused try


def test_wecom_per_user_limit_queues_instead_of_dropping(app, session, settings, emulator, clock) -> None:
    batch = make_batch(session)
    student = reachable_student(session, batch, bound=False)
    remember_wecom_user(session, student.id, "wecom-student-1", utcnow())  # as the WeCom login does
    session.commit()
    emulator.control("POST", "wecom/members", {"userid": "wecom-student-1"})
    emulator.control("PUT", "wecom/rate_limit", {"per_minute": 3, "mode": "drop"})
    _enqueue_items(session, [student], per_student=8)
    state = app.extensions["lixiao"]
    worker = Worker(settings.with_overrides(wecom_per_user_per_minute=3), engine=state.engine,
                    redis_client=state.redis, clock=lambda: datetime.fromtimestamp(clock(), UTC))
    clock.now = time.time() + 1  # the rows are due on the worker's (manual) clock
    worker.run_once()
    assert statuses(session) == {"sent": 3, "pending": 5}
    reasons = {i["not_pushed_reason"] for i in inbox(session, student.id) if not i["pushed"]}
    assert reasons == {"rate_limited_retrying"}
    for _ in range(3):  # each minute lets three more through
        clock.advance(63)
        worker.run_once()
    assert statuses(session) == {"sent": 8}
    assert len(emulator.messages("wecom")) == 8
    assert emulator.control("GET", "dropped") == []
    assert {m["msg"]["title"] for m in emulator.messages("wecom")} == {"离校事项已通过 Clearance item passed"}


def test_43101_is_not_retried_resets_consent_and_stays_in_app(app, session, settings, worker, emulator) -> None:
    batch = make_batch(session)
    student = reachable_student(session, batch, consents={"item_passed": 3})
    session.commit()
    emulator.set_quota(openid_of(student), ITEM_TEMPLATE, 0)  # the student's WeChat says otherwise
    _enqueue_items(session, [student], per_student=2)
    counts = drain(worker, session)
    # The first 43101 resets the count, so the other push is not tried (unless it was already in flight).
    assert counts["refused"] >= 1 and counts["refused"] + counts["skipped"] == 2
    assert emulator.stats()["calls"]["subscribe_send"] == counts["refused"]  # never retried
    assert emulator.messages() == []
    assert session.scalars(select(SubscriptionConsent.remaining)).all() == [0]
    items = inbox(session, student.id)
    assert [(i["pushed"], i["not_pushed_reason"]) for i in items] == [(False, "no_consent")] * 2


def test_long_values_are_truncated_by_rule_never_47003(app, session, settings, worker, emulator) -> None:
    batch = make_batch(session, name="2027年6月毕业研究生（含联合培养、延期毕业及提前毕业学生）第一批次")
    student = reachable_student(session, batch, consents={"certificate_issued": 1, "all_passed": 1},
                                name="欧阳慕容司马上官诸葛东方皇甫令狐宇文长孙轩辕明月光",
                                college="马克思主义学院与公共管理学院联合培养中心（研究生教育创新示范基地）")
    session.commit()
    emulator.set_quota(openid_of(student), "demo-tmpl-certificate-issued", 1)
    emulator.set_quota(openid_of(student), "demo-tmpl-all-passed", 1)
    turn_green(session, settings, [student])
    enqueue_certificate_issued(session, student, "LX2027-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789", utcnow())
    session.commit()
    # no item_passed consent: in-app only
    assert drain(worker, session) == {"sent": 2, "skipped": len(ITEM_KEYS)}
    assert emulator.stats()["calls"]["subscribe_send"] == 2
    by_template = {m["template_id"]: m["data"] for m in emulator.messages()}
    certificate = by_template["demo-tmpl-certificate-issued"]
    assert len(certificate["name2"]["value"]) <= 10 and len(certificate["thing3"]["value"]) <= 20
    assert len(certificate["character_string1"]["value"]) <= 32
    assert len(by_template["demo-tmpl-all-passed"]["thing1"]["value"]) <= 20


def test_permanent_refusal_is_recorded_and_consent_given_back(app, session, settings, worker, emulator) -> None:
    students = _consenting(session, emulator, 1, quota=2)
    _enqueue_items(session, students, per_student=2)
    emulator.inject_fault("subscribe_send", 40037, times=1)
    assert drain(worker, session) == {"refused": 1, "sent": 1}
    assert emulator.stats()["calls"]["subscribe_send"] == 2
    row = session.scalars(select(OutboxEvent).where(OutboxEvent.status == "refused")).one()
    assert row.reason == "platform_refused" and row.last_error.startswith("40037")
    assert session.scalars(select(SubscriptionConsent.remaining)).all() == [1]


def test_two_workers_at_once_send_each_message_once(app, session, settings, emulator) -> None:
    students = _consenting(session, emulator, 40)
    _enqueue_items(session, students)
    from server.db import make_engine

    threaded = settings.with_overrides(outbox_batch_size=5, worker_threads=3)  # each sends three at once
    workers = [Worker(threaded, engine=make_engine(settings.database_url),
                      redis_client=app.extensions["lixiao"].redis) for _ in range(2)]
    threads = [threading.Thread(target=w.run, args=(threading.Event(),), kwargs={"until_idle": True,
                                                                                  "jobs_enabled": False})
               for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert statuses(session) == {"sent": 160}
    messages = emulator.messages()
    assert len(messages) == 160 and set(delivered_keys(messages).values()) == {1}
    claimed_by = set(session.scalars(select(OutboxEvent.claimed_by)).all())
    assert claimed_by == {None}
    for w in workers:
        w.engine.dispose()


def test_run_in_thread_pushes_while_the_app_serves(app, session, settings, emulator) -> None:
    students = _consenting(session, emulator, 1)
    stop = run_in_thread(app)
    try:
        with app.extensions["lixiao"].sessions() as writer:  # the app's own sessions, as an operator's request
            turn_green(writer, settings, students)
            writer.commit()
        deadline = time.monotonic() + 20
        while len(emulator.messages()) < 4:
            assert time.monotonic() < deadline, "the demo worker pushed nothing"
            time.sleep(0.05)
    finally:
        stop.set()
    assert {m["touser"] for m in emulator.messages()} == {openid_of(students[0])}


def test_a_wecom_userid_follows_the_latest_login(app, session) -> None:
    batch = make_batch(session)
    first, second = reachable_student(session, batch), reachable_student(session, batch)
    remember_wecom_user(session, first.id, "shared-userid", utcnow())
    remember_wecom_user(session, first.id, "shared-userid", utcnow())
    remember_wecom_user(session, second.id, "shared-userid", utcnow())  # a corrected roster moved it
    remember_wecom_user(session, first.id, "first-new", utcnow())
    session.commit()
    rows = {r.student_id: r.userid for r in session.scalars(select(WecomRecipient))}
    assert rows == {first.id: "first-new", second.id: "shared-userid"}


def test_a_stop_finishes_the_push_in_flight_and_starts_no_other(app, session, settings, emulator) -> None:
    """SIGTERM (the stop event) mid-batch: the slow push in flight is answered and recorded; the rest of the
    batch is handed back, pending and unclaimed, at once rather than after twenty slow pushes."""
    students = _consenting(session, emulator, 5)
    _enqueue_items(session, students)
    emulator.inject_fault("subscribe_send", times=20, delay_ms=400)
    state = app.extensions["lixiao"]
    worker = Worker(settings.with_overrides(outbox_batch_size=20), engine=state.engine, redis_client=state.redis)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"jobs_enabled": False})
    thread.start()
    deadline = time.monotonic() + 20
    while not emulator.messages("wechat"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    stop.set()
    stopped_at = time.monotonic()
    thread.join(10)
    assert time.monotonic() - stopped_at < 1.5  # one slow push at most, not the batch's remaining nineteen
    counts = statuses(session)
    assert counts["sent"] == len(emulator.messages("wechat")) and counts["sent"] + counts["pending"] == 20
    assert session.scalars(select(OutboxEvent).where(OutboxEvent.claimed_by.is_not(None))).all() == []
