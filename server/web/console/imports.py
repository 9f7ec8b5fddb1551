"""Console imports: upload a roster or department file, read the per-row report, optionally apply the valid rows."""

from __future__ import annotations

import base64
import json
import secrets

from flask import render_template, request
from sqlalchemy import select

from server.api.auth import origin
from server.clearance.models import Batch
from server.errors import ApiError, ErrorCode
from server.identity.permissions import can_edit_department, college_of, is_admin
from server.imports.columns import ROSTER, ROSTER_REQUIRED, VALUES_HELP, kinds
from server.imports.reader import ImportFileError
from server.imports.records import import_file
from server.imports.report import RESULT_TITLES, ImportReport
from server.items import registry
from server.items.fields import CellHelp
from server.state import app_state, db
from server.timeutil import utcnow
from server.web.console import bp, staff

PENDING_SECONDS = 1800  # how long a checked file waits for "apply the valid rows"


def allowed_kinds() -> list[str]:
    """What the signed-in staff member may import: the roster (administrators) and their department's records.

    Not a college secretary: a file may name students of any college, and they sign for their own alone."""
    me = staff()
    if college_of(me) is not None:
        return []
    return [k for k in kinds(registry.active(app_state().settings))
            if (is_admin(me) if k == "roster" else can_edit_department(me, k))]


def _columns() -> dict[str, list[tuple[str, str, bool, CellHelp | None]]]:
    """Each kind's columns as (name, Chinese headers, required, what a cell may hold), for the help table."""
    out = {"roster": [(n, "、".join(h), n in ROSTER_REQUIRED, VALUES_HELP.get(n)) for n, h in ROSTER.items()]}
    for item in registry.active(app_state().settings):
        out[item.key] = [("student_no", "学号", True, VALUES_HELP["student_no"])] + [
            (c.name, "、".join(c.headers), False, c.help) for c in item.import_columns.values()]
    return out


def _form(error: ApiError | None = None, status: int = 200, kind: str = "") -> tuple[str, int]:
    batches = list(db().scalars(select(Batch.name).order_by(Batch.opens_at.desc())))
    return render_template("console/import.html", kinds=allowed_kinds(), batches=batches, columns=_columns(),
                           error=error, chosen=kind, limit_mb=app_state().settings.upload_limit_bytes / 1024 / 1024
                           ), status


@bp.get("/imports")
def import_form() -> tuple[str, int]:
    """The upload form, with the columns each file may have."""
    _require_import_rights()
    return _form(kind=request.args.get("kind", ""))


def _run(kind: str, data: bytes, filename: str, batch: str | None, apply_valid: bool) -> ImportReport:
    if kind not in allowed_kinds():
        raise ApiError(403, ErrorCode.FORBIDDEN, "您无权导入该类数据", "You may not import this kind of file")
    state = app_state()
    session = db()
    report = import_file(session, state.settings, state.sources, kind, data, filename,
                         actor=f"staff:{staff().username}", origin=origin(), now=utcnow(), batch_name=batch,
                         apply_valid=apply_valid)
    session.commit()
    return report


def _report_page(report: ImportReport, pending: str | None) -> tuple[str, int]:
    status = 200 if report.applied else 422
    return render_template("console/import_report.html", report=report, pending=pending, titles=RESULT_TITLES,
                           shown=[r for r in report.rows if r.result != "rejected"][:500]), status


def _require_import_rights() -> None:
    """Roles that may import nothing are refused before anything they sent is looked at."""
    if not allowed_kinds():
        raise ApiError(403, ErrorCode.FORBIDDEN, "您的角色不能导入数据", "Your role cannot import data")


@bp.post("/imports")
def upload() -> tuple[str, int]:
    """Check a file and write it (all rows, or nothing if any row is rejected, unless told to apply the valid ones)."""
    _require_import_rights()
    kind = request.form.get("kind", "")
    file = request.files.get("file")
    if file is None or not file.filename:
        return _form(ApiError(400, ErrorCode.VALIDATION_ERROR, "请选择要上传的文件", "Choose a file to upload"), 400,
                     kind)
    data = file.read()
    batch = request.form.get("batch", "").strip() or None
    apply_valid = request.form.get("apply_valid") == "1"
    try:
        report = _run(kind, data, file.filename, batch, apply_valid)
    except ImportFileError as exc:
        return _form(ApiError(400, ErrorCode.FILE_UNREADABLE, exc.message, exc.message_en), 400, kind)
    pending = None
    if not report.applied and report.counts["valid"]:
        pending = secrets.token_urlsafe(16)
        payload = {"kind": kind, "filename": file.filename, "batch": batch, "staff_id": staff().id,
                   "data": base64.b64encode(data).decode()}
        app_state().redis.set(f"lixiao:import:{pending}", json.dumps(payload), ex=PENDING_SECONDS)
    return _report_page(report, pending)


@bp.post("/imports/<token>/apply")
def apply_valid_rows(token: str) -> tuple[str, int]:
    """Write the valid rows of a file checked a moment ago (the rejected rows stay out)."""
    _require_import_rights()
    store = app_state().redis
    raw = store.get(f"lixiao:import:{token[:64]}")
    pending = json.loads(raw) if raw else None
    if pending is None or pending["staff_id"] != staff().id:
        raise ApiError(404, ErrorCode.NOT_FOUND, "该导入已过期，请重新上传文件",
                       "This import has expired; upload the file again")
    store.delete(f"lixiao:import:{token[:64]}")
    try:
        report = _run(pending["kind"], base64.b64decode(pending["data"]), pending["filename"], pending["batch"], True)
    except ImportFileError as exc:
        return _form(ApiError(400, ErrorCode.FILE_UNREADABLE, exc.message, exc.message_en), 400, pending["kind"])
    return _report_page(report, None)
