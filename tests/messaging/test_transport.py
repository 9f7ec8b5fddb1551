"""The WeChat/WeCom sender: how each platform answer is classified, the bounded token refresh, timeouts."""

from __future__ import annotations

import socket

import pytest

from server.messaging.transport import Abort, Outcome, PushTransport

DATA = {"thing1": {"value": "图书馆"}, "phrase2": {"value": "已通过"}, "name3": {"value": "张三"},
        "time4": {"value": "2027年6月20日 14:30"}, "thing5": {"value": "其余事项通过后即可提交离校申请"}}
TEMPLATE = "demo-tmpl-item-passed"
CARD = {"title": "离校事项已通过", "description": "<div>图书馆已通过</div>", "url": "http://127.0.0.1/wecom/login?next=/me",
        "btntxt": "详情"}


@pytest.fixture
def transport(app, settings, emulator) -> PushTransport:  # type: ignore[no-untyped-def]
    emulator.set_quota("o-alice", TEMPLATE, 10)
    return PushTransport(settings, app.extensions["lixiao"].redis)


def _send(transport: PushTransport, **kw):  # type: ignore[no-untyped-def]
    return transport.send_wechat_subscribe("o-alice", TEMPLATE, "pages/home/index", DATA, **kw)


def test_accepted_message_is_ok_with_its_msgid(transport, emulator) -> None:
    result = _send(transport)
    assert result.ok and result.msgid is not None
    [message] = emulator.messages()
    assert message["data"] == DATA and message["miniprogram_state"] == "formal" and message["lang"] == "zh_CN"


@pytest.mark.parametrize(("errcode", "outcome", "rate_limited"), [
    (-1, Outcome.TRANSIENT, False),
    (45009, Outcome.TRANSIENT, True),
    (43101, Outcome.NO_CONSENT, False),
    (47003, Outcome.PERMANENT, False),
    (40003, Outcome.PERMANENT, False),
    (40037, Outcome.PERMANENT, False),
])
def test_errcodes_are_classified(transport, emulator, errcode, outcome, rate_limited) -> None:
    emulator.inject_fault("subscribe_send", errcode)
    result = _send(transport)
    assert (result.outcome, result.errcode, result.rate_limited) == (outcome, errcode, rate_limited)
    assert emulator.stats()["calls"]["subscribe_send"] == 1


def test_server_errors_are_transient(transport, emulator) -> None:
    emulator.inject_fault("subscribe_send", http_status=502)
    assert _send(transport).outcome is Outcome.TRANSIENT


def test_a_token_error_gets_one_refresh_and_one_retry(transport, emulator) -> None:
    emulator.inject_fault("subscribe_send", 40001, times=1)
    assert _send(transport).ok
    emulator.inject_fault("subscribe_send", 42001, times=2)
    result = _send(transport)
    assert (result.outcome, result.errcode) == (Outcome.TRANSIENT, 42001)
    stats = emulator.stats()
    assert stats["calls"]["subscribe_send"] == 4 and stats["calls"]["stable_token"] == 3  # never a loop


def test_unanswered_request_is_unconfirmed_not_retried(app, settings, emulator) -> None:
    emulator.set_quota("o-alice", TEMPLATE, 10)
    transport = PushTransport(settings.with_overrides(outside_timeout_seconds=0.3), app.extensions["lixiao"].redis)
    transport.wechat.fetch_access_token()
    emulator.inject_fault("subscribe_send", delay_ms=900)
    result = _send(transport)
    assert result.outcome is Outcome.UNCONFIRMED


def test_unreachable_platform_is_transient_and_before_send_not_called(app, settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket is closed
    transport = PushTransport(settings.with_overrides(wx_api_base=f"http://127.0.0.1:{port}/"),
                              app.extensions["lixiao"].redis)
    called = []
    result = _send(transport, before_send=lambda: called.append(True))
    assert result.outcome is Outcome.TRANSIENT and "token fetch failed" in result.detail
    assert called == []


def test_unreachable_platform_with_a_cached_token_is_transient(app, settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = PushTransport(settings.with_overrides(wx_api_base=f"http://127.0.0.1:{port}/"),
                              app.extensions["lixiao"].redis)
    transport.wechat.session.set(transport.wechat.access_token_key, "cached-token", 600)
    called = []
    result = _send(transport, before_send=lambda: called.append(True))
    # Nothing left: the worker gives the consent back and tries again later (no private urllib3 connect-ahead).
    assert result.outcome is Outcome.TRANSIENT and "ConnectionError" in result.detail
    assert called == [True]


def test_before_send_may_abort_and_nothing_leaves(transport, emulator) -> None:
    def refuse() -> None:
        raise Abort("no consent left")

    result = _send(transport, before_send=refuse)
    assert result.outcome is Outcome.ABORTED
    assert emulator.stats()["calls"]["subscribe_send"] == 0


def test_wecom_textcard_to_a_member_and_to_a_stranger(transport, emulator) -> None:
    emulator.control("POST", "wecom/members", {"userid": "zhangsan"})
    assert transport.send_wecom_textcard("zhangsan", CARD).ok
    stranger = transport.send_wecom_textcard("nobody", CARD)
    assert (stranger.outcome, stranger.errcode) == (Outcome.PERMANENT, 81013)
    [message] = emulator.messages("wecom")
    assert message["msg"]["title"] == CARD["title"] and message["touser"] == "zhangsan"
    assert emulator.stats()["token_fetches"]["wecom"] == 1
