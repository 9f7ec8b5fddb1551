"""The WeChat mini-program emulator, driven by wechatpy 1.8.18 over real HTTP."""

import io
import time

import pytest
import requests
import zxingcpp
from PIL import Image
from wechatpy.exceptions import WeChatClientException

from server.emulators import EmulatorConfig
from server.emulators.testing import ManualClock, RunningEmulator, running_emulator
from server.emulators.wechat import value_problem

TEMPLATE = "tmpl-clearance-passed"
GOOD_DATA = {
    "thing1": {"value": "图书馆离校手续已通过"},
    "phrase2": {"value": "已通过"},
    "time3": {"value": "2027年6月30日 15:01"},
}


def test_code_to_session_gives_openid_and_session_key_without_errcode(emulator: RunningEmulator) -> None:
    code = emulator.mint_wx_code("o_student_1")
    raw = requests.get(
        emulator.url + "sns/jscode2session",
        params={
            "appid": emulator.config.wechat_appid,
            "secret": emulator.config.wechat_secret,
            "js_code": code,
            "grant_type": "authorization_code",
        },
        timeout=5,
    ).json()
    assert raw["openid"] == "o_student_1"
    assert raw["session_key"]
    assert "errcode" not in raw

    result = emulator.wechat_client().wxa.code_to_session(emulator.mint_wx_code("o_student_1"))
    assert result["openid"] == "o_student_1"
    assert result["session_key"] != raw["session_key"]  # every login rotates the key


def test_code_is_one_shot_and_unknown_codes_fail(emulator: RunningEmulator) -> None:
    client = emulator.wechat_client()
    code = emulator.mint_wx_code("o_student_1")
    client.wxa.code_to_session(code)
    with pytest.raises(WeChatClientException) as used:
        client.wxa.code_to_session(code)
    assert used.value.errcode == 40163
    with pytest.raises(WeChatClientException) as unknown:
        client.wxa.code_to_session("never-minted")
    assert unknown.value.errcode == 40029


def test_code_expires_after_five_minutes(emulator: RunningEmulator, clock: ManualClock) -> None:
    client = emulator.wechat_client()
    fresh, stale = emulator.mint_wx_code("o_a"), emulator.mint_wx_code("o_b")
    clock.advance(299)
    assert client.wxa.code_to_session(fresh)["openid"] == "o_a"
    clock.advance(2)
    with pytest.raises(WeChatClientException) as expired:
        client.wxa.code_to_session(stale)
    assert expired.value.errcode == 40029


def test_wrong_secret_is_refused(emulator: RunningEmulator) -> None:
    raw = requests.get(
        emulator.url + "sns/jscode2session",
        params={
            "appid": emulator.config.wechat_appid,
            "secret": "wrong",
            "js_code": emulator.mint_wx_code("o"),
            "grant_type": "authorization_code",
        },
        timeout=5,
    ).json()
    assert raw["errcode"] == 40125


def _send(emulator: RunningEmulator, token: str, **body: object) -> dict:
    """POST a subscribe message with a given token, bypassing wechatpy's retry."""
    payload = {"touser": "o_student_1", "template_id": TEMPLATE, "data": GOOD_DATA, **body}
    return requests.post(
        emulator.url + "cgi-bin/message/subscribe/send", params={"access_token": token}, json=payload, timeout=5
    ).json()


def _token(emulator: RunningEmulator) -> str:
    params = {
        "grant_type": "client_credential",
        "appid": emulator.config.wechat_appid,
        "secret": emulator.config.wechat_secret,
    }
    return requests.get(emulator.url + "cgi-bin/token", params=params, timeout=5).json()["access_token"]


def test_each_token_fetch_invalidates_the_previous_token(emulator: RunningEmulator) -> None:
    emulator.set_quota("o_student_1", TEMPLATE, 5)
    first = _token(emulator)
    assert _send(emulator, first)["errcode"] == 0
    second = _token(emulator)
    assert _send(emulator, first)["errcode"] == 40001
    assert _send(emulator, second)["errcode"] == 0
    assert _send(emulator, "made-up")["errcode"] == 40001
    assert emulator.stats()["token_fetches"]["wechat"] == 2


def test_token_expires_and_wechatpy_refetches_once(emulator: RunningEmulator, clock: ManualClock) -> None:
    emulator.set_quota("o_student_1", TEMPLATE, 3)
    client = emulator.wechat_client()
    client.wxa.send_subscribe_message("o_student_1", TEMPLATE, GOOD_DATA)
    client.wxa.send_subscribe_message("o_student_1", TEMPLATE, GOOD_DATA)
    assert emulator.stats()["token_fetches"]["wechat"] == 1  # cached, fetched once

    old = client.access_token
    clock.advance(7200)
    assert _send(emulator, old)["errcode"] == 42001
    client.wxa.send_subscribe_message("o_student_1", TEMPLATE, GOOD_DATA)  # 42001, refetch, retry
    assert emulator.stats()["token_fetches"]["wechat"] == 2
    assert len(emulator.messages("wechat")) == 3


def test_stable_token_returns_the_same_token_until_forced(emulator: RunningEmulator) -> None:
    body = {
        "grant_type": "client_credential",
        "appid": emulator.config.wechat_appid,
        "secret": emulator.config.wechat_secret,
    }
    url = emulator.url + "cgi-bin/stable_token"
    first = requests.post(url, json=body, timeout=5).json()
    again = requests.post(url, json=body, timeout=5).json()
    assert first["access_token"] == again["access_token"]
    assert 0 < again["expires_in"] <= 7200
    forced = requests.post(url, json={**body, "force_refresh": True}, timeout=5).json()
    assert forced["access_token"] != first["access_token"]
    emulator.set_quota("o_student_1", TEMPLATE, 5)
    assert _send(emulator, first["access_token"])["errcode"] == 40001
    assert _send(emulator, forced["access_token"])["errcode"] == 0
    stats = emulator.stats()
    assert stats["token_fetches"]["wechat_stable"] == 3
    assert stats["tokens_issued"]["wechat_stable"] == 2


def test_subscribe_quota_is_spent_then_43101_records_nothing(emulator: RunningEmulator) -> None:
    client = emulator.wechat_client()
    emulator.set_quota("o_student_1", TEMPLATE, 2)
    client.wxa.send_subscribe_message("o_student_1", TEMPLATE, GOOD_DATA, page="pages/status/index?from=push")
    client.wxa.send_subscribe_message("o_student_1", TEMPLATE, GOOD_DATA)
    with pytest.raises(WeChatClientException) as refused:
        client.wxa.send_subscribe_message("o_student_1", TEMPLATE, GOOD_DATA)
    assert refused.value.errcode == 43101

    sent = emulator.messages()
    assert [m["touser"] for m in sent] == ["o_student_1", "o_student_1"]
    assert sent[0]["platform"] == "wechat"
    assert sent[0]["template_id"] == TEMPLATE
    assert sent[0]["data"] == GOOD_DATA
    assert sent[0]["page"] == "pages/status/index?from=push"
    assert sent[0]["received_at"].startswith("2027-01-15T")
    assert emulator.control("GET", "wx/quota") == [{"openid": "o_student_1", "template_id": TEMPLATE, "count": 0}]


def test_no_consent_means_43101_and_unknown_openid_means_40003(emulator: RunningEmulator) -> None:
    client = emulator.wechat_client()
    client.wxa.code_to_session(emulator.mint_wx_code("o_logged_in"))
    with pytest.raises(WeChatClientException) as no_quota:
        client.wxa.send_subscribe_message("o_logged_in", TEMPLATE, GOOD_DATA)
    assert no_quota.value.errcode == 43101
    with pytest.raises(WeChatClientException) as stranger:
        client.wxa.send_subscribe_message("o_never_seen", TEMPLATE, GOOD_DATA)
    assert stranger.value.errcode == 40003
    assert emulator.messages() == []


def test_a_thing_longer_than_20_characters_is_47003(emulator: RunningEmulator) -> None:
    client = emulator.wechat_client()
    emulator.set_quota("o_student_1", TEMPLATE, 2)
    too_long = {**GOOD_DATA, "thing1": {"value": "图" * 21}}
    with pytest.raises(WeChatClientException) as invalid:
        client.wxa.send_subscribe_message("o_student_1", TEMPLATE, too_long)
    assert invalid.value.errcode == 47003
    assert "argument invalid! data.thing1.value" in invalid.value.errmsg
    assert emulator.messages() == []
    client.wxa.send_subscribe_message("o_student_1", TEMPLATE, {**GOOD_DATA, "thing1": {"value": "图" * 20}})
    assert emulator.control("GET", "wx/quota")[0]["count"] == 1  # the refused send spent nothing


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        ("thing", "离校手续已全部通过，可以提交申请", True),
        ("thing", "", False),
        ("phrase", "已通过", True),
        ("phrase", "passed", False),
        ("phrase", "未通过未通过", False),
        ("character_string", "LX-2027-000123", True),
        ("character_string", "has space", False),
        ("number", "12.5", True),
        ("number", "12a", False),
        ("letter", "ABC", True),
        ("symbol", "%", True),
        ("symbol", "a", False),
        ("time", "15:01", True),
        ("time", "2019年10月1日 15:01", True),
        ("time", "2027-06-30 09:30 ~ 2027-06-30 17:00", True),
        ("time", "2019年10月1日", False),
        ("date", "2019年10月1日", True),
        ("date", "2027-06-30", True),
        ("date", "明天", False),
        ("amount", "¥100.50", True),
        ("amount", "100元", True),
        ("amount", "一百元", False),
        ("phone_number", "010-62751234", True),
        ("car_number", "京A12345", True),
        ("car_number", "京A1234567", False),
        ("name", "张三", True),
        ("name", "欧阳一二三四五六七八九", False),
        ("name", "Zhang San Feng Long X", False),
        ("enum", "anything", True),
    ],
)
def test_keyword_value_rules(kind: str, value: str, ok: bool) -> None:
    assert (value_problem(kind, value) is None) is ok


def test_faults_fail_n_times_then_heal(emulator: RunningEmulator) -> None:
    client = emulator.wechat_client()
    emulator.inject_fault("jscode2session", -1, times=2)
    for _ in range(2):
        with pytest.raises(WeChatClientException) as busy:
            client.wxa.code_to_session(emulator.mint_wx_code("o_x"))
        assert busy.value.errcode == -1
    assert client.wxa.code_to_session(emulator.mint_wx_code("o_x"))["openid"] == "o_x"
    assert emulator.stats()["calls"]["jscode2session"] == 3
    assert emulator.control("GET", "faults") == []


def test_injected_expired_token_is_retried_by_wechatpy(emulator: RunningEmulator) -> None:
    client = emulator.wechat_client()
    emulator.set_quota("o_student_1", TEMPLATE, 1)
    emulator.inject_fault("subscribe_send", 42001)
    client.wxa.send_subscribe_message("o_student_1", TEMPLATE, GOOD_DATA)
    assert emulator.stats()["token_fetches"]["wechat"] == 2
    assert emulator.stats()["calls"]["subscribe_send"] == 2
    assert len(emulator.messages()) == 1


def test_delay_fault_makes_a_slow_answer(emulator: RunningEmulator) -> None:
    emulator.inject_fault("token", delay_ms=400)
    params = {"grant_type": "client_credential", "appid": emulator.config.wechat_appid}
    with pytest.raises(requests.Timeout):
        requests.get(emulator.url + "cgi-bin/token", params=params, timeout=0.15)
    started = time.monotonic()
    requests.get(emulator.url + "cgi-bin/token", params=params, timeout=5)
    assert time.monotonic() - started < 0.3  # the delay was used up


def test_wxacode_is_a_png_that_decodes_to_the_scene(emulator: RunningEmulator) -> None:
    client = emulator.wechat_client()
    response = client.wxa.get_wxa_code_unlimited("c=LX2027000123", page="pages/counter/index")
    assert response.headers["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert decoded
    assert "pages/counter/index" in decoded[0].text
    assert "scene=c%3DLX2027000123" in decoded[0].text


@pytest.mark.parametrize(
    ("scene", "page", "errcode"),
    [("x" * 33, None, 40169), ("中文", None, 40129), ("ok", "/pages/a/index", 41030), ("ok", "pages/a?x=1", 41030)],
)
def test_wxacode_rejects_bad_scene_and_page(
    emulator: RunningEmulator, scene: str, page: str | None, errcode: int
) -> None:
    with pytest.raises(WeChatClientException) as bad:
        emulator.wechat_client().wxa.get_wxa_code_unlimited(scene, page=page)
    assert bad.value.errcode == errcode


def test_configured_templates_and_released_pages_are_enforced(clock: ManualClock) -> None:
    config = EmulatorConfig(
        clock=clock, wechat_template_ids=frozenset({TEMPLATE}), wechat_pages=frozenset({"pages/status/index"})
    )
    with running_emulator(config) as emulator:
        emulator.set_quota("o_student_1", TEMPLATE, 5)
        emulator.set_quota("o_student_1", "tmpl-unknown", 5)
        client = emulator.wechat_client()
        with pytest.raises(WeChatClientException) as template:
            client.wxa.send_subscribe_message("o_student_1", "tmpl-unknown", GOOD_DATA)
        assert template.value.errcode == 40037
        with pytest.raises(WeChatClientException) as page:
            client.wxa.send_subscribe_message("o_student_1", TEMPLATE, GOOD_DATA, page="pages/missing/index")
        assert page.value.errcode == 41030
        client.wxa.send_subscribe_message("o_student_1", TEMPLATE, GOOD_DATA, page="pages/status/index?tab=1")
        # Unreleased pages are fine while testing with miniprogram_state=developer (raw post, wechatpy#817).
        body = {"touser": "o_student_1", "template_id": TEMPLATE, "data": GOOD_DATA}
        client.post(
            "message/subscribe/send", data={**body, "page": "pages/new/index", "miniprogram_state": "developer"}
        )
        assert [m["miniprogram_state"] for m in emulator.messages()] == ["formal", "developer"]
        with pytest.raises(WeChatClientException) as unreleased:
            client.wxa.get_wxa_code_unlimited("s=1", page="pages/new/index")
        assert unreleased.value.errcode == 41030
        raw = client.post(
            emulator.url + "wxa/getwxacodeunlimit",
            data={"scene": "s=1", "page": "pages/new/index", "check_path": False},
        )
        assert raw.content.startswith(b"\x89PNG")


def test_before_the_first_release_a_formal_push_answers_41030(emulator: RunningEmulator) -> None:
    emulator.set_quota("o_student_1", TEMPLATE, 5)
    client = emulator.wechat_client()
    emulator.release([])  # no version released yet
    with pytest.raises(WeChatClientException) as before:
        client.wxa.send_subscribe_message("o_student_1", TEMPLATE, GOOD_DATA, page="pages/status/index")
    assert before.value.errcode == 41030
    body = {"touser": "o_student_1", "template_id": TEMPLATE, "data": GOOD_DATA, "page": "pages/status/index"}
    client.post("message/subscribe/send", data={**body, "miniprogram_state": "trial"})  # the trial version opens
    emulator.release(["pages/status/index"])  # the first release
    client.wxa.send_subscribe_message("o_student_1", TEMPLATE, GOOD_DATA, page="pages/status/index")
    assert [m["miniprogram_state"] for m in emulator.messages()] == ["trial", "formal"]
