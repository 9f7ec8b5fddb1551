"""The "still blocked" list of one department: counts, a college filter, pages, and the same list as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from urllib.parse import quote

from flask import Response, render_template, request, stream_with_context

from server.departments import queries
from server.errors import ApiError, ErrorCode, not_found
from server.identity.permissions import can_view_department, college_of
from server.items import registry
from server.reports.exports import safe_cell
from server.state import app_state, db
from server.timeutil import iso, utcnow
from server.web.console import bp, staff, status_words
from server.web.params import page_number

CSV_HEADER = ["学号 student_no", "姓名 name", "学院 college", "专业 major", "状态 status", "原因 reason",
              "reason (English)", "最后读取 last read"]


def _department(key: str) -> str:
    if key not in registry.active(app_state().settings):
        raise not_found("部门", "department")
    if not can_view_department(staff(), key):
        name, name_en = registry.get(key).title
        raise ApiError(403, ErrorCode.FORBIDDEN, f"您无权查看{name}的名单", f"You may not see {name_en}'s list")
    return key


def _college() -> str | None:
    """The college filter; a college viewer is always held to their own college."""
    me = staff()
    if college_of(me) is not None:
        return me.college
    return request.args.get("college", "").strip()[:100] or None


@bp.get("/blocked/<key>")
def blocked(key: str) -> str:
    """Students the department still blocks, with counts by status and college."""
    key = _department(key)
    state, college = app_state(), _college()
    page = page_number()
    summary = queries.blocked_summary(db(), key, college)
    rows = queries.blocked_page(db(), state.settings, state.sources, key, college=college, page=page, now=utcnow())
    return render_template("console/blocked.html", key=key, college=college, summary=summary, rows=rows, page=page,
                           per_page=queries.PER_PAGE,
                           colleges=queries.colleges(db()) if college_of(staff()) is None else [college])


@bp.get("/blocked/<key>.csv")
def blocked_csv(key: str) -> Response:
    """The same list as a CSV download (UTF-8 with BOM so Excel shows Chinese), streamed row by row."""
    key = _department(key)
    state, college = app_state(), _college()
    now = utcnow()

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        yield "\ufeff" + buffer.getvalue()
        for row in queries.iter_blocked(state.sessions, state.settings, state.sources, key, college=college, now=now):
            buffer.seek(0)
            buffer.truncate()
            reason = row.item.reasons[0] if row.item.reasons else None
            # Names, colleges and majors come from imported files: never let a spreadsheet run one as a formula.
            writer.writerow([safe_cell(row.student.student_no), safe_cell(row.student.name),
                             safe_cell(row.student.college), safe_cell(row.student.major),
                             f"{status_words(row.status)[0]} {row.status}",
                             reason.message if reason else "", reason.message_en if reason else "",
                             iso(row.item.updated_at) or ""])
            yield buffer.getvalue()

    filename = f"blocked-{key}{'-' + college if college else ''}.csv"
    # The generator opens its own short sessions: the request's session is closed before streaming ends.
    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (f"attachment; filename=blocked-{key}.csv; "
                                               f"filename*=UTF-8''{quote(filename)}")
    return response
