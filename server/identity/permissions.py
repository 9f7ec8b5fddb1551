"""Who may do what: roles as plain rules over a staff account."""

from __future__ import annotations

from server.identity.models import Staff
from server.items import registry

ROLES = ("admin", "operator", "counter", "viewer", "secretary")
COLLEGE_ROLES = ("viewer", "secretary")  # roles held to the students of one college


def is_admin(staff: Staff) -> bool:
    """Administrators see and manage everything."""
    return staff.active and staff.role == "admin"


def _secretary_of(staff: Staff, department: str) -> bool:
    """A college secretary acts on the items a college signs (for their own college's students)."""
    item = registry.known().get(department)
    return staff.role == "secretary" and bool(staff.college) and item is not None and item.college_scoped


def can_edit_department(staff: Staff, department: str) -> bool:
    """Only the department's own operators, the college's secretary for a college's item, and administrators
    change its records (a secretary only of their college's students: `can_view_college`)."""
    return staff.active and (staff.role == "admin" or (staff.role == "operator" and staff.department == department)
                             or _secretary_of(staff, department))


def can_view_department(staff: Staff, department: str) -> bool:
    """Operators see their department, secretaries their college's items; administrators and college viewers
    see every department."""
    return staff.active and (staff.role in ("admin", "viewer") or (staff.role == "operator"
                                                                    and staff.department == department)
                             or _secretary_of(staff, department))


def can_view_college(staff: Staff, college: str) -> bool:
    """College viewers and secretaries see one college; administrators and operators see all."""
    if not staff.active:
        return False
    if staff.role in COLLEGE_ROLES:
        return staff.college == college
    return staff.role in ("admin", "operator")


def college_of(staff: Staff) -> str | None:
    """The one college a staff member is held to, or None for every college."""
    return staff.college if staff.role in COLLEGE_ROLES else None


def can_use_counter(staff: Staff) -> bool:
    """Counter staff and administrators verify certificates and record hand-overs."""
    return staff.active and staff.role in ("counter", "admin")


def can_use_dashboard(staff: Staff) -> bool:
    """Administrators see the whole dashboard; a college viewer sees it for their own college."""
    return staff.active and (staff.role == "admin" or (staff.role == "viewer" and bool(staff.college)))


def dashboard_college(staff: Staff) -> str | None:
    """The one college a dashboard user is limited to, or None for every college."""
    return None if staff.role == "admin" else staff.college


def can_manage_batches(staff: Staff) -> bool:
    """Only administrators create batches and change their windows."""
    return is_admin(staff)
