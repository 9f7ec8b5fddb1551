"""The service-account channel: one WeChat push per event, template messages to followers, the error codes."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from server.clearance.events import OutboxEvent, enqueue_certificate_issued
from server.clearance.models import Student
from server.emulators.service_account import DEMO_APPID
from server.emulators.testing import RunningEmulator
from server.messaging import service_account
from server.messaging.followers import ServiceAccountFollower
from server.messaging.models import SubscriptionConsent
from server.messaging.worker import Worker
from server.settings import Settings
from server.timeutil import utcnow
from tests.factories import make_batch
from tests.messaging.pushes import drain, openid_of, reachable_student

SA_OPENID = "o-sa-student"


@pytest.fixture
def settings(settings: Settings, emulator: RunningEmulator) -> Settings:
    """The push settings with the service account on the emulator too."""
    return settings.with_overrides(sa_appid=DEMO_APPID, sa_api_base=emulator.url + "sa/")


def follower(session, emulator: RunningEmulator, student: Student, openid: str = SA_OPENID, *,  # type: ignore[no-untyped-def]
             on_platform: bool = True) -> None:
    """The student follows the account: known to us (linked) and, unless told otherwise, to the emulator."""
    session.add(ServiceAccountFollower(openid=openid, student_id=student.id, following=True, linked_via="oauth"))
    session.commit()
    if on_platform:
        emulator.control("POST", "sa/follow", {"openid": openid})


def certificate_event(session, student: Student, serial: str = "LX2027-000123") -> None:  # type: ignore[no-untyped-def]
    enqueue_certificate_issued(session, student, serial, utcnow())
    session.commit()


def row_of(session) -> OutboxEvent:  # type: ignore[no-untyped-def]
    session.expire_all()
    row = session.scalars(select(OutboxEvent)).one()
    session.commit()
    return row


def test_a_follower_gets_a_template_message_that_opens_the_mini_program(app, session, settings, worker: Worker,
                                                                         emulator: RunningEmulator) -> None:
    student = reachable_student(session, make_batch(session), consents={"certificate_issued": 1})
    follower(session, emulator, student)
    certificate_event(session, student)
    assert drain(worker, session) == {"sent": 1}
    [message] = emulator.messages()  # one WeChat push: the template message, not the subscribe message too
    assert message["platform"] == "service_account" and message["touser"] == SA_OPENID
    assert message["miniprogram"] == {"appid": settings.wx_appid, "pagepath": "pages/certificate/index"}
    assert message["url"].startswith(settings.public_base_url)
    assert set(message["data"]) == {"character_string1", "thing2", "time3"}  # no first/remark
    assert row_of(session).channel == service_account.CHANNEL
    assert session.scalar(select(SubscriptionConsent.remaining)) == 1  # the subscribe consent is untouched


def test_without_a_mini_program_binding_the_card_opens_the_web_page(app, session, settings, worker,
                                                                     emulator) -> None:
    student = reachable_student(session, make_batch(session), bound=False)
    follower(session, emulator, student)
    certificate_event(session, student)
    assert drain(worker, session) == {"sent": 1}
    [message] = emulator.messages()
    assert message["miniprogram"] is None and message["url"].startswith(settings.public_base_url)


def test_an_unfollowed_student_falls_back_to_the_subscribe_message(app, session, settings, worker,
                                                                    emulator) -> None:
    student = reachable_student(session, make_batch(session), consents={"certificate_issued": 1})
    emulator.set_quota(openid_of(student), "demo-tmpl-certificate-issued", 1)
    follower(session, emulator, student)
    emulator.control("POST", "sa/unfollow", {"openid": SA_OPENID})  # our callback missed it: WeChat says 43004
    certificate_event(session, student)
    assert drain(worker, session) == {"sent": 1}
    assert [m["platform"] for m in emulator.messages()] == ["wechat"]
    assert row_of(session).channel == "wechat"
    session.expire_all()
    assert session.scalar(select(ServiceAccountFollower.following)) is False


def test_an_unfollowed_student_without_consent_stays_in_app(app, session, settings, worker, emulator) -> None:
    student = reachable_student(session, make_batch(session))
    follower(session, emulator, student)
    emulator.control("POST", "sa/unfollow", {"openid": SA_OPENID})
    certificate_event(session, student)
    assert drain(worker, session) == {"skipped": 1}
    assert emulator.messages() == []


@pytest.mark.parametrize("errcode", [40003, 40037, 47003])
def test_refused_for_good_with_the_reason(app, session, settings, worker, emulator, errcode: int) -> None:
    student = reachable_student(session, make_batch(session), consents={"certificate_issued": 1})
    follower(session, emulator, student, on_platform=errcode != 40003)  # 40003: an openid the account never saw
    if errcode == 40037:
        emulator.control("PUT", "sa/config", {"templates": []})
    if errcode == 47003:
        emulator.control("PUT", "sa/config", {"templates": [{
            "template_id": "demo-sa-certificate-issued", "title": "证明开具成功通知",
            "content": "证明编号:{{character_string1.DATA}}\n学生姓名:{{thing2.DATA}}\n开具时间:{{time3.DATA}}\n"
                       "开具单位:{{thing4.DATA}}"}]})
    certificate_event(session, student)
    assert drain(worker, session) == {"refused": 1}
    row = row_of(session)
    assert row.reason == "platform_refused" and row.last_error.startswith(str(errcode))
    assert emulator.messages() == []  # never tried on a second WeChat channel


def test_45009_holds_the_push_until_tomorrow_and_alerts(app, session, settings, worker, emulator,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    student = reachable_student(session, make_batch(session), consents={"certificate_issued": 1})
    follower(session, emulator, student)
    emulator.control("PUT", "sa/config", {"daily_limit": 0})
    certificate_event(session, student)
    with caplog.at_level(logging.ERROR):
        worker.run_once()
    row = row_of(session)
    assert row.status == "pending" and row.reason == "rate_limited" and row.last_error.startswith("45009")
    assert (row.next_attempt_at - utcnow()).total_seconds() > 60
    assert "ALERT" in caplog.text
    assert emulator.messages() == []


def test_our_daily_limit_holds_before_asking(app, session, settings, emulator, caplog) -> None:
    limited = settings.with_overrides(sa_daily_limit=1)
    state = app.extensions["lixiao"]
    worker = Worker(limited, engine=state.engine, redis_client=state.redis, sources=state.sources)
    student = reachable_student(session, make_batch(session))
    follower(session, emulator, student)
    certificate_event(session, student, "LX2027-000001")
    certificate_event(session, student, "LX2027-000002")
    with caplog.at_level(logging.ERROR):
        worker.run_once()
    session.expire_all()
    assert sorted(r.status for r in session.scalars(select(OutboxEvent))) == ["pending", "sent"]
    assert len(emulator.messages()) == 1 and "ALERT" in caplog.text


def test_the_demo_mapping_fits_the_accounts_templates(settings, emulator) -> None:
    import redis
    from fakeredis import FakeRedis

    store: redis.Redis = FakeRedis()
    account = service_account.account_templates(settings, store)
    mapping = service_account.load_mapping(settings.sa_templates_file)
    assert service_account.check_mapping(mapping, account) == []
    emulator.control("PUT", "sa/config", {"templates": account[1:]})
    problems = service_account.check_mapping(mapping, service_account.account_templates(settings, store))
    assert problems == ["item_passed: template demo-sa-item-passed is not among the account's templates"]


def test_a_mapping_with_first_or_remark_is_refused() -> None:
    with pytest.raises(service_account.MappingError, match="2023"):
        service_account.parse_mapping({"item_passed": {"template_id": "t", "keywords": {
            "first": "=您好", "thing1": "item_title"}}})
    with pytest.raises(service_account.MappingError, match="variable"):
        service_account.parse_mapping({"item_passed": {"template_id": "t", "keywords": {"thing1": "nonsense"}}})
    assert service_account.check_mapping(
        service_account.parse_mapping({"item_passed": {"template_id": "t", "keywords": {"thing1": "item_title"}}}),
        [{"template_id": "t", "content": "事项:{{thing1.DATA}}\n时间:{{time2.DATA}}"}],
    ) == ["item_passed: keyword time2 of t is not filled"]


def test_settings_refuse_an_unusable_or_demo_service_account() -> None:
    from server.settings import SettingsError, load_settings

    assert load_settings({}).sa_appid == ""  # off unless configured
    with pytest.raises(SettingsError, match="EncodingAESKey"):
        load_settings({"LIXIAO_SA_APPID": "wx1", "LIXIAO_SA_AES_KEY": "short"})
    with pytest.raises(SettingsError, match="LIXIAO_WX_LONG_TERM_TEMPLATES"):
        load_settings({"LIXIAO_WX_LONG_TERM_TEMPLATES": "item_passed,nonsense"})
    with pytest.raises(SettingsError, match="LIXIAO_SA_SECRET"):
        load_settings({"LIXIAO_ENV": "production", "LIXIAO_SA_APPID": "wx1"})
