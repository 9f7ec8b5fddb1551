"""The service's certificate keys: the signing key from settings (or a development key under var/) and the
public keys it publishes at JWKS_PATH."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from server.certificates.signing import (
    generate_private_key_pem,
    key_id,
    load_private_key,
    load_public_key,
    public_jwks,
)
from server.settings import Settings, SettingsError

_PUBLIC_PEM_RE = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)
_lock = threading.Lock()
_cache: dict[tuple[str, str, str], KeyRing] = {}


@dataclass(frozen=True)
class KeyRing:
    """The key that signs new certificates and every key a certificate may have been signed with."""

    signing: Ed25519PrivateKey
    verifying: dict[str, Ed25519PublicKey]

    @property
    def kid(self) -> str:
        """The key id new certificates carry."""
        return key_id(self.signing)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public document served at JWKS_PATH, current key first."""
        current = self.verifying[self.kid]
        others = [k for kid, k in self.verifying.items() if kid != self.kid]
        return public_jwks([current, *others])


def _pem_text(value: str) -> str:
    # Environment variables often carry a PEM on one line with literal "\n".
    return value.replace("\\n", "\n").strip()


def parse_private_key(pem: str) -> Ed25519PrivateKey:
    """The Ed25519 signing key from PEM text, or ValueError saying why not."""
    try:
        return load_private_key(_pem_text(pem))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not an unencrypted Ed25519 private key in PEM: {exc}") from exc


def parse_public_keys(text: str) -> list[Ed25519PublicKey]:
    """Every PEM public key in text (concatenated blocks), or ValueError."""
    text = _pem_text(text)
    blocks = _PUBLIC_PEM_RE.findall(text)
    if text and not blocks:
        raise ValueError("expected one or more '-----BEGIN PUBLIC KEY-----' blocks")
    try:
        return [load_public_key(block) for block in blocks]
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not an Ed25519 public key in PEM: {exc}") from exc


def _development_key(path: Path) -> str:
    """Read the development key, creating it once (mode 0600) so restarts keep verifying old certificates."""
    if path.exists():
        return path.read_text(encoding="ascii")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(generate_private_key_pem())
    try:
        # link() fails if another process got there first; then its key wins and ours is dropped.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text(encoding="ascii")


def key_ring(settings: Settings) -> KeyRing:
    """The keys for these settings, loaded once per process."""
    cache_key = (settings.certificate_private_key, settings.certificate_retired_public_keys,
                 settings.certificate_key_file)
    with _lock:
        ring = _cache.get(cache_key)
        if ring is None:
            if settings.certificate_private_key:
                pem = settings.certificate_private_key
            elif settings.is_production:
                raise RuntimeError("LIXIAO_CERTIFICATE_PRIVATE_KEY is required in production")
            else:
                pem = _development_key(Path(settings.certificate_key_file))
            signing = parse_private_key(pem)
            verifying = {key_id(k): k for k in parse_public_keys(settings.certificate_retired_public_keys)}
            verifying[key_id(signing)] = signing.public_key()
            ring = _cache[cache_key] = KeyRing(signing, verifying)
    return ring


def check_keys(settings: Settings) -> None:
    """A signing key that does not load would only fail at the first submission; fail at start instead (the app
    factory and the command line call this after loading the settings)."""
    try:
        if settings.certificate_private_key:
            parse_private_key(settings.certificate_private_key)
        parse_public_keys(settings.certificate_retired_public_keys)
    except ValueError as exc:
        raise SettingsError(f"LIXIAO_CERTIFICATE_PRIVATE_KEY / _RETIRED_PUBLIC_KEYS: {exc}") from exc
