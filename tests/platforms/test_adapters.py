"""The platform adapters: one token for every process, one bounded refresh, timeouts, for login and push alike."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import fakeredis
import pytest

from server.app import create_app
from server.platforms.common import Outcome, PlatformError, SendResult
from server.platforms.wechat import code_to_session, send_subscribe
from server.platforms.wecom import wecom_identity

DATA = {"thing1": {"value": "图书馆手续已通过"}, "phrase2": {"value": "已通过"}}
TEMPLATE = "tmpl-item-passed"
PAGE = "pages/home/index"


@pytest.fixture
def send(app, emulator) -> Callable[..., SendResult]:
    """send_subscribe through the app's adapter, to a user with plenty of quota."""
    emulator.set_quota("o-push", TEMPLATE, 100)
    return lambda openid="o-push", data=DATA: send_subscribe(app.extensions["lixiao"].wechat, openid, TEMPLATE,
                                                             PAGE, data)


@pytest.fixture
def two_apps(app, settings) -> Iterator[list]:
    """Two app instances (think: two gunicorn workers) sharing one Redis.

    The MySQL run shares the real Redis server; the SQLite run shares one fakeredis FakeServer.
    """
    server = None if settings.redis_url else fakeredis.FakeServer()
    apps = [create_app(settings, redis_client=None if server is None
                       else fakeredis.FakeRedis(server=server, decode_responses=True)) for _ in range(2)]
    apps[0].extensions["lixiao"].redis.flushdb()
    yield apps
    for each in apps:
        each.extensions["lixiao"].engine.dispose()


def push_from(app, openid: str = "o-push") -> SendResult:
    return send_subscribe(app.extensions["lixiao"].wechat, openid, TEMPLATE, PAGE, DATA)


def test_the_client_is_wechatpy_aimed_at_the_emulator_without_auto_retry(app, settings):
    state = app.extensions["lixiao"]
    client = state.wechat
    assert client.auto_retry is False and client.timeout == settings.outside_timeout_seconds
    assert settings.wx_api_base + "cgi-bin/" == client.API_BASE_URL and settings.wx_api_base == client.wxa.API_BASE_URL
    assert state.wechat is client and settings.wecom_api_base == state.wecom.API_BASE_URL


def test_two_processes_sharing_redis_fetch_the_token_once(two_apps, emulator):
    emulator.set_quota("o-push", TEMPLATE, 10)
    assert push_from(two_apps[0]).ok and push_from(two_apps[1]).ok and push_from(two_apps[1]).ok
    stats = emulator.stats()
    assert stats["calls"]["stable_token"] == 1 and stats["calls"]["token"] == 0
    assert stats["messages"]["wechat"] == 3


def test_two_processes_starting_together_still_fetch_once(two_apps, emulator):
    emulator.set_quota("o-push", TEMPLATE, 10)
    emulator.inject_fault("stable_token", delay_ms=400)  # a slow fetch: the other process must wait, not fetch
    results: list[SendResult] = []
    threads = [threading.Thread(target=lambda a=a: results.append(push_from(a))) for a in two_apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 2 and all(r.ok for r in results)
    assert emulator.stats()["calls"]["stable_token"] == 1


def test_an_expired_token_is_refreshed_once(send, emulator):
    emulator.inject_fault("subscribe_send", errcode=42001, times=1)
    assert send().ok
    calls = emulator.stats()["calls"]
    assert calls["subscribe_send"] == 2 and calls["stable_token"] == 2


def test_a_platform_that_keeps_refusing_tokens_is_not_retried_in_a_loop(send, emulator):
    emulator.inject_fault("subscribe_send", errcode=42001, times=50)
    result = send()
    assert (result.outcome, result.errcode) == (Outcome.TRANSIENT, 42001)
    calls = emulator.stats()["calls"]
    assert calls["subscribe_send"] == 2 and calls["stable_token"] == 2  # one refresh, one retry, then stop


def test_a_token_replaced_elsewhere_is_picked_up(send, app, emulator):
    send()
    store = app.extensions["lixiao"].redis
    [key] = [k for k in store.keys("lixiao:wechatpy:*") if k.endswith("_access_token")]
    store.set(key, '"a-token-the-platform-no-longer-knows"')
    app.extensions["lixiao"].wechat._memo = None  # as another process would see it
    assert send().ok  # 40001 → one refresh → sent
    assert emulator.stats()["calls"]["stable_token"] == 2


@pytest.mark.parametrize("overrides", [{"wx_miniprogram_state": "developer"}])
def test_subscribe_message_carries_state_lang_and_page(send, emulator):
    send()
    [message] = emulator.messages("wechat")
    assert message["miniprogram_state"] == "developer" and message["lang"] == "zh_CN"
    assert message["page"] == PAGE and message["data"] == DATA and message["touser"] == "o-push"


def test_no_quota_and_bad_values_are_final(app, emulator):
    emulator.mint_wx_code("o-none")  # the platform knows the user once they have logged in
    client = app.extensions["lixiao"].wechat
    no_quota = send_subscribe(client, "o-none", TEMPLATE, PAGE, DATA)
    emulator.set_quota("o-none", TEMPLATE, 1)
    bad_value = send_subscribe(client, "o-none", TEMPLATE, PAGE, {"phrase2": {"value": "太长的短语不行啊"}})
    assert (no_quota.outcome, no_quota.errcode) == (Outcome.NO_CONSENT, 43101)
    assert (bad_value.outcome, bad_value.errcode) == (Outcome.PERMANENT, 47003) and "phrase2" in bad_value.detail


@pytest.mark.parametrize("overrides", [{"outside_timeout_seconds": 0.3}])
def test_the_token_fetch_has_a_timeout(send, emulator):
    emulator.inject_fault("stable_token", delay_ms=2000)
    started = time.monotonic()
    result = send()
    assert result.outcome is Outcome.TRANSIENT and "token fetch failed" in result.detail
    assert time.monotonic() - started < 1.5


def test_the_wecom_client_refreshes_once_too(app, emulator):
    emulator.inject_fault("wecom_getuserinfo", errcode=42001, times=50)
    code = emulator.mint_wecom_code("admin")
    with pytest.raises(PlatformError) as caught:
        wecom_identity(app.extensions["lixiao"].wecom, code)
    assert caught.value.errcode == 42001 and caught.value.retryable
    calls = emulator.stats()["calls"]
    assert calls["wecom_getuserinfo"] == 2 and calls["wecom_token"] == 2


def test_login_and_push_share_one_token(app, emulator):
    emulator.set_quota("o-push", TEMPLATE, 10)
    code = emulator.mint_wx_code("o-push")
    client = app.extensions["lixiao"].wechat
    assert code_to_session(client, code).openid == "o-push"
    assert push_from(app).ok
    assert wecom_identity(app.extensions["lixiao"].wecom, emulator.mint_wecom_code("admin")).userid == "admin"
    calls = emulator.stats()["calls"]
    assert calls["stable_token"] == 1 and calls["wecom_token"] == 1
