"""Console staff administration: list, add by username, change role / department / college, deactivate, sign out."""

from __future__ import annotations

from flask import flash, render_template, request
from werkzeug.wrappers import Response

from server.api.auth import origin
from server.departments import staff_admin
from server.errors import ApiError, ErrorCode
from server.identity import sessions
from server.identity.permissions import is_admin
from server.items import registry
from server.state import app_state, db
from server.timeutil import utcnow
from server.vocabulary import ROLE_LABELS
from server.web.console import back_to, bp, staff
from server.web.language import t


def _require_admin() -> None:
    if not is_admin(staff()):
        raise ApiError(403, ErrorCode.FORBIDDEN, "仅管理员可以管理工作人员", "Only administrators manage staff")


@bp.get("/staff")
def staff_list() -> str:
    """Every staff account with its role."""
    _require_admin()
    return render_template("console/staff.html", accounts=staff_admin.list_staff(db()),
                           roles=ROLE_LABELS, departments=registry.active(app_state().settings).keys)


def _flash_error(exc: ApiError) -> Response:
    flash(t(exc.message, exc.message_en), "error")
    return back_to("/console/staff")


@bp.post("/staff")
def staff_add() -> Response:
    """Add a staff account by its CAS username."""
    _require_admin()
    form = request.form
    try:
        added = staff_admin.add_staff(db(), staff(), username=form.get("username", ""), name=form.get("name", ""),
                                      role=form.get("role", ""), department=form.get("department") or None,
                                      college=form.get("college") or None, origin=origin())
    except ApiError as exc:
        if exc.status == 403:
            raise
        return _flash_error(exc)
    db().commit()
    flash(t(f"已添加 {added.username}", f"Added {added.username}"), "info")
    return back_to("/console/staff")


@bp.post("/staff/<int:staff_id>")
def staff_update(staff_id: int) -> Response:
    """Change one account's role, department, college or active flag."""
    _require_admin()
    form = request.form
    try:
        changed = staff_admin.update_staff(db(), staff(), staff_id, role=form.get("role", ""),
                                           department=form.get("department") or None,
                                           college=form.get("college") or None, active=form.get("active") == "1",
                                           name=form.get("name"), origin=origin())
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        return _flash_error(exc)
    db().commit()
    flash(t(f"已保存 {changed.username}", f"Saved {changed.username}"), "info")
    return back_to("/console/staff")


@bp.post("/staff/<int:staff_id>/sessions/end")
def staff_sessions_end(staff_id: int) -> Response:
    """End every session of a staff member, browser and API alike (a lost phone, a shared PC); audited."""
    _require_admin()
    ended = sessions.end_staff_sessions(db(), staff(), staff_id, now=utcnow(), origin=origin())
    db().commit()
    flash(t(f"已结束 {ended} 个登录会话", f"{ended} session(s) ended"), "info")
    return back_to("/console/staff")
