"""Batches: list, create, set the window, close early, reopen (administrators only; every change audited)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request
from werkzeug.wrappers import Response

from server.api.auth import origin
from server.clearance import batches as service
from server.clearance.models import Batch
from server.errors import ApiError, ErrorCode
from server.reports.progress import batches as all_batches
from server.state import db
from server.timeutil import local_display, utcnow
from server.web.admin.base import actor, bp, local_input, parse_local, require_admin
from server.web.language import t

Page = str | tuple[str, int]


def batch_state(batch: Batch) -> tuple[str, str]:
    """Where a batch stands now, in both languages."""
    now = utcnow()
    if batch.closed_early_at is not None:
        return ("已提前关闭", "Closed early")
    if now < batch.opens_at:
        return ("未开始", "Not yet open")
    if now >= batch.closes_at:
        return ("已结束", "Ended")
    return ("办理中", "Open")


def _rows() -> list[dict[str, Any]]:
    counts = service.batch_counts(db())
    return [{"batch": b, "state": batch_state(b), "opens": local_display(b.opens_at),
             "closes": local_display(b.closes_at), "closed_early": local_display(b.closed_early_at),
             "students": counts.get(b.id, (0, 0))[0], "submitted": counts.get(b.id, (0, 0))[1]}
            for b in all_batches(db())]


def _form() -> dict[str, str]:
    return {k: request.form.get(k, "").strip() for k in ("name", "opens_at", "closes_at")}


def _window(form: dict[str, str]) -> dict[str, Any]:
    return {"name": form["name"], "opens_at": parse_local(form["opens_at"], "开始时间", "The opening time"),
            "closes_at": parse_local(form["closes_at"], "结束时间", "The closing time")}


@bp.get("/batches")
def batches() -> Page:
    """Every batch with its window, state and progress, and a form for a new one."""
    require_admin()
    return render_template("admin/batches.html", rows=_rows(), form={}, error=None)


@bp.post("/batches")
def create_batch() -> Page | Response:
    """Create a batch; bad input is shown on the form and changes nothing."""
    require_admin()
    form = _form()
    dbs = db()
    try:
        batch = service.create_batch(dbs, **_window(form), actor=actor(), origin=origin())
        dbs.commit()
    except ApiError as exc:
        dbs.rollback()
        return render_template("admin/batches.html", rows=_rows(), form=form, error=exc), exc.status
    flash(t(f"已创建批次“{batch.name}”", f"Batch created: {batch.name}"), "success")
    return redirect(f"/admin/batches/{batch.id}")


def _batch(batch_id: int) -> Batch:
    batch = db().get(Batch, batch_id)
    if batch is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "未找到该批次", "Batch not found")
    return batch


def _edit_page(batch: Batch, form: dict[str, str] | None = None, error: ApiError | None = None) -> str:
    form = form or {"name": batch.name, "opens_at": local_input(batch.opens_at),
                    "closes_at": local_input(batch.closes_at)}
    return render_template("admin/batch.html", batch=batch, state=batch_state(batch), form=form, error=error,
                           closed_early=local_display(batch.closed_early_at))


@bp.get("/batches/<int:batch_id>")
def batch(batch_id: int) -> Page:
    """One batch: its window form, and closing early (with a confirmation) or reopening."""
    require_admin()
    return _edit_page(_batch(batch_id))


@bp.post("/batches/<int:batch_id>")
def set_window(batch_id: int) -> Page | Response:
    """Rename the batch or move its window."""
    require_admin()
    form = _form()
    dbs = db()
    try:
        service.set_window(dbs, batch_id, **_window(form), actor=actor(), origin=origin())
        dbs.commit()
    except ApiError as exc:
        dbs.rollback()
        return _edit_page(_batch(batch_id), form, exc), exc.status
    flash(t("办理时间已保存", "The window has been saved"), "success")
    return redirect(f"/admin/batches/{batch_id}")


@bp.post("/batches/<int:batch_id>/close")
def close_batch(batch_id: int) -> Page | Response:
    """Close the batch now; the form's confirmation box must be ticked."""
    require_admin()
    dbs = db()
    if request.form.get("confirm") != "yes":
        error = ApiError(400, ErrorCode.VALIDATION_ERROR, "请勾选确认后再提前关闭",
                         "Tick the confirmation to close early")
        return _edit_page(_batch(batch_id), error=error), 400
    service.close_early(dbs, batch_id, now=utcnow(), actor=actor(), origin=origin())
    dbs.commit()
    flash(t("批次已提前关闭，学生不能再提交", "The batch is closed; students can no longer submit"), "success")
    return redirect(f"/admin/batches/{batch_id}")


@bp.post("/batches/<int:batch_id>/reopen")
def reopen_batch(batch_id: int) -> Response:
    """Undo an early close."""
    require_admin()
    dbs = db()
    service.reopen(dbs, batch_id, actor=actor(), origin=origin())
    dbs.commit()
    flash(t("批次已重新开放（按办理时间）", "The batch follows its window again"), "success")
    return redirect(f"/admin/batches/{batch_id}")
