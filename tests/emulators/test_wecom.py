"""The WeCom emulator, driven by wechatpy 1.8.18 (wechatpy.enterprise) over real HTTP."""

import pytest
import requests
from wechatpy.exceptions import APILimitedException, WeChatClientException

from server.emulators.testing import ManualClock, RunningEmulator


def _card(title: str = "离校手续已全部通过") -> dict:
    return {
        "title": title,
        "description": "<div class='highlight'>可以提交离校申请 You can submit now</div>",
        "url": "http://127.0.0.1:8000/wecom/status",
    }


def test_member_code_resolves_to_userid(emulator: RunningEmulator) -> None:
    client = emulator.wecom_client()
    legacy = client.oauth.get_user_info(emulator.mint_wecom_code("library"))
    assert legacy["UserId"] == "library"
    current = client.get("auth/getuserinfo", params={"code": emulator.mint_wecom_code("library")})
    assert current["userid"] == "library"
    assert "openid" not in current


def test_non_member_code_resolves_to_a_stable_openid(emulator: RunningEmulator) -> None:
    client = emulator.wecom_client()
    minted = emulator.control("POST", "wecom/code", {"userid": "2027000123"})
    assert minted["member"] is False
    first = client.get("auth/getuserinfo", params={"code": minted["code"]})
    assert "userid" not in first
    assert first["openid"] == minted["openid"]
    legacy = client.oauth.get_user_info(emulator.mint_wecom_code("2027000123"))
    assert legacy["OpenId"] == first["openid"]


def test_oauth_code_is_one_shot_and_expires(emulator: RunningEmulator, clock: ManualClock) -> None:
    client = emulator.wecom_client()
    code, late = emulator.mint_wecom_code("admin"), emulator.mint_wecom_code("admin")
    client.oauth.get_user_info(code)
    with pytest.raises(WeChatClientException) as used:
        client.oauth.get_user_info(code)
    assert used.value.errcode == 40029
    clock.advance(300)
    with pytest.raises(WeChatClientException) as expired:
        client.oauth.get_user_info(late)
    assert expired.value.errcode == 40029


def test_gettoken_returns_the_same_token_while_valid(emulator: RunningEmulator, clock: ManualClock) -> None:
    params = {"corpid": emulator.config.wecom_corpid, "corpsecret": emulator.config.wecom_corpsecret}
    url = emulator.url + "qy/cgi-bin/gettoken"
    first = requests.get(url, params=params, timeout=5).json()
    assert requests.get(url, params=params, timeout=5).json()["access_token"] == first["access_token"]
    clock.advance(7200)
    assert requests.get(url, params=params, timeout=5).json()["access_token"] != first["access_token"]
    assert requests.get(url, params={**params, "corpsecret": "wrong"}, timeout=5).json()["errcode"] == 40001
    stats = emulator.stats()
    assert stats["token_fetches"]["wecom"] == 3
    assert stats["tokens_issued"]["wecom"] == 2


def test_textcard_is_recorded_per_member_and_strangers_are_invaliduser(emulator: RunningEmulator) -> None:
    client = emulator.wecom_client()
    card = _card()
    result = client.message.send_text_card(
        emulator.config.wecom_agentid, ["library", "Nobody"], card["title"], card["description"], card["url"]
    )
    assert result["errcode"] == 0
    assert result["invaliduser"] == "nobody"
    sent = emulator.messages("wecom")
    assert len(sent) == 1
    assert sent[0]["touser"] == "library"
    assert sent[0]["msgtype"] == "textcard"
    assert sent[0]["msg"]["title"] == "离校手续已全部通过"
    assert emulator.stats()["token_fetches"]["wecom"] == 1


def test_all_recipients_invalid_is_81013_and_wrong_agent_is_refused(emulator: RunningEmulator) -> None:
    client = emulator.wecom_client()
    card = _card()
    with pytest.raises(WeChatClientException) as nobody:
        client.message.send_text_card(
            emulator.config.wecom_agentid, "ghost", card["title"], card["description"], card["url"]
        )
    assert nobody.value.errcode == 81013
    with pytest.raises(WeChatClientException) as agent:
        client.message.send_text_card(1, "library", card["title"], card["description"], card["url"])
    assert agent.value.errcode == 40056
    assert emulator.messages() == []


def test_rate_limit_error_mode_answers_45009_until_the_minute_passes(
    emulator: RunningEmulator, clock: ManualClock
) -> None:
    emulator.control("PUT", "wecom/rate_limit", {"per_minute": 3, "mode": "error"})
    client = emulator.wecom_client()
    agent, card = emulator.config.wecom_agentid, _card()
    for _ in range(3):
        client.message.send_text_card(agent, "counter", card["title"], card["description"], card["url"])
    with pytest.raises(APILimitedException) as limited:
        client.message.send_text_card(agent, "counter", card["title"], card["description"], card["url"])
    assert limited.value.errcode == 45009
    client.message.send_text_card(agent, "finance", card["title"], card["description"], card["url"])  # per member
    clock.advance(60)
    client.message.send_text_card(agent, "counter", card["title"], card["description"], card["url"])
    assert [m["touser"] for m in emulator.messages()] == ["counter"] * 3 + ["finance", "counter"]


def test_rate_limit_default_mode_drops_silently_like_wecom(emulator: RunningEmulator) -> None:
    emulator.control("PUT", "wecom/rate_limit", {"per_minute": 2})
    client = emulator.wecom_client()
    agent, card = emulator.config.wecom_agentid, _card()
    answers = [
        client.message.send_text_card(agent, "counter", card["title"], card["description"], card["url"])
        for _ in range(3)
    ]
    assert [a["errcode"] for a in answers] == [0, 0, 0]
    assert len(emulator.messages()) == 2
    assert emulator.stats()["dropped"] == 1
    assert emulator.control("GET", "dropped")[0]["touser"] == "counter"


def test_wecom_faults(emulator: RunningEmulator) -> None:
    client = emulator.wecom_client()
    card = _card()
    emulator.inject_fault("wecom_send", -1)
    with pytest.raises(WeChatClientException) as busy:
        client.message.send_text_card(
            emulator.config.wecom_agentid, "admin", card["title"], card["description"], card["url"]
        )
    assert busy.value.errcode == -1
    emulator.inject_fault("wecom_getuserinfo", 40014)  # wechatpy refetches the token and retries
    assert client.oauth.get_user_info(emulator.mint_wecom_code("admin"))["UserId"] == "admin"
    assert emulator.stats()["calls"]["wecom_getuserinfo"] == 2


def test_staff_are_members_and_members_can_be_added(emulator: RunningEmulator) -> None:
    members = emulator.control("GET", "wecom/members")
    assert {"admin", "library", "archives", "apartment", "finance", "counter"} <= set(members)
    emulator.control("POST", "wecom/members", {"userid": "2027000999"})
    assert emulator.control("POST", "wecom/code", {"userid": "2027000999"})["member"] is True
