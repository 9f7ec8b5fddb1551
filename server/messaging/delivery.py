"""Delivering claimed outbox rows: choose the channel, render, send, and record what happened.

Channel (docs/messaging.md, "One WeChat push per event"): the in-app notification always; then exactly one of
- a service-account template message when the student follows the university's service account;
- else a WeChat subscribe message when the student has a WeChat binding and an allowed push left for
  the template (a long-term template, LIXIAO_WX_LONG_TERM_TEMPLATES, needs one consent, never used up);
- else a WeCom text card when the student has logged in through WeCom;
- else nothing more: the notification stays in-app only.
The channel is chosen per attempt, and a row leaves for a second channel only when the first one
certainly did not deliver it: 43004 (not following) marks the student unfollowed and plans the row again;
45009 and the account's daily limit hold it until the next day, with an alert; 40003/40037/47003 refuse it
for good. A new WeChat binding is announced differently (server/identity/binding.py): its row names
its channel, and its subscribe message goes to the WeChat bound before, never the new one.
An unanswered request is "unconfirmed" and never sent again on any channel.
Consent is reserved in the same commit that marks the row "sending",
given back if WeChat did not take the message, and reset to 0 when WeChat answers 43101.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from server.clearance.events import ALL_PASSED, CERTIFICATE_ISSUED, ITEM_PASSED, REMINDER, WECHAT_BOUND, OutboxEvent
from server.clearance.models import Batch, Student
from server.identity.models import WechatBinding
from server.items import registry
from server.messaging import claims, consent, followers, keywords, service_account
from server.messaging.models import SubscriptionConsent, WecomRecipient
from server.messaging.ratelimit import SlidingWindowLimiter
from server.messaging.subscribe_values import SHANGHAI
from server.messaging.templates import (
    TemplateError,
    get_templates,
    render_subscribe_data,
    render_wecom_textcard,
)
from server.messaging.transport import Abort, Outcome, PushTransport, SendResult
from server.settings import Settings, long_term_templates, wx_template_id
from server.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600.0
RATE_LIMITED = "rate_limited"
RETRYING = "retrying"
SA = service_account.CHANNEL
SA_SENT_KEY = "lixiao:sa-sent:"  # + the Beijing day: template messages the account sent that day
HELD = "platform_held"  # the platform refuses this server (60020/40164): retried, never failed, alerted
KEYWORDS_MISSING = "keywords_missing"  # the account's template lacks a keyword (messaging/keywords.py)
HOLD_MAX_SECONDS = 600.0  # a held push is tried again at least this often, until the cause is fixed
RELEASED = "released"  # not started because the worker is stopping; still pending, sent by the next worker


def build_context(row: OutboxEvent, student: Student, batch_name: str) -> dict[str, Any]:
    """The template variables of an event, from its payload and the student as they are now."""
    payload = row.payload or {}
    ctx: dict[str, Any] = {"student_name": student.name, "student_no": student.student_no,
                           "college": student.college, "batch_name": batch_name}
    if row.event in (ITEM_PASSED, ALL_PASSED, WECHAT_BOUND):
        ctx["changed_at"] = payload.get("changed_at")
    if row.event == ITEM_PASSED:
        item = str(payload.get("item", ""))
        spec = registry.known().get(item)
        zh, en = (spec.push_title or spec.title) if spec is not None else (item, item)
        ctx |= {"item_key": item, "item_title": zh, "item_title_en": en}
    elif row.event == CERTIFICATE_ISSUED:
        ctx |= {"serial": payload.get("serial", ""), "issued_at": payload.get("issued_at")}
    elif row.event == REMINDER:
        ctx["closes_at"] = payload.get("closes_at")
    return ctx


def backoff(settings: Settings, attempts: int, rate_limited: bool) -> float:
    """Seconds until the next try: doubling from the base, capped, longer for rate limits, with jitter."""
    delay = min(settings.outbox_retry_base_seconds * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    if rate_limited:
        delay = max(delay, settings.outbox_retry_base_seconds * 4)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 -- jitter, not secrecy


def hold_delay(settings: Settings, attempts: int) -> float:
    """Seconds until a held push is tried again: the usual backoff, but never longer than HOLD_MAX_SECONDS."""
    return min(backoff(settings, attempts, rate_limited=True), HOLD_MAX_SECONDS)


@dataclass
class _Plan:
    row: OutboxEvent
    student: Student
    channel: str | None
    address: str | None
    reason: str | None
    batch_name: str
    bound: bool = False  # has a mini-program binding: the service-account card can open the mini-program
    keys: dict[str, str] | None = None  # templates_msg key -> the account's key, for a subscribe message


def _announcement(row: OutboxEvent, student: Student, allowed: dict[tuple[int, str], int], userid: str | None,
                  batch_name: str, keys: dict[str, str] | None) -> _Plan:
    """A new binding: the WeCom copy goes to WeCom; the notification to the WeChat bound before, if allowed."""
    payload = row.payload or {}
    if payload.get("channel") == "wecom":
        if userid:
            return _Plan(row, student, "wecom", userid, None, batch_name)
        return _Plan(row, student, None, None, "no_wecom_login", batch_name)
    previous = payload.get("previous_openid")
    if previous and allowed.get((student.id, row.event), 0) > 0:
        return _Plan(row, student, "wechat", str(previous), None, batch_name, keys=keys)
    return _Plan(row, student, None, None, "no_consent" if previous else "no_wechat_binding", batch_name)


class _Run:
    """One thread's connection over a run of pushes, and whether its open transaction may be committed as is."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.whole = True  # False while a group of statements that must commit together is half done

    def commit(self) -> None:
        self.connection.commit()
        self.whole = True


class Deliverer:
    """Delivers claimed rows for one worker.

    Each thread sends its rows one after another on one database connection, with one commit per push:
    the commit that marks push k+1 "sending" (and reserves its consent), right before its request leaves,
    also records the answer to push k. So a thread never has more than one row in "sending" whose request
    may have left: row k leaves "sending" in the very commit that puts row k+1 there. Only an answer that
    touched nothing but its own row waits for that commit (sent, unconfirmed, refused without consent to
    give back); every other outcome, a push that did not leave, and the last push of a run commit at once.
    The price: a worker killed between the answer to push k and the next commit (the next push's render,
    token and connect, normally a millisecond) leaves row k "sending", later "unconfirmed" although its
    answer had come, where before the window closed as soon as that answer came. On SQLite the answer's
    UPDATE takes the database's write lock until that commit, so other writers may wait for the next
    push's connect (at most the outside timeout, when the platform cannot be reached).
    """

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], transport: Callable[[], PushTransport],
                 limiter: SlidingWindowLimiter, worker: str, clock: Callable[[], datetime] = utcnow,
                 pool: ThreadPoolExecutor | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self.new_transport = transport
        self.limiter = limiter
        self.worker = worker
        self.clock = clock
        self.pool = pool  # threads send runs of pushes side by side; each keeps to one row in "sending"
        self.stopping = threading.Event()  # set on SIGTERM: finish the push in flight, start no other
        self._local = threading.local()
        self.sa_templates = service_account.load_mapping(settings.sa_templates_file) if settings.sa_appid else {}
        self.long_term = long_term_templates(settings)

    @property
    def transport(self) -> PushTransport:
        """This thread's transport (requests sessions are not shared between threads)."""
        if not hasattr(self._local, "transport"):
            self._local.transport = self.new_transport()
        return self._local.transport

    def deliver(self, row_ids: Sequence[int]) -> list[str]:
        """Handle claimed rows; returns each row's status afterwards ("lost" if it is no longer ours)."""
        with self.sessions() as session:
            plans = self._plans(session, row_ids)
            outcomes = {}
            for plan in plans:  # in-app only or held: recorded together, in the planning transaction
                if plan.channel is not None:
                    continue
                if plan.reason == KEYWORDS_MISSING:
                    later = self.clock() + timedelta(seconds=hold_delay(self.settings, plan.row.attempts + 1))
                    if claims.finish(session, plan.row.id, self.worker, status=claims.PENDING, reason=KEYWORDS_MISSING,
                                     next_attempt_at=later):
                        outcomes[plan.row.id] = claims.PENDING
                elif claims.finish(session, plan.row.id, self.worker, status=claims.SKIPPED, reason=plan.reason):
                    outcomes[plan.row.id] = claims.SKIPPED
            session.commit()  # release the read transaction before any network call
        runs = self._split([plan for plan in plans if plan.channel is not None])
        done = self.pool.map(self._deliver_run, runs) if self.pool and len(runs) > 1 else map(self._deliver_run, runs)
        for run, statuses in zip(runs, done, strict=True):
            outcomes.update(zip((plan.row.id for plan in run), statuses, strict=True))
        return [outcomes.get(row_id, "lost") for row_id in row_ids]

    def _split(self, pushes: list[_Plan]) -> list[list[_Plan]]:
        """One run per sending thread; a student's pushes share a run, so two threads never wait on one consent row."""
        count = min(self.settings.worker_threads if self.pool else 1, len(pushes))
        if count <= 1:
            return [pushes] if pushes else []
        slot: dict[int, int] = {}
        runs: list[list[_Plan]] = [[] for _ in range(count)]
        for plan in pushes:
            runs[slot.setdefault(plan.row.student_id, len(slot) % count)].append(plan)
        return [run for run in runs if run]

    def _deliver_run(self, plans: Sequence[_Plan]) -> list[str]:
        # One connection for the whole run: no pool checkout, ping and reset per push.
        engine = self.sessions.kw["bind"]
        statuses: list[str] = []
        with engine.connect() as connection:
            run = _Run(connection)
            try:
                for plan in plans:
                    if self.stopping.is_set():  # the rest stay pending; the worker hands its claims back
                        statuses.append(RELEASED)
                        continue
                    statuses.append(self._deliver(run, plan))
                run.commit()  # the last push's answer, alone
            except BaseException:
                self._salvage(run)
                raise
        return statuses

    def _salvage(self, run: _Run) -> None:
        """After an error, keep the answers already recorded if nothing is half written; else roll back."""
        try:
            if run.whole:
                run.commit()
            else:
                run.connection.rollback()
        except Exception:
            log.exception("could not record the answers of a failed run of pushes")

    def _deliver(self, run: _Run, plan: _Plan) -> str:
        try:
            message = self._render(plan)
        except TemplateError as exc:
            log.error("cannot render outbox row %s: %s", plan.row.id, exc)
            return self._finish(run, plan.row, claims.FAILED, commit=True, reason="platform_refused",
                                error=f"render: {exc}")
        if plan.channel == SA and self._sa_sent_today() >= self.settings.sa_daily_limit:
            return self._hold_for_the_day(run, plan.row, "our count reached LIXIAO_SA_DAILY_LIMIT")
        if plan.channel == "wecom":
            wait = self.limiter.acquire(str(plan.address), self.clock().timestamp())
            if wait > 0:
                return self._finish(run, plan.row, claims.PENDING, commit=True, reason=RATE_LIMITED,
                                    next_attempt_at=self.clock() + timedelta(seconds=wait))
        return self._send(run, plan, message)

    # ------------------------------------------------------------------ steps

    def _plans(self, session: Session, row_ids: Sequence[int]) -> list[_Plan]:
        """Load the rows still ours, with everything needed to choose their channel, in a few queries."""
        rows = session.scalars(select(OutboxEvent).where(
            OutboxEvent.id.in_(row_ids), OutboxEvent.status == claims.PENDING,
            OutboxEvent.claimed_by == self.worker).order_by(OutboxEvent.id)).all()
        ids = {r.student_id for r in rows}
        if not ids:
            return []
        students = {s.id: s for s in session.scalars(select(Student).where(Student.id.in_(ids)))}
        openids = dict(session.execute(select(WechatBinding.student_id, WechatBinding.openid)
                                       .where(WechatBinding.student_id.in_(ids))).all())
        userids = dict(session.execute(select(WecomRecipient.student_id, WecomRecipient.userid)
                                       .where(WecomRecipient.student_id.in_(ids))).all())
        following = followers.following_openids(session, ids) if self.sa_templates else {}
        allowed = {(sid, key): n for sid, key, n in session.execute(
            select(SubscriptionConsent.student_id, SubscriptionConsent.template_key, SubscriptionConsent.remaining)
            .where(SubscriptionConsent.student_id.in_(ids))).all()}
        batch_ids = {(r.payload or {}).get("batch_id") or students[r.student_id].batch_id for r in rows}
        names: dict[int | None, str] = dict(
            session.execute(select(Batch.id, Batch.name).where(Batch.id.in_([b for b in batch_ids if b]))).all())
        templates = get_templates()
        mapping = keywords.load_map(self.settings, templates)
        gaps = keywords.missing(templates, mapping)
        plans = []
        for row in rows:
            student = students[row.student_id]
            openid, userid = openids.get(student.id), userids.get(student.id)
            batch_name = names.get((row.payload or {}).get("batch_id") or student.batch_id, "")
            if row.event == WECHAT_BOUND:
                keys = keywords.keys_for(templates[row.event], mapping) if row.event in templates else None
                plans.append(_announcement(row, student, allowed, userid, batch_name, keys))
            elif following.get(student.id) and row.event in self.sa_templates:
                plans.append(_Plan(row, student, SA, following[student.id], None, batch_name, openid is not None))
            elif openid and allowed.get((student.id, row.event), 0) > 0 and row.event in gaps:
                # Every send would fail with 47003: hold the push until the mapping is complete.
                log.error("subscribe template %s lacks keywords %s: push %s held (run `server.cli wechat-templates"
                          " check`)", row.event, ", ".join(gaps[row.event]), row.id)
                plans.append(_Plan(row, student, None, None, KEYWORDS_MISSING, batch_name))
            elif openid and allowed.get((student.id, row.event), 0) > 0:
                keys = keywords.keys_for(templates[row.event], mapping) if row.event in templates else None
                plans.append(_Plan(row, student, "wechat", openid, None, batch_name, keys=keys))
            elif userid:
                plans.append(_Plan(row, student, "wecom", userid, None, batch_name))
            else:
                reason = "no_consent" if openid else "no_wechat_binding"
                plans.append(_Plan(row, student, None, None, reason, batch_name))
        return plans

    def _render(self, plan: _Plan) -> dict[str, Any]:
        template = get_templates()[plan.row.event]
        context = build_context(plan.row, plan.student, plan.batch_name)
        if plan.channel == "wechat":
            return {"template_id": wx_template_id(self.settings, template.template_id_setting),
                    "page": template.page, "data": render_subscribe_data(template, context, plan.keys)}
        if plan.channel == SA:
            sa_template = self.sa_templates[plan.row.event]
            try:
                data = service_account.render_data(sa_template, context)
            except ValueError as exc:
                raise TemplateError(str(exc)) from exc
            return {"template_id": sa_template.template_id, "data": data,
                    **service_account.jump(self.settings, template, plan.bound)}
        return {"card": render_wecom_textcard(template, context, self.settings.public_base_url)}

    def _send(self, run: _Run, plan: _Plan, message: dict[str, Any]) -> str:
        row, channel = plan.row, str(plan.channel)
        state = {"sending": False}

        def before_send() -> None:
            refused = self._begin_sending(run, row, channel)
            if refused:
                raise Abort(refused)
            state["sending"] = True

        if channel == SA:
            result = service_account.send_template(self.transport, str(plan.address), message,
                                                   before_send=before_send)
        elif channel == "wechat":
            result = self.transport.send_wechat_subscribe(str(plan.address), message["template_id"],
                                                          message["page"], message["data"], before_send=before_send)
        else:
            result = self.transport.send_wecom_textcard(str(plan.address), message["card"], before_send=before_send)
        return self._record(run, row, channel, result, state["sending"])

    def _begin_sending(self, run: _Run, row: OutboxEvent, channel: str) -> str | None:
        """Reserve the consent and mark the row "sending", in the commit that also records the previous answer.

        Returns why the push must not go (then only what came before is committed), or None.
        """
        now, connection = self.clock(), run.connection
        run.whole = False
        refused = None
        if channel == "wechat" and not consent.reserve(connection, row.student_id, row.event, now,
                                                       long_term=row.event in self.long_term):
            refused = "no consent left"
        elif not claims.mark_sending(connection, row.id, self.worker, channel, now, self.settings.outbox_lease_seconds):
            if channel == "wechat" and row.event not in self.long_term:
                consent.give_back(connection, row.student_id, row.event, now)  # the reservation just taken
            refused = "claim lost"
        run.commit()
        return refused

    def _record(self, run: _Run, row: OutboxEvent, channel: str, result: SendResult, sent: bool) -> str:
        now = self.clock()
        wechat = channel == "wechat"
        if result.outcome is Outcome.ABORTED:
            if result.detail == "claim lost":
                return "lost"
            # Consent ran out meanwhile (another push spent it): plan this row again at once.
            return self._finish(run, row, claims.PENDING, commit=True, next_attempt_at=now)
        if result.outcome is Outcome.OK:
            if channel == SA:
                self._count_sa_sent()
            return self._finish(run, row, claims.SENT, commit=False, sent_at=now, msgid=result.msgid, channel=channel)
        if result.outcome is Outcome.UNCONFIRMED:
            return self._finish(run, row, claims.UNCONFIRMED, commit=False, error=result.detail, channel=channel)
        error = f"{result.errcode}: {result.detail}" if result.errcode is not None else result.detail
        # From here on the answer may touch the consent row too: committed at once, so no lock on it is held
        # while the next push is prepared.
        run.whole = False
        if channel == SA and result.errcode in (service_account.NOT_FOLLOWING, service_account.DAILY_LIMIT):
            return self._sa_answer(run, row, result, error)
        if result.outcome is Outcome.NO_CONSENT:
            if wechat:
                consent.reset(run.connection, row.student_id, row.event, now)
            return self._finish(run, row, claims.REFUSED, commit=True, reason="no_consent", error=error,
                                channel=channel)
        if wechat and sent and row.event not in self.long_term:
            consent.give_back(run.connection, row.student_id, row.event, now)
        if result.outcome is Outcome.PERMANENT:
            return self._finish(run, row, claims.REFUSED, commit=True, reason="platform_refused", error=error,
                                channel=channel)
        attempts = row.attempts + 1
        if result.outcome is Outcome.HELD:  # our configuration, not the message: wait for ops, never give up
            return self._finish(run, row, claims.PENDING, commit=True, reason=HELD, error=error,
                                next_attempt_at=now + timedelta(seconds=hold_delay(self.settings, attempts)))
        if sent and attempts >= self.settings.outbox_max_attempts:
            return self._finish(run, row, claims.FAILED, commit=True, reason="platform_refused", error=error,
                                channel=channel)
        delay = backoff(self.settings, attempts, result.rate_limited)
        return self._finish(run, row, claims.PENDING, commit=True,
                            reason=RATE_LIMITED if result.rate_limited else RETRYING,
                            error=error, next_attempt_at=now + timedelta(seconds=delay))

    def _sa_answer(self, run: _Run, row: OutboxEvent, result: SendResult, error: str) -> str:
        """43004: not following any more, so plan the row again (it falls back); 45009: hold for the day."""
        if result.errcode == service_account.DAILY_LIMIT:
            return self._hold_for_the_day(run, row, error)
        openid = run.connection.execute(select(followers.ServiceAccountFollower.openid).where(
            followers.ServiceAccountFollower.student_id == row.student_id)).scalar()
        if openid is not None:
            with Session(bind=run.connection) as session:
                followers.mark_unfollowed(session, openid, self.clock())
        log.info("outbox row %s: student does not follow the service account (43004); falling back", row.id)
        return self._finish(run, row, claims.PENDING, commit=True, reason=RETRYING, error=error,
                            next_attempt_at=self.clock())

    def _hold_for_the_day(self, run: _Run, row: OutboxEvent, why: str) -> str:
        """The account's daily template quota is spent: hold the row until the next Beijing day, and alert."""
        local = self.clock().astimezone(SHANGHAI)
        tomorrow = (local + timedelta(days=1)).replace(hour=0, minute=5, second=0, microsecond=0)
        log.error("ALERT service account daily template quota reached (%s); outbox row %s held until %s. Raise the "
                  "quota in the service account console or lower the traffic.", why, row.id, tomorrow.isoformat())
        return self._finish(run, row, claims.PENDING, commit=True, reason=RATE_LIMITED, error=why[:200],
                            next_attempt_at=tomorrow.astimezone(self.clock().tzinfo))

    def _sa_day_key(self) -> str:
        return SA_SENT_KEY + self.clock().astimezone(SHANGHAI).strftime("%Y-%m-%d")

    def _sa_sent_today(self) -> int:
        return int(self.limiter.redis.get(self._sa_day_key()) or 0)

    def _count_sa_sent(self) -> None:
        key = self._sa_day_key()
        with self.limiter.redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * 86400)
            pipe.execute()

    def _finish(self, run: _Run, row: OutboxEvent, status: str, *, commit: bool, **values: Any) -> str:
        """Record a row's outcome; without `commit` it is committed with the next push's "sending" mark."""
        found = claims.finish(run.connection, row.id, self.worker, status=status, **values)
        if commit:
            run.commit()
        return status if found else "lost"
