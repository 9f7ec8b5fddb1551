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

from server.api import ratelimit
from server.api.auth import origin
from server.errors import ApiError, ErrorCode
from server.identity.accounts import Person, not_in_roster, person_for_wecom_userid
from server.identity.cas_people import cas_person
from server.messaging.recipients import remember_wecom_user
from server.platforms import cas
from server.platforms.wecom import authorize_url, exchange_wecom_code
from server.state import app_state, db
from server.timeutil import utcnow
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


# Where each kind of person works, in the order the landing page offers them.
DESTINATIONS: dict[str, list[tuple[str, str, str]]] = {
    "student": [("/me", "我的离校进度", "My clearance"), ("/me/certificate", "离校证明", "Certificate"),
                ("/me/applications", "已完成事项", "Completed items"), ("/me/notifications", "消息", "Notifications")],
    "admin": [("/admin", "管理看板", "Dashboard"), ("/console", "部门工作台", "Department console"),
              ("/counter", "窗口核验", "Counter"), ("/console/certificates", "证书管理", "Certificates"),
              ("/console/staff", "人员与角色", "Staff and roles"), ("/admin/batches", "离校批次", "Batches")],
    "operator": [("/console", "部门工作台", "Department console")],
    "counter": [("/counter", "窗口核验", "Counter")],
    "viewer": [("/admin/progress", "学院离校进度", "College progress")],
    "secretary": [("/console", "学院工作台", "College console")],
}


def destinations(person: Person) -> list[tuple[str, str, str]]:
    """The pages a signed-in person can use."""
    return DESTINATIONS["student" if person.student else person.staff.role]  # type: ignore[union-attr]


def home_of(person: Person) -> str:
    """Where a person lands after logging in."""
    return destinations(person)[0][0]


@bp.get("/")
def index() -> str:
    """The landing page: log in, or go where the signed-in person works."""
    student, staff = browser_student(), browser_staff()
    links = destinations(Person(student=student, staff=staff)) if (student or staff) else []
    return render_template("identity/index.html", student=student, staff=staff, links=links)


@bp.get("/login")
def login() -> Response:
    """Start a CAS login; `next` must be a local path."""
    ratelimit.enforce("login")
    state = secrets.token_urlsafe(24)
    session["login_state"] = state
    session["login_next"] = safe_next(request.args.get("next"))
    return redirect(cas.login_url(app_state().settings, public_url("/login/callback", state=state)))


@bp.get("/login/callback")
def login_callback() -> Response:
    """CAS sends the browser back here with a ticket; a staff account wins over a student number."""
    next_path = safe_next(session.pop("login_next", None))
    state = check_state("login_state")
    identity = cas.validate_ticket(app_state().settings, request.args.get("ticket", ""),
                                   public_url("/login/callback", state=state))
    person = cas_person(db(), identity, app_state().settings, origin=origin())
    _sign_in(person, "browser")
    return redirect(home_of(person) if next_path == "/" else next_path)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str:
    """GET asks; POST (with the CSRF token) ends the session here and at CAS."""
    if request.method == "GET":
        return render_template("identity/logout.html")
    sign_out()
    return redirect(cas.logout_url(app_state().settings, public_url("/")))


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
    identity = exchange_wecom_code(app_state().wecom, request.args.get("code", "")[:512])
    if identity.userid is None:
        raise ApiError(403, ErrorCode.WECOM_NOT_MEMBER, "您不是本校企业微信成员，请使用浏览器登录",
                       "You are not a member of the university's WeCom; log in with a browser instead")
    person = person_for_wecom_userid(db(), identity.userid, app_state().settings.wecom_userid_rule)
    if person is None:
        raise not_in_roster()
    _sign_in(person, "wecom")
    if person.student is not None:  # WeCom text cards reach the student at this userid
        remember_wecom_user(db(), person.student.id, identity.userid, utcnow())
        db().commit()
    return redirect(home_of(person) if next_path == "/" else next_path)
