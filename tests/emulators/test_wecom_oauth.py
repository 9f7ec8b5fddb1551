"""The emulated WeCom OAuth2 authorize page: an immediate redirect with a code, like WeCom inside its app."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

import requests

from server.emulators.testing import RunningEmulator

CALLBACK = "http://127.0.0.1:5999/wecom/callback"


def authorize(emulator: RunningEmulator, http: requests.Session | None = None, **params: str) -> requests.Response:
    query = {"appid": emulator.config.wecom_corpid, "redirect_uri": CALLBACK, "response_type": "code",
             "scope": "snsapi_base", "state": "s1", "agentid": "1000002", **params}
    url = f"{emulator.url}qy/connect/oauth2/authorize?{urlencode(query)}#wechat_redirect"
    return (http or requests.Session()).get(url, allow_redirects=False, timeout=10)


def code_of(response: requests.Response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    assert response.headers["Location"].startswith(CALLBACK + "?")
    return parse_qs(urlparse(response.headers["Location"]).query)


def test_a_member_comes_back_with_a_code_for_their_userid(emulator: RunningEmulator) -> None:
    query = code_of(authorize(emulator, userid="admin"))
    assert query["state"] == ["s1"]
    client = emulator.wecom_client()
    answer = client.get("auth/getuserinfo", params={"code": query["code"][0]})
    assert answer["userid"] == "admin"


def test_the_userid_is_remembered_in_a_cookie(emulator: RunningEmulator) -> None:
    http = requests.Session()
    code_of(authorize(emulator, http, userid="library"))
    query = code_of(authorize(emulator, http))  # no userid this time
    answer = emulator.wecom_client().get("auth/getuserinfo", params={"code": query["code"][0]})
    assert answer["userid"] == "library"


def test_a_non_member_resolves_to_an_openid(emulator: RunningEmulator) -> None:
    query = code_of(authorize(emulator, userid="someone-else"))
    answer = emulator.wecom_client().get("auth/getuserinfo", params={"code": query["code"][0]})
    assert "userid" not in answer and answer["openid"].startswith("wo")


def test_without_a_userid_it_asks_for_one(emulator: RunningEmulator) -> None:
    response = authorize(emulator)
    assert response.status_code == 200 and 'name="userid"' in response.text
    assert 'name="redirect_uri"' in response.text  # the form carries the request along


def test_bad_appid_scope_or_untrusted_redirect_are_refused(emulator: RunningEmulator) -> None:
    assert authorize(emulator, userid="admin", appid="ww-other").status_code == 400
    assert authorize(emulator, userid="admin", scope="snsapi_userinfo").status_code == 400
    refused = authorize(emulator, userid="admin", redirect_uri="https://evil.example/cb")
    assert refused.status_code == 400 and "50001" in refused.text
