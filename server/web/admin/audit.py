"""The audit log page (administrators only), and the doors to certificate revocation and staff roles."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import quote

from flask import redirect, render_template, request
from werkzeug.wrappers import Response

from server.errors import ApiError, ErrorCode
from server.reports.audit_log import AuditFilter, audit_actions, audit_page
from server.state import db
from server.timeutil import local_display
from server.vocabulary import origin_label
from server.web.admin.base import bp, query_string, require_admin
from server.web.labels import action_words
from server.web.params import page_number


def _date(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, "日期格式应为 YYYY-MM-DD", "Dates are YYYY-MM-DD") from exc


def _json(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


@bp.get("/audit")
def audit() -> str:
    """Who changed what, when and from where; filtered by actor, action, entity and dates."""
    require_admin()
    args = {k: request.args.get(k, "").strip()[:80] for k in ("actor", "action", "entity")}
    since, until = _date("since"), _date("until")
    page = audit_page(db(), AuditFilter(**args, since=since, until=until), page_number())
    entries = [{"at": local_display(e.at), "actor": e.actor, "action": e.action, "action_label": action_words(e.action),
                "entity": e.entity, "before": _json(e.before), "after": _json(e.after),
                "origin": origin_label(e.origin)} for e in page.entries]
    filters = {**args, "since": since.isoformat() if since else "", "until": until.isoformat() if until else ""}
    return render_template("admin/audit.html", entries=entries, page=page, filters=filters,
                           actions=audit_actions(db()), action_label=action_words,
                           link=lambda p: "/admin/audit?" + query_string(**filters, page=p))


@bp.get("/certificates")
def certificates() -> str | Response:
    """Find a certificate by serial and go to its page, where an administrator can revoke it."""
    require_admin()
    serial = request.args.get("serial", "").strip().upper()
    if serial:
        return redirect(f"/console/certificates/{quote(serial, safe='')}")
    return render_template("admin/certificates.html")

