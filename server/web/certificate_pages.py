"""Certificate pages: the student's printable certificate and the public verification page a QR code opens."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from server.api import ratelimit
from server.api.certificates import submitted_items
from server.certificates import service, verify
from server.certificates.qr import QR_WORDS, qr_svg
from server.clearance.models import Student
from server.errors import ApiError, ErrorCode
from server.state import app_state, db
from server.timeutil import local_display, utcnow
from server.vocabulary import CERTIFICATE_STATUS_LABELS, DEGREE_LABELS, status_label
from server.web.labels import detail_rows
from server.web.language import t
from server.web.session import browser_staff, browser_student

bp = Blueprint("certificate_pages", __name__)


def detail_lines(key: str, details: dict[str, Any]) -> list[tuple[str, str, str]]:
    """An item's details as (label, label_en, value) lines for print (its module's words; empty ones left out)."""
    return [line for line in detail_rows(key, details) if line[2] != "—"]


def login_or_401(message: str, message_en: str) -> Response:
    """Send the browser to the login page when the app has one, else a 401 page."""
    if any(rule.rule == "/login" for rule in current_app.url_map.iter_rules()):
        return redirect(f"/login?{urlencode({'next': request.path})}")
    raise ApiError(401, ErrorCode.UNAUTHORIZED, message, message_en)


@bp.get("/me/certificate/print")
def print_certificate() -> Response | str:
    """The signed-in student's certificate on one A4 page: basic information, the items, QR, serial."""
    student = browser_student()
    if student is None:
        return login_or_401("请先登录后查看离校证明", "Log in to see your clearance certificate")
    record = service.student_certificate(db(), student.id)
    url = service.verify_url(app_state().settings, record.certificate)
    snapshot_student = record.application.snapshot.get("student") or {}
    degree = snapshot_student.get("degree_level", student.degree_level)
    items = [{**item, "status_text": status_label(item["status"]),
              "lines": detail_lines(item["key"], item["details"])} for item in submitted_items(record)]
    qr = Markup(qr_svg(url, label=t(QR_WORDS)))  # noqa: S704 -- our own SVG of a URL we built  # nosec B704
    return render_template(
        "certificate_print.html", record=record, student=student, snapshot_student=snapshot_student,
        degree=DEGREE_LABELS.get(degree, (degree, degree)), items=items, qr=qr,
        verify_url=url, issued_at=local_display(record.certificate.issued_at),
        submitted_at=local_display(record.application.submitted_at),
        status=CERTIFICATE_STATUS_LABELS[record.status], handovers=[service.handover_out(e) for e in record.handovers],
        revoked_at=local_display(record.certificate.revoked_at),
    )


@bp.get("/v/<token>")
def verify_page(token: str) -> tuple[str, int, dict[str, str]]:
    """What anyone who scans the QR code sees: valid, revoked or not recognised, and a masked name; nothing else."""
    ratelimit.enforce("verify-page")  # public and it writes a scan row: keep one address from flooding the log
    session = db()
    staff = browser_staff()
    outcome = verify.scan(session, app_state().settings, token, staff_id=staff.id if staff else None,
                          channel="public", now=utcnow(), origin=(request.remote_addr or ""))
    session.commit()
    result = outcome.result if outcome.result in ("valid", "revoked") else "unknown"
    masked = ""
    if outcome.certificate is not None:
        student = session.get(Student, outcome.certificate.student_id)
        masked = verify.mask_name(student.name) if student else ""
    headers = {"X-Robots-Tag": "noindex, nofollow", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    status = 200 if result != "unknown" else 404
    return render_template("certificate_verify.html", result=result, text=CERTIFICATE_STATUS_LABELS[result],
                           masked_name=masked, replaced=bool(outcome.replaced_by)), status, headers
