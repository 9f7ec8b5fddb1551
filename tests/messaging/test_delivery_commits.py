"""One commit per push: what a kill, a lost claim, a refusal or an error in the middle of a run leaves behind.

The answer to push k is committed together with push k+1's "sending" mark. The hooks below look at the
database from another connection at the two moments that matter, the next push's start (the answer to
the previous push is in hand, not yet committed) and its request leaving: what they see is exactly what a
worker killed at that moment would leave, since nothing uncommitted survives its process.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from server.clearance.events import OutboxEvent, event_row, insert_events
from server.messaging import claims
from server.messaging.delivery import Deliverer
from server.messaging.models import SubscriptionConsent
from server.messaging.transport import PushTransport
from server.messaging.worker import Worker
from server.platforms import common
from server.timeutil import utcnow
from tests.factories import make_batch
from tests.messaging.pushes import openid_of, reachable_student, statuses

ITEM_TEMPLATE = "demo-tmpl-item-passed"


def _rows_for(session, emulator, count: int, *, quotas: list[int] | None = None) -> list[int]:  # type: ignore[no-untyped-def]
    """One item_passed row for each of `count` consenting students, in id order; returns the row ids."""
    batch = make_batch(session)
    students = [reachable_student(session, batch, consents={"item_passed": 1}) for _ in range(count)]
    now = utcnow()
    insert_events(session, [event_row(s.id, "item_passed", f"item_passed:{batch.id}:library",
                                      {"batch_id": batch.id, "item": "library", "changed_at": now.isoformat()}, now)
                            for s in students])
    session.commit()
    for s, quota in zip(students, quotas or [1] * count, strict=True):
        emulator.set_quota(openid_of(s), ITEM_TEMPLATE, quota)
    ids = list(session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id)))
    session.commit()  # end the read: on SQLite it would keep seeing this moment
    return ids


def _by_id(session) -> dict[int, OutboxEvent]:  # type: ignore[no-untyped-def]
    session.expire_all()
    rows = {r.id: r for r in session.scalars(select(OutboxEvent))}
    session.commit()
    return rows


def _consents(session) -> list[int]:  # type: ignore[no-untyped-def]
    session.expire_all()
    counts = list(session.scalars(select(SubscriptionConsent.remaining).order_by(SubscriptionConsent.student_id)))
    session.commit()
    return counts


def _hook(monkeypatch, name: str, before: Callable[[], None]) -> None:  # type: ignore[no-untyped-def]
    """Call `before` each time a push starts ("start") or its request leaves ("post"), then carry on."""
    if name == "start":
        owner, attr = PushTransport, "send_wechat_subscribe"
    else:
        owner, attr = common, "_post"
    original = getattr(owner, attr)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        before()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, attr, wrapped)


def test_a_kill_at_any_moment_leaves_at_most_the_one_push_in_flight_sending(
        app, session, worker, emulator, monkeypatch) -> None:
    ids = _rows_for(session, emulator, 6)
    between, leaving = [], []
    _hook(monkeypatch, "start", lambda: between.append(statuses(session)))
    _hook(monkeypatch, "post", lambda: leaving.append(statuses(session)))
    assert worker.run_once() == 6
    assert statuses(session) == {"sent": 6}
    # Between pushes: the previous push's answer is not committed yet, so exactly that row is still sending.
    assert between == [Counter(pending=6)] + [Counter(sending=1, sent=k - 1, pending=6 - k) for k in range(1, 6)]
    # As a request leaves: only its own row is sending; the one before it became sent in the same commit.
    assert leaving == [Counter(sending=1, sent=k, pending=5 - k) for k in range(6)]
    assert len(emulator.messages()) == 6 and len(ids) == 6


def test_the_row_a_kill_leaves_sending_becomes_unconfirmed_and_is_never_sent_again(
        app, session, settings, worker, emulator, monkeypatch) -> None:
    _rows_for(session, emulator, 3)
    snapshot: list[dict[int, tuple[str, Any]]] = []

    def kill_before_the_third() -> None:
        if len(emulator.messages()) == 2 and not snapshot:
            snapshot.append({i: (r.status, r.claimed_until) for i, r in _by_id(session).items()})
            raise SystemExit("killed")  # stands for the kill: nothing after this point reaches the database

    _hook(monkeypatch, "start", kill_before_the_third)
    monkeypatch.setattr(Deliverer, "_salvage", lambda self, run: run.connection.rollback())  # a kill saves nothing
    with pytest.raises(SystemExit):
        worker.run_once()
    assert sorted(status for status, _ in snapshot[0].values()) == ["pending", "sending", "sent"]
    assert statuses(session) == {"sent": 1, "sending": 1, "pending": 1}
    monkeypatch.undo()
    later = utcnow() + timedelta(seconds=settings.outbox_lease_seconds + 1)
    after = Worker(settings, engine=worker.engine, redis_client=worker.redis, clock=lambda: later)
    after.run_once()
    assert statuses(session) == {"sent": 2, "unconfirmed": 1}
    assert len(emulator.messages()) == 3  # the unconfirmed push had arrived; it is not sent twice


def test_a_lost_claim_mid_run_leaves_its_neighbours_answers_and_consent_intact(
        app, session, worker, emulator, monkeypatch) -> None:
    ids = _rows_for(session, emulator, 3)

    def steal_the_second() -> None:  # as the first request leaves (the worker holds no write lock then)
        if not emulator.messages():
            session.execute(update(OutboxEvent).where(OutboxEvent.id == ids[1]).values(claimed_by="someone-else"))
            session.commit()

    _hook(monkeypatch, "post", steal_the_second)
    assert worker.run_once() == 3
    rows = _by_id(session)
    assert rows[ids[0]].status == "sent" and rows[ids[0]].platform_msgid is not None
    assert (rows[ids[1]].status, rows[ids[1]].claimed_by, rows[ids[1]].attempts) == ("pending", "someone-else", 0)
    assert rows[ids[2]].status == "sent" and rows[ids[2]].platform_msgid is not None
    assert _consents(session) == [0, 1, 0]  # the lost row's reservation was given back in the same commit
    assert len(emulator.messages()) == 2


def test_a_refused_push_mid_run_is_recorded_beside_its_sent_neighbours(app, session, worker, emulator) -> None:
    ids = _rows_for(session, emulator, 3, quotas=[1, 0, 1])  # WeChat says 43101 for the second student
    assert worker.run_once() == 3
    rows = _by_id(session)
    assert [rows[i].status for i in ids] == ["sent", "refused", "sent"]
    assert rows[ids[1]].reason == "no_consent" and rows[ids[1]].last_error.startswith("43101")
    assert rows[ids[0]].platform_msgid != rows[ids[2]].platform_msgid
    assert _consents(session) == [0, 0, 0]
    assert {r.claimed_by for r in rows.values()} == {None}


def test_a_permanent_refusal_mid_run_gives_its_consent_back(app, session, worker, emulator, monkeypatch) -> None:
    ids = _rows_for(session, emulator, 3)
    injected: list[int] = []

    def refuse_the_second() -> None:
        if len(emulator.messages()) == 1 and not injected:
            injected.append(1)
            emulator.inject_fault("subscribe_send", 40037)

    _hook(monkeypatch, "start", refuse_the_second)
    assert worker.run_once() == 3
    rows = _by_id(session)
    assert [rows[i].status for i in ids] == ["sent", "refused", "sent"]
    assert _consents(session) == [0, 1, 0]


def test_an_error_mid_run_keeps_the_answers_already_in_hand(app, session, worker, emulator, monkeypatch) -> None:
    ids = _rows_for(session, emulator, 4)
    render = Deliverer._render

    def fail_on_the_third(self: Deliverer, plan: Any) -> dict[str, Any]:
        if plan.row.id == ids[2]:
            raise RuntimeError("a bug in rendering")
        return render(self, plan)

    monkeypatch.setattr(Deliverer, "_render", fail_on_the_third)
    with pytest.raises(RuntimeError):
        worker.run_once()
    rows = _by_id(session)
    # The second push's answer was waiting for the third push's commit: it is recorded all the same.
    assert [rows[i].status for i in ids] == ["sent", "sent", "pending", "pending"]
    assert rows[ids[2]].claimed_by == worker.id  # claimed until its lease runs out, then sent by anyone
    assert len(emulator.messages()) == 2


def test_a_failed_round_does_not_end_a_worker_running_until_idle(
        app, session, settings, worker, emulator, monkeypatch) -> None:
    _rows_for(session, emulator, 3)
    real, failures = Worker.run_once, []

    def deadlocked_once(self: Worker) -> int:
        if not failures:
            failures.append(1)
            raise RuntimeError("(1213, 'Deadlock found when trying to get lock; try restarting transaction')")
        return real(self)

    monkeypatch.setattr(Worker, "run_once", deadlocked_once)
    worker.run(threading.Event(), until_idle=True, jobs_enabled=False)
    assert failures and statuses(session) == {"sent": 3}


def test_recover_abandoned_turns_only_expired_sending_rows_unconfirmed(app, session, emulator) -> None:
    ids = _rows_for(session, emulator, 3)
    now = utcnow()
    session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids[:2])).values(
        status="sending", claimed_by="w", claimed_until=now - timedelta(seconds=1)))
    session.execute(update(OutboxEvent).where(OutboxEvent.id == ids[1]).values(
        claimed_until=now + timedelta(seconds=60)))
    session.commit()
    assert claims.recover_abandoned(session, now) == 1
    rows = _by_id(session)
    assert [rows[i].status for i in ids] == ["unconfirmed", "sending", "pending"]
    assert rows[ids[0]].last_error == "worker stopped while sending"


def test_the_transport_reads_the_shared_token_once_not_per_push(app, session, worker, emulator, monkeypatch) -> None:
    _rows_for(session, emulator, 5)
    reads: list[int] = []
    real = common.SharedTokenMixin.access_token

    def counted(self: Any) -> str:
        if self._memo is None and "store" in vars(self):  # wechatpy's __new__ reads every property
            reads.append(1)  # not remembered: a Redis round trip (or a fetch)
        return real.fget(self)  # type: ignore[no-any-return,attr-defined]

    monkeypatch.setattr(common.SharedTokenMixin, "access_token", property(counted))
    worker.run_once()
    assert statuses(session) == {"sent": 5}
    assert len(reads) == 1 and emulator.stats()["token_fetches"]["wechat_stable"] == 1
