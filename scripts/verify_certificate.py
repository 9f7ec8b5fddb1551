"""Verify a scanned clearance certificate offline, with nothing but the published public keys.

Usage:
    python scripts/verify_certificate.py --keys keys.json 'https://host/v/v1.xxx.yyy'
    python scripts/verify_certificate.py --keys https://host/.well-known/lixiao-certificate-keys.json -
Exit status: 0 genuine, 1 not genuine, 2 the key set could not be read.
A genuine signature does not tell whether the certificate was revoked later; only the
service's counter page knows that.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# Run as a plain file from a checkout, so make the repository importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.certificates.qr import verify_scanned_text
from server.certificates.signing import InvalidCertificate, public_keys_from_jwks

REVOCATION_NOTE = (
    "注意：离线验证无法得知证明是否已被撤销，请以柜台系统为准。 / "
    "Note: offline verification cannot tell whether the certificate was revoked; the counter system can."
)


def load_jwks(source: str) -> dict[str, Any]:
    """Read a JWK set from a file path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        import requests  # only needed for URLs; keeps file-only use dependency-light

        response = requests.get(source, timeout=10)
        response.raise_for_status()
        return response.json()
    return json.loads(Path(source).read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description="Verify a Lixiao clearance certificate QR code offline.")
    parser.add_argument("--keys", required=True, help="JWK set file or URL (lixiao-certificate-keys.json)")
    parser.add_argument("scanned", help="the scanned text (URL or bare token); '-' reads standard input")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)

    try:
        public_keys = public_keys_from_jwks(load_jwks(args.keys))
    except Exception as exc:  # any failure to get keys is a usage problem, reported plainly
        print(f"无法读取公钥 / cannot read the key set: {exc}", file=sys.stderr)
        return 2

    scanned = sys.stdin.read() if args.scanned == "-" else args.scanned
    try:
        payload = verify_scanned_text(scanned, public_keys)
    except InvalidCertificate as exc:
        if args.json:
            result = {
                "valid": False,
                "reason": exc.reason.value,
                "message": exc.message,
                "message_en": exc.message_en,
            }
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(f"无效 / INVALID ({exc.reason.value}): {exc.message} / {exc.message_en}")
        return 1

    if args.json:
        result = {"valid": True, "revocation_checked": False, "payload": payload.to_dict()}
        print(json.dumps(result, ensure_ascii=False))
    else:
        issued = datetime.fromtimestamp(payload.issued_at, ZoneInfo("Asia/Shanghai"))
        print("有效 / VALID")
        for name, value in payload.to_dict().items():
            print(f"  {name}: {value}")
        print(f"  issued_at (Asia/Shanghai): {issued.isoformat()}")
        print(REVOCATION_NOTE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
