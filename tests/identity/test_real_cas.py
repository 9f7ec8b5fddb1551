"""Logging in and binding against two independent CAS servers from PyPI (django-mama-cas and django-cas-server),
on CAS 3 and CAS 2, the way campuses run CAS: principals that are student numbers or login aliases, student
numbers in an attribute, staff matched by principal, servers that release no attributes, and CAS names that
differ from the roster (tests/identity/cas_servers.py starts the servers).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType

import pytest
import requests
from sqlalchemy import select

from server.audit import AuditEntry
from server.emulators.testing import cas_login
from server.identity.models import Staff, WechatBinding
from tests.factories import make_batch, make_student, sign_in_client
from tests.identity.cas_servers import KINDS, PASSWORD, running_cas_server
from tests.identity.flows import bind, me, token_for, wx_login

ZHANG, LI, CHEN = "2099555001", "2099555002", "2099555003"
BY_XH = {"cas_student_no_attribute": "xh"}
PLAYER = Path(__file__).resolve().parents[2] / "scripts" / "miniprogram_player.py"


@pytest.fixture(scope="module")
def cas_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, bool], str]]:
    """Start each kind of server (with or without attribute release) the first time a test asks for it."""
    with ExitStack() as stack:
        started: dict[tuple[str, bool], str] = {}

        def server(kind: str, release_attributes: bool) -> str:
            if (kind, release_attributes) not in started:
                folder = tmp_path_factory.mktemp(kind)
                started[kind, release_attributes] = stack.enter_context(
                    running_cas_server(kind, folder, release_attributes=release_attributes))
            return started[kind, release_attributes]

        yield server


@pytest.fixture(params=KINDS)
def cas_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=[3, 2], ids=["cas3", "cas2"])
def cas_version(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def released() -> bool:
    """Whether the CAS server releases attributes (parametrize to False for one that does not)."""
    return True


@pytest.fixture
def cas_settings() -> dict[str, object]:
    """Lixiao's CAS attribute settings for a test (parametrize to change them)."""
    return {}


@pytest.fixture
def overrides(cas_servers, cas_kind: str, cas_version: int, released: bool, cas_settings: dict[str, object]
              ) -> dict[str, object]:
    """Aim the app at the real CAS server of this test."""
    return {"cas_server_url": cas_servers(cas_kind, released), "cas_version": cas_version, **cas_settings}


@pytest.fixture
def roster(session):
    """Three students and a librarian; CAS calls the third one 王小明 of another college."""
    batch = make_batch(session)
    students = {no: make_student(session, batch, student_no=no, name=name, college=college)
                for no, name, college in ((ZHANG, "张三", "计算机学院"), (LI, "李四", "计算机学院"),
                                          (CHEN, "陈某甲", "经济管理学院"))}
    session.add(Staff(username="t.library", name="图书馆老师", role="operator", department="library"))
    session.commit()
    return students


def browser_login(base: str, username: str, next_path: str = "/me") -> tuple[requests.Session, requests.Response]:
    """/login → the CAS form → /login/callback; returns the browser and the callback's answer."""
    http = requests.Session()
    start = http.get(f"{base}/login", params={"next": next_path}, allow_redirects=False, timeout=10)
    answer = cas_login(http, start.headers["Location"], username, PASSWORD)
    assert answer.status_code == 302, answer.text
    return http, http.get(answer.headers["Location"], allow_redirects=False, timeout=10)


def bound_people(session) -> list[tuple[str, int | None, int | None]]:
    session.expire_all()
    return [(b.openid, b.student_id, b.staff_id) for b in session.scalars(select(WechatBinding))]


def test_binding_with_the_student_number_as_principal(live, emulator, session, roster):
    token = token_for(live.url, emulator, "o-real-cas")
    page = bind(live.url, token, ZHANG, PASSWORD)
    assert page.status_code == 200, page.text
    assert "绑定成功，请返回小程序" in page.text
    assert bound_people(session) == [("o-real-cas", roster[ZHANG].id, None)]
    assert me(live.url, token).json()["student"]["student_no"] == ZHANG
    assert wx_login(live.url, emulator, "o-real-cas").json()["bound"] is True


def test_a_left_over_sso_session_binds_nothing_when_renew_is_stripped(live, emulator, session, roster):
    """Review F1 on real CAS servers: their validation refuses an SSO ticket once we ask with renew=true."""
    browser, done = browser_login(live.url, ZHANG)  # the victim's CAS session stays in this browser
    assert done.status_code == 302
    start = browser.get(f"{live.url}/bind/cas", params={"token": token_for(live.url, emulator, "o-real-thief")},
                        allow_redirects=False, timeout=10)
    silent = browser.get(start.headers["Location"].replace("&renew=true", ""), allow_redirects=False, timeout=10)
    assert silent.status_code == 302 and "ticket=" in silent.headers["Location"]  # no password asked
    page = browser.get(silent.headers["Location"], allow_redirects=False, timeout=10)
    assert page.status_code == 401
    assert bound_people(session) == []


def test_browser_login_with_the_student_number_as_principal(live, roster):
    http, done = browser_login(live.url, ZHANG)
    assert done.status_code == 302 and done.headers["Location"] == "/me"
    assert "张三" in http.get(f"{live.url}/", timeout=10).text


@pytest.mark.parametrize("cas_version", [3], ids=["cas3"])
def test_an_alias_principal_is_not_in_the_roster_without_the_attribute_setting(live, emulator, session, roster):
    """The review's reproduction: a campus CAS answering with a login alias locks the student out by default."""
    page = bind(live.url, token_for(live.url, emulator, "o-alias"), "lisi.alias", PASSWORD)
    assert page.status_code == 403 and "不在离校名单中" in page.text
    assert bound_people(session) == []


@pytest.mark.parametrize("cas_settings", [BY_XH], ids=["xh"])
def test_an_alias_principal_signs_in_by_the_student_number_attribute(live, emulator, session, roster):
    http, done = browser_login(live.url, "lisi.alias")
    assert done.status_code == 302 and done.headers["Location"] == "/me"
    assert "李四" in http.get(f"{live.url}/", timeout=10).text
    token = token_for(live.url, emulator, "o-alias")
    page = bind(live.url, token, "lisi.alias", PASSWORD)
    assert page.status_code == 200 and "绑定成功" in page.text, page.text
    assert bound_people(session) == [("o-alias", roster[LI].id, None)]
    assert me(live.url, token).json()["student"]["student_no"] == LI


@pytest.mark.parametrize("cas_settings", [BY_XH], ids=["xh"])
def test_with_the_attribute_setting_a_principal_never_names_a_student(live, roster):
    """"2099555001x" looks like 张三's number; its xh is 李四's, and xh decides."""
    http, done = browser_login(live.url, "2099555001x")
    assert done.status_code == 302
    home = http.get(f"{live.url}/", timeout=10).text
    assert "李四" in home and "张三" not in home


@pytest.mark.parametrize("cas_settings", [{}, BY_XH], ids=["principal", "xh"])
def test_staff_sign_in_by_their_principal(live, emulator, session, roster):
    """A staff member's CAS answer has a 工号 and no 学号: the staff account is named by the principal."""
    _, done = browser_login(live.url, "t.library", "/")
    assert done.status_code == 302 and done.headers["Location"] == "/console"
    page = bind(live.url, token_for(live.url, emulator, "o-librarian"), "t.library", PASSWORD)
    assert page.status_code == 200 and "绑定成功" in page.text, page.text
    staff_id = bound_people(session)[0][2]
    assert staff_id is not None


@pytest.mark.parametrize("cas_settings", [{}, BY_XH], ids=["principal", "xh"])
def test_someone_outside_the_roster_binds_nothing(live, emulator, session, roster):
    page = bind(live.url, token_for(live.url, emulator, "o-real-outsider"), "outsider9", PASSWORD)
    assert page.status_code == 403 and "不在离校名单中" in page.text
    assert bound_people(session) == []


@pytest.mark.parametrize("released", [False], ids=["no-attributes"])
@pytest.mark.parametrize("cas_version", [2], ids=["cas2"])
def test_cas_2_without_attributes_signs_students_in_by_principal(live, emulator, session, roster):
    _, done = browser_login(live.url, ZHANG)
    assert done.status_code == 302 and done.headers["Location"] == "/me"
    page = bind(live.url, token_for(live.url, emulator, "o-plain-cas2"), ZHANG, PASSWORD)
    assert page.status_code == 200 and "绑定成功" in page.text, page.text


@pytest.mark.parametrize("cas_settings", [BY_XH], ids=["xh"])
@pytest.mark.parametrize("released", [False], ids=["no-attributes"])
@pytest.mark.parametrize("cas_version", [2], ids=["cas2"])
def test_a_missing_student_number_attribute_is_refused_clearly(live, emulator, session, roster, caplog):
    """The CAS team released no attributes: nobody is guessed from the principal, and the log says what to fix.

    (Someone whose answer has attributes but no xh is simply not a student: the outsider test.)
    """
    page = bind(live.url, token_for(live.url, emulator, "o-no-xh"), ZHANG, PASSWORD)
    assert page.status_code == 403
    assert "没有提供您的学号" in page.text
    assert bound_people(session) == []
    assert "CAS released no single 'xh' attribute" in caplog.text
    _, done = browser_login(live.url, "t.library", "/")  # staff still sign in by principal
    assert done.headers["Location"] == "/console"


@pytest.mark.parametrize("cas_settings", [{"cas_name_attributes": "xm", "cas_college_attributes": "yxmc"}],
                         ids=["xm-yxmc"])
def test_a_difference_from_the_roster_is_recorded_once_for_staff(app, live, emulator, session, roster):
    def differences() -> list[AuditEntry]:
        session.expire_all()
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "cas.roster_differs")
                                    .order_by(AuditEntry.id)))

    http, _ = browser_login(live.url, CHEN)
    assert "陈某甲" in http.get(f"{live.url}/", timeout=10).text  # the roster stays the truth
    browser_login(live.url, CHEN)
    bind(live.url, token_for(live.url, emulator, "o-chen"), CHEN, PASSWORD)
    browser_login(live.url, ZHANG)  # CAS agrees with the roster about 张三: nothing recorded
    [row] = differences()
    assert (row.entity, row.before, row.after) == (
        f"student:{CHEN}", {"name": "陈某甲", "college": "经济管理学院"},
        {"name": "王小明", "college": "计算机科学与技术学院"})

    roster[CHEN].college = "计算机科学与技术学院"  # the office corrects the roster's college; the name still differs
    session.commit()
    browser_login(live.url, CHEN)
    assert [(r.before, r.after) for r in differences()][1:] == [({"name": "陈某甲"}, {"name": "王小明"})]

    admin = Staff(username="gs-admin", name="管理员", role="admin")
    session.add(admin)
    session.commit()
    client = sign_in_client(app.test_client(), app, staff_id=admin.id)
    page = client.get(f"/console/students/{CHEN}").get_data(as_text=True)
    assert "王小明" in page and "计算机科学与技术学院" in page
    assert "统一身份认证信息与名单不同" in page


@pytest.fixture
def player() -> ModuleType:
    spec = importlib.util.spec_from_file_location("miniprogram_player", PLAYER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("cas_version", [3], ids=["cas3"])
def test_the_miniprogram_player_binds_through_each_server(player, live, emulator, roster, capsys):
    """django-cas-server's form has no `action` (HTML: post to the page itself); the player used to give up."""
    argv = ["--base", live.url, "--emulator", emulator.url, "--student", ZHANG]
    assert player.main([*argv, "--password", PASSWORD]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "绑定成功" in out and "张三" in out
    assert player.main([*argv, "--password", "wrong", "--openid", "o-player-wrong"]) == 1
    assert "binding failed" in capsys.readouterr().err
