"""Sending signed requests to the departmental API in tests."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from server.departments.credentials import sign


def signed(base: str, method: str, path: str, payload: Any, *, key_id: str, secret: str,
           timestamp: int | None = None, body: bytes | None = None, timeout: Any = 60) -> requests.Response:
    """Send `payload` as JSON, signed as a departmental system would."""
    data = body if body is not None else json.dumps(payload, ensure_ascii=False).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"Content-Type": "application/json", "X-Lixiao-Key": key_id, "X-Lixiao-Timestamp": ts,
               "X-Lixiao-Signature": sign(secret, method, path, ts, data)}
    return requests.request(method, base + path, data=data, headers=headers, timeout=timeout)
