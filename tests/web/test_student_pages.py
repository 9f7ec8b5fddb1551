"""The student pages under /me: items, card cancellation and submission with their confirmation steps."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from server.audit import AuditEntry
from server.certificates.models import Certificate
from server.clearance.models import Application, Batch, Student
from server.items.library import LibraryRecord
from server.timeutil import utcnow
from tests.factories import ALL_PASSED, ITEM_KEYS, cleared_student, make_batch, make_student, set_records
from tests.web.conftest import csrf_for, csrf_of

CANCELLABLE = {**ALL_PASSED, "library": {**ALL_PASSED["library"], "card_status": "active"}}


def fresh(session) -> None:
    """End the test session's read snapshot and forget loaded rows: see what the app committed since."""
    session.rollback()
    session.expire_all()


def text(response) -> str:
    return response.get_data(as_text=True)


def test_strangers_are_sent_to_log_in(app):
    response = app.test_client().get("/me")
    assert response.status_code in (302, 401)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login?next=/me")


def test_items_show_status_reasons_next_steps_and_office_phone(session, signed_in):
    batch = make_batch(session)
    student = make_student(session, batch, name="页面甲")
    set_records(session, student, {**ALL_PASSED, "finance": {"arrears_cents": 120000, "fee_items": []},
                                   "archives": {"thesis_status": "not_submitted"}})
    session.commit()
    page = text(signed_in(student_id=student.id).get("/me"))
    assert "页面甲" in page and student.student_no in page
    for title in ("图书馆", "档案馆", "总务部公寓与物业中心", "财务资产部"):
        assert title in page
    # Each item twice: its row in the summary at the top, and its card with the details.
    assert page.count("status-passed") >= 4 and page.count("status-not_passed") == 4
    assert "已通过 2 / 4 项" in page or "已通过 3 / 5 项" in page
    # One language at a time: Chinese by default, English when the browser asks for it.
    assert "尚有欠费 1200.00 元" in page and "¥1200.00 in arrears" not in page
    english = text(signed_in(student_id=student.id).get("/me", headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert "¥1200.00 in arrears" in english and "尚有欠费" not in english and '<html lang="en">' in english
    assert "请本人到档案馆 101 室线下提交论文" in page
    assert 'href="tel:0516-00000000"' in page
    assert 'href="/me/submit"' not in page  # blocked: no submit button
    assert 'href="/me#item-finance"' in page and 'href="/me#item-archives"' in page


def test_visiting_records_the_login(session, signed_in):
    student = make_student(session, make_batch(session))
    session.commit()
    assert signed_in(student_id=student.id).get("/me").status_code == 200
    fresh(session)
    assert session.get(Student, student.id).last_login_at is not None


def test_cancel_card_needs_confirmation_then_cancels_and_audits(session, signed_in):
    student = make_student(session, make_batch(session))
    set_records(session, student, CANCELLABLE)
    session.commit()
    client = signed_in(student_id=student.id)
    assert 'href="/me/library-card/cancel"' in text(client.get("/me"))
    form = client.get("/me/library-card/cancel")
    assert "注销后不可恢复" in text(form) and "cannot be undone" not in text(form)
    token = csrf_of(client, "/me/library-card/cancel")
    unconfirmed = client.post("/me/library-card/cancel", data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and "请确认注销借书证" in text(unconfirmed)
    fresh(session)
    assert session.scalars(select(LibraryRecord.card_status)).one() == "active"
    done = client.post("/me/library-card/cancel", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 302 and done.headers["Location"] == "/me"
    fresh(session)
    assert session.scalars(select(LibraryRecord.card_status)).one() == "cancelled"
    assert session.scalar(select(func.count()).where(AuditEntry.action == "library_card.cancel")) == 1
    page = text(client.get("/me"))
    assert "借书证已注销" in page and 'href="/me/library-card/cancel"' not in page
    again = client.get("/me/library-card/cancel")
    assert again.status_code == 302  # already cancelled: back to the items
    messages = text(client.get("/me/notifications"))  # the library turned green: an in-app notification
    assert "图书馆" in messages and "等待推送" in messages and "暂无消息" not in messages


def test_cancel_card_refused_with_books_owed_says_why(app, session, signed_in):
    student = make_student(session, make_batch(session))
    set_records(session, student, {**CANCELLABLE, "library": {**CANCELLABLE["library"], "owed_books": 2}})
    session.commit()
    client = signed_in(student_id=student.id)
    refused = client.post("/me/library-card/cancel", data={"csrf_token": csrf_for(app, client), "confirm": "yes"})
    assert refused.status_code == 422
    assert "CARD_CANCEL_NOT_ALLOWED" in text(refused) and "尚有 2 本图书未归还" in text(refused)
    fresh(session)
    assert session.scalars(select(LibraryRecord.card_status)).one() == "active"


def test_form_without_csrf_token_changes_nothing(session, signed_in):
    student = make_student(session, make_batch(session))
    set_records(session, student, CANCELLABLE)
    session.commit()
    response = signed_in(student_id=student.id).post("/me/library-card/cancel", data={"confirm": "yes"})
    assert response.status_code == 400
    fresh(session)
    assert session.scalars(select(LibraryRecord.card_status)).one() == "active"


def test_submit_items_not_passed_is_explained(app, session, signed_in):
    student = make_student(session, make_batch(session))
    set_records(session, student, {**ALL_PASSED, "apartment": {"building": "竹园3号楼", "move_out_date": None,
                                                               "move_out_handler": None}})
    session.commit()
    client = signed_in(student_id=student.id)
    form = text(client.get("/me/submit"))
    assert "现在还不能提交" in form and "<form method=\"post\" action=\"/me/submit\">" not in form
    response = client.post("/me/submit", data={"csrf_token": csrf_for(app, client)})
    assert response.status_code == 422
    page = text(response)
    assert "ITEMS_NOT_PASSED" in page and "以下事项尚未通过：总务部公寓与物业中心" in page
    assert 'href="/me#item-apartment"' in page
    assert session.scalar(select(func.count()).select_from(Application)) == 0


def test_submit_closed_batch_is_explained(app, session, signed_in):
    batch = make_batch(session)
    student = cleared_student(session, batch)
    batch.closed_early_at = utcnow() - timedelta(minutes=1)
    session.commit()
    client = signed_in(student_id=student.id)
    response = client.post("/me/submit", data={"csrf_token": csrf_for(app, client)})
    assert response.status_code == 403
    assert "BATCH_CLOSED" in text(response) and "不在办理时间内" in text(response)


def test_submit_once_with_confirmation(session, signed_in):
    batch = make_batch(session, name="六月批次")
    student = cleared_student(session, batch)
    session.commit()
    client = signed_in(student_id=student.id, channel="wecom")
    assert 'href="/me/submit"' in text(client.get("/me"))
    form = text(client.get("/me/submit"))
    assert "只能提交一次" in form and "only once" not in form
    token = csrf_of(client, "/me/submit")
    done = client.post("/me/submit", data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"] == "/me/certificate"
    application = session.scalars(select(Application)).one()
    assert application.channel == "wecom"
    again = client.post("/me/submit", data={"csrf_token": token})
    assert again.status_code == 409 and "ALREADY_SUBMITTED" in text(again)
    assert session.scalar(select(func.count()).select_from(Application)) == 1
    listed = text(client.get("/me/applications"))
    assert "六月批次" in listed and "企业微信" in listed
    assert listed.count("status-passed") == len(ITEM_KEYS) + 1  # every item and the certificate's "valid"
    assert "已提交" in text(client.get("/me"))
    certificate = client.get("/me/certificate")
    page = text(certificate)
    serial = session.scalars(select(Certificate.serial)).one()
    assert certificate.headers["Cache-Control"] == "no-store"
    assert serial in page and "<svg" in page and 'href="/me/certificate/print"' in page and "有效" in page
    assert serial in text(client.get("/me/applications"))
    assert client.get("/me/certificate/print").status_code == 200


def test_before_submission_there_is_no_certificate_yet(session, signed_in):
    student = make_student(session, session.get(Batch, make_batch(session).id))
    session.commit()
    client = signed_in(student_id=student.id)
    response = client.get("/me/certificate")
    assert response.status_code == 200 and "还没有离校证明" in text(response) and "<svg" not in text(response)
    assert "暂无消息" in text(client.get("/me/notifications"))


def test_the_language_switch_is_visible_and_remembered(session, signed_in):
    student = make_student(session, make_batch(session))
    set_records(session, student, ALL_PASSED)
    session.commit()
    client = signed_in(student_id=student.id)
    page = text(client.get("/me"))
    assert '<html lang="zh-CN">' in page and 'href="/lang/en"' in page  # the switch, on every page
    switched = client.get("/lang/en", headers={"Referer": "http://localhost/me"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/me"
    english = text(client.get("/me"))  # the cookie remembers it, whatever the browser asks for
    assert '<html lang="en">' in english and "My clearance" in english and "我的离校" not in english
    assert client.get("/lang/en?next=//evil.example").headers["Location"] == "/"  # only local paths
