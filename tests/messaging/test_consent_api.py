"""POST/GET /api/v1/me/subscriptions and GET /api/v1/me/notifications over HTTP."""

from __future__ import annotations

import pytest

from server.items import registry
from server.messaging.templates import get_templates
from tests.factories import ITEM_KEYS, make_batch, student_token
from tests.messaging.pushes import drain, openid_of, reachable_student, turn_green


@pytest.fixture
def student_api(session, settings, api):  # type: ignore[no-untyped-def]
    student = reachable_student(session, make_batch(session))
    session.commit()
    return student, api(student_token(session, settings, student, openid=openid_of(student)))


def _counts(answer) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {t["key"]: t["remaining"] for t in answer.json()["templates"]}


def test_each_acceptance_allows_one_push(student_api) -> None:
    _, client = student_api
    first = client.get("/api/v1/me/subscriptions")
    assert first.status_code == 200
    templates = first.json()["templates"]
    assert [t["key"] for t in templates] == ["item_passed", "all_passed", "certificate_issued",
                                             "batch_closing_reminder", "wechat_bound"]
    assert templates[0] == {"key": "item_passed", "template_id": "demo-tmpl-item-passed",
                            "title": "离校事项通过提醒", "title_en": "A clearance item passed",
                            "purpose": "每有一个离校事项通过，通知你一次",
                            "purpose_en": "One message each time one of your clearance items passes", "remaining": 0,
                            "long_term": False}
    # Every event sent as a subscribe message can be asked for, and says what it is for (issue 14 point 3).
    assert {t["key"] for t in templates} == set(get_templates())
    assert all(t["purpose"] and t["purpose_en"] for t in templates)
    client.post("/api/v1/me/subscriptions", json={"accepted": ["item_passed", "all_passed"]})
    answer = client.post("/api/v1/me/subscriptions", json={"accepted": ["item_passed"]})
    assert answer.status_code == 200
    assert _counts(answer) == {"item_passed": 2, "all_passed": 1, "certificate_issued": 0,
                               "batch_closing_reminder": 0, "wechat_bound": 0}
    assert _counts(client.get("/api/v1/me/subscriptions")) == _counts(answer)


@pytest.mark.parametrize("body", [
    {"accepted": ["item_passed", "no_such_template"]},
    {"accepted": ["item_passed"], "rejected": []},
    {"accepted": "item_passed"},
    {"accepted": ["item_passed", "item_passed"]},
    {"accepted": [1]},
    {},
])
def test_bad_reports_are_refused_and_change_nothing(student_api, body) -> None:
    _, client = student_api
    answer = client.post("/api/v1/me/subscriptions", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
    assert set(_counts(client.get("/api/v1/me/subscriptions")).values()) == {0}


def test_subscriptions_need_a_bound_student(api) -> None:
    assert api().get("/api/v1/me/subscriptions").status_code == 401
    assert api().post("/api/v1/me/subscriptions", json={"accepted": []}).status_code == 401


def test_notifications_show_what_was_pushed_and_why_not(student_api, session, settings, worker, emulator) -> None:
    student, client = student_api
    client.post("/api/v1/me/subscriptions", json={"accepted": ["all_passed"]})
    emulator.set_quota(openid_of(student), "demo-tmpl-all-passed", 1)
    turn_green(session, settings, [student])
    session.commit()
    pending = client.get("/api/v1/me/notifications").json()["items"]
    assert len(pending) == len(ITEM_KEYS) + 1 and {i["not_pushed_reason"] for i in pending} == {"pending"}
    drain(worker, session)
    items = client.get("/api/v1/me/notifications").json()["items"]
    by_event = {}
    for item in items:
        by_event.setdefault(item["event"], []).append(item)
    [all_passed] = by_event["all_passed"]
    assert all_passed["pushed"] is True and all_passed["not_pushed_reason"] is None
    assert all_passed["channel"] == "wechat"
    assert all_passed["title"] == "离校事项已全部通过，可以提交申请"
    assert all_passed["title_en"] == "All clearance items passed: you can submit now"
    assert all_passed["created_at"].endswith("+08:00")
    assert len(by_event["item_passed"]) == len(ITEM_KEYS)
    assert {(i["pushed"], i["not_pushed_reason"]) for i in by_event["item_passed"]} == {(False, "no_consent")}
    titles = {i["title"] for i in by_event["item_passed"]}
    assert titles == {f"{registry.get(key).title[0]}已通过" for key in ITEM_KEYS}
    assert _counts(client.get("/api/v1/me/subscriptions"))["all_passed"] == 0
