"""Progress by college × item with a chart, who never logged in, and drill-down lists of blocked students."""

from __future__ import annotations

from flask import g, redirect, render_template, request
from werkzeug.wrappers import Response

from server.errors import ApiError, ErrorCode
from server.items import registry
from server.reports import progress as reports
from server.state import app_state, db
from server.timeutil import local_display
from server.web.admin.base import bp, query_string, scoped_college, selected_batch
from server.web.admin.chart import stacked_bars
from server.web.labels import STATUS_LABELS, item_title, status_label
from server.web.language import t
from server.web.params import page_number


@bp.get("")
def home() -> Response:
    """The dashboard opens on progress."""
    return redirect("/admin/progress")


def _chart(rows: list[tuple[str, dict[str, int]]], chart_id: str, title: str) -> object:
    labels = {k: t(pair) for k, pair in STATUS_LABELS.items()}
    description = "; ".join(f"{label}: " + ", ".join(f"{labels[s]} {n}" for s, n in counts.items())
                            for label, counts in rows)
    return stacked_bars(rows, labels, chart_id=chart_id, title=title, description=description)


@bp.get("/progress")
def progress() -> str:
    """Counts per status of every item, by college; a chart; the never-logged-in count with its list."""
    session = db()
    batch = selected_batch()
    college = scoped_college(request.args.get("college"))
    keys = registry.active(app_state().settings).keys
    table = reports.progress(session, keys, batch.id if batch else None, college)
    item_rows = [(t(item_title(k)), table.total.items[k]) for k in keys]
    return render_template(
        "admin/progress.html", batch=batch, batches=reports.batches(session), college=college,
        colleges=reports.colleges(session, batch.id if batch else None) if g.scope is None else [g.scope],
        table=table, items=[(k, item_title(k)) for k in keys], statuses=reports.STATUSES,
        status_labels=STATUS_LABELS, chart=_chart(item_rows, "items-chart", t("各事项办理进度", "Progress by item")),
        qs=lambda **kw: query_string(batch=batch.id if batch else None, **kw),
    )


def _item_arg() -> str:
    item = request.args.get("item", "")
    if item not in registry.active(app_state().settings):
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, "请选择事项", "Choose an item")
    return item


@bp.get("/progress/blocked")
def blocked() -> str:
    """Students still blocked on one item (optionally one status), in one college or all, a page at a time."""
    item = _item_arg()
    status = request.args.get("status", "")
    if status and status not in reports.BLOCKED_STATUSES:
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, "状态不正确", "Unknown status")
    batch = selected_batch()
    batch_id = batch.id if batch else None
    college = scoped_college(request.args.get("college"))
    page = reports.blocked_students(db(), batch_id, item, college=college,
                                    statuses=(status,) if status else reports.BLOCKED_STATUSES, page=page_number())
    rows = [{"student": s, "status": st or "none", "label": status_label(st), "changed": local_display(at)}
            for s, st, at in page.rows]
    return render_template(
        "admin/blocked.html", batch=batch, college=college, item=item, item_label=item_title(item),
        status=status, status_labels=STATUS_LABELS, blocked_statuses=reports.BLOCKED_STATUSES, page=page,
        rows=rows,
        link=lambda p: _blocked_link(batch_id, college, item, status, p),
        status_link=lambda s: _blocked_link(batch_id, college, item, s, 1),
    )


def _blocked_link(batch_id: int | None, college: str | None, item: str, status: str, page: int) -> str:
    return "/admin/progress/blocked?" + query_string(batch=batch_id, college=college, item=item, status=status,
                                                     page=page if page > 1 else None)


@bp.get("/progress/never-logged-in")
def never_logged_in() -> str:
    """Students who have never logged in on any channel."""
    batch = selected_batch()
    college = scoped_college(request.args.get("college"))
    page = reports.never_logged_in(db(), batch.id if batch else None, college=college, page=page_number())
    return render_template(
        "admin/never_logged_in.html", batch=batch, college=college, page=page, rows=[s for (s,) in page.rows],
        link=lambda p: "/admin/progress/never-logged-in?" + query_string(batch=batch.id if batch else None,
                                                                           college=college, page=p),
    )
