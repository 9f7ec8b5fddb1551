"""Who is calling the API: the bearer token, checked once per request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, request
from sqlalchemy import Row, Select, SQLColumnExpression, bindparam, select

from server.db import read_once, table_of
from server.errors import ApiError, ErrorCode
from server.identity.models import ApiSession, Staff
from server.identity.tokens import Principal, principal_of, read_token
from server.state import app_state, db
from server.timeutil import utcnow

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]

# A view on a hot path can have its first read ride on the statement that loads the caller's session row: one
# round trip instead of two. Endpoint → how to extend `select(ApiSession)` given the session's student id column.
Extend = Callable[[Select[Any], SQLColumnExpression[Any]], Select[Any]]
_RIDERS: dict[str, Extend] = {}


def ride_on_session_row(endpoint: str, extend: Extend) -> None:
    """Read `extend`'s columns with the session row of every request to `endpoint` (see `session_row`)."""
    _RIDERS[endpoint] = extend


_RIDDEN: dict[str, Select[Any]] = {}
# What `principal_of` reads of the session row (not when or on which device it began: the devices page's).
_PRINCIPAL_COLUMNS = ("id", "channel", "openid", "student_id", "staff_id", "kind", "expires_at", "revoked_at")


def _ridden(endpoint: str) -> Select[Any] | None:
    """The session row's statement with the endpoint's rider, built once (a bound parameter names the session)."""
    statement = _RIDDEN.get(endpoint)
    if statement is None and endpoint in _RIDERS:
        sessions = table_of(ApiSession)
        columns = [sessions.c[name] for name in _PRINCIPAL_COLUMNS]
        statement = _RIDERS[endpoint](select(*columns).where(sessions.c.id == bindparam("session_id")),
                                      sessions.c.student_id)
        _RIDDEN[endpoint] = statement
    return statement


def session_row() -> Row[Any] | None:
    """The row read with the caller's session when this endpoint rides on it (the extra columns last), or None."""
    return g.get("session_row")


def current_principal() -> Principal:
    """The caller of this request, or 401."""
    context = g._get_current_object()  # the hot path: one proxy lookup
    principal: Principal | None = getattr(context, "principal", None)
    if principal is not None:
        return principal
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, ErrorCode.UNAUTHORIZED, "请先登录", "Please log in")
    settings = app_state().settings
    session_id, _signed_at = read_token(settings.secret_key, token.strip(), ttl_seconds=settings.token_ttl_seconds)
    statement = _ridden(request.endpoint or "")
    if statement is not None:
        # One statement, on the read engine: no ORM session, no pre-ping, nothing to roll back afterwards.
        state = app_state()
        row = read_once(state.reads or state.engine, statement, {"session_id": session_id})
        context.session_row = row
        principal = principal_of(row, utcnow())
    else:
        principal = principal_of(db().get(ApiSession, session_id), utcnow())
    context.principal = principal
    return principal


def current_student_id() -> int:
    """The bound student calling, or 401/403."""
    principal = current_principal()
    if principal.student_id is None:
        if principal.staff_id is not None:
            raise ApiError(403, ErrorCode.FORBIDDEN, "仅学生可以使用", "Only students can use this")
        raise ApiError(403, ErrorCode.NOT_BOUND, "请先绑定统一身份认证账号",
                       "Bind your unified-auth account first")
    return principal.student_id


def origin() -> str:
    """Where the request came from, for the audit log."""
    return (request.remote_addr or "")[:64]


def current_staff() -> Staff:
    """The active staff member calling, or 401/403."""
    principal = current_principal()
    staff = db().get(Staff, principal.staff_id) if principal.staff_id is not None else None
    if staff is None or not staff.active:
        raise ApiError(403, ErrorCode.FORBIDDEN, "仅工作人员可以使用", "Staff only")
    return staff


# Routes that authenticate otherwise: logins (they issue tokens), the document, and the departmental API (HMAC).
OPEN_API_PREFIXES = ("/api/v1/auth/", "/api/openapi.json", "/api/v1/departments/")


def authenticate_api_request() -> None:
    """Check the bearer token before the body is validated, so a caller without one learns nothing but 401."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    path = req.path
    if (req.url_rule is not None and path.startswith("/api/") and not path.startswith(OPEN_API_PREFIXES)
            and req.method != "OPTIONS"):
        current_principal()
