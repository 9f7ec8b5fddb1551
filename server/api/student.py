"""The student API of SPEC §6: status, card cancellation, submission, completed items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, g, jsonify
from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy.orm import Session

from server.api import status_copies
from server.api.auth import BEARER, PREFETCH, current_student_id, origin
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
from server.cache import CLEARANCE
from server.certificates.service import certificate_briefs, list_applications_with_certificates
from server.clearance import service
from server.clearance.models import Application
from server.errors import ErrorOut
from server.identity.token_cache import Prefetch
from server.identity.tokens import Principal
from server.state import app_state, db
from server.timeutil import utcnow

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut, 503: ErrorOut}
bp = APIBlueprint("student_api", __name__, url_prefix="/api/v1/me", abp_tags=[Tag(name="student")],
                  abp_security=BEARER, abp_responses=ERRORS)


@bp.get("/clearance", responses={200: ClearanceOut})
def get_clearance():  # type: ignore[no-untyped-def]
    """The four items, whether the student may submit, and what was submitted."""
    student_id = current_student_id(also=_own_clearance)
    state = app_state()
    lookup, now = g.get("prefetched"), utcnow()
    if state.cache is not None and lookup is not None:
        body = status_copies.find(state.cache, lookup, now)
        if body is not None:
            return Response(body, mimetype="application/json")
    session = db()
    clearance = service.read_clearance(session, state.clearance, student_id, cached=True, lookup=lookup)
    if session.in_transaction():
        session.commit()  # records refreshed from pulled sources are kept
    response = jsonify(_clearance_out(session, clearance, now))
    if state.cache is not None and clearance.stamp is not None and clearance.application is None:
        # A submitted student's page shows the certificate, whose revocation the cache does not watch.
        status_copies.keep(state.cache, student_id, clearance.stamp, clearance.changes_at(state.settings, now),
                           response.get_data())
    return response


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


def _own_clearance(principal: Principal) -> Prefetch | None:
    """The student's cache entry: only its stamp when this worker holds a page made from it, else the entry and
    the page attached to it."""
    if principal.student_id is None:
        return None
    cache = app_state().cache
    held = cache is not None and status_copies.holds(cache, principal.student_id)
    return Prefetch(CLEARANCE, principal.student_id, stamp_only=held, attachment=not held)


PREFETCH[f"{bp.name}.{get_clearance.__name__}"] = _own_clearance


def _with_certificate(session: Session, app: Application | None, batch_name: str) -> dict[str, Any] | None:
    """The application as listed, with its certificate's serial and status."""
    if app is None:
        return None
    return application_out(app, batch_name, certificate_briefs(session, [app.id]).get(app.id))


@bp.post("/library-card/cancel", responses={200: ItemOut, 409: ErrorOut, 422: ErrorOut})
def cancel_library_card():  # type: ignore[no-untyped-def]
    """Cancel the library card (only with no books, fees or violations outstanding); safe to repeat."""
    session = db()
    item = service.cancel_library_card(session, app_state().clearance, current_student_id(), origin=origin())
    session.commit()
    return jsonify(item_out(item))


@bp.post("/application", responses={201: ApplicationOut, 409: ErrorOut, 422: ErrorOut})
def submit_application(body: ApplicationIn):  # type: ignore[no-untyped-def]
    """Submit the clearance, once; 422 lists the items not passed, 403 when the batch is closed."""
    session = db()
    application = service.submit_application(session, app_state().clearance, current_student_id(),
                                             origin=origin())
    batch_name = application.snapshot.get("batch_name", "")
    certificate = certificate_briefs(session, [application.id]).get(application.id)
    session.commit()
    return jsonify(application_out(application, batch_name, certificate)), 201


@bp.get("/applications", responses={200: ApplicationsOut})
def list_applications():  # type: ignore[no-untyped-def]
    """The completed items list: every submitted clearance, with its certificate's serial and status."""
    rows = list_applications_with_certificates(db(), current_student_id())
    return jsonify({"applications": [application_out(a, b.name, c) for a, b, c in rows]})
