"""WeCom: API login with an OAuth code, the H5 OAuth2 round trip, and the userid → person rule."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests

from server.identity.accounts import student_no_from_userid
from server.identity.models import Staff
from tests.factories import make_batch, make_student
from tests.identity.flows import error_code, me

TIMEOUT = 10


def wecom_login(base: str, code: str) -> requests.Response:
    return requests.post(f"{base}/api/v1/auth/wecom-login", json={"code": code}, timeout=TIMEOUT)


@pytest.fixture
def member(session, emulator):
    """A roster student who is a member of the corp's WeCom (userid = student number)."""
    student = make_student(session, make_batch(session), name="企微甲")
    session.commit()
    emulator.add_cas_users({"username": student.student_no, "password": "pw", "wecom_member": True})
    return student


def test_a_member_student_logs_in(live, emulator, member):
    response = wecom_login(live.url, emulator.mint_wecom_code(member.student_no))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["student"]["student_no"] == member.student_no and "staff" not in body and "bound" not in body
    assert me(live.url, body["token"]).json()["student"]["name"] == "企微甲"


def test_a_staff_member_logs_in_as_staff(live, emulator, session):
    session.add(Staff(username="library", name="图书馆员", role="operator", department="library"))
    session.commit()
    body = wecom_login(live.url, emulator.mint_wecom_code("library")).json()
    assert body["staff"] == {"username": "library", "name": "图书馆员", "role": "operator", "department": "library"}
    assert error_code(me(live.url, body["token"])) == "FORBIDDEN"


def test_someone_outside_the_corp_gets_a_clear_403(live, emulator):
    response = wecom_login(live.url, emulator.mint_wecom_code("stranger"))  # resolves to an openid only
    assert response.status_code == 403 and error_code(response) == "WECOM_NOT_MEMBER"
    assert "not a member" in response.json()["error"]["message_en"]


def test_a_member_who_is_nobody_here_gets_403(live, emulator):
    emulator.control("POST", "wecom/members", {"userid": "zhangsan"})
    response = wecom_login(live.url, emulator.mint_wecom_code("zhangsan"))
    assert response.status_code == 403 and error_code(response) == "NOT_IN_ROSTER"


def test_used_and_bad_codes_are_401(live, emulator, member):
    code = emulator.mint_wecom_code(member.student_no)
    assert wecom_login(live.url, code).status_code == 200
    assert error_code(wecom_login(live.url, code)) == "INVALID_LOGIN_CODE"
    assert error_code(wecom_login(live.url, "not-a-code")) == "INVALID_LOGIN_CODE"


@pytest.mark.parametrize("overrides", [{"wecom_userid_rule": r"s(?P<student_no>\d+)"}])
def test_a_regex_rule_maps_userids_to_student_numbers(live, emulator, session):
    student = make_student(session, make_batch(session), student_no="2027000123")
    session.commit()
    emulator.control("POST", "wecom/members", [{"userid": "s2027000123"}, {"userid": "2027000123"}])
    body = wecom_login(live.url, emulator.mint_wecom_code("s2027000123")).json()
    assert body["student"]["student_no"] == student.student_no
    # Under this rule a bare number is not a student's userid.
    assert error_code(wecom_login(live.url, emulator.mint_wecom_code("2027000123"))) == "NOT_IN_ROSTER"


@pytest.mark.parametrize(("userid", "rule", "expected"), [
    ("2027000123", "same", "2027000123"),
    ("s2027000123", r"s(?P<student_no>\d+)", "2027000123"),
    ("s2027000123x", r"s(?P<student_no>\d+)", None),
    ("teacher", r"(?P<student_no>\d{10})", None),
])
def test_userid_rule(userid, rule, expected):
    assert student_no_from_userid(userid, rule) == expected


def test_h5_oauth_round_trip_signs_the_browser_in(live, emulator, member, settings):
    http = requests.Session()
    start = http.get(f"{live.url}/wecom/login", params={"next": "/me"}, allow_redirects=False, timeout=TIMEOUT)
    location = start.headers["Location"]
    assert start.status_code == 302 and location.startswith(settings.wecom_oauth_url + "?")
    assert location.endswith("#wechat_redirect")
    query = parse_qs(urlparse(location).query)
    assert query["scope"] == ["snsapi_base"] and query["appid"] == [settings.wecom_corpid]
    assert query["redirect_uri"] == [f"{settings.public_base_url}/wecom/callback"]
    assert query["agentid"] == [str(settings.wecom_agentid)] and query["state"][0].isalnum()
    # The emulator's authorize page answers at once for the userid named in the query.
    back = http.get(location.replace("#wechat_redirect", f"&userid={member.student_no}"), allow_redirects=False,
                    timeout=TIMEOUT)
    assert back.status_code == 302 and back.headers["Location"].startswith(f"{live.url}/wecom/callback?code=")
    done = http.get(back.headers["Location"], allow_redirects=False, timeout=TIMEOUT)
    assert done.status_code == 302 and done.headers["Location"] == "/me"
    assert member.name in http.get(f"{live.url}/", timeout=TIMEOUT).text


def test_h5_callback_without_this_browsers_state_is_refused(live, emulator, member):
    code = emulator.mint_wecom_code(member.student_no)
    response = requests.get(f"{live.url}/wecom/callback", params={"code": code, "state": "abc"}, timeout=TIMEOUT,
                            allow_redirects=False)
    assert response.status_code == 400 and "登录链接已失效" in response.text


def test_h5_outsider_gets_a_page_not_a_session(live, emulator):
    http = requests.Session()
    http.cookies.set("emu_wecom_userid", "stranger", domain="127.0.0.1", path="/qy/connect")
    response = http.get(f"{live.url}/wecom/login", timeout=TIMEOUT)  # follows every redirect
    assert response.status_code == 403 and "企业微信成员" in response.text
    assert 'href="/login">登录</a>' in http.get(f"{live.url}/", timeout=TIMEOUT).text


@pytest.mark.parametrize("overrides", [{"items": ("library", "archives", "apartment", "finance", "college")}])
def test_a_college_secretary_signs_off_from_wecom(live, emulator, session):
    """In WeCom (H5), the college secretary lands in the console and signs a student of their college off."""
    student = make_student(session, make_batch(session), college="计算机科学与技术学院")
    session.add(Staff(username="sec.wang", name="王秘书", role="secretary", college="计算机科学与技术学院"))
    session.commit()
    emulator.add_cas_users({"username": "sec.wang", "password": "pw", "wecom_member": True})
    http = requests.Session()
    start = http.get(f"{live.url}/wecom/login", allow_redirects=False, timeout=TIMEOUT)
    back = http.get(start.headers["Location"].replace("#wechat_redirect", "&userid=sec.wang"), allow_redirects=False,
                    timeout=TIMEOUT)
    done = http.get(back.headers["Location"], allow_redirects=False, timeout=TIMEOUT)
    assert done.status_code == 302 and done.headers["Location"] == "/console"
    page = http.get(f"{live.url}/console/students/{student.student_no}", timeout=TIMEOUT).text
    assert "签字确认离校" in page
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = http.post(f"{live.url}/console/students/{student.student_no}/college/sign-off",
                       data={"csrf_token": token}, allow_redirects=False, timeout=TIMEOUT)
    assert signed.status_code == 303
    assert "已签字" in http.get(f"{live.url}/console/students/{student.student_no}", timeout=TIMEOUT).text
