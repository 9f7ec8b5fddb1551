"""Binding from the mini-program's web-view: /bind/cas?token=… → CAS (fresh login) → callback → done page.

The `state` names the token's session in Redis (single use, short TTL) and is also kept in this browser's
session cookie, so a callback link sent to someone else binds nothing (login CSRF). The CAS service URL is
built from the configured public address; nothing from the request decides where a browser is sent.
"""

from __future__ import annotations

import logging
import secrets

import redis
from flask import Blueprint, redirect, render_template, request
from flask import session as cookie
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from server.api import ratelimit
from server.api.auth import origin
from server.errors import ApiError, ErrorCode
from server.identity.binding import bind_openid
from server.identity.cas_people import cas_person
from server.identity.models import ApiSession
from server.identity.tokens import live_session
from server.platforms import cas
from server.state import app_state, db
from server.timeutil import utcnow
from server.web.links import public_url
from server.web.login import check_state, link_expired

log = logging.getLogger(__name__)

bp = Blueprint("binding", __name__)

STATE_TTL_SECONDS = 600
_STATE_PREFIX = "lixiao:bind_state:"


def _store_down(exc: Exception) -> ApiError:
    log.warning("bind state store unavailable: %s", type(exc).__name__)
    return ApiError(503, ErrorCode.SERVICE_UNAVAILABLE, "服务暂时不可用，请稍后再试",
                    "The service is temporarily unavailable; please try again shortly", retry_after=5)


def _session_gone() -> ApiError:
    return ApiError(401, ErrorCode.UNAUTHORIZED, "小程序登录已失效，请返回小程序重新进入后再绑定",
                    "Your mini-program login ended; go back, reopen the mini-program and bind again")


@bp.get("/bind/cas")
def bind_start() -> Response:
    """Opened in the web-view with the mini-program's token: remember whose session, then go to CAS."""
    token = request.args.get("token", "")
    ratelimit.enforce("bind", key=token or None)
    settings, now = app_state().settings, utcnow()
    row = live_session(db(), settings.secret_key, token, now=now, ttl_seconds=settings.token_ttl_seconds)
    if row.channel != "wechat" or not row.openid:
        raise ApiError(403, ErrorCode.FORBIDDEN, "请在微信小程序中打开绑定页面",
                       "Open the binding page from the WeChat mini-program")
    state = secrets.token_urlsafe(24)
    try:
        app_state().redis.set(_STATE_PREFIX + state, row.id, ex=STATE_TTL_SECONDS)
    except redis.RedisError as exc:
        raise _store_down(exc) from exc
    cookie["bind_state"] = state
    # renew: a CAS single-sign-on session left in this web-view must not bind someone else silently.
    response = redirect(cas.login_url(app_state().settings, public_url("/bind/cas/callback", state=state), renew=True))
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this URL
    return response


@bp.get("/bind/cas/callback")
def bind_callback() -> str:
    """CAS sends the web-view back with a ticket: bind the openid to the roster student or staff account."""
    state = check_state("bind_state")
    try:
        session_id = app_state().redis.getdel(_STATE_PREFIX + state)
    except redis.RedisError as exc:
        raise _store_down(exc) from exc
    if session_id is None:
        raise link_expired()
    identity = cas.validate_ticket(app_state().settings, request.args.get("ticket", ""),
                                   public_url("/bind/cas/callback", state=state), renew=True)
    session, now = db(), utcnow()
    row = session.get(ApiSession, str(session_id))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise _session_gone()
    person = cas_person(session, identity, app_state().settings, origin=origin())
    try:
        bind_openid(session, row, person, now=now, origin=origin())
        session.commit()
    except IntegrityError as exc:  # the same person or openid was bound at the same moment elsewhere
        session.rollback()
        raise ApiError(409, ErrorCode.CONFLICT, "绑定同时发生了变化，请返回小程序重试",
                       "The binding changed at the same moment; go back and try again") from exc
    return render_template("identity/bind_done.html", person=person, jssdk_url=app_state().settings.wx_jssdk_url)
