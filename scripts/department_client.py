"""Send a departmental system's records to Lixiao, signed (a reference client; needs only `requests`).

    python scripts/department_client.py --url https://lixiao.example.edu.cn --department library \\
        --key-id lib_0123456789abcdef --secret "$LIXIAO_SECRET" records.json

records.json is a JSON list (or one JSON object per line) of records: {"student_no": "...", <department fields>}.
They are sent in batches (all or nothing per batch). The signature:

    X-Lixiao-Signature = hex(HMAC-SHA256(secret, METHOD + "\\n" + PATH + "\\n" + TIMESTAMP + "\\n" + sha256hex(body)))

with X-Lixiao-Key = the key id and X-Lixiao-Timestamp = unix seconds (within 300 s of the server's clock).
A signed request is accepted once: send a retry with a new timestamp.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests


def sign_headers(secret: str, method: str, path: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The timestamp and signature headers of one request (add X-Lixiao-Key yourself)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    message = "\n".join([method.upper(), path, ts, hashlib.sha256(body).hexdigest()]).encode()
    return {"X-Lixiao-Timestamp": ts,
            "X-Lixiao-Signature": hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}


def send_batch(base_url: str, department: str, key_id: str, secret: str, records: list[dict[str, Any]],
               *, timeout: float = 60) -> requests.Response:
    """POST one batch of records, signed."""
    url = f"{base_url.rstrip('/')}/api/v1/departments/{department}/records"
    body = json.dumps({"records": records}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-Lixiao-Key": key_id,
               **sign_headers(secret, "POST", urlsplit(url).path, body)}
    return requests.post(url, data=body, headers=headers, timeout=timeout)


def load_records(path: Path) -> list[dict[str, Any]]:
    """A JSON list, or JSON lines."""
    text = path.read_text(encoding="utf-8").strip()
    if text.startswith("["):
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def send_all(base_url: str, department: str, key_id: str, secret: str, records: list[dict[str, Any]],
             *, batch_size: int = 1000) -> dict[str, int]:
    """Send every record in batches; stops at the first refused batch (raising with the server's error)."""
    totals = {"created": 0, "updated": 0, "unchanged": 0}
    for start in range(0, len(records), batch_size):
        response = send_batch(base_url, department, key_id, secret, records[start:start + batch_size])
        if response.status_code != 200:
            raise RuntimeError(f"batch starting at record {start} refused ({response.status_code}): {response.text}")
        for name, n in response.json()["counts"].items():
            totals[name] += n
    return totals


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="Lixiao's base URL")
    parser.add_argument("--department", required=True, choices=["library", "archives", "apartment", "finance"])
    parser.add_argument("--key-id", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    try:
        totals = send_all(args.url, args.department, args.key_id, args.secret, load_records(args.file),
                          batch_size=args.batch_size)
    except (RuntimeError, requests.RequestException, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps(totals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
