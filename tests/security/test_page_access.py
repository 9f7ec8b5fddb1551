"""Who reaches which page: every browser route (GET pages and POST forms) × every kind of signed-in person.

The routes come from the app's URL map (those not in the API matrix of test_authorization.py), so a page
added without a row here fails `test_every_page_and_form_is_in_the_matrix`. Browsers carry a signed session
cookie as /login would leave it, and forms their CSRF token, so only the role decides. A refused form changes
nothing in the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests

from server.clearance.models import Batch
from tests.certificates.conftest import browser_cookie
from tests.factories import ITEM_KEYS, make_student
from tests.security.test_authorization import api_endpoints
from tests.security.test_csrf import snapshot
from tests.security.world import ROLES, World, build_world

TIMEOUT = 20
OK = "ok"  # answered for this person: not 401/403, not sent to log in (a 303 after a form counts)
LOGIN = "login"  # sent to /login?next=…
AWAY = "away"  # sent to CAS or WeCom
Expected = dict[str, int | str]
STUDENTS = ("student", "other_student")
NOBODY = ("anonymous", "unbound")  # `unbound` is a mini-program notion; in a browser it is nobody


def expect(default: int | str, **by_role: int | str) -> Expected:
    """A status for every role: `default`, except the roles named."""
    table: Expected = dict.fromkeys(ROLES, default)
    assert not set(by_role) - set(ROLES), by_role
    table.update(by_role)
    return table


def staff(allowed: tuple[str, ...], *, nobody: int | str = LOGIN) -> Expected:
    """A staff page or form: `allowed` roles get through, other staff and students 403, nobody `nobody`."""
    return expect(403, **dict.fromkeys(NOBODY, nobody), **dict.fromkeys(allowed, OK))


def admin_area(allowed: tuple[str, ...]) -> Expected:
    """The administrators' dashboard: students and nobody are sent to log in, other staff get 403."""
    return expect(403, **dict.fromkeys((*NOBODY, *STUDENTS), LOGIN), **dict.fromkeys(allowed, OK))


STUDENT_AREA = expect(LOGIN, student=OK, other_student=OK)  # staff have no student pages: log in as one
OPERATORS = tuple(f"operator_{key}" for key in ITEM_KEYS)
ALL_STAFF = ("admin", *OPERATORS, "counter", "viewer", "secretary")
COLLEGE_ON = "college" in ITEM_KEYS


def college_form() -> Expected:
    """A form of the college item: its secretary's and operators' when it is on; a 404 for staff when it is off."""
    if COLLEGE_ON:
        return staff(("admin", "operator_college", "secretary"), **CONSOLE_FORM)
    return expect(404, **dict.fromkeys(NOBODY, 401), **dict.fromkeys(STUDENTS, 403))


@dataclass(frozen=True)
class Route:
    """How to reach one route, and what each person must get."""

    expected: Expected
    path: Callable[[World], str] | None = None
    form: dict[str, str] | None = None


GET = {
    "/": Route(expect(200)),
    "/login": Route(expect(AWAY)),
    "/login/callback": Route(expect(400)),  # no state of this browser: the link has expired
    "/logout": Route(expect(200)),  # asks first; the POST logs out
    "/lang/<code>": Route(expect(302), path=lambda w: "/lang/en"),  # the language switch, for everyone: back home
    "/wecom/login": Route(expect(AWAY)),
    "/wecom/callback": Route(expect(400)),
    "/bind/cas": Route(expect(401)),  # needs the mini-program's token
    "/bind/cas/callback": Route(expect(400)),
    "/me/certificate/print": Route(expect(LOGIN, student=200, other_student=404)),  # B has none; never A's
    "/v/<token>": Route(expect(200), path=lambda w: "/v/" + w.qr_text.rsplit("/", 1)[-1]),  # public by design
    "/readyz": Route(expect(200)),  # nginx limits it to monitoring (docs/OPERATIONS.md)
    "/metrics": Route(expect(200)),  # likewise
    "/counter": Route(staff(("counter", "admin"))),
    "/console/": Route(staff(ALL_STAFF)),
    "/console/students": Route(staff(("admin", *OPERATORS, "viewer", "secretary")),
                               path=lambda w: "/console/students?q=TS"),
    "/console/students/<student_no>": Route(staff(("admin", *OPERATORS, "viewer", "secretary")),
                                            path=lambda w: f"/console/students/{w.a.student_no}"),
    "/console/blocked/<key>": Route(staff(("admin", "operator_library", "viewer")),
                                    path=lambda w: "/console/blocked/library"),
    "/console/blocked/<key>.csv": Route(staff(("admin", "operator_library", "viewer")),
                                        path=lambda w: "/console/blocked/library.csv"),
    "/console/imports": Route(staff(("admin", *OPERATORS))),
    "/console/staff": Route(staff(("admin",))),
    "/console/certificates": Route(staff(("admin",))),
    "/console/certificates/<serial>": Route(staff(("admin",)), path=lambda w: f"/console/certificates/{w.serial}"),
    "/me": Route(STUDENT_AREA),
    "/me/applications": Route(STUDENT_AREA),
    "/me/certificate": Route(STUDENT_AREA),
    "/me/notifications": Route(STUDENT_AREA),
    "/me/devices": Route(STUDENT_AREA),
    "/me/submit": Route(STUDENT_AREA),
    "/me/library-card/cancel": Route(STUDENT_AREA),
    "/admin": Route(admin_area(("admin", "viewer"))),
    "/admin/progress": Route(admin_area(("admin", "viewer"))),
    "/admin/progress/blocked": Route(admin_area(("admin", "viewer")),
                                     path=lambda w: "/admin/progress/blocked?item=library"),
    "/admin/progress/never-logged-in": Route(admin_area(("admin", "viewer"))),
    "/admin/exports": Route(admin_area(("admin", "viewer"))),
    "/admin/exports/students.<fmt>": Route(admin_area(("admin", "viewer")), path=lambda w: (
        "/admin/exports/students.csv")),
    "/admin/audit": Route(admin_area(("admin",))),
    "/admin/pushes": Route(admin_area(("admin",))),
    "/admin/certificates": Route(admin_area(("admin",))),
    "/admin/batches": Route(admin_area(("admin",))),
    "/admin/batches/<int:batch_id>": Route(admin_area(("admin",)), path=lambda w: f"/admin/batches/{w.a.batch_id}"),
    # The service account is off here (no LIXIAO_SA_APPID); tests/messaging/test_service_account_callback.py
    # covers both with it on.
    "/wx/service-account/callback": Route(expect(404)),
    "/wx/service-account/link": Route(expect(404)),
}

CONSOLE_FORM = dict(nobody=401)  # a form posted without signing in: 401, there is no page to come back to
POST = {
    "/counter": Route(staff(("counter", "admin")), form={"qr_text": "QR"}),
    "/counter/handover": Route(staff(("counter", "admin")), form={"serial": "SERIAL", "items": "diploma"}),
    "/console/certificates/<serial>/revoke": Route(staff(("admin",)), path=lambda w: (
        f"/console/certificates/{w.serial}/revoke"), form={"reason": "权限矩阵测试"}),
    "/console/certificates/<serial>/reissue": Route(staff(("admin",)), path=lambda w: (
        f"/console/certificates/{w.serial}/reissue"), form={"confirm": "yes"}),
    "/console/students/<student_no>/apartment/move-out": Route(
        staff(("admin", "operator_apartment"), **CONSOLE_FORM), path=lambda w: (
            f"/console/students/{w.a.student_no}/apartment/move-out"), form={"move_out_date": "2027-06-20"}),
    "/console/students/<student_no>/finance/payment": Route(
        staff(("admin", "operator_finance"), **CONSOLE_FORM),
        path=lambda w: f"/console/students/{w.a.student_no}/finance/payment", form={"amount": "1.00"}),
    "/console/students/<student_no>/finance/clear": Route(
        staff(("admin", "operator_finance"), **CONSOLE_FORM),
        path=lambda w: f"/console/students/{w.a.student_no}/finance/clear", form={"note": "矩阵"}),
    "/console/students/<student_no>/archives/thesis": Route(
        staff(("admin", "operator_archives"), **CONSOLE_FORM),
        path=lambda w: f"/console/students/{w.a.student_no}/archives/thesis", form={"status": "received"}),
    "/console/students/<student_no>/library": Route(
        staff(("admin", "operator_library"), **CONSOLE_FORM),
        path=lambda w: f"/console/students/{w.a.student_no}/library", form={"owed_books": "1"}),
    "/console/students/<student_no>/college/sign-off": Route(
        college_form(), path=lambda w: f"/console/students/{w.a.student_no}/college/sign-off", form={"note": "矩阵"}),
    "/console/students/<student_no>/college/owed": Route(
        college_form(), path=lambda w: f"/console/students/{w.a.student_no}/college/owed", form={"owed": "钥匙"}),
    "/console/staff": Route(staff(("admin",), **CONSOLE_FORM), form={"username": "matrix-new", "role": "viewer",
                                                                       "college": "矩阵学院"}),
    "/console/staff/<int:staff_id>": Route(staff(("admin",), **CONSOLE_FORM),
                                           path=lambda w: f"/console/staff/{w.staff['viewer'].id}",
                                           form={"role": "viewer", "college": "矩阵学院", "active": "1"}),
    "/console/staff/<int:staff_id>/sessions/end": Route(staff(("admin",), **CONSOLE_FORM),
                                                         path=lambda w: f"/console/staff/{w.staff['viewer'].id}"
                                                                        "/sessions/end"),
    "/console/imports": Route(staff(("admin", *OPERATORS), **CONSOLE_FORM), form={"kind": "library"}),
    "/console/imports/<token>/apply": Route(staff(("admin", *OPERATORS), **CONSOLE_FORM),
                                            path=lambda w: "/console/imports/no-such-import/apply"),
    "/me/library-card/cancel": Route(STUDENT_AREA, form={"confirm": "1"}),
    "/me/submit": Route(STUDENT_AREA, form={"confirm": "1"}),
    "/me/devices/<handle>/end": Route(STUDENT_AREA, path=lambda w: "/me/devices/" + "0" * 24 + "/end"),  # 404
    "/me/devices/end-others": Route(STUDENT_AREA),
    "/admin/batches": Route(admin_area(("admin",)), form={"name": "矩阵批次", "opens_at": "2027-01-01",
                                                          "closes_at": "2027-12-31"}),
    "/admin/batches/<int:batch_id>": Route(admin_area(("admin",)), path=lambda w: f"/admin/batches/{w.a.batch_id}",
                                           form={"name": "矩阵批次改名", "opens_at": "2027-01-01",
                                                 "closes_at": "2027-12-31"}),
    "/admin/batches/<int:batch_id>/close": Route(admin_area(("admin",)), path=lambda w: (
        f"/admin/batches/{w.a.batch_id}/close"), form={"confirm": "1"}),
    "/admin/batches/<int:batch_id>/reopen": Route(admin_area(("admin",)), path=lambda w: (
        f"/admin/batches/{w.a.batch_id}/reopen")),
    "/admin/pushes/resend": Route(admin_area(("admin",)), form={"id": "999999"}),
    "/logout": Route(expect(AWAY)),
    "/wx/service-account/callback": Route(expect(404)),  # off here; signed by WeChat, not by a CSRF token
}


def browser_routes(app) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
    """(GET rules, POST rules) of every route outside the API matrix."""
    api = {rule for _, rule in api_endpoints(app)}
    gets, posts = set(), set()
    for rule in app.url_map.iter_rules():
        if rule.rule in api or rule.endpoint == "static":
            continue
        if "GET" in rule.methods:
            gets.add(rule.rule)
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            posts.add(rule.rule)
    return gets, posts


def test_every_page_and_form_is_in_the_matrix(app):
    gets, posts = browser_routes(app)
    assert gets == set(GET), f"pages missing: {sorted(gets - set(GET))}; stale: {sorted(set(GET) - gets)}"
    assert posts == set(POST), f"forms missing: {sorted(posts - set(POST))}; stale: {sorted(set(POST) - posts)}"


def browser_of(app, world: World, role: str) -> requests.Session:  # type: ignore[no-untyped-def]
    """A browser signed in as the role's person (nobody for the anonymous and the unbound)."""
    http = requests.Session()
    person = world.person(role)
    values = {} if role in NOBODY else {"student_id": person.id} if role in STUDENTS else {"staff_id": person.id}
    if values:
        http.cookies.set(app.config["SESSION_COOKIE_NAME"], browser_cookie(app, **values), domain="127.0.0.1")
    return http


def outcome(response: requests.Response) -> int | str:
    """What the answer means for the matrix."""
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and location.startswith("/login"):
        return LOGIN
    if response.status_code in (301, 302, 303) and location.startswith("http"):
        return AWAY
    return response.status_code


def matches(got: int | str, want: int | str) -> bool:
    if want == OK:
        return got not in (401, 403, LOGIN, AWAY) and not (isinstance(got, int) and got >= 500)
    return got == want


@pytest.mark.parametrize("role", ROLES)
def test_each_person_reaches_exactly_their_pages_and_forms(role, app, live, session, settings):
    world = build_world(session, settings, live.url)
    http = browser_of(app, world, role)
    wrong = []
    for rule, route in GET.items():
        response = http.get(live.url + (route.path(world) if route.path else rule), allow_redirects=False,
                            timeout=TIMEOUT)
        got = outcome(response)
        if not matches(got, route.expected[role]):
            wrong.append(f"GET {rule}: {got}, expected {route.expected[role]}")
        if role == "other_student":  # another student's pages never show student A
            assert world.a.student_no not in response.text and world.serial not in response.text, rule

    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(live.url + "/logout", timeout=TIMEOUT).text)
    assert token, "the logout page carries a CSRF token"
    fill = {"QR": world.qr_text, "SERIAL": world.serial}

    def post(rule: str, route: Route) -> None:
        form = {k: fill.get(v, v) for k, v in (route.form or {}).items()}
        got = outcome(http.post(live.url + (route.path(world) if route.path else rule),
                                data={"csrf_token": token.group(1), **form}, allow_redirects=False, timeout=TIMEOUT))
        if not matches(got, route.expected[role]):
            wrong.append(f"POST {rule}: {got}, expected {route.expected[role]}")

    before = snapshot(session)
    for rule, route in POST.items():
        if route.expected[role] not in (OK, AWAY):
            post(rule, route)
    assert snapshot(session) == before, f"a form refused to {role} changed the database"
    for rule, route in POST.items():
        if route.expected[role] in (OK, AWAY):
            post(rule, route)
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def test_a_college_viewer_never_sees_another_colleges_students(app, live, session, settings):
    world = build_world(session, settings, live.url)
    same_batch = session.get(Batch, world.a.batch_id)  # only the college differs from student A
    outsider = make_student(session, same_batch, name="外院丙", college="外国语学院")
    session.commit()
    http = browser_of(app, world, "viewer")
    assert http.get(f"{live.url}/console/students/{outsider.student_no}", timeout=TIMEOUT).status_code == 403
    found = http.get(f"{live.url}/console/students", params={"q": "外院丙"}, timeout=TIMEOUT)
    assert found.status_code == 200 and "外院丙" not in found.text.replace('value="外院丙"', "")
    own = http.get(f"{live.url}/console/students", params={"q": world.a.name}, timeout=TIMEOUT)
    assert world.a.student_no in own.text  # the viewer's own college is there
    batch = f"batch={world.a.batch_id}"
    for path in ("/console/blocked/library", "/console/blocked/library.csv", f"/admin/exports/students.csv?{batch}",
                 f"/admin/progress/blocked?item=library&{batch}", f"/admin/progress/never-logged-in?{batch}"):
        answer = http.get(live.url + path, timeout=TIMEOUT)
        assert answer.status_code == 200 and outsider.student_no not in answer.text, path
    assert world.a.student_no in http.get(f"{live.url}/admin/exports/students.csv?{batch}", timeout=TIMEOUT).text
