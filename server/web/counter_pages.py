"""The counter console (USB scanner or WeCom camera → verify → hand over) and the administrator's
certificate page with the revocation and re-issue forms.

WeCom JS-SDK hook: the "扫一扫" button needs `wx.config(...)` with a jsapi-ticket signature. Whoever owns the
WeCom integration registers a callable `app.extensions[JSSDK_CONFIG_EXTENSION] = f` where
`f(page_url: str) -> dict | None` returns `{"beta", "debug", "appId", "timestamp", "nonceStr", "signature",
"jsApiList"}` for that URL (None when it cannot). Without it the page still works with a USB scanner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from server.api import ratelimit
from server.api.certificates import counter_out
from server.certificates import service, verify
from server.certificates.models import CertificateScan
from server.errors import ApiError, ErrorCode
from server.identity.models import Staff
from server.identity.permissions import can_use_counter, is_admin
from server.state import app_state, db
from server.timeutil import local_display, utcnow
from server.vocabulary import CERTIFICATE_STATUS_LABELS, HANDOVER_ITEMS, HANDOVER_LABELS, scan_label
from server.web.certificate_pages import login_or_401
from server.web.language import t
from server.web.session import browser_staff, browser_student

bp = Blueprint("counter_pages", __name__)
JSSDK_CONFIG_EXTENSION = "lixiao.wecom_jssdk_config"
SCAN_CHANNELS = {"scanner": "console", "wecom": "console-wecom"}


def _staff(allowed: Callable[[Staff], bool], message: str, message_en: str) -> Staff | Response:
    staff = browser_staff()
    if staff is None and browser_student() is not None:  # signed in, but as a student: logging in again won't help
        raise ApiError(403, ErrorCode.FORBIDDEN, message, message_en)
    if staff is None:
        return login_or_401("请先以工作人员身份登录", "Please log in as staff")
    if not allowed(staff):
        raise ApiError(403, ErrorCode.FORBIDDEN, message, message_en)
    return staff


def _counter_staff() -> Staff | Response:
    return _staff(can_use_counter, "仅窗口工作人员和管理员可以使用", "Counter staff and administrators only")


def _jssdk_config() -> dict[str, Any] | None:
    provider = current_app.extensions.get(JSSDK_CONFIG_EXTENSION)
    if provider is None:
        return None
    # WeCom signs the URL the browser shows, so build it from the public address, not from a proxied Host.
    query = request.query_string.decode("ascii", "replace")
    return provider(app_state().settings.public_base_url.rstrip("/") + request.path + (f"?{query}" if query else ""))


def _render_counter(status: int = 200, **context: Any) -> tuple[str, int]:
    result = context.get("result")
    if result is not None:
        context["status_text"] = CERTIFICATE_STATUS_LABELS[result["certificate"]["status"]]
        done = {h["item"] for h in result["certificate"]["handed_over"]}
        context["open_items"] = [(k, HANDOVER_LABELS[k]) for k in HANDOVER_ITEMS if k not in done]
    return render_template("counter.html", jssdk=_jssdk_config(), **context), status


@bp.get("/counter")
def counter() -> Response | tuple[str, int]:
    """The counter console: a focused field the USB scanner types into."""
    staff = _counter_staff()
    if isinstance(staff, Response):
        return staff
    return _render_counter(staff=staff)


@bp.post("/counter")
def counter_scan() -> Response | tuple[str, int]:
    """Verify what was scanned and show the result at once; every scan is logged."""
    staff = _counter_staff()
    if isinstance(staff, Response):
        return staff
    ratelimit.enforce_counter_verify(staff.id)
    session = db()
    text = request.form.get("qr_text", "")[:2048]
    channel = SCAN_CHANNELS.get(request.form.get("via", ""), "console")
    outcome = verify.scan(session, app_state().settings, text, staff_id=staff.id, channel=channel, now=utcnow(),
                          origin=(request.remote_addr or ""))
    session.commit()
    refusal = outcome.refusal()
    if refusal is not None:
        return _render_counter(refusal.status, staff=staff, refusal=refusal, outcome=outcome.result)
    assert outcome.certificate is not None
    return _render_counter(staff=staff, result=counter_out(service.certificate_record(session,
                                                                                      outcome.certificate.id)))


@bp.post("/counter/handover")
def counter_handover() -> Response | tuple[str, int]:
    """Record the ticked items as handed over, all or nothing."""
    staff = _counter_staff()
    if isinstance(staff, Response):
        return staff
    session = db()
    serial = request.form.get("serial", "")[:32]
    items = request.form.getlist("items")
    try:
        record = service.record_handover(session, serial, items, staff, utcnow(), origin=(request.remote_addr or ""))
    except ApiError as error:
        session.rollback()
        if error.code is ErrorCode.CERTIFICATE_NOT_FOUND:
            raise
        result = counter_out(service.certificate_by_serial(session, serial))
        return _render_counter(error.status, staff=staff, refusal=error, result=result)
    session.commit()
    return _render_counter(staff=staff, result=counter_out(record), saved=items)


def _admin() -> Staff | Response:
    return _staff(is_admin, "仅管理员可以管理离校证明", "Administrators only")


@bp.get("/console/certificates")
def find_certificate() -> Response | str:
    """Look a certificate up by serial."""
    staff = _admin()
    if isinstance(staff, Response):
        return staff
    serial = request.args.get("serial", "").strip().upper()
    if serial:
        return redirect(url_for("counter_pages.certificate_console", serial=serial))
    return render_template("console_certificate.html", staff=staff, result=None)


@bp.get("/console/certificates/<serial>")
def certificate_console(serial: str) -> Response | str:
    """One certificate for an administrator: the student, the items, hand-overs, scans, and the revoke form
    (the re-issue form once it is revoked)."""
    staff = _admin()
    if isinstance(staff, Response):
        return staff
    session = db()
    record = service.certificate_by_serial(session, serial)
    scans = session.execute(
        select(CertificateScan, Staff).outerjoin(Staff, CertificateScan.staff_id == Staff.id)
        .where(CertificateScan.certificate_id == record.certificate.id)
        .order_by(CertificateScan.at.desc(), CertificateScan.id.desc()).limit(20)
    ).all()
    return render_template(
        "console_certificate.html", staff=staff, result=counter_out(record), record=record,
        status_text=CERTIFICATE_STATUS_LABELS[record.status], revoked_at=local_display(record.certificate.revoked_at),
        scans=[{"at": local_display(s.at), "result": t(result), "channel": t(channel),
                "by": (st.name or st.username) if st else "—"}
               for s, st in scans for result, channel in [scan_label(s.result, s.channel)]],
    )


@bp.post("/console/certificates/<serial>/revoke")
def revoke_certificate(serial: str) -> Response:
    """Revoke with a reason; audited."""
    staff = _admin()
    if isinstance(staff, Response):
        return staff
    session = db()
    try:
        service.revoke_certificate(session, serial, request.form.get("reason", ""), staff, utcnow(),
                                   origin=(request.remote_addr or ""))
    except ApiError as error:
        return _refused(session, error, serial)
    session.commit()
    flash(t("离校证明已撤销", "The certificate was revoked"), "info")
    return redirect(url_for("counter_pages.certificate_console", serial=serial))


@bp.post("/console/certificates/<serial>/reissue")
def reissue_certificate(serial: str) -> Response:
    """Re-issue a revoked certificate once the confirmation box is ticked; audited. Goes to the new one."""
    staff = _admin()
    if isinstance(staff, Response):
        return staff
    if request.form.get("confirm") != "yes":
        flash(t("请勾选确认后再重新签发", "Tick the confirmation to re-issue"), "error")
        return redirect(url_for("counter_pages.certificate_console", serial=serial))
    session = db()
    try:
        record = service.reissue_certificate(session, app_state().settings, serial, staff, utcnow(),
                                             origin=(request.remote_addr or ""))
    except ApiError as error:
        return _refused(session, error, serial)
    session.commit()
    flash(t(f"已重新签发，新证明 {record.certificate.serial}", f"Re-issued as {record.certificate.serial}"), "success")
    return redirect(url_for("counter_pages.certificate_console", serial=record.certificate.serial))


def _refused(session: Session, error: ApiError, serial: str) -> Response:
    """A refused revocation or re-issue goes back to the certificate's page with the reason; an unknown serial
    stays a 404."""
    session.rollback()
    if error.code is ErrorCode.CERTIFICATE_NOT_FOUND:
        raise error
    flash(t(error.message, error.message_en), "error")
    return redirect(url_for("counter_pages.certificate_console", serial=serial))
