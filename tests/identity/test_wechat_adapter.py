"""The wechatpy adapter: one token for every process, a bounded refresh, timeouts, and subscribe messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import fakeredis
import pytest

from server.app import create_app
from server.identity.platform import PlatformError
from server.identity.wechat import send_subscribe_message, wechat_client
from server.identity.wecom import wecom_identity

DATA = {"thing1": {"value": "图书馆手续已通过"}, "phrase2": {"value": "已通过"}}
TEMPLATE = "tmpl-item-passed"


@pytest.fixture
def send(app, emulator) -> Callable[..., int | None]:
    """send_subscribe_message inside the test app, to a user with plenty of quota."""
    emulator.set_quota("o-push", TEMPLATE, 100)

    def call(**kw):  # type: ignore[no-untyped-def]
        with app.app_context():
            return send_subscribe_message("o-push", TEMPLATE, DATA, **kw)

    return call


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


def push_from(app, openid: str = "o-push") -> int | None:
    with app.app_context():
        return send_subscribe_message(openid, TEMPLATE, DATA)


def test_the_client_is_wechatpy_aimed_at_the_emulator_without_auto_retry(app, settings):
    with app.app_context():
        client = wechat_client()
        assert client.auto_retry is False and client.timeout == settings.outside_timeout_seconds
        api_base, wxa_base = client.API_BASE_URL, client.wxa.API_BASE_URL
        assert api_base == settings.wx_api_base + "cgi-bin/" and wxa_base == settings.wx_api_base
        assert wechat_client() is client


def test_two_processes_sharing_redis_fetch_the_token_once(two_apps, emulator):
    emulator.set_quota("o-push", TEMPLATE, 10)
    assert push_from(two_apps[0]) and push_from(two_apps[1]) and push_from(two_apps[1])
    stats = emulator.stats()
    assert stats["calls"]["stable_token"] == 1 and stats["calls"]["token"] == 0
    assert stats["messages"]["wechat"] == 3


def test_two_processes_starting_together_still_fetch_once(two_apps, emulator):
    emulator.set_quota("o-push", TEMPLATE, 10)
    emulator.inject_fault("stable_token", delay_ms=400)  # a slow fetch: the other process must wait, not fetch
    results: list[int | None] = []
    threads = [threading.Thread(target=lambda a=a: results.append(push_from(a))) for a in two_apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 2 and all(results)
    assert emulator.stats()["calls"]["stable_token"] == 1


def test_an_expired_token_is_refreshed_once(send, emulator):
    emulator.inject_fault("subscribe_send", errcode=42001, times=1)
    assert send() is not None
    calls = emulator.stats()["calls"]
    assert calls["subscribe_send"] == 2 and calls["stable_token"] == 2


def test_a_platform_that_keeps_refusing_tokens_is_not_retried_in_a_loop(send, emulator):
    emulator.inject_fault("subscribe_send", errcode=42001, times=50)
    with pytest.raises(PlatformError) as caught:
        send()
    assert caught.value.errcode == 42001 and caught.value.retryable
    calls = emulator.stats()["calls"]
    assert calls["subscribe_send"] == 2 and calls["stable_token"] == 2  # one refresh, one retry, then stop


def test_a_token_replaced_elsewhere_is_picked_up(send, app, emulator):
    send()
    store = app.extensions["lixiao"].redis
    [key] = [k for k in store.keys("lixiao:wechatpy:*") if k.endswith("_access_token")]
    store.set(key, '"a-token-the-platform-no-longer-knows"')
    assert send() is not None  # 40001 → one refresh → sent
    assert emulator.stats()["calls"]["stable_token"] == 2


def test_subscribe_message_carries_state_lang_and_page(send, emulator):
    send(page="pages/index/index", miniprogram_state="developer", lang="en_US")
    [message] = emulator.messages("wechat")
    assert message["miniprogram_state"] == "developer" and message["lang"] == "en_US"
    assert message["page"] == "pages/index/index" and message["data"] == DATA and message["touser"] == "o-push"


def test_no_quota_and_bad_values_are_final_errors(app, emulator):
    emulator.mint_wx_code("o-none")  # the platform knows the user once they have logged in
    with app.app_context():
        with pytest.raises(PlatformError) as no_quota:
            send_subscribe_message("o-none", TEMPLATE, DATA)
        emulator.set_quota("o-none", TEMPLATE, 1)
        with pytest.raises(PlatformError) as bad_value:
            send_subscribe_message("o-none", TEMPLATE, {"phrase2": {"value": "太长的短语不行啊"}})
    assert no_quota.value.errcode == 43101 and not no_quota.value.retryable
    assert bad_value.value.errcode == 47003 and "phrase2" in bad_value.value.errmsg


@pytest.mark.parametrize("overrides", [{"outside_timeout_seconds": 0.3}])
def test_the_token_fetch_has_a_timeout(send, emulator):
    emulator.inject_fault("stable_token", delay_ms=2000)
    started = time.monotonic()
    with pytest.raises(PlatformError) as caught:
        send()
    assert caught.value.errcode is None and caught.value.retryable
    assert time.monotonic() - started < 1.5


def test_the_wecom_client_refreshes_once_too(app, emulator):
    emulator.inject_fault("wecom_getuserinfo", errcode=42001, times=50)
    code = emulator.mint_wecom_code("admin")
    with app.app_context(), pytest.raises(PlatformError) as caught:
        wecom_identity(code)
    assert caught.value.errcode == 42001
    calls = emulator.stats()["calls"]
    assert calls["wecom_getuserinfo"] == 2 and calls["wecom_token"] == 2
