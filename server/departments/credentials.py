"""Signing keys of departmental systems and the HMAC check of their requests.

A request carries `X-Lixiao-Key` (key id), `X-Lixiao-Timestamp` (unix seconds) and `X-Lixiao-Signature`:
hex HMAC-SHA256(secret, METHOD + "\\n" + PATH + "\\n" + TIMESTAMP + "\\n" + sha256hex(body)). PATH is the URL path
without the query string. The secret is stored encrypted (Fernet with a key derived from LIXIAO_SECRET_KEY by
HKDF), because verifying an HMAC needs it; rotating LIXIAO_SECRET_KEY therefore means issuing new keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import redis
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import record_audit
from server.departments.models import DepartmentCredential
from server.errors import ApiError, ErrorCode
from server.items import registry

REPLAY_WINDOW_SECONDS = 300
HEADER_KEY, HEADER_TIMESTAMP, HEADER_SIGNATURE = "X-Lixiao-Key", "X-Lixiao-Timestamp", "X-Lixiao-Signature"
_HKDF_INFO = b"lixiao.department-credentials.v1"


@dataclass(frozen=True)
class IssuedKey:
    """A new key: the secret is shown once and never again."""

    key_id: str
    department: str
    secret: str
    fingerprint: str


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def fingerprint(secret: str) -> str:
    """The SHA-256 hex of a secret (safe to log and show)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, secret_key: str, department: str, *, label: str = "", actor: str = "system:cli",
               now: datetime) -> IssuedKey:
    """Issue a signing key for one department (audited); the caller shows the secret once and commits."""
    if department not in registry.known():
        raise ValueError(f"unknown department {department!r}; one of {', '.join(registry.known())}")
    key_id = f"{department[:3]}_{secrets.token_hex(8)}"
    secret = secrets.token_urlsafe(32)
    row = DepartmentCredential(key_id=key_id, department=department, fingerprint=fingerprint(secret),
                               secret_encrypted=_fernet(secret_key).encrypt(secret.encode()).decode(),
                               label=label[:100], created_at=now)
    session.add(row)
    record_audit(session, actor=actor, action="department_key.create", entity=f"department_key:{key_id}",
                 before=None, after={"department": department, "fingerprint": row.fingerprint, "label": label[:100]},
                 origin="cli")
    session.flush()
    return IssuedKey(key_id, department, secret, row.fingerprint)


def revoke_key(session: Session, key_id: str, *, actor: str = "system:cli", now: datetime) -> bool:
    """Revoke a key (audited); False when there is no such live key."""
    row = session.scalars(select(DepartmentCredential).where(DepartmentCredential.key_id == key_id)).one_or_none()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    record_audit(session, actor=actor, action="department_key.revoke", entity=f"department_key:{key_id}",
                 before={"revoked": False}, after={"revoked": True}, origin="cli")
    return True


def list_keys(session: Session) -> list[DepartmentCredential]:
    """Every key, newest first (secrets stay encrypted)."""
    return list(session.scalars(select(DepartmentCredential).order_by(DepartmentCredential.id.desc())))


def string_to_sign(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    """What the signature covers."""
    return "\n".join([method.upper(), path, timestamp, hashlib.sha256(body).hexdigest()]).encode()


def sign(secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    """The X-Lixiao-Signature value."""
    return hmac.new(secret.encode(), string_to_sign(method, path, timestamp, body), hashlib.sha256).hexdigest()


def _unauthorized(code: ErrorCode, message: str, message_en: str, **extra: object) -> ApiError:
    return ApiError(401, code, message, message_en, **extra)


_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only, and few enough to compare with the clock
_KEY_ID = re.compile(r"[a-z0-9_]{1,40}")  # every id create_key issues; one spelling only


def _credential(session: Session, key_id: str) -> DepartmentCredential | None:
    """The credential named by exactly this key id: byte for byte, whatever the column's collation.

    MariaDB's utf8mb4_unicode_ci finds a row for LIB_… or for the id padded with spaces; the replay guard
    and the audit log need one spelling, so anything but the issued spelling is an unknown key.
    """
    if not _KEY_ID.fullmatch(key_id):
        return None
    row = session.scalars(select(DepartmentCredential).where(DepartmentCredential.key_id == key_id)).one_or_none()
    return row if row is not None and row.key_id == key_id else None  # Python compares code points


def verify_request(session: Session, store: redis.Redis, secret_key: str, *, department: str,
                   headers: Mapping[str, str], method: str, path: str, body: bytes, now: datetime
                   ) -> DepartmentCredential:
    """The credential of a correctly signed, fresh, first-seen request for `department`; otherwise an ApiError."""
    key_id, timestamp, signature = (headers.get(h, "").strip() for h in (HEADER_KEY, HEADER_TIMESTAMP,
                                                                          HEADER_SIGNATURE))
    if not (key_id and timestamp and signature):
        raise _unauthorized(ErrorCode.UNAUTHORIZED, "缺少签名请求头 X-Lixiao-Key、X-Lixiao-Timestamp、"
                            "X-Lixiao-Signature",
                            "The headers X-Lixiao-Key, X-Lixiao-Timestamp and X-Lixiao-Signature are required")
    if not _TIMESTAMP.fullmatch(timestamp):  # not a time at all: a malformed request, refused before the key
        raise ApiError(400, ErrorCode.VALIDATION_ERROR, "X-Lixiao-Timestamp 必须是 Unix 秒数（1-12 位数字）",
                       "X-Lixiao-Timestamp must be Unix seconds (1-12 digits)",
                       fields=[{"loc": ["header", "X-Lixiao-Timestamp"], "message": "1-12 digits", "type": "format"}])
    if abs(now.timestamp() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        raise _unauthorized(ErrorCode.STALE_TIMESTAMP,
                            f"请求时间戳无效或与服务器时间相差超过 {REPLAY_WINDOW_SECONDS} 秒",
                            f"The timestamp is invalid or more than {REPLAY_WINDOW_SECONDS} s from the server's clock",
                            server_time=int(now.timestamp()))
    row = _credential(session, key_id)
    if row is None or row.revoked_at is not None:
        raise _unauthorized(ErrorCode.UNKNOWN_KEY, "签名密钥不存在或已吊销", "The signing key is unknown or revoked")
    try:
        secret = _fernet(secret_key).decrypt(row.secret_encrypted.encode()).decode()
    except InvalidToken as exc:  # LIXIAO_SECRET_KEY changed since the key was issued
        raise _unauthorized(ErrorCode.UNKNOWN_KEY, "签名密钥已失效，请重新签发",
                            "The signing key is no longer valid; issue a new one") from exc
    expected = sign(secret, method, path, timestamp, body)
    if not hmac.compare_digest(expected, signature.lower()):
        raise _unauthorized(ErrorCode.BAD_SIGNATURE, "请求签名不正确", "The request signature does not match")
    if row.department != department:
        raise ApiError(403, ErrorCode.WRONG_DEPARTMENT, "该密钥不属于此部门", "This key belongs to another department")
    # The signature is unique to (method, path, timestamp, body): seeing it twice inside the window is a replay.
    fresh = store.set(replay_key(row.key_id, expected), "1", nx=True, ex=2 * REPLAY_WINDOW_SECONDS + 60)
    if not fresh:
        # A client whose call timed out learns what became of it: the original's answer once it was made.
        kept = store.get(replay_key(row.key_id, expected))
        outcome = json.loads(kept) if kept and kept not in (b"1", "1") else None
        raise ApiError(409, ErrorCode.REPLAYED_REQUEST, "该请求已处理过（重放），原请求的结果见 outcome；"
                       "如需再次写入，请用新的时间戳重新签名",
                       "This exact request was already received (replay); `outcome` is the original's answer "
                       "(null: not finished); to write again, sign it with a new timestamp", outcome=outcome)
    return row


def replay_key(key_id: str, signature: str) -> str:
    """The Redis key that marks a signed request as seen, and then keeps its answer for the window."""
    return f"lixiao:dept-replay:{key_id}:{signature.lower()}"


def keep_outcome(store: redis.Redis, key_id: str, signature: str, status: int, body: object) -> None:
    """Keep a finished request's answer beside its replay mark, for a client that did not receive it."""
    store.set(replay_key(key_id, signature), json.dumps({"status": status, "body": body}, ensure_ascii=False),
              xx=True, keepttl=True)
