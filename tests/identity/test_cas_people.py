"""The rules of server/identity/cas_people.py and their settings, without a CAS server (test_real_cas.py runs them
against two real ones)."""

from __future__ import annotations

import pytest

from server.clearance.models import Student
from server.errors import ApiError
from server.identity.cas_people import cas_attribute, person_for_cas, roster_differences
from server.platforms.cas import CasIdentity
from server.settings import Settings, SettingsError, load_settings
from tests.factories import make_student


@pytest.mark.parametrize(("attributes", "names", "expected"), [
    ({"xh": "2099000001"}, ("xh",), "2099000001"),
    ({"xh": " 2099000001 "}, ("xh",), "2099000001"),
    ({"XH": "2099000001"}, ("xh",), "2099000001"),  # names match case-insensitively when not exactly
    ({"xh": ["2099000001", "2099000001"]}, ("xh",), "2099000001"),  # a list of one distinct value
    ({"xh": ["2099000001", "2099000002"]}, ("xh",), None),  # two people? no guess
    ({"xh": ""}, ("xh",), None),
    ({"cn": "张三", "displayName": "Zhang San"}, ("displayName", "cn"), "Zhang San"),  # the first present wins
    ({"cn": "张三"}, ("displayName", "cn"), "张三"),
    ({}, ("xh",), None),
])
def test_cas_attribute(attributes, names, expected):
    assert cas_attribute(attributes, names) == expected


def test_names_are_compared_as_people_read_them():
    student = Student(student_no="1", name="阿卜杜热合曼·买买提", college="计算机学院")
    settings = Settings(cas_name_attributes="xm", cas_college_attributes="yxmc")
    same = {"xm": "阿卜杜热合曼•买买提", "yxmc": "计算机学院 "}
    assert roster_differences(student, same, settings) == ({}, {})
    assert roster_differences(student, {"xm": "ＡＢ"}, settings.with_overrides(cas_college_attributes="")) == (
        {"name": "阿卜杜热合曼·买买提"}, {"name": "ＡＢ"})
    assert roster_differences(student, {"yxmc": "法学院"}, settings) == (
        {"college": "计算机学院"}, {"college": "法学院"})
    assert roster_differences(student, {"xm": "别人"}, Settings(cas_name_attributes="")) == ({}, {})  # not compared


def test_without_the_attribute_setting_the_principal_is_the_student_number(app, session):
    student = make_student(session, student_no="2099111001")
    session.commit()
    assert person_for_cas(session, CasIdentity("2099111001", {}), Settings()).student.id == student.id
    with pytest.raises(ApiError) as refused:  # with an attribute set, a principal that is a number names nobody
        person_for_cas(session, CasIdentity("2099111001", {"gh": "T001"}), Settings(cas_student_no_attribute="xh"))
    assert refused.value.status == 403 and "not on the graduation roster" in refused.value.message_en


@pytest.mark.parametrize(("env", "message"), [
    ({"LIXIAO_CAS_STUDENT_NO_ATTRIBUTE": "xh,gh"}, "names one attribute"),
    ({"LIXIAO_CAS_STUDENT_NO_ATTRIBUTE": "x h"}, "must name CAS attributes"),
    ({"LIXIAO_CAS_NAME_ATTRIBUTES": "cn,<script>"}, "must name CAS attributes"),
    ({"LIXIAO_CAS_STUDENT_NO_ATTRIBUTE": "xh", "LIXIAO_CAS_VERSION": "1"}, "needs LIXIAO_CAS_VERSION 2 or 3"),
])
def test_cas_attribute_settings_are_checked_at_start(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_cas_attribute_settings_are_read():
    settings = load_settings({"LIXIAO_CAS_STUDENT_NO_ATTRIBUTE": "xh", "LIXIAO_CAS_NAME_ATTRIBUTES": "xm, cn",
                              "LIXIAO_CAS_COLLEGE_ATTRIBUTES": "yxmc"})
    assert (settings.cas_student_no_attribute, settings.cas_name_attributes, settings.cas_college_attributes) == (
        "xh", "xm, cn", "yxmc")
    assert Settings().cas_student_no_attribute == ""  # default: the principal is the student number


SLO = ('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="LR-1" Version="2.0" '
       'IssueInstant="2027-06-20T10:00:00Z"><saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
       '2099111001</saml:NameID><samlp:SessionIndex>ST-1</samlp:SessionIndex></samlp:LogoutRequest>')


@pytest.mark.parametrize("path", ["/login/callback?state=x", "/bind/cas/callback?state=x"])
def test_cas_single_logout_is_declined_plainly(app, path):
    """CAS back-channel single logout (a POST of logoutRequest) is not supported (docs/identity.md): it gets a
    plain 405 that changes nothing, never a CSRF error or a 500."""
    answer = app.test_client().post(path, data={"logoutRequest": SLO})
    assert answer.status_code == 405
    body = answer.get_data(as_text=True)
    assert "不支持该请求方法" in body
    english = app.test_client().post(path, data={"logoutRequest": SLO}, headers={"Accept-Language": "en"})
    assert english.status_code == 405 and "Method not allowed" in english.get_data(as_text=True)
