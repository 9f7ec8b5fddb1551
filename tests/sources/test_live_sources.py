"""Issue 15.2: a live departmental system is live: it is re-read, submission judges what is true now, and a
finance system that answers "no data" passes (无数据视为通过) without being called unreachable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from server.app import create_app
from server.clearance.versions import retire_all
from server.items.finance import FinanceRecord
from server.settings import HTTP_FRESHNESS_HOURS, SettingsError, load_settings
from server.sources import build_sources, refresh
from server.timeutil import utcnow
from tests.conftest import Api, LiveServer
from tests.factories import ALL_PASSED, make_batch, make_student, set_records, student_token
from tests.sources.department_service import DepartmentService

OTHERS = {k: v for k, v in ALL_PASSED.items() if k != "finance"}
PAID = {"arrears_cents": 0, "fee_items": []}
OWED = {"arrears_cents": 50000, "fee_items": []}


@pytest.fixture
def finance_service():
    service = DepartmentService()
    service.start()
    yield service
    service.stop()


@pytest.fixture
def finance_app(app, settings, finance_service):
    env = {"LIXIAO_FINANCE_SOURCE": "http", "LIXIAO_FINANCE_URL": finance_service.url}
    departments = dict(settings.departments)
    departments["finance"] = load_settings(env).department("finance")  # the defaults an operator gets
    application = create_app(settings.with_overrides(departments=departments))
    server = LiveServer(application)
    yield application, server
    server.stop()
    application.extensions["lixiao"].engine.dispose()


def _student(session, settings, no):
    student = make_student(session, make_batch(session), student_no=no)
    set_records(session, student, OTHERS)
    session.commit()
    return student, student_token(session, settings, student)


def _finance(client):
    response = client.get("/api/v1/me/clearance")
    assert response.status_code == 200, response.text
    return next(i for i in response.json()["items"] if i["key"] == "finance"), response.json()


def _age(session, student, minutes):
    session.execute(update(FinanceRecord).where(FinanceRecord.student_id == student.id)
                    .values(read_at=utcnow() - timedelta(minutes=minutes)))
    session.commit()


def test_http_source_defaults_to_a_freshness_limit_and_refuses_none():
    settings = load_settings({"LIXIAO_FINANCE_SOURCE": "http", "LIXIAO_FINANCE_URL": "http://x"})
    assert 0 < settings.department("finance").freshness_hours == HTTP_FRESHNESS_HOURS <= 0.1
    with pytest.raises(SettingsError, match="FRESHNESS_HOURS"):
        load_settings({"LIXIAO_FINANCE_SOURCE": "http", "LIXIAO_FINANCE_URL": "http://x",
                       "LIXIAO_FINANCE_FRESHNESS_HOURS": "0"})


def test_a_page_view_rereads_a_record_older_than_the_limit(session, settings, finance_app, finance_service):
    _app, server = finance_app
    student, token = _student(session, settings, "LIVE000001")
    finance_service.records["LIVE000001"] = dict(PAID)
    client = Api(server.url, token)
    assert _finance(client)[0]["status"] == "passed"
    finance_service.records["LIVE000001"] = dict(OWED)
    _age(session, student, 2)
    assert _finance(client)[0]["status"] == "passed"  # within the limit: not asked again
    _age(session, student, 7)
    # Ageing the record by SQL moves no clock: the status page made before stays valid for the read cache's
    # lifetime (at most 60 s, docs/OPERATIONS.md), which real time would have used up long before. Retire it.
    retire_all(session)
    session.commit()
    assert _finance(client)[0]["status"] == "not_passed"  # past it: read again on view


def test_the_worker_rereads_live_records(session, settings, finance_app, finance_service):
    application, _server = finance_app
    student, _token = _student(session, settings, "LIVE000002")
    state = application.extensions["lixiao"]
    finance_service.records["LIVE000002"] = dict(PAID)
    set_records(session, student, {"finance": PAID}, now=utcnow() - timedelta(minutes=4), source="http")
    session.commit()
    finance_service.records["LIVE000002"] = dict(OWED)
    assert refresh.refresh_stale_records(session, state.settings, build_sources(state.settings), utcnow()) == 1
    session.commit()
    session.expire_all()
    assert session.get(FinanceRecord, session.query(FinanceRecord.id).one()[0]).arrears_cents == 50000


def test_submission_rereads_due_sources_first(session, settings, finance_app, finance_service):
    _app, server = finance_app
    student, token = _student(session, settings, "LIVE000003")
    finance_service.records["LIVE000003"] = dict(OWED)
    client = Api(server.url, token)
    assert _finance(client)[0]["status"] == "not_passed"
    finance_service.records["LIVE000003"] = dict(PAID)  # the student pays
    _age(session, student, 7)
    response = client.post("/api/v1/me/application", json={})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("answer", ["empty", "unknown"])
def test_finance_no_data_is_passed(session, settings, finance_app, finance_service, answer):
    _app, server = finance_app
    _student_row, token = _student(session, settings, f"LIVE00001{answer == 'unknown'}"[:10])
    if answer == "empty":
        finance_service.records[_student_row.student_no] = {}
    item, _body = _finance(Api(server.url, token))
    assert item["status"] == "passed", item
    assert item["details"]["arrears"] == "0.00"


def test_finance_answering_nonsense_is_not_called_unreachable(session, settings, finance_app, finance_service):
    _app, server = finance_app
    student, token = _student(session, settings, "LIVE000020")
    finance_service.records["LIVE000020"] = {"arrears_cents": "lots"}
    item, _ = _finance(Api(server.url, token))
    assert item["status"] == "unavailable" and item["reasons"][0]["code"] == "SOURCE_ANSWER_UNUSABLE"
    reason = item["reasons"][0]
    assert "无法查询" not in reason["message"] and "cannot be reached" not in reason["message_en"]
    finance_service.stop()
    _age(session, student, 7)
    session.execute(update(FinanceRecord).values(failed_at=None))
    session.commit()
    item, _ = _finance(Api(server.url, token))
    assert item["reasons"][0]["code"] == "SOURCE_FAILED"  # unreachable is still said as such



def test_submission_with_an_unreachable_source_says_so(session, settings, finance_app, finance_service):
    _app, server = finance_app
    student, token = _student(session, settings, "LIVE000004")
    finance_service.records["LIVE000004"] = dict(PAID)
    client = Api(server.url, token)
    assert _finance(client)[0]["status"] == "passed"
    finance_service.stop()
    _age(session, student, 7)
    response = client.post("/api/v1/me/application", json={})
    assert response.status_code == 422 and response.json()["error"]["items"] == ["finance"]
    message = response.json()["error"]["message"]
    assert "暂时无法查询" in message and "尚未通过" not in message
