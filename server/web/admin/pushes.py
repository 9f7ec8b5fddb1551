"""Push problems (administrators only): unconfirmed pushes to resend, platform refusals explained (41030 …)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from werkzeug.wrappers import Response

from server.api.auth import origin
from server.errors import ApiError, ErrorCode
from server.messaging import claims, problems
from server.state import db
from server.timeutil import local_display, utcnow
from server.vocabulary import DELIVERY_LABELS, EVENT_LABELS, PUSH_CHANNEL_LABELS, code_label
from server.web.admin.base import actor, bp, require_admin
from server.web.language import t

MAX_IDS = 1000  # one form's worth; more is a hand-made request


@bp.get("/pushes")
def pushes() -> str:
    """Counts, then the unconfirmed, refused and failed pushes, newest first, each with what it means."""
    require_admin()
    session = db()
    sections = [(status, problems.problem_rows(session, status)) for status in problems.RESENDABLE]
    safe = [row.id for row in sections[0][1] if not row.duplicate_possible]
    return render_template("admin/pushes.html", counts=problems.counts(session), sections=sections, safe=safe,
                           shown=local_display, limit=problems.LIST_LIMIT, unconfirmed=claims.UNCONFIRMED,
                           titles={status: DELIVERY_LABELS[status] for status in problems.RESENDABLE},
                           event_words=lambda code: code_label(EVENT_LABELS, code),
                           channel_words=lambda code: code_label(PUSH_CHANNEL_LABELS, code))


@bp.post("/pushes/resend")
def resend() -> Response:
    """Queue the chosen pushes again (audited); the worker sends them on its next round."""
    require_admin()
    raw = request.form.getlist("id")
    if not raw or len(raw) > MAX_IDS or not all(value.isdigit() for value in raw):
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, "请选择要重发的推送", "Choose the pushes to resend")
    session = db()
    queued = problems.resend(session, (int(v) for v in raw), actor=actor(), origin=origin(), now=utcnow())
    session.commit()
    flash(t(f"已重新排队 {len(queued)} 条推送", f"{len(queued)} pushes queued again"), "success")
    return redirect("/admin/pushes", code=303)
