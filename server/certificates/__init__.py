"""Clearance certificates: signed tokens and the QR codes that carry them."""

from server.certificates.qr import (
    qr_png,
    qr_svg,
    token_from_scanned_text,
    verification_url,
    verify_scanned_text,
)
from server.certificates.signing import (
    JWKS_PATH,
    CertificatePayload,
    InvalidCertificate,
    InvalidReason,
    generate_private_key_pem,
    key_id,
    load_private_key,
    load_public_key,
    public_jwk,
    public_jwks,
    public_key_from_jwk,
    public_key_pem,
    public_keys_from_jwks,
    sign_certificate,
    verify_token,
)

__all__ = [
    "JWKS_PATH",
    "CertificatePayload",
    "InvalidCertificate",
    "InvalidReason",
    "generate_private_key_pem",
    "key_id",
    "load_private_key",
    "load_public_key",
    "public_jwk",
    "public_jwks",
    "public_key_from_jwk",
    "public_key_pem",
    "public_keys_from_jwks",
    "qr_png",
    "qr_svg",
    "sign_certificate",
    "token_from_scanned_text",
    "verification_url",
    "verify_scanned_text",
    "verify_token",
]
