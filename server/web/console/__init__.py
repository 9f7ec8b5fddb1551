"""The staff console (server-rendered pages under /console): students, department changes, lists, imports, staff."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, g, redirect, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from server.departments.queries import HistoryEntry
from server.errors import ApiError, ErrorCode
from server.identity.models import Staff
from server.identity.permissions import can_edit_department, can_view_department
from server.items import registry
from server.state import app_state
from server.timeutil import local_display
from server.vocabulary import (
    DEGREE_LABELS,
    HISTORY_SUBJECTS,
    ROLE_LABELS,
    actor_label,
    cause_label,
    source_label,
    status_label,
)
from server.web.labels import detail_rows, item_title
from server.web.language import t
from server.web.session import browser_staff, browser_student

bp = Blueprint("console", __name__, url_prefix="/console")


def staff() -> Staff:
    """The signed-in staff member of this request."""
    return g.console_staff


@bp.before_request
def _require_staff() -> None:
    """Only active staff reach the console; others are sent to log in (or told it is staff only)."""
    found = browser_staff()
    if found is not None:
        g.console_staff = found
        return
    if browser_student() is not None:
        raise ApiError(403, ErrorCode.FORBIDDEN, "工作台仅供工作人员使用", "The console is for staff only")
    if request.method == "GET":
        abort(redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")})))
    raise ApiError(401, ErrorCode.UNAUTHORIZED, "请先以工作人员身份登录", "Please log in as staff")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> tuple[str, int]:
    limit = app_state().settings.upload_limit_bytes
    size = f"{limit / 1024 / 1024:.1f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    error = ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, f"上传的文件太大：上限为 {size}，请拆分后分批导入",
                     f"The file is too large: the limit is {size}; split it and import the parts")
    return render_template("error.html", error=error), 413


@bp.app_template_global()
def department_title(key: str) -> str:
    """An item's (its department's) title in the page's language."""
    return t(item_title(key))


@bp.app_template_global()
def department_words(key: str) -> tuple[str, str]:
    """An item's (its department's) title as (Chinese, English), for `t()`."""
    return item_title(key)


@bp.app_template_global()
def item_rows(key: str, details: dict) -> list[tuple[str, str, str]]:
    """An item's details as labelled rows, the words its module declares (the student sees the same)."""
    return detail_rows(key, details)


def status_words(status: str) -> tuple[str, str]:
    """A status of the blocked lists in words; "unknown" there is a student whose item was never computed."""
    return status_label(None if status == "unknown" else status)


@bp.app_template_global()
def status_title(status: str) -> str:
    """A status in the page's language."""
    return t(status_words(status))


@bp.app_template_global()
def degree_title(level: str) -> str:
    """A student's degree level in the page's language."""
    return t(DEGREE_LABELS.get(level, (level, level)))


@bp.app_template_global()
def role_title(role: str) -> str:
    """A staff role in the page's language."""
    return t(ROLE_LABELS.get(role, (role, role)))


@bp.app_template_global()
def source_words(source: str) -> str:
    """Where a record came from in the page's language; a console entry adds the staff member's username, since
    the console is where staff look up who entered what."""
    words = t(source_label(source))
    kind, _, username = source.partition(":")
    return words + t("（%s）", " (%s)") % username if kind == "console" and username else words


@bp.app_template_global()
def history_words(entry: HistoryEntry) -> tuple[str, str]:
    """What a line of the history is about and who or what made it, in the page's language."""
    subject = HISTORY_SUBJECTS.get(entry.item) or item_title(entry.item)
    by = cause_label(entry.actor) if entry.kind == "transition" else actor_label(entry.actor)
    return t(subject), t(by)


@bp.app_template_filter("shanghai")
def shanghai(value):
    """A stored UTC time as Asia/Shanghai wall-clock time."""
    return local_display(value) if value is not None else "—"


@bp.context_processor
def _console_context() -> dict:
    me = g.get("console_staff")
    if me is None:
        return {}
    keys = registry.active(app_state().settings).keys
    return {
        "me": me,
        "visible_departments": [k for k in keys if can_view_department(me, k)],
        "editable_departments": [k for k in keys if can_edit_department(me, k)],
    }


@bp.app_template_filter("pager_query")
def pager_query(args, page: int) -> str:
    """The current query string with another page number."""
    params = {k: v for k, v in args.items() if k != "page"}
    params["page"] = str(page)
    return urlencode(params)


def back_to(url: str) -> Response:
    """A 303 after a form post (the browser then GETs the page)."""
    return redirect(url, code=303)


from server.web.console import blocked, imports, staff_pages, students  # noqa: E402,F401 -- registers the routes
