"""Ed25519-signed certificate tokens: the text a clearance QR code carries."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT_VERSION = "v1"
# Where the service publishes its public keys as {"keys": [jwk, ...]}.
JWKS_PATH = "/.well-known/lixiao-certificate-keys.json"
SERIAL_PATTERN = r"[A-Z0-9-]{6,32}"
STUDENT_NO_PATTERN = r"[A-Za-z0-9]{1,32}"
KID_PATTERN = r"[0-9a-f]{8}"
# Generous upper bound: a real v1 token is under 200 characters; refusing long input early
# keeps a hostile scan from costing more than a regex.
MAX_TOKEN_LENGTH = 512
_MAX_EPOCH = 2**40
_SIGNATURE_LENGTH = 64

_SERIAL_RE = re.compile(SERIAL_PATTERN)
_STUDENT_NO_RE = re.compile(STUDENT_NO_PATTERN)
_KID_RE = re.compile(KID_PATTERN)
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+")
TOKEN_RE = re.compile(rf"{FORMAT_VERSION}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

# One-letter JSON keys keep the token, and so the QR code, small.
_FIELD_KEYS = {"serial": "s", "student_no": "n", "batch_id": "b", "issued_at": "t", "kid": "k"}


class InvalidReason(StrEnum):
    """Why a token was refused; stable codes for APIs and logs."""

    MALFORMED = "malformed"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"


REASON_MESSAGES: dict[InvalidReason, tuple[str, str]] = {
    InvalidReason.MALFORMED: ("二维码内容不是离校证明。", "The scanned code is not a clearance certificate."),
    InvalidReason.UNSUPPORTED_VERSION: (
        "离校证明格式版本不受支持。",
        "The certificate format version is not supported.",
    ),
    InvalidReason.UNKNOWN_KEY: (
        "离校证明由未知密钥签发，无法确认真伪。",
        "The certificate was signed by an unknown key and cannot be trusted.",
    ),
    InvalidReason.BAD_SIGNATURE: (
        "离校证明签名无效，可能被篡改或伪造。",
        "The certificate signature is invalid; it may have been altered or forged.",
    ),
}


class InvalidCertificate(Exception):
    """A token that must not be trusted; carries a reason code and bilingual messages."""

    def __init__(self, reason: InvalidReason | str) -> None:
        self.reason = InvalidReason(reason)
        self.message, self.message_en = REASON_MESSAGES[self.reason]
        super().__init__(self.reason.value)


@dataclasses.dataclass(frozen=True, slots=True)
class CertificatePayload:
    """What a certificate token asserts; kid is filled in by sign_certificate."""

    serial: str
    student_no: str
    batch_id: int
    issued_at: int
    kid: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.serial, str) or not _SERIAL_RE.fullmatch(self.serial):
            raise ValueError(f"serial must match {SERIAL_PATTERN}")
        if not isinstance(self.student_no, str) or not _STUDENT_NO_RE.fullmatch(self.student_no):
            raise ValueError(f"student_no must match {STUDENT_NO_PATTERN}")
        for name in ("batch_id", "issued_at"):
            value = getattr(self, name)
            # bool is an int subclass; True as a batch id is a bug, not an id.
            if type(value) is not int or not 0 <= value < _MAX_EPOCH:
                raise ValueError(f"{name} must be a non-negative integer")
        if self.kid and not _KID_RE.fullmatch(self.kid):
            raise ValueError(f"kid must match {KID_PATTERN}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with the long field names, for JSON answers and printing."""
        return dataclasses.asdict(self)


PublicKeyLike = Ed25519PrivateKey | Ed25519PublicKey


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode_strict(text: str) -> bytes:
    """Decode unpadded base64url, refusing any second spelling of the same bytes."""
    if not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # The last character carries unused low bits; without this check two different
    # tokens would verify as the same certificate.
    if _b64encode(raw) != text:
        raise ValueError("non-canonical base64url")
    return raw


def _canonical_json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _as_public(key: PublicKeyLike) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key()
    if isinstance(key, Ed25519PublicKey):
        return key
    raise TypeError("expected an Ed25519 key")


def _raw_public_bytes(key: PublicKeyLike) -> bytes:
    return _as_public(key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: PublicKeyLike) -> str:
    """First 8 hex digits of SHA-256 over the raw 32-byte public key."""
    return hashlib.sha256(_raw_public_bytes(key)).hexdigest()[:8]


def generate_private_key_pem() -> str:
    """A fresh Ed25519 private key as unencrypted PKCS#8 PEM."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def load_private_key(pem: str | bytes) -> Ed25519PrivateKey:
    """Load an unencrypted PEM private key, refusing anything but Ed25519."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("certificate signing key must be Ed25519")
    return key


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    """Load a PEM (SubjectPublicKeyInfo) public key, refusing anything but Ed25519."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("certificate public key must be Ed25519")
    return key


def public_key_pem(key: PublicKeyLike) -> str:
    """The public half as SubjectPublicKeyInfo PEM."""
    return (
        _as_public(key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def public_jwk(key: PublicKeyLike) -> dict[str, str]:
    """The public key as an OKP/Ed25519 JWK (RFC 8037) carrying its kid."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64encode(_raw_public_bytes(key)),
        "kid": key_id(key),
        "use": "sig",
        "alg": "EdDSA",
    }


def public_jwks(keys: Iterable[PublicKeyLike]) -> dict[str, list[dict[str, str]]]:
    """The document served at JWKS_PATH: {"keys": [jwk, ...]}."""
    return {"keys": [public_jwk(key) for key in keys]}


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    """Rebuild a public key from a JWK, checking that its kid matches the key."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("JWK is not an OKP/Ed25519 key")
    if "d" in jwk:
        raise ValueError("JWK contains a private key; publish only the public part")
    try:
        raw = _b64decode_strict(str(jwk.get("x", "")))
    except (ValueError, binascii.Error) as exc:
        raise ValueError("JWK x is not base64url") from exc
    if len(raw) != 32:
        raise ValueError("JWK x must be 32 bytes")
    key = Ed25519PublicKey.from_public_bytes(raw)
    if "kid" in jwk and jwk["kid"] != key_id(key):
        raise ValueError("JWK kid does not match its key")
    return key


def public_keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """Map kid → public key from a {"keys": [...]} document."""
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        raise ValueError('JWK set must be {"keys": [...]}')
    result: dict[str, Ed25519PublicKey] = {}
    for jwk in keys:
        if not isinstance(jwk, Mapping):
            raise ValueError("JWK set entries must be objects")
        key = public_key_from_jwk(jwk)
        result[key_id(key)] = key
    return result


def sign_certificate(private_key: Ed25519PrivateKey, payload: CertificatePayload) -> str:
    """Sign the payload; returns `v1.<base64url payload>.<base64url signature>`."""
    kid = key_id(private_key)
    if payload.kid and payload.kid != kid:
        raise ValueError("payload kid does not belong to the signing key")
    payload = dataclasses.replace(payload, kid=kid)
    body = _canonical_json({short: getattr(payload, name) for name, short in _FIELD_KEYS.items()})
    signing_input = f"{FORMAT_VERSION}.{_b64encode(body)}"
    signature = private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64encode(signature)}"


def _parse_payload(body: bytes) -> CertificatePayload:
    try:
        data = json.loads(body.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidCertificate(InvalidReason.MALFORMED) from exc
    # Only the exact bytes sign_certificate writes are accepted: no extra fields,
    # no whitespace variants, no duplicate keys.
    if not isinstance(data, dict) or set(data) != set(_FIELD_KEYS.values()) or _canonical_json(data) != body:
        raise InvalidCertificate(InvalidReason.MALFORMED)
    try:
        payload = CertificatePayload(**{name: data[short] for name, short in _FIELD_KEYS.items()})
    except (TypeError, ValueError) as exc:
        raise InvalidCertificate(InvalidReason.MALFORMED) from exc
    if not payload.kid:
        raise InvalidCertificate(InvalidReason.MALFORMED)
    return payload


def verify_token(token: str, public_keys: Mapping[str, PublicKeyLike]) -> CertificatePayload:
    """Return the payload of a genuine token, else raise InvalidCertificate."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidCertificate(InvalidReason.MALFORMED)
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidCertificate(InvalidReason.MALFORMED)
    version, body_b64, signature_b64 = parts
    if version != FORMAT_VERSION:
        reason = (
            InvalidReason.UNSUPPORTED_VERSION if re.fullmatch(r"v\d+", version) else InvalidReason.MALFORMED
        )
        raise InvalidCertificate(reason)
    try:
        body = _b64decode_strict(body_b64)
        signature = _b64decode_strict(signature_b64)
    except (ValueError, binascii.Error) as exc:
        raise InvalidCertificate(InvalidReason.MALFORMED) from exc
    if len(signature) != _SIGNATURE_LENGTH:
        raise InvalidCertificate(InvalidReason.MALFORMED)
    # The kid is read before the signature is checked only to pick the key; nothing
    # from the payload leaves this function unless the signature verifies.
    payload = _parse_payload(body)
    key = public_keys.get(payload.kid)
    if key is None:
        raise InvalidCertificate(InvalidReason.UNKNOWN_KEY)
    try:
        _as_public(key).verify(signature, f"{version}.{body_b64}".encode("ascii"))
    except InvalidSignature as exc:
        raise InvalidCertificate(InvalidReason.BAD_SIGNATURE) from exc
    return payload
