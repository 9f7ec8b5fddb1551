"""The dashboard's blueprint and what every dashboard view needs: who is looking, and at which college."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, g, request
from werkzeug.wrappers import Response

from server.clearance.models import Batch
from server.errors import ApiError, ErrorCode
from server.identity.permissions import can_use_dashboard, dashboard_college, is_admin
from server.reports import progress as reports
from server.state import db
from server.timeutil import SHANGHAI, utcnow
from server.web.guards import to_login
from server.web.params import id_number
from server.web.session import browser_staff

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _require_dashboard_user() -> Response | None:
    """Administrators, and college viewers for their college; everyone else is refused."""
    staff = browser_staff()
    if staff is None:
        return to_login("请先以工作人员身份登录", "Please log in as staff")
    if not can_use_dashboard(staff):
        raise ApiError(403, ErrorCode.FORBIDDEN, "仅管理员和学院查看人员可以使用管理后台",
                       "The dashboard is for administrators and college viewers")
    g.staff = staff
    g.scope = dashboard_college(staff)
    return None


@bp.context_processor
def _dashboard_context() -> dict[str, Any]:
    staff = g.get("staff")
    return {"staff": staff, "staff_is_admin": bool(staff and is_admin(staff)), "scope": g.get("scope")}


def require_admin() -> None:
    """Refuse college viewers on administrators' pages."""
    if not is_admin(g.staff):
        raise ApiError(403, ErrorCode.FORBIDDEN, "仅管理员可以使用此功能", "Administrators only")


def actor() -> str:
    """How the audit log names the signed-in staff member."""
    return f"staff:{g.staff.username}"


def scoped_college(requested: str | None) -> str | None:
    """The college a view shows: a viewer's own (another college is a 403), or the requested one, or all."""
    requested = (requested or "").strip() or None
    if g.scope is None:
        return requested
    if requested is not None and requested != g.scope:
        raise ApiError(403, ErrorCode.FORBIDDEN, "您只能查看本学院的数据", "You may only see your own college")
    return g.scope


def selected_batch(now: datetime | None = None) -> Batch | None:
    """The batch named by `?batch=`, else the open (or newest) one; an unknown id is a 404."""
    raw = request.args.get("batch", "").strip()
    if not raw:
        return reports.default_batch(db(), now or utcnow())
    batch_id = id_number(raw, "批次编号", "batch id")
    batch = db().get(Batch, batch_id) if batch_id is not None else None
    if batch is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "未找到该批次", "Batch not found")
    return batch


def query_string(**params: Any) -> str:
    """A query string from the non-empty parameters."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def parse_local(value: str, what: str, what_en: str) -> datetime:
    """A `datetime-local` form value read as Shanghai time."""
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=SHANGHAI)
    except ValueError as exc:
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, f"{what}格式不正确", f"{what_en} is not a valid date and time"
                       ) from exc


def local_input(value: datetime | None) -> str:
    """A datetime as a `datetime-local` form value in Shanghai time."""
    return "" if value is None else value.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
