"""Who is calling the API: the bearer token, checked once per request."""

from __future__ import annotations

from flask import g, request

from server.errors import ApiError, ErrorCode
from server.identity.models import Staff
from server.identity.token_cache import Wanted, resolve_token_cached
from server.identity.tokens import Principal, resolve_token
from server.state import app_state, db
from server.timeutil import utcnow

BEARER = [{"bearer": []}]


def current_principal(also: Wanted | None = None) -> Principal:
    """The caller of this request, or 401.

    With the read cache on, `also(principal)` names a cache entry to fetch in the same round trip to Redis; the
    lookup (or None) is left in `g.prefetched`.
    """
    context = g._get_current_object()  # type: ignore[attr-defined]  # the hot path: one proxy lookup
    principal: Principal | None = getattr(context, "principal", None)
    if principal is not None:
        return principal
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, ErrorCode.UNAUTHORIZED, "请先登录", "Please log in")
    state = app_state()
    settings = state.settings
    if state.cache is not None:
        principal, context.prefetched = resolve_token_cached(db, settings.secret_key, token.strip(), now=utcnow(),
                                                             ttl_seconds=settings.token_ttl_seconds,
                                                             cache=state.cache, also=also)
    else:
        principal = resolve_token(db(), settings.secret_key, token.strip(), now=utcnow(),
                                  ttl_seconds=settings.token_ttl_seconds)
    context.principal = principal
    return principal


def current_student_id(also: Wanted | None = None) -> int:
    """The bound student calling, or 401/403 (`also` as for current_principal)."""
    principal = current_principal(also)
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


# What an endpoint will look up in the read cache, fetched with the caller's session in one round trip to Redis.
PREFETCH: dict[str, Wanted] = {}


def authenticate_api_request() -> None:
    """Check the bearer token before the body is validated, so a caller without one learns nothing but 401."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    path = req.path
    if (req.url_rule is not None and path.startswith("/api/") and not path.startswith(OPEN_API_PREFIXES)
            and req.method != "OPTIONS"):
        current_principal(PREFETCH.get(req.endpoint or ""))
