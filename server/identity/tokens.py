"""Our bearer tokens: signed, expiring, and revocable through their session row."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Row
from sqlalchemy.orm import Session

from server.errors import ApiError, ErrorCode
from server.identity.models import ApiSession

_SALT = "lixiao.api-token.v1"


@dataclass(frozen=True)
class Principal:
    """Who is calling."""

    session_id: str
    channel: str
    openid: str | None
    student_id: int | None
    staff_id: int | None


@lru_cache(maxsize=4)  # one secret per app; made once, not on every request
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def issue_token(
    session: Session,
    secret_key: str,
    *,
    channel: str,
    now: datetime,
    ttl_seconds: int,
    openid: str | None = None,
    student_id: int | None = None,
    staff_id: int | None = None,
) -> str:
    """Create a session row and the token that names it."""
    return issue_session(session, secret_key, channel=channel, now=now, ttl_seconds=ttl_seconds, openid=openid,
                         student_id=student_id, staff_id=staff_id)[1]


def issue_session(
    session: Session,
    secret_key: str,
    *,
    channel: str,
    now: datetime,
    ttl_seconds: int,
    openid: str | None = None,
    student_id: int | None = None,
    staff_id: int | None = None,
    device: str | None = None,
) -> tuple[ApiSession, str]:
    """Like issue_token, also handing back the session row (its id keys server-side data)."""
    row = ApiSession(id=secrets.token_urlsafe(32), channel=channel, openid=openid, student_id=student_id,
                     staff_id=staff_id, created_at=now, expires_at=now + timedelta(seconds=ttl_seconds),
                     kind="api", device=device)
    session.add(row)
    session.flush()
    return row, sign_session_id(secret_key, row.id, student_id=student_id)


def live_session(session: Session, secret_key: str, token: str, *, now: datetime, ttl_seconds: int) -> ApiSession:
    """The session row of a valid token (for flows that change it, like binding), or a 401."""
    session_id, _signed_at = read_token(secret_key, token, ttl_seconds=ttl_seconds)
    row = session.get(ApiSession, session_id)
    principal_of(row, now)  # raises the fitting 401
    assert row is not None  # principal_of refused a missing row
    return row


def sign_session_id(secret_key: str, session_id: str, *, student_id: int | None = None) -> str:
    """The token naming an existing session row (bulk tools insert rows themselves and sign their ids here).

    `student_id`, the session's student when the token is made, stays in the token's format (tokens already issued
    carry it) but is only a hint (`read_token_hint`): who is calling is always read from the session.
    """
    return _serializer(secret_key).dumps(session_id if student_id is None else [session_id, student_id])


def read_token(secret_key: str, token: str, *, ttl_seconds: int) -> tuple[str, datetime]:
    """The session id a token names and when it was signed, or a 401 when it is forged or too old."""
    session_id, _hint, signed_at = read_token_hint(secret_key, token, ttl_seconds=ttl_seconds)
    return session_id, signed_at


def read_token_hint(secret_key: str, token: str, *, ttl_seconds: int) -> tuple[str, int | None, datetime]:
    """Like `read_token`, with the student the session had when the token was made (None if none, or unsaid).

    The hint is a guess to prefetch with, never an identity: a session can be bound, unbound or rebound after.
    """
    try:
        claims, signed_at = _serializer(secret_key).loads(token, max_age=ttl_seconds, return_timestamp=True)
    except SignatureExpired as exc:
        raise _expired() from exc
    except BadSignature as exc:
        raise _invalid() from exc
    if isinstance(claims, str):
        return claims, None, signed_at
    if (isinstance(claims, list) and len(claims) == 2 and isinstance(claims[0], str)
            and isinstance(claims[1], int) and not isinstance(claims[1], bool)):
        return claims[0], claims[1], signed_at
    raise _invalid()  # signed by us, so never seen; refused rather than guessed at


def _invalid() -> ApiError:
    return ApiError(401, ErrorCode.UNAUTHORIZED, "登录凭证无效，请重新登录", "Invalid token, please log in again")


def principal_of(row: ApiSession | Row[Any] | None, now: datetime) -> Principal:
    """The principal of a live session row, or a 401 saying why not (a browser's row is no bearer token)."""
    if row is None or row.revoked_at is not None or row.kind != "api":
        raise ApiError(401, ErrorCode.UNAUTHORIZED, "登录已失效，请重新登录", "Session ended, please log in again")
    if row.expires_at <= now:
        raise _expired()
    return Principal(row.id, row.channel, row.openid, row.student_id, row.staff_id)


def _expired() -> ApiError:
    return ApiError(401, ErrorCode.TOKEN_EXPIRED, "登录已过期，请重新登录",
                    "Your login has expired, please log in again")


def revoke_sessions(session: Session, *, now: datetime, openid: str | None = None,
                    student_id: int | None = None) -> None:
    """Revoke every live session of an openid or a student (unbinding, rebinding)."""
    from sqlalchemy import or_, update

    conditions = []
    if openid is not None:
        conditions.append(ApiSession.openid == openid)
    if student_id is not None:
        conditions.append(ApiSession.student_id == student_id)
    if conditions:
        session.execute(update(ApiSession).where(or_(*conditions), ApiSession.revoked_at.is_(None))
                        .values(revoked_at=now))
