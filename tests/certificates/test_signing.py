"""Signed certificate tokens: round trip, key handling, and every forgery we could think of."""

from __future__ import annotations

import base64
import hashlib
import json
import string

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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

B64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return load_private_key(generate_private_key_pem())


@pytest.fixture(scope="module")
def other_key() -> Ed25519PrivateKey:
    return load_private_key(generate_private_key_pem())


@pytest.fixture(scope="module")
def keys(key: Ed25519PrivateKey) -> dict:
    return {key_id(key): key.public_key()}


@pytest.fixture
def payload() -> CertificatePayload:
    return CertificatePayload(
        serial="LX2027-000123", student_no="202312345678", batch_id=42, issued_at=1_780_000_000
    )


@pytest.fixture
def token(key: Ed25519PrivateKey, payload: CertificatePayload) -> str:
    return sign_certificate(key, payload)


def substitutes(char: str) -> list[str]:
    """Two different characters for one position, one of them flipping only the lowest bit."""
    if char not in B64URL:
        return ["A", "-"]
    index = B64URL.index(char)
    # index ^ 1 changes only the lowest of the 6 bits: in the last character of a
    # base64 string those bits may be unused padding, the classic malleability hole.
    return [B64URL[index ^ 1], B64URL[(index + 32) % 64]]


def signed_raw(key: Ed25519PrivateKey, version: str, body: bytes) -> str:
    """A token built by hand but signed properly, to test what the parser accepts."""
    signing_input = f"{version}.{b64(body)}"
    return f"{signing_input}.{b64(key.sign(signing_input.encode()))}"


def reason_of(token: object, keys: dict) -> InvalidReason:
    with pytest.raises(InvalidCertificate) as caught:
        verify_token(token, keys)  # type: ignore[arg-type]
    return caught.value.reason


def test_round_trip_returns_the_signed_payload_with_its_kid(key, keys, payload, token):
    result = verify_token(token, keys)
    assert result == CertificatePayload(
        serial="LX2027-000123",
        student_no="202312345678",
        batch_id=42,
        issued_at=1_780_000_000,
        kid=key_id(key),
    )
    assert result.to_dict()["serial"] == "LX2027-000123"


def test_token_is_compact_and_url_safe(token):
    assert token.startswith("v1.")
    assert len(token) < 200
    assert set(token) <= set(B64URL + ".")


def test_kid_is_first_8_hex_of_sha256_of_raw_public_key(key):
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key_id(key) == hashlib.sha256(raw).hexdigest()[:8]
    assert key_id(key.public_key()) == key_id(key)


def test_every_single_character_change_is_rejected(keys, token):
    version, body, signature = token.split(".")
    assert len(body) > 50 and len(signature) == 86
    tried = 0
    for position, char in enumerate(token):
        for replacement in substitutes(char):
            forged = token[:position] + replacement + token[position + 1 :]
            assert forged != token
            with pytest.raises(InvalidCertificate) as caught:
                verify_token(forged, keys)
            if position > len(version) + len(body) + 1:  # inside the signature part
                assert caught.value.reason in (InvalidReason.BAD_SIGNATURE, InvalidReason.MALFORMED)
            tried += 1
    assert tried == 2 * len(token)


def test_last_signature_character_padding_bits_cannot_be_reused(keys, token):
    # An 86-character signature has 4 unused bits; a lax decoder would accept this twin.
    last = B64URL.index(token[-1])
    twins = [token[:-1] + B64URL[(last & ~0b1111) | low] for low in range(16)]
    for twin in twins:
        if twin != token:
            assert reason_of(twin, keys) is InvalidReason.MALFORMED


def test_signature_from_another_key_is_rejected(key, other_key, keys, payload):
    foreign = sign_certificate(other_key, payload)
    assert reason_of(foreign, keys) is InvalidReason.UNKNOWN_KEY
    # Same bytes claiming our kid, but signed by the other key.
    body = json.dumps(
        {"b": 42, "k": key_id(key), "n": "202312345678", "s": "LX2027-000123", "t": 1_780_000_000},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    assert reason_of(signed_raw(other_key, "v1", body), keys) is InvalidReason.BAD_SIGNATURE
    assert verify_token(signed_raw(key, "v1", body), keys).kid == key_id(key)


def test_signatures_cannot_be_swapped_between_genuine_tokens(key, keys, payload):
    first = sign_certificate(key, payload)
    second = sign_certificate(
        key, CertificatePayload("LX2027-000124", payload.student_no, payload.batch_id, payload.issued_at)
    )
    version, body, _ = first.split(".")
    stolen_signature = second.split(".")[2]
    assert reason_of(f"{version}.{body}.{stolen_signature}", keys) is InvalidReason.BAD_SIGNATURE


def test_every_truncation_is_rejected(keys, token):
    for length in range(len(token)):
        with pytest.raises(InvalidCertificate):
            verify_token(token[:length], keys)


def test_unknown_kid_is_rejected(other_key, token):
    assert reason_of(token, {key_id(other_key): other_key.public_key()}) is InvalidReason.UNKNOWN_KEY
    assert reason_of(token, {}) is InvalidReason.UNKNOWN_KEY


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "v1",
        "v1..",
        "v1.a.b",
        "....",
        "v1.e30.AAAA",
        "https://example.edu.cn/v/",
        "离校证明",
        "v1." + "A" * 600 + ".B",
        None,
        b"v1.abc.def",
        12345,
    ],
)
def test_garbage_is_malformed(keys, garbage):
    assert reason_of(garbage, keys) is InvalidReason.MALFORMED


def test_decorated_tokens_are_rejected(keys, token):
    for variant in (" " + token, token + "\n", token + "=", token + ".x", token.replace(".", ". ", 1)):
        assert reason_of(variant, keys) is InvalidReason.MALFORMED
    version, body, signature = token.split(".")
    assert reason_of(f"{version}.{body}==.{signature}", keys) is InvalidReason.MALFORMED


def test_other_versions_are_reported_as_unsupported(key, keys, token):
    _, body, _ = token.split(".")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert reason_of(signed_raw(key, "v2", raw), keys) is InvalidReason.UNSUPPORTED_VERSION


CANONICAL_BODY = b'{"b":42,"k":"KID","n":"2023","s":"LX2027-000123","t":1}'


def test_a_hand_built_canonical_payload_verifies(key, keys):
    # The control for the test below: the same construction, with nothing wrong in it.
    body = CANONICAL_BODY.replace(b"KID", key_id(key).encode())
    assert verify_token(signed_raw(key, "v1", body), keys).student_no == "2023"


@pytest.mark.parametrize(
    "body",
    [
        # Each is validly signed by the real key but is not what sign_certificate writes.
        b'{"b": 42, "k": "KID", "n": "2023", "s": "LX2027-000123", "t": 1}',
        b'{"t":1,"s":"LX2027-000123","n":"2023","k":"KID","b":42}',
        b'{"b":42,"b":42,"k":"KID","n":"2023","s":"LX2027-000123","t":1}',
        b'{"b":42,"k":"KID","n":"2023","s":"LX2027-000123","t":1,"x":1}',
        b'{"b":42,"k":"KID","n":"2023","s":"lx2027-000123","t":1}',
        b'{"b":true,"k":"KID","n":"2023","s":"LX2027-000123","t":1}',
        b'{"b":42,"k":"KID","n":"2023","s":"LX2027-000123","t":-1}',
        b'{"b":42,"k":"KID","n":"2023","s":"LX2027-000123","t":1.0}',
        b'{"b":42,"k":"","n":"2023","s":"LX2027-000123","t":1}',
        b'{"b":42,"k":"KID","n":"2023","s":"LX2027-000123"}',
        b'["LX2027-000123","2023",42,1,"KID"]',
        b"\xff\xfe",
        b"",
    ],
)
def test_signed_but_non_canonical_payloads_are_malformed(key, keys, body):
    token = signed_raw(key, "v1", body.replace(b"KID", key_id(key).encode()))
    assert reason_of(token, keys) is InvalidReason.MALFORMED


def test_several_keys_support_rotation(key, other_key, payload):
    old_token = sign_certificate(key, payload)
    new_token = sign_certificate(other_key, payload)
    both = {key_id(key): key.public_key(), key_id(other_key): other_key.public_key()}
    assert verify_token(old_token, both).kid == key_id(key)
    assert verify_token(new_token, both).kid == key_id(other_key)
    retired = {key_id(other_key): other_key.public_key()}
    assert reason_of(old_token, retired) is InvalidReason.UNKNOWN_KEY


def test_verification_with_only_the_published_jwk_set(key, other_key, token):
    published = json.loads(json.dumps(public_jwks([key, other_key])))
    assert JWKS_PATH == "/.well-known/lixiao-certificate-keys.json"
    rebuilt = public_keys_from_jwks(published)
    assert set(rebuilt) == {key_id(key), key_id(other_key)}
    assert verify_token(token, rebuilt).serial == "LX2027-000123"


def test_public_jwk_shape(key):
    jwk = public_jwk(key)
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": jwk["x"],
        "kid": key_id(key),
        "use": "sig",
        "alg": "EdDSA",
    }
    assert len(base64.urlsafe_b64decode(jwk["x"] + "=")) == 32
    assert "d" not in jwk
    assert public_jwk(key.public_key()) == jwk


@pytest.mark.parametrize(
    "change",
    [
        {"kid": "00000000"},
        {"kty": "EC"},
        {"crv": "X25519"},
        {"x": "too-short"},
        {"d": "c2VjcmV0"},
    ],
)
def test_bad_jwks_are_refused(key, change):
    with pytest.raises(ValueError):
        public_key_from_jwk({**public_jwk(key), **change})


def test_bad_jwk_sets_are_refused(key):
    for document in ({}, {"keys": "nope"}, {"keys": ["nope"]}, {"keys": [{**public_jwk(key), "kid": "x"}]}):
        with pytest.raises(ValueError):
            public_keys_from_jwks(document)


def test_pem_round_trip(key, token):
    public = load_public_key(public_key_pem(key))
    assert verify_token(token, {key_id(public): public}).student_no == "202312345678"
    assert public_key_pem(key).startswith("-----BEGIN PUBLIC KEY-----")
    assert generate_private_key_pem().startswith("-----BEGIN PRIVATE KEY-----")


def test_non_ed25519_keys_are_refused():
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(ValueError):
        load_private_key(pem)
    public_pem = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError):
        load_public_key(public_pem)


def test_signing_refuses_a_kid_of_another_key(key, other_key, payload):
    with pytest.raises(ValueError):
        sign_certificate(key, CertificatePayload(**{**payload.to_dict(), "kid": key_id(other_key)}))


@pytest.mark.parametrize(
    "change",
    [
        {"serial": "LX27"},
        {"serial": "lx2027-000123"},
        {"serial": "LX" + "0" * 31},
        {"serial": "LX2027/000123"},
        {"student_no": ""},
        {"student_no": "2023 1234"},
        {"batch_id": True},
        {"batch_id": "42"},
        {"issued_at": -1},
        {"issued_at": 1.5},
        {"kid": "XYZ"},
    ],
)
def test_payload_fields_are_validated(payload, change):
    with pytest.raises(ValueError):
        CertificatePayload(**{**payload.to_dict(), **change})


def test_invalid_certificate_speaks_both_languages():
    error = InvalidCertificate("bad_signature")
    assert error.reason is InvalidReason.BAD_SIGNATURE
    assert str(error) == "bad_signature"
    assert "签名" in error.message and "signature" in error.message_en
    for reason in InvalidReason:
        message = InvalidCertificate(reason)
        assert message.message and message.message_en
