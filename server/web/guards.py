"""What page blueprints do before a view: send strangers to the login page."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app, redirect, request
from werkzeug.wrappers import Response

from server.errors import ApiError, ErrorCode


def has_login_page() -> bool:
    """Whether this app serves `/login` (the identity blueprint)."""
    return any(rule.rule == "/login" for rule in current_app.url_map.iter_rules())


def to_login(message: str, message_en: str) -> Response:
    """A redirect to `/login?next=<this page>`, or a 401 page when the app has no login page."""
    if has_login_page():
        return redirect(f"/login?next={quote(request.path)}")
    raise ApiError(401, ErrorCode.UNAUTHORIZED, message, message_en)
