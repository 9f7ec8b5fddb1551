"""The emulated service account, driven by wechatpy's official-account client over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask, request
from wechatpy import WeChatClient, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import APILimitedException, WeChatClientException
from wechatpy.utils import check_signature
from werkzeug.serving import make_server

from server.emulators import service_account as sa
from server.emulators.testing import RunningEmulator

DATA = {"thing1": {"value": "图书馆"}, "phrase2": {"value": "已通过"}, "time3": {"value": "2027年6月30日 15:01"}}


class SaClient(WeChatClient):
    """wechatpy's official-account client pointed at the emulator's /sa/ prefix."""

    def __init__(self, base: str) -> None:
        super().__init__(sa.DEMO_APPID, sa.DEMO_SECRET, auto_retry=False)
        self.base = base + "sa/"
        self.API_BASE_URL = self.base + "cgi-bin/"

    def fetch_access_token(self) -> dict[str, Any]:
        res = requests.post(self.base + "cgi-bin/stable_token", timeout=5, json={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
        result: dict[str, Any] = res.json()
        self.session.set(self.access_token_key, result["access_token"], result["expires_in"])
        return result


@pytest.fixture
def client(emulator: RunningEmulator) -> SaClient:
    return SaClient(emulator.url)


def follow(emulator: RunningEmulator, openid: str, unionid: str | None = None) -> dict[str, Any]:
    return emulator.control("POST", "sa/follow", {"openid": openid, "unionid": unionid})


def errcode_of(call: Any) -> int:
    with pytest.raises(WeChatClientException) as info:
        call()
    return int(info.value.errcode)


def test_a_follower_gets_a_template_message_that_opens_the_mini_program(emulator: RunningEmulator,
                                                                         client: SaClient) -> None:
    follow(emulator, "o_sa_1", "u_1")
    mini = {"appid": emulator.config.wechat_appid, "pagepath": "pages/status/index"}
    answer = client.message.send_template("o_sa_1", "demo-sa-item-passed", DATA,
                                          url="http://127.0.0.1/status", mini_program=mini)
    assert answer["errcode"] == 0 and answer["msgid"]
    [message] = emulator.messages("service_account")
    assert message["miniprogram"] == mini and message["data"] == DATA and message["touser"] == "o_sa_1"
    assert client.user.get("o_sa_1")["unionid"] == "u_1"


def test_the_send_errors(emulator: RunningEmulator, client: SaClient) -> None:
    follow(emulator, "o_sa_1")
    send = client.message.send_template
    assert errcode_of(lambda: send("o_nobody", "demo-sa-item-passed", DATA)) == 40003
    assert errcode_of(lambda: send("o_sa_1", "no-such-template", DATA)) == 40037
    assert errcode_of(lambda: send("o_sa_1", "demo-sa-item-passed", {**DATA, "first": {"value": "x"}})) == 47003
    too_long = {**DATA, "phrase2": {"value": "通过了吗好的"}}
    assert errcode_of(lambda: send("o_sa_1", "demo-sa-item-passed", too_long)) == 47003
    assert errcode_of(lambda: send("o_sa_1", "demo-sa-item-passed", DATA,
                                   mini_program={"appid": "wx_other", "pagepath": "pages/status/index"})) == 40165
    emulator.control("POST", "sa/unfollow", {"openid": "o_sa_1"})
    assert errcode_of(lambda: send("o_sa_1", "demo-sa-item-passed", DATA)) == 43004
    assert emulator.messages("service_account") == []


def test_the_daily_limit_answers_45009(emulator: RunningEmulator, client: SaClient) -> None:
    follow(emulator, "o_sa_1")
    emulator.control("PUT", "sa/config", {"daily_limit": 1})
    client.message.send_template("o_sa_1", "demo-sa-item-passed", DATA)
    with pytest.raises(APILimitedException):
        client.message.send_template("o_sa_1", "demo-sa-item-passed", DATA)


def test_private_templates_list_the_keywords(emulator: RunningEmulator, client: SaClient) -> None:
    templates = client.get("template/get_all_private_template")["template_list"]
    item = next(t for t in templates if t["template_id"] == "demo-sa-item-passed")
    assert sa.template_keywords(item["content"]) == ["thing1", "phrase2", "time3"]


def test_oauth_snsapi_base_gives_the_readers_openid(emulator: RunningEmulator) -> None:
    base = emulator.url + "sa/"
    redirect = requests.get(base + "connect/oauth2/authorize", allow_redirects=False, timeout=5, params={
        "appid": sa.DEMO_APPID, "redirect_uri": "http://127.0.0.1/back", "response_type": "code",
        "scope": "snsapi_base", "state": "s1", "openid": "o_reader"})
    code = requests.utils.urlparse(redirect.headers["Location"]).query.split("code=")[1].split("&")[0]
    params = {"appid": sa.DEMO_APPID, "secret": sa.DEMO_SECRET, "code": code, "grant_type": "authorization_code"}
    assert requests.get(base + "sns/oauth2/access_token", params=params, timeout=5).json()["openid"] == "o_reader"
    assert requests.get(base + "sns/oauth2/access_token", params=params, timeout=5).json()["errcode"] == 40163


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[Any]]]:
    """An app's callback endpoint that checks signatures and decrypts with wechatpy."""
    app, got = Flask("receiver"), []

    @app.post("/wx/callback")
    def callback() -> str:
        args = request.args
        check_signature(sa.DEMO_CALLBACK_TOKEN, args["signature"], args["timestamp"], args["nonce"])
        body = request.get_data(as_text=True)
        if args.get("encrypt_type") == "aes":
            crypto = WeChatCrypto(sa.DEMO_CALLBACK_TOKEN, sa.DEMO_AES_KEY, sa.DEMO_APPID)
            body = crypto.decrypt_message(body, args["msg_signature"], args["timestamp"], args["nonce"])
        got.append(parse_message(body))
        return "success"

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}/wx/callback", got
    server.shutdown()


@pytest.mark.parametrize("mode", ["safe", "plain"])
def test_follow_and_unfollow_reach_the_callback_signed(emulator: RunningEmulator,
                                                        receiver: tuple[str, list[Any]], mode: str) -> None:
    url, got = receiver
    emulator.control("PUT", "sa/config", {"callback_url": url, "callback_mode": mode})
    assert follow(emulator, "o_sa_9")["callback"]["status"] == 200
    emulator.control("POST", "sa/unfollow", {"openid": "o_sa_9"})
    assert [(m.event, m.source) for m in got] == [("subscribe", "o_sa_9"), ("unsubscribe", "o_sa_9")]
