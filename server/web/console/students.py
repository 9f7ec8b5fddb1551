"""Console pages: the home page, finding a student, a student's records and history, and the departments' changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import flash, render_template, request
from werkzeug.wrappers import Response

from server.api.auth import origin
from server.clearance.contexts import StudentContext
from server.clearance.rules import Judge
from server.departments import operations, queries
from server.departments.changes import is_local, load_context
from server.errors import ApiError, ErrorCode
from server.identity.cas_people import DIFFERS_ACTION
from server.identity.permissions import can_edit_department, can_view_college, can_view_department, college_of
from server.items import registry
from server.items.base import ConsoleAction
from server.state import app_state, db
from server.timeutil import utcnow
from server.vocabulary import status_label
from server.web.console import back_to, bp, staff
from server.web.labels import item_title
from server.web.language import t
from server.web.params import page_number


def _viewer_college() -> str | None:
    return college_of(staff())


def _require_student_access() -> None:
    if staff().role not in ("admin", "operator", "viewer", "secretary"):
        raise ApiError(403, ErrorCode.FORBIDDEN, "您的角色不能查看学生记录", "Your role cannot see student records")


@bp.get("/")
def home() -> str:
    """Where each role starts: search, and the blocked counts of the departments they see."""
    me = staff()
    summaries = {}
    if me.role in ("admin", "operator", "viewer", "secretary"):
        summaries = {k: queries.blocked_summary(db(), k, _viewer_college())
                     for k in registry.active(app_state().settings).keys if can_view_department(me, k)}
    return render_template("console/home.html", summaries=summaries)


@bp.get("/students")
def search() -> str:
    """Find a student by number (prefix) or name (part of it)."""
    _require_student_access()
    q = request.args.get("q", "").strip()
    page = page_number()
    students, total = queries.search_students(db(), q, college=_viewer_college(), page=page) if q else ([], 0)
    return render_template("console/search.html", q=q, students=students, total=total, page=page,
                           per_page=queries.PER_PAGE)


def _load_visible(student_no: str) -> StudentContext:
    _require_student_access()
    ctx = load_context(db(), app_state().settings, student_no, lock=False)
    if not can_view_college(staff(), ctx.student.college):
        raise ApiError(403, ErrorCode.FORBIDDEN, "您无权查看其他学院的学生",
                       "You may not see students of other colleges")
    return ctx


@bp.get("/students/<student_no>")
def student_page(student_no: str) -> str:
    """A student's items, the records the staff member may see with source and read time, their forms, and the
    history."""
    state, me = app_state(), staff()
    ctx = _load_visible(student_no)
    now = utcnow()
    judge = Judge.of(state.settings, state.sources, now)
    items = {i.key: i for i in judge.all(ctx.student, ctx.rows)}
    visible = [k for k in judge.keys if can_view_department(me, k)]
    editable = [k for k in visible if can_edit_department(me, k) and is_local(state.settings, k)]
    read_only = {k: state.settings.department(k).source for k in visible
                 if can_edit_department(me, k) and not is_local(state.settings, k)}
    history = queries.student_history(db(), ctx.student, visible, every_item=visible == list(judge.keys))
    # What CAS last said differently from the roster (server/identity/cas_people.py), from the history just read.
    cas_note = next((h for h in history if h.kind == "audit" and h.summary == DIFFERS_ACTION), None)
    today = operations.OperatorContext(state.settings, state.sources, me, "", now).today
    forms = {k: [_form(ctx, k, action, today) for action in registry.get(k).console_actions] for k in editable}
    return render_template("console/student.html", student=ctx.student, items=items, rows=ctx.rows,
                           visible=visible, editable=editable, read_only=read_only, history=history, forms=forms,
                           cas_note=cas_note)


def _form(ctx: StudentContext, key: str, action: ConsoleAction, today: date) -> dict[str, Any]:
    """One console action as a form to render: where it posts, its inputs with their current values, buttons."""
    current = registry.get(key).current(ctx.rows.get(key))
    me = staff()
    inputs = [{"id": f"{key}-{i.name}", "name": i.name, "label": i.label, "kind": i.kind, "choices": i.choices,
               "required": i.required, "maxlength": i.maxlength, "max": today.isoformat() if i.until_today else "",
               "value": i.value(current, today) if i.value else ""} for i in action.inputs]
    note = t(action.note).format(operator=me.name or me.username) if action.note else ""
    return {"action": f"/console/students/{ctx.student.student_no}/{key}" + (f"/{action.name}" if action.name else ""),
            "title": action.title, "inputs": inputs, "buttons": action.buttons, "note": note, "grid": len(inputs) > 2}


def _operator() -> operations.OperatorContext:
    state = app_state()
    return operations.OperatorContext(state.settings, state.sources, staff(), origin(), utcnow())


def _finish(student_no: str, outcome: operations.ChangeOutcome) -> Response:
    db().commit()
    item = outcome.item
    # In the language of the request that made the change: the page after the redirect is read by the same person.
    if outcome.outcome == "unchanged":
        flash(t("记录没有变化", "Nothing changed"), "info")
    else:
        (title, title_en), (status, status_en) = item_title(item.key), status_label(str(item.status))
        flash(t(f"已保存，{title}事项现在为：{status}", f"Saved. {title_en}: {status_en}"), "info")
    return back_to(f"/console/students/{student_no}")


def _form_error(student_no: str, exc: ApiError) -> Response:
    flash(t(exc.message, exc.message_en), "error")
    return back_to(f"/console/students/{student_no}")


def _action_view(key: str, action: ConsoleAction) -> Callable[[str], Response]:
    def view(student_no: str) -> Response:
        try:
            outcome = operations.run_action(db(), _operator(), key, action.name, student_no, request.form)
        except ApiError as exc:
            if exc.status not in (400, 422):
                raise
            return _form_error(student_no, exc)
        return _finish(student_no, outcome)

    view.__name__ = f"{key}_{action.name or 'update'}".replace("-", "_")
    view.__doc__ = f"{action.title[1]} ({key}), from the student's page."
    return view


# Every item's console forms post here: /console/students/<no>/<key> (its own form) or /<key>/<action>; an item
# that is off answers 404.
for _item in registry.known().values():
    for _action in _item.console_actions:
        bp.post(f"/students/<student_no>/{_item.key}" + (f"/{_action.name}" if _action.name else ""))(
            _action_view(_item.key, _action))
