"""The authorization matrix: every API endpoint × every kind of caller, over real HTTP.

The endpoints come from the app's URL map, so an endpoint added without a row here fails
`test_every_api_endpoint_is_in_the_matrix`. Each caller gets a fresh world (two students, every staff role,
department keys) and calls every endpoint in the order below; the answer must be exactly the status the
matrix names. Students must only ever see their own data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.departments.signing import signed
from tests.factories import ITEM_KEYS as DEPARTMENTS
from tests.security.world import ROLES, STAFF_ROLES, World, build_world

Expect = dict[str, int]


def expect(default: int, **by_role: int) -> Expect:
    """A status for every role: `default`, except the roles named."""
    table = dict.fromkeys(ROLES, default)
    unknown = set(by_role) - set(ROLES)
    assert not unknown, unknown
    table.update(by_role)
    return table


def students_only(student: int, other_student: int | None = None) -> Expect:
    """Student endpoints: 401 without a token, 403 unbound or staff, the students' own answers."""
    return expect(403, anonymous=401, student=student,
                  other_student=student if other_student is None else other_student)


def staff_only(allowed: tuple[str, ...], status: int) -> Expect:
    """Staff endpoints: 401 without a token, 403 for everyone outside `allowed`."""
    return expect(403, anonymous=401, **dict.fromkeys(allowed, status))


def wecom_code(world: World, emulator) -> str:  # type: ignore[no-untyped-def]
    """A WeCom OAuth code of student A, made a member of the corp first."""
    emulator.add_cas_users({"username": world.a.student_no, "password": "pw", "wecom_member": True})
    return str(emulator.mint_wecom_code(world.a.student_no))


UNSIGNED = expect(401)  # the departmental API takes HMAC signatures only: no bearer token of any role gets in


@dataclass(frozen=True)
class Call:
    """How to call one endpoint, and what each role must get."""

    expected: Expect
    path: Callable[[World], str] | None = None
    body: Callable[[World, Any], Any] | None = None


MATRIX: dict[tuple[str, str], Call] = {
    # Logins are public: anyone with a valid code gets a token, whatever token they already hold.
    ("POST", "/api/v1/auth/wx-login"): Call(
        expect(200), body=lambda w, emulator: {"code": emulator.mint_wx_code("o-matrix-login")}),
    ("POST", "/api/v1/auth/wecom-login"): Call(expect(200), body=lambda w, emulator: {"code": wecom_code(w, emulator)}),
    ("GET", "/healthz"): Call(expect(200)),
    ("GET", "/.well-known/lixiao-certificate-keys.json"): Call(expect(200)),
    ("GET", "/api/openapi.json"): Call(expect(200)),
    # The student's own data; B has not submitted yet, so B has no certificate.
    ("GET", "/api/v1/me/clearance"): Call(students_only(200)),
    ("GET", "/api/v1/me/applications"): Call(students_only(200)),
    ("GET", "/api/v1/me/certificate"): Call(students_only(200, other_student=404)),
    ("GET", "/api/v1/me/certificate.png"): Call(students_only(200, other_student=404)),
    ("POST", "/api/v1/me/library-card/cancel"): Call(students_only(200)),
    ("POST", "/api/v1/me/application"): Call(students_only(409, other_student=201),
                                             body=lambda w, emulator: {"confirm": True}),
    ("GET", "/api/v1/me/subscriptions"): Call(students_only(200)),
    ("POST", "/api/v1/me/subscriptions"): Call(students_only(200), body=lambda w, _: {"accepted": ["item_passed"]}),
    ("GET", "/api/v1/me/notifications"): Call(students_only(200)),
    # Counter staff and administrators only.
    ("POST", "/api/v1/counter/verify"): Call(staff_only(("counter", "admin"), 200),
                                             body=lambda w, _: {"qr_text": w.qr_text}),
    ("POST", "/api/v1/counter/handover"): Call(staff_only(("counter", "admin"), 200),
                                               body=lambda w, _: {"serial": w.serial, "items": ["diploma"]}),
    ("POST", "/api/v1/admin/certificates/<serial>/revoke"): Call(
        staff_only(("admin",), 200), path=lambda w: f"/api/v1/admin/certificates/{w.serial}/revoke",
        body=lambda w, _: {"reason": "授权矩阵测试"}),
    # After the revocation above: only administrators re-issue, and for them it was just revoked.
    ("POST", "/api/v1/admin/certificates/<serial>/reissue"): Call(
        staff_only(("admin",), 200), path=lambda w: f"/api/v1/admin/certificates/{w.serial}/reissue"),
    ("PUT", "/api/v1/departments/<department>/records/<student_no>"): Call(
        UNSIGNED, path=lambda w: f"/api/v1/departments/library/records/{w.a.student_no}",
        body=lambda w, _: {"owed_books": 3}),
    ("POST", "/api/v1/departments/<department>/records"): Call(
        UNSIGNED, path=lambda w: "/api/v1/departments/library/records",
        body=lambda w, _: {"records": [{"student_no": w.a.student_no, "owed_books": 3}]}),
    # Signed-in devices: a student's own only; a handle that names none of theirs is 404.
    ("GET", "/api/v1/me/sessions"): Call(students_only(200)),
    ("DELETE", "/api/v1/me/sessions/<handle>"): Call(students_only(404),
                                                     path=lambda w: "/api/v1/me/sessions/" + "0" * 24),
    # Unbinding ends the caller's sessions, so it goes last; staff without a WeChat binding get 404.
    ("DELETE", "/api/v1/me/binding"): Call(expect(404, anonymous=401, unbound=403, student=204, other_student=204)),
    # Logging out ends the caller's token: after unbinding, the students' tokens were ended already.
    ("DELETE", "/api/v1/me/session"): Call(expect(204, anonymous=401, student=401, other_student=401)),
}


def api_endpoints(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, rule) of every JSON endpoint: under /api/, or in the OpenAPI document."""
    documented = {path.replace("{", "<").replace("}", ">") for path in app.api_doc["paths"]}
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule in documented:
            found |= {(method, rule.rule) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_every_api_endpoint_is_in_the_matrix(app):
    endpoints = api_endpoints(app)
    missing = sorted(endpoints - set(MATRIX))
    stale = sorted(set(MATRIX) - endpoints)
    assert not missing, f"add these endpoints to the authorization matrix: {missing}"
    assert not stale, f"these matrix rows name no endpoint any more: {stale}"


def _call(live, world: World, role: str, key: tuple[str, str], call: Call, emulator) -> requests.Response:
    method, rule = key
    path = call.path(world) if call.path else rule
    body = call.body(world, emulator) if call.body else None
    return requests.request(method, live.url + path, headers=world.headers(role), timeout=20,
                            **({"json": body} if body is not None else {}))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_matrix_says(role, live, session, settings, emulator):
    world = build_world(session, settings, live.url)
    wrong = []
    for key, call in MATRIX.items():
        response = _call(live, world, role, key, call, emulator)
        if response.status_code != call.expected[role]:
            wrong.append(f"{key[0]} {key[1]}: {response.status_code}, expected {call.expected[role]}: "
                         f"{response.text[:200]}")
        if response.headers.get("Content-Type", "").startswith("application/json"):
            text = json.dumps(response.json(), ensure_ascii=False)
            if role != "student" and key[1].startswith("/api/v1/me/"):
                # Nobody else, another student least of all, sees student A's number or certificate.
                assert world.a.student_no not in text and world.serial not in text, (key, role, text[:300])
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_a_department_key_writes_only_its_own_department(department, live, session, settings):
    world = build_world(session, settings, live.url)
    key = world.keys[department]
    for target in DEPARTMENTS:
        response = signed(live.url, "POST", f"/api/v1/departments/{target}/records",
                          {"records": [{"student_no": world.b.student_no}]}, key_id=key.key_id, secret=key.secret)
        assert response.status_code == (200 if target == department else 403), (department, target, response.text)
        if target != department:
            assert response.json()["error"]["code"] == "WRONG_DEPARTMENT"


def test_the_matrix_names_every_role():
    for key, call in MATRIX.items():
        assert set(call.expected) == set(ROLES), key
    assert len(STAFF_ROLES) == 4 + len(DEPARTMENTS)  # admin, an operator per item, counter, viewer, secretary


def test_a_body_over_the_upload_limit_is_a_documented_413(live, session, settings):
    world = build_world(session, settings, live.url)
    key = world.keys["library"]
    body = b'{"records": [' + b",".join([b'{"student_no": "x"}'] * 600_000) + b"]}"  # 12 MB
    response = signed(live.url, "POST", "/api/v1/departments/library/records", None, key_id=key.key_id,
                      secret=key.secret, body=body)
    assert response.status_code == 413 and response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    documented = requests.get(f"{live.url}/api/openapi.json", timeout=20).json()
    assert "413" in documented["paths"]["/api/v1/departments/{department}/records"]["post"]["responses"]
