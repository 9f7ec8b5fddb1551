"""Identity API (SPEC §6): mini-program and WeCom login, logging out, signed-in devices, removing the binding."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify, request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from server.api import ratelimit
from server.api.auth import BEARER, current_principal, current_student_id, origin
from server.api.schemas import Strict, StudentOut, person_out
from server.errors import ApiError, ErrorCode, ErrorOut, error_responses
from server.identity import binding, sessions
from server.identity.accounts import PersonIds, not_in_roster, person_for_binding, person_for_wecom_userid
from server.identity.models import ApiSession
from server.identity.tokens import issue_session
from server.messaging import followers
from server.messaging.recipients import remember_wecom_user
from server.platforms.wechat import exchange_login_code, remember_session_key
from server.platforms.wecom import exchange_wecom_code
from server.state import app_state, db
from server.timeutil import iso, utcnow

ERRORS = error_responses(400, 401, 403, 429, 503)
bp = APIBlueprint("auth_api", __name__, url_prefix="/api/v1", abp_tags=[Tag(name="identity")],
                  abp_responses=ERRORS)


class CodeIn(Strict):
    """A one-shot code from wx.login or the WeCom OAuth redirect."""

    code: str = Field(min_length=1, max_length=512, pattern=r"^[\x21-\x7e]+$")


class StaffOut(BaseModel):
    username: str
    name: str
    role: str
    department: str | None = None


class WxLoginOut(BaseModel):
    token: str = Field(description="Bearer token; unbound tokens reach only the binding endpoints")
    bound: bool
    student: StudentOut | None = Field(None, description="Present when the WeChat identity is bound to a student")
    staff: StaffOut | None = Field(None, description="Present when it is bound to a staff member (counter mode)")


class SessionOut(BaseModel):
    handle: str = Field(description="Names the session to end it; it cannot be used to sign in")
    kind: str = Field(description="`web` (a browser) or `api` (the mini-program or the WeCom app)")
    channel: str = Field(description="browser | wecom | wechat")
    label: str
    label_en: str
    device: str = Field(description="What the device said it was when it signed in (may be empty)")
    created_at: datetime
    expires_at: datetime
    current: bool = Field(description="This is the session making the request")


class SessionsOut(BaseModel):
    sessions: list[SessionOut]


class HandlePath(BaseModel):
    handle: str = Field(pattern=r"^[0-9a-f]{24}$")


class WeComLoginOut(BaseModel):
    token: str
    student: StudentOut | None = None
    staff: StaffOut | None = None


@bp.post("/auth/wx-login", responses={200: WxLoginOut})
def wx_login(body: CodeIn):
    """Log in from the mini-program with a wx.login code; bind through /bind/cas?token=… if `bound` is false."""
    ratelimit.enforce("wx-login", key=body.code)
    wx = exchange_login_code(app_state().wechat, body.code)
    state = app_state()
    settings, session, now = state.settings, db(), utcnow()
    existing = binding.binding_of_openid(session, wx.openid)
    person = person_for_binding(session, existing.student_id, existing.staff_id) if existing else None
    followers.remember_unionid(session, wx.openid, wx.unionid, now)  # links a service-account follower by unionid
    row, token = issue_session(session, settings.secret_key, channel="wechat", now=now,
                               ttl_seconds=settings.token_ttl_seconds, openid=wx.openid, device=_device(),
                               **(person.ids() if person else PersonIds(student_id=None, staff_id=None)))
    session.commit()
    remember_session_key(state.redis, row.id, wx.session_key, settings.token_ttl_seconds)
    return jsonify({"token": token, "bound": person is not None, **(person_out(person) if person else {})})


@bp.post("/auth/wecom-login", responses={200: WeComLoginOut})
def wecom_login(body: CodeIn):
    """Log in from the WeCom H5 app with an OAuth code; members map to a student or a staff account."""
    ratelimit.enforce("wecom-login", key=body.code)
    identity = exchange_wecom_code(app_state().wecom, body.code)
    if identity.userid is None:
        raise ApiError(403, ErrorCode.WECOM_NOT_MEMBER, "您不是本校企业微信成员，请在微信小程序或浏览器中使用",
                       "You are not a member of the university's WeCom; use the mini-program or a browser")
    settings, session = app_state().settings, db()
    person = person_for_wecom_userid(session, identity.userid, settings.wecom_userid_rule)
    if person is None:
        raise not_in_roster()
    _, token = issue_session(session, settings.secret_key, channel="wecom", now=utcnow(),
                             ttl_seconds=settings.token_ttl_seconds, device=_device(), **person.ids())
    if person.student is not None:  # WeCom text cards reach the student at this userid
        remember_wecom_user(session, person.student.id, identity.userid, utcnow())
    session.commit()
    return jsonify({"token": token, **person_out(person)})


@bp.delete("/me/binding", responses={204: None, 404: ErrorOut}, security=BEARER)
def delete_binding():
    """Unbind the caller's WeChat identity; every mini-program session of it ends (log in and bind again)."""
    principal = current_principal()
    if principal.student_id is None and principal.staff_id is None:
        raise ApiError(403, ErrorCode.NOT_BOUND, "请先绑定统一身份认证账号", "Bind your unified-auth account first")
    session = db()
    binding.unbind(session, principal, now=utcnow(), origin=origin())
    session.commit()
    return "", 204


def _device() -> str | None:
    return sessions.describe_agent(request.headers.get("User-Agent"))


@bp.delete("/me/session", responses={204: None}, security=BEARER)
def delete_session():
    """Log out: end the session of the token making the request (the token stops working at once)."""
    principal = current_principal()
    session = db()
    row = session.get(ApiSession, principal.session_id)
    if row is not None:
        sessions.end(row, utcnow())
        session.commit()
    return "", 204


@bp.get("/me/sessions", responses={200: SessionsOut}, security=BEARER)
def list_sessions():
    """The student's signed-in devices: browser sessions, mini-program and WeCom tokens that are still live."""
    student_id = current_student_id()
    devices = sessions.student_devices(db(), student_id, now=utcnow(), current=current_principal().session_id)
    return jsonify({"sessions": [{
        "handle": d.handle, "kind": d.kind, "channel": d.channel, "label": d.label[0], "label_en": d.label[1],
        "device": d.device, "created_at": iso(d.created_at), "expires_at": iso(d.expires_at),
        "current": d.current} for d in devices]})


@bp.delete("/me/sessions/<handle>", responses={204: None, 404: ErrorOut}, security=BEARER)
def end_device(path: HandlePath):
    """End one of the student's signed-in devices (the device is signed out at once); 404 if it is not theirs."""
    student_id = current_student_id()
    session = db()
    sessions.end_student_device(session, student_id, path.handle, now=utcnow())
    session.commit()
    return "", 204
