"""What a department operator does in real life, one service function each (the console calls them).

Every function checks the operator may change the department, locks the student, validates, writes the record
(audited) and recomputes the items (transitions) in the caller's transaction. They flush, never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from server.audit import record_audit
from server.clearance import departments
from server.clearance.rules import ItemResult, yuan
from server.departments.changes import (
    StudentContext,
    apply_change,
    evaluate_items,
    load_context,
    require_local,
)
from server.departments.fields import FieldProblem, check_values
from server.errors import ApiError, ErrorCode
from server.identity.models import Staff
from server.identity.permissions import can_edit_department, can_view_college
from server.settings import Settings
from server.sources import DepartmentSource
from server.timeutil import SHANGHAI


@dataclass(frozen=True)
class OperatorContext:
    """Who is acting, from where, with which settings and sources."""

    settings: Settings
    sources: Mapping[str, DepartmentSource]
    staff: Staff
    origin: str
    now: datetime

    @property
    def actor(self) -> str:
        """The audit name of the operator."""
        return f"staff:{self.staff.username}"

    @property
    def today(self) -> date:
        """Today in Asia/Shanghai, the date operators mean."""
        return self.now.astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class ChangeOutcome:
    """What a console change did."""

    outcome: str  # created | updated | unchanged
    item: ItemResult


def forbidden(message: str, message_en: str) -> ApiError:
    """A 403 in both languages."""
    return ApiError(403, ErrorCode.FORBIDDEN, message, message_en)


def _invalid(problem: FieldProblem) -> ApiError:
    return ApiError(400, ErrorCode.VALIDATION_ERROR, problem.message, problem.message_en,
                    fields=[{"loc": [problem.field], "message": problem.message_en}])


def _begin(session: Session, op: OperatorContext, key: str, student_no: str) -> StudentContext:
    if not can_edit_department(op.staff, key):
        name, name_en = departments.TITLES[key]
        raise forbidden(f"您无权修改{name}的记录", f"You may not change {name_en} records")
    require_local(op.settings, key)
    ctx = load_context(session, student_no)
    if not can_view_college(op.staff, ctx.student.college):
        raise forbidden("您无权查看该学院的学生", "You may not see students of this college")
    return ctx


def _change(session: Session, op: OperatorContext, ctx: StudentContext, key: str, values: Mapping[str, Any],
            cause: str) -> ChangeOutcome:
    try:
        checked = check_values(key, values)
    except FieldProblem as problem:
        raise _invalid(problem) from problem
    outcome = apply_change(session, op.settings, op.sources, ctx, key, checked,
                           source=f"console:{op.staff.username}"[:40], actor=op.actor, origin=op.origin, cause=cause,
                           now=op.now)
    session.flush()
    items = evaluate_items(op.settings, op.sources, ctx.student, ctx.rows, op.now)
    return ChangeOutcome(outcome, next(i for i in items if i.key == key))


def record_move_out(session: Session, op: OperatorContext, student_no: str, *, move_out_date: date | None = None,
                    building: str | None = None) -> ChangeOutcome:
    """The apartment manager checks the student out: handler is the operator, date today unless given."""
    ctx = _begin(session, op, "apartment", student_no)
    day = move_out_date or op.today
    if day > op.today:
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, "退宿日期不能晚于今天",
                       "The move-out date cannot be in the future")
    values: dict[str, Any] = {"move_out_date": day, "move_out_handler": op.staff.name or op.staff.username}
    if building:
        values["building"] = building
    return _change(session, op, ctx, "apartment", values, "console:move_out")


def record_payment(session: Session, op: OperatorContext, student_no: str, *, amount_cents: int,
                   fee_name: str = "") -> ChangeOutcome:
    """Finance takes a payment: the arrears go down by the amount and a fee line records it."""
    ctx = _begin(session, op, "finance", student_no)
    row = ctx.rows["finance"]
    arrears = row.arrears_cents if row is not None and row.known else 0  # type: ignore[union-attr]
    if amount_cents <= 0:
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, "缴费金额必须大于 0", "The payment must be more than 0")
    if amount_cents > arrears:
        raise ApiError(422, ErrorCode.VALIDATION_ERROR,
                       f"缴费金额 {yuan(amount_cents)} 元超过欠费 {yuan(arrears)} 元",
                       f"The payment of ¥{yuan(amount_cents)} exceeds the arrears of ¥{yuan(arrears)}")
    lines = list(row.fee_items or []) if row is not None else []  # type: ignore[union-attr]
    name = (fee_name.strip() or "缴费 Payment")[:60] + f" {op.today.isoformat()}"
    lines.append({"name": name, "due_cents": 0, "paid_cents": amount_cents})
    return _change(session, op, ctx, "finance", {"arrears_cents": arrears - amount_cents, "fee_items": lines},
                   "console:payment")


def clear_arrears(session: Session, op: OperatorContext, student_no: str, *, note: str = "") -> ChangeOutcome:
    """Finance clears the arrears (e.g. waived or settled elsewhere); the note goes to the audit log."""
    ctx = _begin(session, op, "finance", student_no)
    row = ctx.rows["finance"]
    arrears = row.arrears_cents if row is not None and row.known else 0  # type: ignore[union-attr]
    lines = list(row.fee_items or []) if row is not None else []  # type: ignore[union-attr]
    if arrears:
        lines.append({"name": f"欠费核销 Arrears cleared {op.today.isoformat()}", "due_cents": 0, "paid_cents": 0})
    outcome = _change(session, op, ctx, "finance", {"arrears_cents": 0, "fee_items": lines}, "console:clear_arrears")
    if arrears:
        record_audit(session, actor=op.actor, action="finance.clear_arrears", entity=f"student:{student_no}",
                     before={"arrears_cents": arrears}, after={"arrears_cents": 0, "note": note[:200]},
                     origin=op.origin)
    return outcome


def set_archives_thesis(session: Session, op: OperatorContext, student_no: str, status: str) -> ChangeOutcome:
    """The archives marks the thesis received or reviewed (or back to not submitted)."""
    ctx = _begin(session, op, "archives", student_no)
    return _change(session, op, ctx, "archives", {"thesis_status": status}, f"console:thesis_{status}"[:60])


def update_library(session: Session, op: OperatorContext, student_no: str, values: Mapping[str, Any]
                   ) -> ChangeOutcome:
    """The library sets loans, fees, violations, card and thesis status (any subset)."""
    ctx = _begin(session, op, "library", student_no)
    return _change(session, op, ctx, "library", values, "console:library")
