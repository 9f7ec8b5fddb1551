"""Student exports, streamed as they are read: CSV and XLSX, for a batch and a college (or all)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Response, g, render_template, request, stream_with_context

from server.api.auth import origin
from server.audit import record_audit
from server.errors import not_found
from server.items import registry
from server.reports import exports as reports
from server.reports import progress
from server.reports.reading import read_sessions
from server.state import app_state, db
from server.web.admin.base import actor, bp, query_string, scoped_college, selected_batch

FORMATS: dict[str, tuple[str, Callable[..., Iterator[bytes]]]] = {
    "csv": ("text/csv; charset=utf-8", reports.export_students_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", reports.export_students_xlsx),
}


@bp.get("/exports")
def exports() -> str:
    """Choose a batch and a college, then download CSV or XLSX."""
    session = db()
    batch = selected_batch()
    college = scoped_college(request.args.get("college"))
    return render_template(
        "admin/exports.html", batch=batch, batches=progress.batches(session), college=college,
        colleges=progress.colleges(session, batch.id if batch else None) if g.scope is None else [g.scope],
        qs=query_string(batch=batch.id if batch else None, college=college),
    )


@bp.get("/exports/students.<fmt>")
def export_students(fmt: str) -> Response:
    """The export itself: audited, then streamed row by row from a read-only session."""
    if fmt not in FORMATS:
        raise not_found("导出格式", "Export format")
    batch = selected_batch()
    college = scoped_college(request.args.get("college"))
    batch_id = batch.id if batch else None
    session = db()
    record_audit(session, actor=actor(), action="export.students", entity=f"batch:{batch_id or 'all'}",
                 before=None, after={"format": fmt, "college": college}, origin=origin())
    session.commit()
    mimetype, make = FORMATS[fmt]
    factory = read_sessions()
    items = registry.active(app_state().settings)

    def generate() -> Iterator[bytes]:
        with factory() as reader:
            yield from make(reader, items, batch_id=batch_id, college=college)

    name = f"lixiao-students-{batch_id or 'all'}.{fmt}"
    return Response(stream_with_context(generate()), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })

