"""Console pages: the home page, finding a student, a student's records and history, and the departments' changes."""

from __future__ import annotations

from datetime import date

from flask import flash, render_template, request
from werkzeug.wrappers import Response

from server.api.auth import origin
from server.clearance.rules import ITEM_KEYS
from server.departments import operations, queries
from server.departments.changes import evaluate_items, is_local, load_context
from server.departments.fields import FieldProblem, parse_count, parse_date, parse_yuan
from server.errors import ApiError, ErrorCode
from server.identity.permissions import can_edit_department, can_view_college, can_view_department
from server.state import app_state, db
from server.timeutil import utcnow
from server.web.console import back_to, bp, staff


def _viewer_college() -> str | None:
    me = staff()
    return me.college if me.role == "viewer" else None


def _require_student_access() -> None:
    if staff().role not in ("admin", "operator", "viewer"):
        raise ApiError(403, ErrorCode.FORBIDDEN, "您的角色不能查看学生记录", "Your role cannot see student records")


@bp.get("/")
def home() -> str:
    """Where each role starts: search, and the blocked counts of the departments they see."""
    me = staff()
    summaries = {}
    if me.role in ("admin", "operator", "viewer"):
        summaries = {k: queries.blocked_summary(db(), k, _viewer_college())
                     for k in ITEM_KEYS if can_view_department(me, k)}
    return render_template("console/home.html", summaries=summaries)


@bp.get("/students")
def search() -> str:
    """Find a student by number (prefix) or name (part of it)."""
    _require_student_access()
    q = request.args.get("q", "").strip()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    students, total = queries.search_students(db(), q, college=_viewer_college(), page=page) if q else ([], 0)
    return render_template("console/search.html", q=q, students=students, total=total, page=page,
                           per_page=queries.PER_PAGE)


def _load_visible(student_no: str):  # type: ignore[no-untyped-def]
    _require_student_access()
    ctx = load_context(db(), student_no, lock=False)
    if not can_view_college(staff(), ctx.student.college):
        raise ApiError(403, ErrorCode.FORBIDDEN, "您无权查看其他学院的学生",
                       "You may not see students of other colleges")
    return ctx


@bp.get("/students/<student_no>")
def student_page(student_no: str) -> str:
    """A student's four items, the records the staff member may see with source and read time, and the history."""
    state, me = app_state(), staff()
    ctx = _load_visible(student_no)
    now = utcnow()
    items = {i.key: i for i in evaluate_items(state.settings, state.sources, ctx.student, ctx.rows, now)}
    visible = [k for k in ITEM_KEYS if can_view_department(me, k)]
    editable = [k for k in visible if can_edit_department(me, k) and is_local(state.settings, k)]
    read_only = {k: state.settings.department(k).source for k in visible
                 if can_edit_department(me, k) and not is_local(state.settings, k)}
    history = queries.student_history(db(), ctx.student, visible)
    return render_template("console/student.html", student=ctx.student, items=items, rows=ctx.rows,
                           visible=visible, editable=editable, read_only=read_only, history=history,
                           today=operations.OperatorContext(state.settings, state.sources, me, "", now).today)


def _operator() -> operations.OperatorContext:
    state = app_state()
    return operations.OperatorContext(state.settings, state.sources, staff(), origin(), utcnow())


def _finish(student_no: str, outcome: operations.ChangeOutcome) -> Response:
    db().commit()
    item = outcome.item
    if outcome.outcome == "unchanged":
        flash("记录没有变化 · Nothing changed", "info")
    else:
        flash(f"已保存，{department_short(item.key)}事项现在为：{status_short(str(item.status))} · "
              f"Saved; the item is now {item.status}", "info")
    return back_to(f"/console/students/{student_no}")


def department_short(key: str) -> str:
    """The Chinese title of a department."""
    from server.clearance.departments import TITLES

    return TITLES[key][0]


def status_short(status: str) -> str:
    """The Chinese title of a status."""
    from server.web.console import STATUS_TITLES

    return STATUS_TITLES[status][0]


def _form_error(student_no: str, exc: ApiError | FieldProblem) -> Response:
    flash(f"{exc.message} · {exc.message_en}", "error")
    return back_to(f"/console/students/{student_no}")


@bp.post("/students/<student_no>/apartment/move-out")
def move_out(student_no: str) -> Response:
    """The apartment manager records the move-out (today unless a date is given)."""
    try:
        day: date | None = parse_date("move_out_date", request.form.get("move_out_date", ""))
        outcome = operations.record_move_out(db(), _operator(), student_no, move_out_date=day,
                                             building=request.form.get("building", "").strip()[:64] or None)
    except (FieldProblem, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.status not in (400, 422):
            raise
        return _form_error(student_no, exc)
    return _finish(student_no, outcome)


@bp.post("/students/<student_no>/finance/payment")
def payment(student_no: str) -> Response:
    """Finance records a payment."""
    try:
        amount = parse_yuan("amount", request.form.get("amount", ""))
        outcome = operations.record_payment(db(), _operator(), student_no, amount_cents=amount,
                                            fee_name=request.form.get("fee_name", ""))
    except (FieldProblem, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.status not in (400, 422):
            raise
        return _form_error(student_no, exc)
    return _finish(student_no, outcome)


@bp.post("/students/<student_no>/finance/clear")
def clear(student_no: str) -> Response:
    """Finance clears the arrears."""
    outcome = operations.clear_arrears(db(), _operator(), student_no, note=request.form.get("note", ""))
    return _finish(student_no, outcome)


@bp.post("/students/<student_no>/archives/thesis")
def thesis(student_no: str) -> Response:
    """The archives marks the thesis received or reviewed."""
    try:
        outcome = operations.set_archives_thesis(db(), _operator(), student_no, request.form.get("status", ""))
    except ApiError as exc:
        if exc.status not in (400, 422):
            raise
        return _form_error(student_no, exc)
    return _finish(student_no, outcome)


@bp.post("/students/<student_no>/library")
def library(student_no: str) -> Response:
    """The library updates loans, fees, violations, card and thesis."""
    form = request.form
    try:
        values = {"owed_books": parse_count("owed_books", form.get("owed_books", "")),
                  "owed_fees_cents": parse_yuan("owed_fees", form.get("owed_fees", "")),
                  "violations": parse_count("violations", form.get("violations", "")),
                  "card_status": form.get("card_status", ""), "thesis_status": form.get("thesis_status", "")}
        outcome = operations.update_library(db(), _operator(), student_no, values)
    except (FieldProblem, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.status not in (400, 422):
            raise
        return _form_error(student_no, exc)
    return _finish(student_no, outcome)
