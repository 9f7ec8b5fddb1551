"""Browser and WeCom H5 sign-in: the landing page, CAS login and logout, WeCom OAuth2 (snsapi_base).

Each flow keeps a random `state` in the signed session cookie and accepts only a callback carrying it, so
nobody can log a victim's browser into their own account (login CSRF). After login the browser goes to a
local `next` path only.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from flask import Blueprint, redirect, render_template, request, session
from werkzeug.wrappers import Response

from server.errors import ApiError, ErrorCode
from server.identity import cas, ratelimit
from server.identity.accounts import Person, not_in_roster, person_for_username, person_for_wecom_userid
from server.identity.wecom import authorize_url, exchange_wecom_code
from server.state import app_state, db
from server.web.links import public_url, safe_next
from server.web.session import browser_staff, browser_student, sign_in, sign_out

log = logging.getLogger(__name__)

bp = Blueprint("login", __name__)


def link_expired() -> ApiError:
    """400 for a callback whose state is missing, used or not this browser's."""
    return ApiError(400, ErrorCode.LOGIN_LINK_EXPIRED, "登录链接已失效，请重新开始登录",
                    "This login link has expired or was not started here; please start again")


def check_state(name: str) -> str:
    """Take this browser's state for a flow and require the callback to carry the same; return it."""
    expected = session.pop(name, None)
    given = request.args.get("state", "")
    if not isinstance(expected, str) or not given or not hmac.compare_digest(expected, given):
        raise link_expired()
    return given


def _sign_in(person: Person, channel: str) -> None:
    sign_in(student_id=person.student.id if person.student else None,
            staff_id=person.staff.id if person.staff else None, channel=channel)
    log.info("%s signed in through %s", person.actor, channel)


@bp.get("/")
def index() -> str:
    """The landing page: log in, or go where the signed-in person works."""
    return render_template("identity/index.html", student=browser_student(), staff=browser_staff())


@bp.get("/login")
def login() -> Response:
    """Start a CAS login; `next` must be a local path."""
    ratelimit.enforce("login")
    state = secrets.token_urlsafe(24)
    session["login_state"] = state
    session["login_next"] = safe_next(request.args.get("next"))
    return redirect(cas.login_url(public_url("/login/callback", state=state)))


@bp.get("/login/callback")
def login_callback() -> Response:
    """CAS sends the browser back here with a ticket; a staff account wins over a student number."""
    next_path = safe_next(session.pop("login_next", None))
    state = check_state("login_state")
    identity = cas.validate_ticket(request.args.get("ticket", ""), public_url("/login/callback", state=state))
    person = person_for_username(db(), identity.username)
    if person is None:
        raise not_in_roster()
    _sign_in(person, "browser")
    return redirect(next_path)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str:
    """GET asks; POST (with the CSRF token) ends the session here and at CAS."""
    if request.method == "GET":
        return render_template("identity/logout.html")
    sign_out()
    return redirect(cas.logout_url(public_url("/")))


@bp.get("/wecom/login")
def wecom_login() -> Response:
    """The WeCom H5 entry: a silent OAuth2 (snsapi_base) round trip to learn the userid."""
    ratelimit.enforce("wecom-h5")
    state = secrets.token_hex(16)  # WeCom allows only [a-zA-Z0-9] in state
    session["wecom_state"] = state
    session["wecom_next"] = safe_next(request.args.get("next"))
    return redirect(authorize_url(app_state().settings, public_url("/wecom/callback"), state))


@bp.get("/wecom/callback")
def wecom_callback() -> Response:
    """WeCom sends the browser back with a code; members sign in as their student or staff account."""
    next_path = safe_next(session.pop("wecom_next", None))
    check_state("wecom_state")
    identity = exchange_wecom_code(request.args.get("code", "")[:512])
    if identity.userid is None:
        raise ApiError(403, ErrorCode.WECOM_NOT_MEMBER, "您不是本校企业微信成员，请使用浏览器登录",
                       "You are not a member of the university's WeCom; log in with a browser instead")
    person = person_for_wecom_userid(db(), identity.userid, app_state().settings.wecom_userid_rule)
    if person is None:
        raise not_in_roster()
    _sign_in(person, "wecom")
    return redirect(next_path)
