"""Fuzz the JSON API from its own OpenAPI document (schemathesis) over real HTTP, as every kind of caller.

Each operation gets schemathesis's coverage phase (boundary values, missing and wrong-typed fields, methods
the document does not list) and a bounded fuzzing phase of positive and negative examples, sent as an
anonymous caller, an unbound mini-program user, a student who has submitted, counter staff and an
administrator. Every answer must be no 5xx, a documented status code, the documented content type, and a
body that matches its documented schema; negative examples must be refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.core.failures import FailureGroup
from schemathesis.pytest.lazy import get_all_tests

from server.emulators import EmulatorConfig
from server.emulators.testing import RunningEmulator, running_emulator
from server.identity.tokens import issue_token
from server.settings import Settings
from server.timeutil import utcnow
from tests.certificates.conftest import make_staff, staff_token
from tests.factories import cleared_student, make_batch, student_token

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


@pytest.fixture(params=["anonymous", "unbound", "student", "counter", "admin"])
def caller(request: pytest.FixtureRequest, session, settings: Settings, api) -> dict[str, Any]:
    """Who sends the fuzzed requests: a role and a way to get that role's headers for one case."""
    batch = make_batch(session)
    student = cleared_student(session, batch)
    token = student_token(session, settings, student)
    assert api(token).post("/api/v1/me/application").status_code == 201  # certificate endpoints answer 200

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
    session.commit()
    role = request.param

    def headers(label: str) -> dict[str, str]:
        token = fresh_student_token() if role == "student" and label == UNBIND else tokens[role]
        return {"Authorization": f"Bearer {token}"} if token else {}

    return {"role": role, "headers": headers}


def _check_case(case, headers_for, base_url: str, seen: set[tuple[str, int]]) -> None:  # type: ignore[no-untyped-def]
    """One generated request: no 5xx, documented status, content type, headers and body; bad input refused."""
    headers = headers_for(case.operation.label)
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
}


@pytest.mark.slow
def test_api_answers_as_documented(caller, live) -> None:  # type: ignore[no-untyped-def]
    """Every operation of /api/openapi.json, fuzzed as this caller; all failures are reported together."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    schema = schemathesis.openapi.from_url(f"{live.url}/api/openapi.json", config=CONFIG)
    failures, tested, seen = [], 0, set()
    for result in get_all_tests(schema=schema, test_func=_check_case, settings=HYPOTHESIS, given_kwargs=None):
        operation, run = result.ok()
        tested += 1
        try:
            run(headers_for=caller["headers"], base_url=live.url, seen=seen)
        except FailureGroup as exc:
            failures.append(f"{operation.label} as {caller['role']}:\n{exc}")
    assert tested >= 14, "the document lost operations"
    assert not failures, "\n\n".join(failures)
    label, statuses = REACHED[caller["role"]]
    assert {status for op, status in seen if op == label} & statuses, f"{label} never answered {statuses}"
