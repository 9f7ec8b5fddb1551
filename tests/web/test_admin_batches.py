"""Batches on the dashboard: who may come in, create, set the window, close early and reopen — all audited."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from server.audit import AuditEntry
from server.clearance.models import Application, Batch
from server.timeutil import SHANGHAI
from tests.factories import cleared_student, make_batch, sign_in_client
from tests.web.conftest import csrf_for, csrf_of, make_staff


def fresh(session) -> None:
    session.rollback()
    session.expire_all()


def actions(session) -> list[str]:
    fresh(session)
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_strangers_are_sent_to_log_in(app):
    response = app.test_client().get("/admin/progress")
    assert response.status_code in (302, 401)


@pytest.mark.parametrize(("role", "college"), [("operator", None), ("counter", None), ("viewer", None)])
def test_other_roles_are_refused(session, signed_in, role, college):
    staff = make_staff(session, f"u-{role}", role, college=college, department="library")
    response = signed_in(staff_id=staff.id).get("/admin/progress")
    assert response.status_code == 403 and "FORBIDDEN" in response.get_data(as_text=True)


def test_students_are_refused(session, signed_in):
    student = cleared_student(session, make_batch(session))
    session.commit()
    assert signed_in(student_id=student.id).get("/admin/batches").status_code in (302, 401)


def test_viewers_cannot_manage_batches(session, signed_in, app):
    viewer = signed_in(staff_id=make_staff(session, "viewer", "viewer", college="文学院").id)
    assert viewer.get("/admin/batches").status_code == 403
    response = viewer.post("/admin/batches", data={"csrf_token": csrf_for(app, viewer), "name": "x",
                                                   "opens_at": "2027-06-01T08:00", "closes_at": "2027-06-30T18:00"})
    assert response.status_code == 403
    assert session.scalars(select(Batch)).all() == []


def test_create_batch_in_beijing_time_and_audit(session, admin_client):
    token = csrf_of(admin_client, "/admin/batches")
    form = {"csrf_token": token, "name": "2027 年 6 月毕业研究生", "opens_at": "2027-06-01T08:00",
            "closes_at": "2027-06-30T18:00"}
    response = admin_client.post("/admin/batches", data=form)
    assert response.status_code == 302
    batch = session.scalars(select(Batch)).one()
    assert batch.opens_at == datetime(2027, 6, 1, 8, 0, tzinfo=SHANGHAI)
    assert batch.closes_at == datetime(2027, 6, 30, 18, 0, tzinfo=SHANGHAI)
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.actor, entry.action, entry.entity) == ("staff:admin", "batch.create", f"batch:{batch.id}")
    listing = admin_client.get("/admin/batches").get_data(as_text=True)
    assert "2027 年 6 月毕业研究生" in listing and "2027-06-01 08:00 – 2027-06-30 18:00" in listing


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"name": "", "opens_at": "2027-06-01T08:00", "closes_at": "2027-06-30T18:00"}, 400, "请填写批次名称"),
    ({"name": "B", "opens_at": "2027-06-30T08:00", "closes_at": "2027-06-01T18:00"}, 400, "结束时间必须晚于开始时间"),
    ({"name": "B", "opens_at": "tomorrow", "closes_at": "2027-06-01T18:00"}, 400, "开始时间格式不正确"),
    ({"name": "已有批次", "opens_at": "2027-06-01T08:00", "closes_at": "2027-06-30T18:00"}, 409, "已有名为"),
])
def test_bad_batch_input_is_shown_and_changes_nothing(session, admin_client, form, status, message):
    make_batch(session, name="已有批次")
    session.commit()
    response = admin_client.post("/admin/batches", data={"csrf_token": csrf_of(admin_client, "/admin/batches"),
                                                         **form})
    assert response.status_code == status and message in response.get_data(as_text=True)
    fresh(session)
    assert len(session.scalars(select(Batch)).all()) == 1
    assert actions(session) == []


def test_set_window_close_early_and_reopen(app, session, admin_client):
    batch = make_batch(session, name="窗口批次")
    student = cleared_student(session, batch)
    session.commit()
    path = f"/admin/batches/{batch.id}"
    token = csrf_of(admin_client, path)
    saved = admin_client.post(path, data={"csrf_token": token, "name": "窗口批次（延长）",
                                          "opens_at": "2026-01-01T00:00", "closes_at": "2099-12-31T23:00"})
    assert saved.status_code == 302
    fresh(session)
    assert session.get(Batch, batch.id).name == "窗口批次（延长）"
    unconfirmed = admin_client.post(f"{path}/close", data={"csrf_token": token})
    assert unconfirmed.status_code == 400
    fresh(session)
    assert session.get(Batch, batch.id).closed_early_at is None
    assert admin_client.post(f"{path}/close", data={"csrf_token": token, "confirm": "yes"}).status_code == 302
    fresh(session)
    assert session.get(Batch, batch.id).closed_early_at is not None
    assert "已提前关闭" in admin_client.get(path).get_data(as_text=True)

    pupil = sign_in_client(app.test_client(), app, student_id=student.id)
    refused = pupil.post("/me/submit", data={"csrf_token": csrf_for(app, pupil)})
    assert refused.status_code == 403 and "BATCH_CLOSED" in refused.get_data(as_text=True)

    assert admin_client.post(f"{path}/reopen", data={"csrf_token": token}).status_code == 302
    fresh(session)
    assert session.get(Batch, batch.id).closed_early_at is None
    assert pupil.post("/me/submit", data={"csrf_token": csrf_for(app, pupil)}).status_code == 302
    fresh(session)
    assert session.scalars(select(Application)).one().student_id == student.id
    assert [a for a in actions(session) if a.startswith("batch.")] == ["batch.update", "batch.close", "batch.reopen"]
    close = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.close")).one()
    assert close.before["closed_early_at"] is None and close.after["closed_early_at"]


def test_unknown_batch_is_404(admin_client):
    assert admin_client.get("/admin/batches/999").status_code == 404
    assert admin_client.get("/admin/progress?batch=999").status_code == 404
