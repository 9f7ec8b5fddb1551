"""Identity API (SPEC §6): mini-program and WeCom login, and removing the WeChat binding."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from server.api.auth import BEARER, current_principal, origin
from server.api.schemas import Strict, StudentOut
from server.errors import ApiError, ErrorCode, ErrorOut
from server.identity import binding, ratelimit
from server.identity.accounts import not_in_roster, person_for_binding, person_for_wecom_userid
from server.identity.tokens import issue_session
from server.identity.wechat import exchange_login_code, remember_session_key
from server.identity.wecom import exchange_wecom_code
from server.messaging.recipients import remember_wecom_user
from server.state import app_state, db
from server.timeutil import utcnow

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut, 503: ErrorOut}
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


class WeComLoginOut(BaseModel):
    token: str
    student: StudentOut | None = None
    staff: StaffOut | None = None


@bp.post("/auth/wx-login", responses={200: WxLoginOut})
def wx_login(body: CodeIn):  # type: ignore[no-untyped-def]
    """Log in from the mini-program with a wx.login code; bind through /bind/cas?token=… if `bound` is false."""
    ratelimit.enforce("wx-login", key=body.code)
    wx = exchange_login_code(body.code)
    state = app_state()
    settings, session, now = state.settings, db(), utcnow()
    existing = binding.binding_of_openid(session, wx.openid)
    person = person_for_binding(session, existing.student_id, existing.staff_id) if existing else None
    row, token = issue_session(session, settings.secret_key, channel="wechat", now=now,
                               ttl_seconds=settings.token_ttl_seconds, openid=wx.openid,
                               **(person.ids() if person else {}))
    session.commit()
    remember_session_key(state.redis, row.id, wx.session_key, settings.token_ttl_seconds)
    return jsonify({"token": token, "bound": person is not None, **(person.out() if person else {})})


@bp.post("/auth/wecom-login", responses={200: WeComLoginOut})
def wecom_login(body: CodeIn):  # type: ignore[no-untyped-def]
    """Log in from the WeCom H5 app with an OAuth code; members map to a student or a staff account."""
    ratelimit.enforce("wecom-login", key=body.code)
    identity = exchange_wecom_code(body.code)
    if identity.userid is None:
        raise ApiError(403, ErrorCode.WECOM_NOT_MEMBER, "您不是本校企业微信成员，请在微信小程序或浏览器中使用",
                       "You are not a member of the university's WeCom; use the mini-program or a browser")
    settings, session = app_state().settings, db()
    person = person_for_wecom_userid(session, identity.userid, settings.wecom_userid_rule)
    if person is None:
        raise not_in_roster()
    _, token = issue_session(session, settings.secret_key, channel="wecom", now=utcnow(),
                             ttl_seconds=settings.token_ttl_seconds, **person.ids())
    if person.student is not None:  # WeCom text cards reach the student at this userid
        remember_wecom_user(session, person.student.id, identity.userid, utcnow())
    session.commit()
    return jsonify({"token": token, **person.out()})


@bp.delete("/me/binding", responses={204: None, 404: ErrorOut}, security=BEARER)
def delete_binding():  # type: ignore[no-untyped-def]
    """Unbind the caller's WeChat identity; every mini-program session of it ends (log in and bind again)."""
    principal = current_principal()
    if principal.student_id is None and principal.staff_id is None:
        raise ApiError(403, ErrorCode.NOT_BOUND, "请先绑定统一身份认证账号", "Bind your unified-auth account first")
    session = db()
    binding.unbind(session, principal, now=utcnow(), origin=origin())
    session.commit()
    return "", 204
