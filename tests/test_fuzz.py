"""Fuzz the JSON API from its own OpenAPI document (schemathesis) over real HTTP, as every kind of caller.

Each operation gets schemathesis's coverage phase (boundary values, missing and wrong-typed fields, methods
the document does not list) and a bounded fuzzing phase of positive and negative examples, sent as an
anonymous caller, an unbound mini-program user, a student who has submitted, counter staff and an
administrator. Every answer must be no 5xx, a documented status code, the documented content type, and a
body that matches its documented schema; negative examples must be refused.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.core.failures import FailureGroup
from schemathesis.pytest.lazy import get_all_tests

from server.departments.credentials import IssuedKey, create_key, sign
from server.emulators import EmulatorConfig
from server.emulators.testing import RunningEmulator, running_emulator
from server.identity.tokens import issue_token
from server.settings import Settings
from server.timeutil import utcnow
from tests.certificates.conftest import make_staff, staff_token
from tests.factories import ITEM_KEYS as DEPARTMENTS
from tests.factories import cleared_student, make_batch, make_student, sign_in_client, student_token

EXAMPLES = 6  # per operation, mode and caller: the whole test stays well under a minute per backend
UNBIND = "DELETE /api/v1/me/binding"
HYPOTHESIS = hypothesis_settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=EXAMPLES)

CONFIG = schemathesis.Config.from_dict({
    "seed": 20270620,  # the same cases every run: a failure here is reproducible, not flaky
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    "generation": {"max-examples": EXAMPLES, "mode": "all", "database": "none"},
    "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}},
    "checks": {
        # Acceptance of valid data depends on the caller's rights and the data's state (a student who has
        # submitted gets 409 for a second submission); the authorization matrix test covers who may do what.
        "positive_data_acceptance": {"enabled": False},
    },
})


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """WeChat, WeCom and CAS emulators, so login endpoints reach a platform and answer what it says."""
    with running_emulator(EmulatorConfig()) as running:
        yield running


@pytest.fixture
def settings(settings: Settings, emulator: RunningEmulator) -> Settings:
    """The suite's settings aimed at this test's emulator."""
    return settings.with_overrides(
        wx_api_base=emulator.url, wecom_api_base=emulator.url + "qy/cgi-bin/",
        wecom_oauth_url=emulator.url + "qy/connect/oauth2/authorize", cas_server_url=emulator.cas_url,
        rate_limit_per_ip=100_000,  # a limit reached would only turn answers into (documented) 429s
    )


@pytest.fixture(params=["anonymous", "unbound", "student", "counter", "admin", "department"])
def caller(request: pytest.FixtureRequest, session, settings: Settings, api) -> dict[str, Any]:
    """Who sends the fuzzed requests: a role and a way to get that role's headers for one case."""
    batch = make_batch(session)
    student = cleared_student(session, batch)
    token = student_token(session, settings, student)
    submitted = api(token).post("/api/v1/me/application", json={"confirm": True})
    assert submitted.status_code == 201  # certificate endpoints answer 200

    def fresh_student_token() -> str:
        # Unbinding revokes the caller's sessions: each unbind case gets a student of its own.
        return student_token(session, settings, cleared_student(session, batch))

    tokens = {
        "anonymous": None,
        "unbound": issue_token(session, settings.secret_key, channel="wechat", now=utcnow(),
                               ttl_seconds=settings.token_ttl_seconds, openid="o-fuzz-unbound"),
        "student": token,
        "counter": staff_token(session, settings, make_staff(session, "counter")),
        "admin": staff_token(session, settings, make_staff(session, "admin")),
    }
    keys = {d: create_key(session, settings.secret_key, d, now=utcnow()) for d in DEPARTMENTS}
    make_student(session, batch, student_no="0")  # the student number hypothesis tries first: writes happen
    session.commit()
    role = request.param

    def headers(label: str) -> dict[str, str]:
        token = fresh_student_token() if role == "student" and label == UNBIND else tokens.get(role)
        return {"Authorization": f"Bearer {token}"} if token else {}

    return {"role": role, "headers": headers, "keys": keys if role == "department" else {}}


def _send_signed(case, keys: dict[str, IssuedKey], base_url: str  # type: ignore[no-untyped-def]
                 ) -> tuple[requests.Response, dict[str, str]]:
    """Send the case as a departmental system would: signed with the key of the department in its path."""
    kwargs = case.as_transport_kwargs(base_url=base_url)
    if "json" in kwargs:
        body = json.dumps(kwargs.pop("json"), ensure_ascii=False).encode()
    else:
        data = kwargs.pop("data", b"") or b""
        body = data.encode() if isinstance(data, str) else bytes(data)
    path = unquote(urlsplit(kwargs["url"]).path)
    department = path.removeprefix("/api/v1/departments/").split("/")[0]
    key = keys.get(department, keys["library"])
    timestamp = str(int(time.time()))
    real = {"X-Lixiao-Key": key.key_id, "X-Lixiao-Timestamp": timestamp,
            "X-Lixiao-Signature": sign(key.secret, kwargs["method"], path, timestamp, body)}
    # Only the headers the case carries: a coverage case that leaves one out must still leave it out.
    sent = {name: value for name, value in real.items() if name in kwargs["headers"]}
    kwargs["headers"].update(sent)
    return requests.request(**kwargs, data=body, timeout=30), sent


def _check_case(case, caller, base_url: str, seen: set[tuple[str, int]]) -> None:  # type: ignore[no-untyped-def]
    """One generated request: no 5xx, documented status, content type, headers and body; bad input refused."""
    headers = caller["headers"](case.operation.label)
    if caller["keys"] and case.operation.path.startswith("/api/v1/departments/"):
        # The signature headers are named as the caller's, so the auth checks know they are real.
        response, headers = _send_signed(case, caller["keys"], base_url)
    else:
        response = case.call(base_url=base_url, headers=headers, timeout=20)
    seen.add((case.operation.label, response.status_code))
    case.validate_response(response, headers=headers)


# What each caller must have reached at least once, so a run that only ever met 401 cannot pass unnoticed.
REACHED = {
    "anonymous": ("GET /api/v1/me/clearance", {401}),
    "unbound": ("GET /api/v1/me/clearance", {403}),
    "student": ("GET /api/v1/me/certificate", {200}),
    "counter": ("POST /api/v1/counter/verify", {404, 422}),
    "admin": ("POST /api/v1/admin/certificates/{serial}/revoke", {404}),
    "department": ("POST /api/v1/departments/{department}/records", {200, 404}),
}


@pytest.mark.slow
def test_api_answers_as_documented(caller, live) -> None:  # type: ignore[no-untyped-def]
    """Every operation of /api/openapi.json, fuzzed as this caller; all failures are reported together."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    schema = schemathesis.openapi.from_url(f"{live.url}/api/openapi.json", config=CONFIG)
    failures, tested, seen = [], 0, set()
    for result in get_all_tests(schema=schema, test_func=_check_case, settings=HYPOTHESIS, given_kwargs=None):
        operation, run = result.ok()
        if operation.path.startswith("/api/v1/departments/") and caller["role"] not in ("anonymous", "department"):
            continue  # bearer tokens are refused there before the body is read; two callers show it is so
        tested += 1
        try:
            run(caller=caller, base_url=live.url, seen=seen)
        except FailureGroup as exc:
            failures.append(f"{operation.label} as {caller['role']}:\n{exc}")
    assert tested >= 14, "the document lost operations"
    assert not failures, "\n\n".join(failures)
    label, statuses = REACHED[caller["role"]]
    assert {status for op, status in seen if op == label} & statuses, f"{label} never answered {statuses}"


# Hostile input the generator does not make (review F5): each is refused with a 4xx envelope, never a 500.

def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [1000, 100_000])
@pytest.mark.parametrize("path", ["/api/v1/auth/wx-login", "/api/v1/departments/library/records", "/logout"])
def test_json_nested_deep_is_a_400_before_anything_else(app, path: str, depth: int) -> None:
    response = app.test_client().post(path, data=_deep(depth), content_type="application/json",
                                      headers={"Accept": "application/json"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.json["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("timestamp", ["9" * 400, "9" * 5000, "١٧٩٦٣٩٢١٩٦", "+1796392196", "1796392196.0"])
def test_a_huge_or_odd_timestamp_is_refused_before_the_key_is_looked_up(app, timestamp: str) -> None:
    response = app.test_client().put("/api/v1/departments/library/records/2099000030", json={"owed_books": 0},
                                     headers={"X-Lixiao-Key": "lib_0000000000000000", "X-Lixiao-Timestamp": timestamp,
                                              "X-Lixiao-Signature": "0" * 64})
    assert response.status_code == 400 and response.json["error"]["code"] == "VALIDATION_ERROR"


HUGE = "99999999999999999999999"


@pytest.mark.parametrize("path", [
    f"/admin/audit?page={HUGE}", f"/admin/progress/never-logged-in?page={HUGE}", f"/admin/progress/blocked?page={HUGE}",
    f"/console/blocked/{{item}}?page={HUGE}", f"/console/students?q=2099&page={HUGE}",
    f"/admin/progress/blocked?batch={HUGE}", f"/admin/progress/never-logged-in?batch={HUGE}",
])
def test_huge_page_and_batch_numbers_are_a_400(session, app, path: str) -> None:
    from tests.web.conftest import make_staff

    make_batch(session)
    client = app.test_client()
    sign_in_client(client, app, staff_id=make_staff(session, "admin", "admin").id)
    response = client.get(path.format(item=DEPARTMENTS[0]), headers={"Accept": "application/json"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.json["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("path", [f"/admin/batches/{HUGE}", f"/admin/batches/{2 ** 63}"])
def test_a_huge_id_in_a_path_names_nothing(session, app, path: str) -> None:
    from tests.web.conftest import make_staff

    client = app.test_client()
    sign_in_client(client, app, staff_id=make_staff(session, "admin", "admin").id)
    assert client.get(path).status_code == 404


def test_the_application_post_requires_its_body_as_documented(session, settings, api, live) -> None:
    """schemathesis ST201: the document marks the body required; no body (or not JSON) is a 400 and submits nothing."""
    document = requests.get(f"{live.url}/api/openapi.json", timeout=10).json()
    assert document["paths"]["/api/v1/me/application"]["post"]["requestBody"]["required"] is True
    client = api(student_token(session, settings, cleared_student(session, make_batch(session))))
    for kwargs in ({}, {"data": "confirm=true", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}):
        refused = client.post("/api/v1/me/application", **kwargs)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "VALIDATION_ERROR", refused.text
    assert client.get("/api/v1/me/applications").json()["applications"] == []
    assert client.post("/api/v1/me/application", json={"confirm": True}).status_code == 201


def test_the_subscriptions_schema_says_what_the_endpoint_refuses(session, settings, api, live) -> None:
    """schemathesis ST202: repeated template keys are refused, and the document says they are not unique."""
    document = requests.get(f"{live.url}/api/openapi.json", timeout=10).json()
    schema = document["paths"]["/api/v1/me/subscriptions"]["post"]["requestBody"]["content"]["application/json"]
    ref = schema["schema"]["$ref"].rsplit("/", 1)[-1]
    assert document["components"]["schemas"][ref]["properties"]["accepted"]["uniqueItems"] is True
    client = api(student_token(session, settings, make_student(session, make_batch(session))))
    twice = client.post("/api/v1/me/subscriptions", json={"accepted": ["all_passed", "all_passed"]})
    assert twice.status_code == 400 and twice.json()["error"]["code"] == "VALIDATION_ERROR"
