"""The student API over real HTTP: reading, cancelling the card, submitting once, and bad input."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.audit import AuditEntry
from server.clearance.models import Application, Student, Transition
from server.items.library import LibraryRecord
from server.timeutil import utcnow
from tests.factories import ALL_PASSED, ITEM_KEYS, cleared_student, make_batch, make_student, set_records, student_token


def error_code(response) -> str:
    body = response.json()
    assert set(body["error"]) >= {"code", "message", "message_en"}
    return body["error"]["code"]


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_clearance_shows_four_items_with_reasons(session, settings, api):
    batch = make_batch(session)
    student = make_student(session, batch, name="测试甲")
    set_records(session, student, {**ALL_PASSED, "finance": {"arrears_cents": 120000, "fee_items": []}})
    token = student_token(session, settings, student)
    response = api(token).get("/api/v1/me/clearance")
    assert response.status_code == 200
    body = response.json()
    assert body["student"]["name"] == "测试甲"
    assert [i["key"] for i in body["items"]] == list(ITEM_KEYS)
    statuses = {i["key"]: i["status"] for i in body["items"]}
    assert statuses == {**dict.fromkeys(ITEM_KEYS, "passed"), "finance": "not_passed"}
    finance = next(i for i in body["items"] if i["key"] == "finance")
    assert finance["details"]["arrears"] == "1200.00"
    assert finance["reasons"][0]["code"] == "ARREARS" and finance["next_steps"][0]["message_en"]
    assert finance["department"]["phone"] and finance["updated_at"].endswith("+08:00")
    assert body["can_submit"] is False and body["application"] is None


def test_each_item_says_where_its_record_came_from_in_words(session, settings, api):
    batch = make_batch(session)
    student = make_student(session, batch)
    set_records(session, student, ALL_PASSED, source="import")
    set_records(session, student, {"library": ALL_PASSED["library"]}, source="console:lib-teacher")
    body = api(student_token(session, settings, student)).get("/api/v1/me/clearance").json()
    items = {i["key"]: i for i in body["items"]}
    assert (items["finance"]["source"], items["finance"]["source_label"], items["finance"]["source_label_en"]) == (
        "import", "部门批量导入", "Imported by the department")
    # Staff usernames stay on the console: the student reads who, not which account.
    assert (items["library"]["source_label"], items["library"]["source_label_en"]) == (
        "部门老师录入", "Entered by department staff")


def test_no_token_and_bad_token_get_401(api):
    assert error_code(api().get("/api/v1/me/clearance")) == "UNAUTHORIZED"
    response = api("not-a-token").get("/api/v1/me/clearance")
    assert response.status_code == 401 and error_code(response) == "UNAUTHORIZED"


def test_submit_once(session, settings, api):
    batch = make_batch(session)
    student = cleared_student(session, batch)
    client = api(student_token(session, settings, student))
    first = client.post("/api/v1/me/application", json={"confirm": True})
    assert first.status_code == 201, first.text
    assert {i["status"] for i in first.json()["items"]} == {"passed"}
    second = client.post("/api/v1/me/application", json={"confirm": True})
    assert second.status_code == 409 and error_code(second) == "ALREADY_SUBMITTED"
    assert count(session, Application) == 1
    listed = client.get("/api/v1/me/applications").json()["applications"]
    assert [a["id"] for a in listed] == [first.json()["id"]] and listed[0]["batch_name"] == batch.name
    assert client.get("/api/v1/me/clearance").json()["application"]["id"] == first.json()["id"]


def test_application_keeps_a_snapshot_of_the_items(session, settings, api):
    batch = make_batch(session)
    student = cleared_student(session, batch)
    client = api(student_token(session, settings, student))
    assert client.post("/api/v1/me/application", json={"confirm": True}).status_code == 201
    set_records(session, student, {"finance": {"arrears_cents": 500, "fee_items": []}})
    session.commit()
    application = session.scalars(select(Application)).one()
    assert {i["key"]: i["status"] for i in application.snapshot["items"]}["finance"] == "passed"


def test_submit_with_items_not_passed_is_422_and_lists_them(session, settings, api):
    batch = make_batch(session)
    student = make_student(session, batch)
    set_records(session, student, {**ALL_PASSED, "archives": {"thesis_status": "not_submitted"},
                                   "apartment": None})
    response = api(student_token(session, settings, student)).post("/api/v1/me/application", json={"confirm": True})
    assert response.status_code == 422 and error_code(response) == "ITEMS_NOT_PASSED"
    assert response.json()["error"]["items"] == ["archives", "apartment"]
    assert count(session, Application) == 0


@pytest.mark.parametrize("open_now", [False])
def test_submit_outside_the_window_is_403(session, settings, api, open_now):
    batch = make_batch(session, open_now=open_now)
    student = cleared_student(session, batch)
    response = api(student_token(session, settings, student)).post("/api/v1/me/application", json={"confirm": True})
    assert response.status_code == 403 and error_code(response) == "BATCH_CLOSED"
    assert count(session, Application) == 0


def test_submit_after_the_batch_closed_early_is_403(session, settings, api):
    batch = make_batch(session)
    batch.closed_early_at = utcnow() - timedelta(minutes=1)
    student = cleared_student(session, batch)
    response = api(student_token(session, settings, student)).post("/api/v1/me/application", json={"confirm": True})
    assert response.status_code == 403 and error_code(response) == "BATCH_CLOSED"


def test_cancel_card_with_owed_books_is_422_and_changes_nothing(session, settings, api):
    student = make_student(session, make_batch(session))
    set_records(session, student, {"library": {**ALL_PASSED["library"], "owed_books": 2, "card_status": "active"}})
    audits = count(session, AuditEntry)
    response = api(student_token(session, settings, student)).post("/api/v1/me/library-card/cancel")
    assert response.status_code == 422 and error_code(response) == "CARD_CANCEL_NOT_ALLOWED"
    session.expire_all()
    assert session.scalars(select(LibraryRecord)).one().card_status == "active"
    assert count(session, AuditEntry) == audits


def test_cancel_card_passes_the_library_item_and_is_idempotent(session, settings, api):
    student = make_student(session, make_batch(session))
    set_records(session, student, {**ALL_PASSED, "library": {**ALL_PASSED["library"], "card_status": "active"}})
    from server.sources import build_sources
    from server.student import service
    from server.student.service import ClearanceDeps

    # Record the current states so the cancellation is a transition, as after a roster import.
    deps = ClearanceDeps(settings, build_sources(settings))
    clearance = service.read_clearance(session, deps, student.id)
    from server.clearance.records import sync_item_states

    sync_item_states(session, student, clearance.items, cause="test", now=utcnow(), record_transitions=False)
    client = api(student_token(session, settings, student))
    first = client.post("/api/v1/me/library-card/cancel")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "passed" and first.json()["details"]["card_status"] == "cancelled"
    again = client.post("/api/v1/me/library-card/cancel")
    assert again.status_code == 200 and again.json()["status"] == "passed"
    session.expire_all()
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action == "library_card.cancel")).all()
    assert actions == ["library_card.cancel"]
    transitions = session.scalars(select(Transition)).all()
    assert {(t.item, t.to_status) for t in transitions} == {("library", "passed"), ("all", "passed")}


def test_wrong_types_get_400_and_change_nothing(session, settings, api):
    student = cleared_student(session, make_batch(session))
    client = api(student_token(session, settings, student))
    for body in ({"confirm": "yes"}, {"confirm": True, "extra": 1}, [1, 2]):
        response = client.post("/api/v1/me/application", json=body)
        assert response.status_code == 400, (body, response.text)
        assert error_code(response) == "VALIDATION_ERROR"
    response = client.post("/api/v1/me/application", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"
    assert count(session, Application) == 0


def test_a_student_removed_from_the_roster_is_404(session, settings, api):
    student = make_student(session, make_batch(session))
    token = student_token(session, settings, student)
    from server.identity.models import ApiSession

    session.query(ApiSession).delete()
    session.delete(student)
    session.commit()
    response = api(token).get("/api/v1/me/clearance")
    assert response.status_code in (401, 404)
    assert error_code(response) in ("UNAUTHORIZED", "STUDENT_NOT_FOUND")


def test_unknown_path_is_a_json_404(api):
    response = api().get("/api/v1/nothing-here")
    assert response.status_code == 404 and error_code(response) == "NOT_FOUND"


def test_fifty_concurrent_submissions_make_one_application(session, settings, api):
    student = cleared_student(session, make_batch(session))
    token = student_token(session, settings, student)

    def submit(_):
        return api(token).post("/api/v1/me/application", json={"confirm": True}).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(submit, range(50)))
    assert sorted(codes) == [201] + [409] * 49
    assert count(session, Application) == 1
    assert session.scalar(select(func.count()).select_from(Student)) == 1
