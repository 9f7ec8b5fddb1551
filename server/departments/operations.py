"""What a department operator does in real life: the console actions each item declares, run the same way.

`run_action` checks the operator may change the item's records, locks the student, lets the item's action turn
the form into a change, validates it, writes the record (audited) and recomputes the items (transitions) in the
caller's transaction. It flushes, never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from server.audit import record_audit
from server.clearance.contexts import StudentContext
from server.clearance.rules import ItemResult, Judge
from server.departments.changes import apply_change, load_context, require_local
from server.errors import ApiError, ErrorCode
from server.identity.models import Staff
from server.identity.permissions import can_edit_department, can_view_college
from server.items import registry
from server.items.base import Operator, Refused
from server.items.fields import FieldProblem
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


def invalid(problem: FieldProblem) -> ApiError:
    """A field the operator got wrong, as a 400."""
    return ApiError(400, ErrorCode.VALIDATION_ERROR, problem.message, problem.message_en,
                    fields=[{"loc": [problem.field], "message": problem.message_en}])


def _begin(session: Session, op: OperatorContext, key: str, student_no: str) -> StudentContext:
    if not can_edit_department(op.staff, key):
        name, name_en = registry.get(key).title
        raise forbidden(f"您无权修改{name}的记录", f"You may not change {name_en} records")
    require_local(op.settings, key)
    ctx = load_context(session, op.settings, student_no)
    if not can_view_college(op.staff, ctx.student.college):
        raise forbidden("您无权查看该学院的学生", "You may not see students of this college")
    return ctx


def run_action(session: Session, op: OperatorContext, key: str, name: str, student_no: str,
               form: Mapping[str, str]) -> ChangeOutcome:
    """One console action of an item (its form's text in `form`) on one student's record."""
    item = registry.active(op.settings).get(key)
    action = item.console_action(name) if item is not None else None
    if item is None or action is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "没有这项操作", "No such action")
    ctx = _begin(session, op, key, student_no)
    who = Operator(op.staff.name or op.staff.username, op.today)
    try:
        change = action.plan(item.current(ctx.rows.get(key)), form, who)
        checked = item.check(change.values)
    except FieldProblem as problem:
        raise invalid(problem) from problem
    except Refused as refused:
        raise ApiError(refused.status, ErrorCode.VALIDATION_ERROR, refused.message, refused.message_en) from refused
    outcome = apply_change(session, op.settings, op.sources, ctx, key, checked,
                           source=f"console:{op.staff.username}"[:40], actor=op.actor, origin=op.origin,
                           cause=change.cause, now=op.now)
    session.flush()
    if change.audit is not None:
        audit_action, before, after = change.audit
        record_audit(session, actor=op.actor, action=audit_action, entity=f"student:{student_no}", before=dict(before),
                     after=dict(after), origin=op.origin)
    return ChangeOutcome(outcome, Judge.of(op.settings, op.sources, op.now).item(key, ctx.rows.get(key), ctx.student))
