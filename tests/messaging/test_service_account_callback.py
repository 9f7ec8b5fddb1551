"""Knowing who follows: the signed callback (plain and safe mode), unionid links, and the menu's OAuth page.

Callbacks are built the way WeChat builds them, with wechatpy (`WeChatCrypto.encrypt_message`), and the
emulator's own follow/unfollow posts reach the app over real HTTP in one test.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto
from werkzeug.serving import make_server

from server.emulators import service_account as emu_sa
from server.emulators.testing import RunningEmulator
from server.messaging.followers import MiniProgramUnionid, ServiceAccountFollower
from server.settings import Settings
from tests.factories import make_batch, sign_in_client
from tests.messaging.pushes import openid_of, reachable_student

TOKEN, AES_KEY, APPID = emu_sa.DEMO_CALLBACK_TOKEN, emu_sa.DEMO_AES_KEY, emu_sa.DEMO_APPID
CALLBACK = "/wx/service-account/callback"


@pytest.fixture
def settings(settings: Settings, emulator: RunningEmulator) -> Settings:
    return settings.with_overrides(sa_appid=APPID, sa_api_base=emulator.url + "sa/",
                                   sa_oauth_url=emulator.url + "sa/connect/oauth2/authorize")


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def signed_in(app):  # type: ignore[no-untyped-def]
    """`signed_in(student_id=…)`: a test client with that student's browser session."""
    def make(*, student_id: int):  # type: ignore[no-untyped-def]
        browser = app.test_client()
        return sign_in_client(browser, app, student_id=student_id)

    return make


def event_xml(openid: str, event: str, created: int) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event></xml>")


def signed(openid: str, event: str, *, created: int | None = None, token: str = TOKEN, aes_key: str | None = AES_KEY,
           timestamp: int | None = None) -> tuple[dict[str, str], str]:
    """Query and body of a callback as WeChat sends it (safe mode unless aes_key is None)."""
    ts, nonce = str(timestamp or int(time.time())), secrets.token_hex(5)
    query = {"signature": hashlib.sha1("".join(sorted([token, ts, nonce])).encode()).hexdigest(),  # noqa: S324
             "timestamp": ts, "nonce": nonce, "openid": openid}
    xml = event_xml(openid, event, created or int(time.time()))
    if aes_key is None:
        return query, xml
    body = WeChatCrypto(token, aes_key, APPID).encrypt_message(xml, nonce, ts)
    msg_signature = body.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    return query | {"encrypt_type": "aes", "msg_signature": msg_signature}, body


def post(client, query: dict[str, str], body: str):  # type: ignore[no-untyped-def]
    return client.post(CALLBACK, query_string=query, data=body.encode(), content_type="text/xml")


def followers_of(session) -> list[tuple[str, bool, int | None]]:  # type: ignore[no-untyped-def]
    session.commit()  # end a read begun meanwhile (touching an expired object), so newer commits are seen
    rows = [(f.openid, f.following, f.student_id) for f in session.scalars(select(ServiceAccountFollower))]
    session.commit()
    return rows


def test_the_console_url_check_answers_echostr_only_when_signed(app, client) -> None:
    query, _ = signed("o1", "subscribe")
    assert client.get(CALLBACK, query_string=query | {"echostr": "e123"}).get_data(as_text=True) == "e123"
    assert client.get(CALLBACK, query_string=query | {"signature": "0" * 40, "echostr": "e"}).status_code == 403


def test_follow_and_unfollow_in_safe_mode(app, client, session) -> None:
    assert post(client, *signed("o-sa-1", "subscribe")).get_data(as_text=True) == "success"
    assert followers_of(session) == [("o-sa-1", True, None)]
    assert post(client, *signed("o-sa-1", "unsubscribe", created=int(time.time()) + 1)).status_code == 200
    assert followers_of(session) == [("o-sa-1", False, None)]


def test_plain_mode_when_no_aes_key_is_configured(app, client, session, settings) -> None:
    app.extensions["lixiao"].settings = settings.with_overrides(sa_aes_key="")
    assert post(client, *signed("o-sa-1", "subscribe", aes_key=None)).status_code == 200
    assert followers_of(session) == [("o-sa-1", True, None)]


@pytest.mark.parametrize("forgery", ["bad signature", "wrong token", "wrong aes key", "tampered body",
                                     "plain in safe mode", "stale timestamp", "no signature"])
def test_forged_callbacks_change_nothing(app, client, session, forgery: str) -> None:
    query, body = signed("o-sa-1", "subscribe", token="not-the-token" if forgery == "wrong token" else TOKEN,
                         aes_key={"wrong aes key": "B" * 43, "plain in safe mode": None}.get(forgery, AES_KEY),
                         timestamp=int(time.time()) - 3600 if forgery == "stale timestamp" else None)
    if forgery == "bad signature":
        query["signature"] = "0" * 40
    if forgery == "no signature":
        query.pop("signature")
    if forgery == "tampered body":
        _, other = signed("o-attacker", "subscribe")
        body = other  # a body encrypted for another nonce/timestamp: its msg_signature does not match
    assert post(client, query, body).status_code == 403
    assert followers_of(session) == []


def test_replayed_callbacks_change_nothing(app, client, session) -> None:
    follow = signed("o-sa-1", "subscribe", created=int(time.time()) - 10)
    post(client, *follow)
    post(client, *signed("o-sa-1", "unsubscribe"))
    assert post(client, *follow).get_data(as_text=True) == "success"  # the same request again
    assert followers_of(session) == [("o-sa-1", False, None)]
    # WeChat's late delivery of an older event, freshly signed: older than what was applied, so ignored.
    assert post(client, *signed("o-sa-1", "subscribe", created=int(time.time()) - 5)).status_code == 200
    assert followers_of(session) == [("o-sa-1", False, None)]


def test_a_follower_links_to_the_student_by_unionid(app, client, session, emulator) -> None:
    student = reachable_student(session, make_batch(session))
    session.add(MiniProgramUnionid(openid=openid_of(student), unionid="u-123"))  # code2session gave it at login
    session.commit()
    emulator.control("POST", "sa/follow", {"openid": "o-sa-1", "unionid": "u-123"})  # no callback URL set
    assert post(client, *signed("o-sa-1", "subscribe")).status_code == 200
    assert followers_of(session) == [("o-sa-1", True, student.id)]


def test_the_login_unionid_links_an_earlier_follower(app, client, session, emulator) -> None:
    student = reachable_student(session, make_batch(session))
    session.commit()
    emulator.control("POST", "sa/follow", {"openid": "o-sa-1", "unionid": "u-9"})
    post(client, *signed("o-sa-1", "subscribe"))
    assert followers_of(session) == [("o-sa-1", True, None)]  # nobody logged in with u-9 yet
    code = emulator.control("POST", "wx/code", {"openid": openid_of(student), "unionid": "u-9"})["code"]
    answer = client.post("/api/v1/auth/wx-login", json={"code": code})
    assert answer.status_code == 200
    assert followers_of(session) == [("o-sa-1", True, student.id)]


def test_the_menu_page_links_the_reader_by_oauth(app, session, emulator, signed_in) -> None:
    student = reachable_student(session, make_batch(session), bound=False)
    session.commit()
    emulator.control("POST", "sa/follow", {"openid": "o-reader"})
    browser = signed_in(student_id=student.id)
    to_wechat = browser.get("/wx/service-account/link")
    assert to_wechat.status_code == 302
    authorize = urlparse(to_wechat.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert query["scope"] == "snsapi_base" and query["appid"] == APPID
    back = emulator.http.get(f"{emulator.url}sa/connect/oauth2/authorize", allow_redirects=False, timeout=5,
                             params=query | {"openid": "o-reader"}).headers["Location"]
    page = browser.get(urlparse(back).path + "?" + urlparse(back).query)
    assert page.status_code == 200 and "已关联服务号" in page.get_data(as_text=True)
    assert followers_of(session) == [("o-reader", True, student.id)]


def test_the_menu_page_refuses_a_forged_state(app, session, signed_in) -> None:
    student = reachable_student(session, make_batch(session))
    session.commit()
    browser = signed_in(student_id=student.id)
    browser.get("/wx/service-account/link")
    assert browser.get("/wx/service-account/link?code=abc&state=forged").status_code == 400
    assert followers_of(session) == []


@pytest.fixture
def live_app(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()


def test_the_emulators_follow_reaches_the_app(app, session, emulator, live_app) -> None:
    emulator.control("PUT", "sa/config", {"callback_url": live_app + CALLBACK, "callback_mode": "safe"})
    assert emulator.control("POST", "sa/follow", {"openid": "o-live"})["callback"]["status"] == 200
    assert followers_of(session) == [("o-live", True, None)]
