"""The student's pages under /me: the items, their actions (card cancellation), submission, certificate, history,
messages.

Server-rendered and usable without JavaScript; phone first. Every change goes through a confirmation page
and the same clearance services as the API; errors are shown on the page they came from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session
from markupsafe import Markup
from werkzeug.wrappers import Response

from server.api.auth import origin
from server.certificates import service as certificates
from server.certificates.qr import QR_WORDS, qr_svg
from server.clearance.rules import Status
from server.errors import ApiError, ErrorCode
from server.identity import sessions
from server.items import registry
from server.items.base import StudentAction
from server.messaging.notifications import list_notifications
from server.state import app_state, db
from server.student import service
from server.timeutil import local_display, utcnow
from server.vocabulary import CERTIFICATE_STATUS_LABELS
from server.web.guards import to_login
from server.web.labels import CHANNEL_LABELS, DEGREE_LABELS, item_title, status_label
from server.web.language import t
from server.web.session import browser_student, note_student_login, web_session
from server.web.student_view import error_view, item_view, submit_blockers, window_text

bp = Blueprint("student_pages", __name__, url_prefix="/me")

Page = str | tuple[str, int]


@bp.before_request
def _require_student() -> Response | None:
    """Only a signed-in student sees these pages."""
    student = browser_student()
    if student is None:
        return to_login("请先登录", "Please log in")
    g.student = student
    if student.last_login_at is None:  # signed in before logins were recorded: count the visit
        note_student_login(student.id)
        db().commit()
    return None


def _channel() -> str:
    return "wecom" if session.get("channel") == "wecom" else "browser"


@bp.get("")
def index() -> Page:
    """The items with reasons and next steps, and whether the student may submit."""
    dbs = db()
    clearance = service.read_clearance(dbs, app_state().clearance, g.student.id)
    dbs.commit()  # records refreshed from pulled sources are kept
    now = utcnow()
    batch = clearance.batch
    return render_template(
        "me/index.html", student=clearance.student, degree=DEGREE_LABELS.get(clearance.student.degree_level),
        batch=batch, window=window_text(batch) if batch else "", batch_open=bool(batch and batch.is_open(now)),
        items=[item_view(i) for i in clearance.items], can_submit=clearance.can_submit(now),
        blockers=submit_blockers(clearance, now), application=clearance.application,
        submitted_at=local_display(clearance.application.submitted_at) if clearance.application else "",
    )


def _item(key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The item as its card shows it, and its details."""
    clearance = service.read_clearance(db(), app_state().clearance, g.student.id, refresh=False)
    found = next((i for i in clearance.items if i.key == key), None)
    if found is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "没有这项操作", "No such action")
    return item_view(found), found.details


def _action_page(key: str, action: StudentAction) -> Callable[[], Page | Response]:
    def form() -> Page | Response:
        """The confirmation step: the action cannot be undone."""
        item, details = _item(key)
        if details and action.done(details):
            flash(t(action.done_text), "info")
            return redirect("/me")  # the flash and the tally at the top, not scrolled away
        offered = any(a["name"] == action.name for a in item["actions"])
        return render_template("me/item_action.html", item=item, action=action, offered=offered, error=None)

    def post() -> Page | Response:
        """Do it through the department; on refusal, say why on the same page."""
        dbs = db()
        if request.form.get("confirm") != "yes":
            unconfirmed = ApiError(400, ErrorCode.VALIDATION_ERROR, f"请确认{action.title[0]}",
                                   f"Please confirm: {action.title[1]}")
            return _refused(key, action, unconfirmed)
        try:
            service.act(dbs, app_state().clearance, g.student.id, key, action.name, origin=origin())
            dbs.commit()
        except ApiError as exc:
            dbs.rollback()
            return _refused(key, action, exc)
        flash(t(action.done_text), "success")
        return redirect("/me")  # the flash and the tally at the top, not scrolled away

    form.__name__ = f"{key}_{action.name}_form".replace("-", "_")
    post.__name__ = f"{key}_{action.name}".replace("-", "_")
    bp.get(action.web_path.removeprefix(bp.url_prefix or ""))(form)
    bp.post(action.web_path.removeprefix(bp.url_prefix or ""))(post)
    return form


def _refused(key: str, action: StudentAction, error: ApiError) -> Page:
    item, _details = _item(key)
    offered = any(a["name"] == action.name for a in item["actions"])
    return render_template("me/item_action.html", item=item, action=action, offered=offered,
                           error=error_view(error)), error.status


# Each item's student actions have a confirmation page of their own (the library's /me/library-card/cancel).
for _item_spec in registry.known().values():
    for _action in _item_spec.student_actions:
        _action_page(_item_spec.key, _action)


@bp.get("/submit")
def submit_form() -> Page:
    """The confirmation step: the clearance is submitted once and cannot be changed afterwards."""
    clearance = service.read_clearance(db(), app_state().clearance, g.student.id, refresh=False)
    now = utcnow()
    return render_template("me/submit.html", items=[item_view(i) for i in clearance.items],
                           can_submit=clearance.can_submit(now), blockers=submit_blockers(clearance, now),
                           batch=clearance.batch, error=None)


@bp.post("/submit")
def submit() -> Page | Response:
    """Submit once; ITEMS_NOT_PASSED, BATCH_CLOSED and ALREADY_SUBMITTED are explained on the page."""
    dbs = db()
    try:
        service.submit_application(dbs, app_state().clearance, g.student.id, origin=origin(), channel=_channel())
        dbs.commit()
    except ApiError as exc:
        dbs.rollback()
        clearance = service.read_clearance(dbs, app_state().clearance, g.student.id, refresh=False)
        now = utcnow()
        return render_template("me/submit.html", items=[item_view(i) for i in clearance.items],
                               can_submit=clearance.can_submit(now), blockers=submit_blockers(clearance, now),
                               batch=clearance.batch, error=_submit_error(exc)), exc.status
    flash(t("离校申请已提交", "Your clearance has been submitted"), "success")
    return redirect("/me/certificate")


def _submit_error(exc: ApiError) -> dict[str, Any]:
    view = error_view(exc)
    if exc.code == "BATCH_CLOSED":
        opens, closes = exc.extra.get("opens_at", ""), exc.extra.get("closes_at", "")
        view["window"] = f"{opens[:16].replace('T', ' ')} – {closes[:16].replace('T', ' ')}" if opens else ""
    return view


@bp.get("/certificate")
def certificate() -> tuple[str, int, dict[str, str]]:
    """The clearance certificate with its QR code and a link to the print page, once the clearance is submitted."""
    headers = {"Cache-Control": "no-store"}  # the QR code is the certificate: keep it out of shared caches
    try:
        record = certificates.student_certificate(db(), g.student.id)
    except ApiError as exc:
        if exc.code != ErrorCode.CERTIFICATE_NOT_FOUND:
            raise
        return render_template("me/certificate.html", certificate=None, available=True), 200, headers
    url = certificates.verify_url(app_state().settings, record.certificate)
    cert = record.certificate
    qr = Markup(qr_svg(url, label=t(QR_WORDS)))  # noqa: S704 -- our own SVG of a URL we built  # nosec B704
    view = {
        "serial": cert.serial, "status_class": "not_passed" if record.status == "revoked" else "passed",
        "status_label": CERTIFICATE_STATUS_LABELS[record.status], "revoked": cert.revoked_at is not None,
        "revoked_reason": cert.revoked_reason or "", "qr_svg": qr, "replaces": record.replaces,
        "verify_url": url, "issued_at": local_display(cert.issued_at), "batch": record.batch.name,
    }
    return render_template("me/certificate.html", certificate=view, available=True), 200, headers


@bp.get("/applications")
def applications() -> Page:
    """Completed items: every submitted clearance with the items as they were."""
    rows = certificates.list_applications_with_certificates(db(), g.student.id)
    listed = [{
        "batch": batch.name, "submitted_at": local_display(app.submitted_at),
        "channel": CHANNEL_LABELS.get(app.channel, (app.channel, app.channel)),
        "items": [{"title": item_title(i["key"]), "status": i["status"], "label": status_label(i["status"])}
                  for i in app.snapshot.get("items", [])],
        "all_passed": all(i["status"] == Status.PASSED for i in app.snapshot.get("items", [])),
        "certificate": _brief(brief),
    } for app, batch, brief in rows]
    return render_template("me/applications.html", applications=listed)


def _brief(brief: dict[str, str] | None) -> dict[str, Any] | None:
    if brief is None:
        return None
    words = CERTIFICATE_STATUS_LABELS.get(brief["status"], CERTIFICATE_STATUS_LABELS["unknown"])
    return {"serial": brief["serial"], "status_label": words,
            "status_class": "not_passed" if brief["status"] == "revoked" else "passed",
            "revoked": brief["status"] == "revoked"}


DELIVERY: dict[str | None, tuple[str, str]] = {
    None: ("已推送到手机", "Pushed to your phone"),
    "no_consent": ("未订阅推送，仅在此显示", "Not subscribed to pushes: shown here only"),
    "no_wechat_binding": ("未绑定微信，仅在此显示", "No WeChat account bound: shown here only"),
    "pending": ("等待推送", "Waiting to be pushed"),
    "rate_limited_retrying": ("推送繁忙，稍后重试", "The platform is busy; will retry"),
    "platform_refused": ("平台未能送达，仅在此显示", "The platform did not deliver it: shown here only"),
}


@bp.get("/notifications")
def notifications() -> Page:
    """What was pushed (or could not be pushed) to the student, newest first."""
    listed = [{**n, "at": (n.get("created_at") or "")[:16].replace("T", " "),
               "delivery": DELIVERY.get(n.get("not_pushed_reason"), DELIVERY["platform_refused"])}
              for n in list_notifications(db(), g.student.id)]
    return render_template("me/notifications.html", notifications=listed, available=True)


@bp.get("/devices")
def devices() -> Page:
    """Where the student is signed in: browsers, the mini-program, WeCom; each can be ended from here."""
    current = web_session()
    listed = [{"handle": d.handle, "label": d.label, "device": d.device, "current": d.current,
               "since": local_display(d.created_at), "until": local_display(d.expires_at)}
              for d in sessions.student_devices(db(), g.student.id, now=utcnow(),
                                                current=current.id if current else None)]
    return render_template("me/devices.html", devices=listed)


@bp.post("/devices/<handle>/end")
def end_device(handle: str) -> Response:
    """End one signed-in device (this browser too: that is logging out here)."""
    sessions.end_student_device(db(), g.student.id, handle, now=utcnow())
    db().commit()
    flash(t("已退出该设备", "That device is signed out"), "info")
    return redirect("/me/devices")


@bp.post("/devices/end-others")
def end_other_devices() -> Response:
    """End every signed-in device but this browser."""
    current = web_session()
    ended = sessions.end_other_student_devices(db(), g.student.id, now=utcnow(),
                                               keep=current.id if current else None)
    db().commit()
    flash(t(f"已退出 {ended} 个其他设备", f"{ended} other device(s) signed out"), "info")
    return redirect("/me/devices")
