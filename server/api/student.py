"""The student API of SPEC §6: status, the items' student actions (card cancellation), submission, completed items."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy.orm import Session

from server.api.auth import BEARER, current_student_id, origin, ride_on_session_row, session_row
from server.api.schemas import (
    ApplicationIn,
    ApplicationOut,
    ApplicationsOut,
    ClearanceOut,
    ItemOut,
    application_out,
    batch_out,
    item_out,
    student_out,
)
from server.certificates.service import certificate_briefs, list_applications_with_certificates
from server.clearance.models import Application
from server.errors import ErrorOut, error_responses
from server.items import registry
from server.items.base import StudentAction
from server.readcache import Page, versions_in, with_versions
from server.state import app_state, db
from server.student import service
from server.timeutil import utcnow

ERRORS = error_responses(400, 401, 403, 404, 429, 503)
bp = APIBlueprint("student_api", __name__, url_prefix="/api/v1/me", abp_tags=[Tag(name="student")],
                  abp_security=BEARER, abp_responses=ERRORS)


@bp.get("/clearance", responses={200: ClearanceOut})
def get_clearance():
    """The student's items, whether the student may submit, and what was submitted."""
    student_id = current_student_id()
    state = app_state()
    if state.pages is None:
        return Response(_status_page(db(), student_id).body, mimetype="application/json")
    row = session_row()
    # The request's ORM session is opened only if the page has to be made: a kept page needs none.
    return state.pages.serve(db, student_id, lambda: _status_page(db(), student_id),
                             known=None if row is None else versions_in(row))


# A returning student's page costs one statement: the versions it is kept against come with the session row.
ride_on_session_row("student_api.get_clearance", with_versions)


def _status_page(session: Session, student_id: int) -> Page:
    """The page made from the database (records of pulled sources that are due are read first, and kept)."""
    state, now = app_state(), utcnow()
    clearance = service.read_clearance(session, state.clearance, student_id)
    if session.in_transaction():
        session.commit()  # records refreshed from pulled sources are kept
    body = json.dumps(_clearance_out(session, clearance, now), ensure_ascii=False, separators=(",", ":")).encode()
    # A submitted student's page shows the certificate, whose revocation changes no data version: never kept.
    return Page(body, clearance.changes_at(state.settings, now), keep=clearance.application is None)


def _clearance_out(session: Session, clearance: service.Clearance, now: datetime) -> dict[str, Any]:
    app = clearance.application
    blockers = [
        {"code": f"ITEM_{i.key.upper()}_{i.status.upper()}", "message": i.reasons[0].message if i.reasons else "",
         "message_en": i.reasons[0].message_en if i.reasons else ""}
        for i in clearance.blockers
    ]
    if clearance.batch is None:
        blockers.append({"code": "NO_OPEN_BATCH", "message": "您不在任何离校批次中",
                         "message_en": "You are not in a clearance batch"})
    elif not clearance.batch.is_open(now):
        blockers.append({"code": "BATCH_CLOSED", "message": f"“{clearance.batch.name}”不在办理时间内",
                         "message_en": f"Batch “{clearance.batch.name}” is not open now"})
    if app is not None:
        blockers = [{"code": "ALREADY_SUBMITTED", "message": "已提交离校申请", "message_en": "Already submitted"}]
    return {
        "student": student_out(clearance.student),
        "batch": batch_out(clearance.batch, now),
        "items": [item_out(i) for i in clearance.items],
        "can_submit": clearance.can_submit(now),
        "submit_blockers": blockers,
        "application": _with_certificate(session, app, clearance.batch.name if clearance.batch else ""),
    }


def _with_certificate(session: Session, app: Application | None, batch_name: str) -> dict[str, Any] | None:
    """The application as listed, with its certificate's serial and status."""
    if app is None:
        return None
    return application_out(app, batch_name, certificate_briefs(session, [app.id]).get(app.id))


def _action_view(key: str, action: StudentAction) -> Callable[[], Response]:
    def view() -> Response:
        session = db()
        item = service.act(session, app_state().clearance, current_student_id(), key, action.name, origin=origin())
        session.commit()
        return jsonify(item_out(item))

    view.__name__ = f"{key}_{action.name}".replace("-", "_")
    view.__doc__ = (f"{action.title[1]} ({key}); safe to repeat. 422 when it cannot be done yet or the department "
                    "refuses, 503 when its system cannot be reached; the answer is the item after it.")
    return view


# Each item's student actions at the path its module names (the library's card cancellation of SPEC §6); a
# deployment that has the item off answers 404.
for _item in registry.known().values():
    for _action in _item.student_actions:
        bp.post(_action.api_path, responses={200: ItemOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut})(
            _action_view(_item.key, _action))


@bp.post("/application", responses={201: ApplicationOut, 409: ErrorOut, 422: ErrorOut})
def submit_application(body: ApplicationIn):
    """Submit the clearance, once; 422 lists the items not passed, 403 when the batch is closed."""
    session = db()
    application = service.submit_application(session, app_state().clearance, current_student_id(),
                                             origin=origin())
    batch_name = application.snapshot.get("batch_name", "")
    certificate = certificate_briefs(session, [application.id]).get(application.id)
    session.commit()
    return jsonify(application_out(application, batch_name, certificate)), 201


@bp.get("/applications", responses={200: ApplicationsOut})
def list_applications():
    """The completed items list: every submitted clearance, with its certificate's serial and status."""
    rows = list_applications_with_certificates(db(), current_student_id())
    return jsonify({"applications": [application_out(a, b.name, c) for a, b, c in rows]})
