"""Administrators assign staff roles: add by username, change role, department or college, deactivate (audited)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit import record_audit
from server.errors import ApiError, ErrorCode
from server.identity.models import Staff
from server.identity.permissions import ROLES, is_admin
from server.items import registry

_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


def _bad(message: str, message_en: str) -> ApiError:
    return ApiError(400, ErrorCode.VALIDATION_ERROR, message, message_en)


def _require_admin(actor: Staff) -> None:
    if not is_admin(actor):
        raise ApiError(403, ErrorCode.FORBIDDEN, "仅管理员可以管理工作人员", "Only administrators manage staff")


def _role_fields(role: str, department: str | None, college: str | None) -> tuple[str | None, str | None]:
    """The department and college a role keeps (an operator has a department, a viewer or a secretary a college,
    others none)."""
    if role not in ROLES:
        raise _bad(f"未知角色：{role}", f"Unknown role: {role}")
    if role == "operator":
        if department not in registry.known():
            raise _bad("部门操作员必须选择部门", "A department operator needs a department")
        return department, None
    if role in ("viewer", "secretary"):
        college = (college or "").strip()
        if not college or len(college) > 100:
            raise _bad("学院查看员和学院秘书必须填写学院", "A college viewer or secretary needs a college")
        return None, college
    return None, None


def _snapshot(staff: Staff) -> dict[str, Any]:
    return {"name": staff.name, "role": staff.role, "department": staff.department, "college": staff.college,
            "active": staff.active}


def list_staff(session: Session) -> list[Staff]:
    """Every staff account, active first, by username."""
    return list(session.scalars(select(Staff).order_by(Staff.active.desc(), Staff.username)))


def add_staff(session: Session, actor: Staff, *, username: str, name: str, role: str, department: str | None = None,
              college: str | None = None, origin: str = "") -> Staff:
    """Create a staff account that logs in through CAS or WeCom as `username`."""
    _require_admin(actor)
    username = username.strip()
    if not _USERNAME.match(username):
        raise _bad("用户名只能包含字母、数字和 . _ @ -", "The username may hold letters, digits and . _ @ - only")
    department, college = _role_fields(role, department, college)
    if session.scalars(select(Staff.id).where(Staff.username == username)).first() is not None:
        raise ApiError(409, ErrorCode.CONFLICT, f"用户名 {username} 已存在", f"The username {username} exists already")
    staff = Staff(username=username, name=name.strip()[:64] or username, role=role, department=department,
                  college=college, active=True)
    session.add(staff)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ApiError(409, ErrorCode.CONFLICT, f"用户名 {username} 已存在", f"The username {username} exists already"
                       ) from exc
    record_audit(session, actor=f"staff:{actor.username}", action="staff.create", entity=f"staff:{username}",
                 before=None, after=_snapshot(staff), origin=origin)
    return staff


def update_staff(session: Session, actor: Staff, staff_id: int, *, role: str, department: str | None = None,
                 college: str | None = None, active: bool = True, name: str | None = None, origin: str = "") -> Staff:
    """Change a staff account's role, department, college or active flag."""
    _require_admin(actor)
    staff = session.get(Staff, staff_id, with_for_update=True)
    if staff is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "未找到该工作人员", "No such staff account")
    department, college = _role_fields(role, department, college)
    if staff.id == actor.id and (role != "admin" or not active):
        raise ApiError(422, ErrorCode.VALIDATION_ERROR, "不能取消自己的管理员身份或停用自己",
                       "You cannot demote or deactivate yourself")
    before = _snapshot(staff)
    staff.role, staff.department, staff.college, staff.active = role, department, college, active
    if name is not None and name.strip():
        staff.name = name.strip()[:64]
    after = _snapshot(staff)
    if before != after:
        record_audit(session, actor=f"staff:{actor.username}", action="staff.update", entity=f"staff:{staff.username}",
                     before=before, after=after, origin=origin)
    session.flush()
    return staff
