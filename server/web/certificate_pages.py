"""Certificate pages: the student's printable certificate and the public verification page a QR code opens."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from server.api.certificates import submitted_items
from server.certificates import service, verify
from server.certificates.qr import qr_svg
from server.clearance.models import Student
from server.errors import ApiError, ErrorCode
from server.identity import ratelimit
from server.state import app_state, db
from server.timeutil import local_display, utcnow
from server.web.session import browser_staff, browser_student

bp = Blueprint("certificate_pages", __name__)

DEGREE_LEVELS = {"master": ("硕士研究生", "Master's"), "doctor": ("博士研究生", "Doctoral")}
ITEM_STATUS = {"passed": ("通过", "Passed"), "not_passed": ("未通过", "Not passed"),
               "unavailable": ("暂不可查", "Unavailable")}
DETAIL_LABELS = {
    "owed_books": ("欠书", "Books owed"), "owed_fees": ("欠费（元）", "Fees owed (¥)"),
    "violations": ("违章", "Violations"), "card_status": ("借书证状态", "Library card"),
    "thesis_status": ("论文提交状态", "Thesis deposit"), "building": ("宿舍楼", "Building"),
    "move_out_date": ("退宿日期", "Move-out date"), "move_out_handler": ("退宿办理人", "Move-out handled by"),
    "lived_on_campus": ("在校住宿", "Lived on campus"), "arrears": ("欠费（元）", "Arrears (¥)"),
}
DETAIL_VALUES = {
    "active": ("未注销", "active"), "cancelled": ("已注销", "cancelled"), "approved": ("记录审核通过", "approved"),
    "reviewed": ("已审核", "reviewed"), "received": ("已接收", "received"), "submitted": ("已提交", "submitted"),
    "not_submitted": ("未提交", "not submitted"), "rejected": ("未通过审核", "rejected"),
    True: ("是", "yes"), False: ("否", "no"),
}
STATUS_TEXT = {
    "valid": ("有效", "Valid"), "handed_over": ("有效（已办理交接）", "Valid (hand-over recorded)"),
    "revoked": ("已撤销", "Revoked"), "unknown": ("无法确认", "Not recognised"),
}


def detail_lines(details: dict[str, Any]) -> list[tuple[str, str, str]]:
    """An item's details as (label, label_en, value) lines for print."""
    lines = []
    for key, value in details.items():
        if key not in DETAIL_LABELS or value is None:
            continue
        label, label_en = DETAIL_LABELS[key]
        shown = DETAIL_VALUES.get(value, (str(value), str(value))) if isinstance(value, str | bool) else (
            str(value), str(value))
        lines.append((label, label_en, shown[0] if shown[0] == shown[1] else f"{shown[0]} {shown[1]}"))
    for fee in details.get("fee_items") or []:
        lines.append((str(fee.get("name", "")), "fee", f"应缴 due {fee.get('due')} / 已缴 paid {fee.get('paid')}"))
    return lines


def login_or_401(message: str, message_en: str) -> Response:
    """Send the browser to the login page when the app has one, else a 401 page."""
    if any(rule.rule == "/login" for rule in current_app.url_map.iter_rules()):
        return redirect(f"/login?{urlencode({'next': request.path})}")
    raise ApiError(401, ErrorCode.UNAUTHORIZED, message, message_en)


@bp.get("/me/certificate/print")
def print_certificate() -> Response | str:
    """The signed-in student's certificate on one A4 page: basic information, the four items, QR, serial."""
    student = browser_student()
    if student is None:
        return login_or_401("请先登录后查看离校证明", "Log in to see your clearance certificate")
    record = service.student_certificate(db(), student.id)
    url = service.verify_url(app_state().settings, record.certificate)
    snapshot_student = record.application.snapshot.get("student") or {}
    degree = snapshot_student.get("degree_level", student.degree_level)
    items = [{**item, "status_text": ITEM_STATUS.get(item["status"], (item["status"], item["status"])),
              "lines": detail_lines(item["details"])} for item in submitted_items(record)]
    qr = Markup(qr_svg(url))  # noqa: S704 -- our own SVG of a URL we built  # nosec B704
    return render_template(
        "certificate_print.html", record=record, student=student, snapshot_student=snapshot_student,
        degree=DEGREE_LEVELS.get(degree, (degree, degree)), items=items, qr=qr,
        verify_url=url, issued_at=local_display(record.certificate.issued_at),
        submitted_at=local_display(record.application.submitted_at),
        status=STATUS_TEXT[record.status], handovers=[service.handover_out(e) for e in record.handovers],
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
    return render_template("certificate_verify.html", result=result, text=STATUS_TEXT[result],
                           masked_name=masked), status, headers
