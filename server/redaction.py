"""Keep secrets out of logs, whoever logs them: our code, werkzeug, urllib3, wechatpy, python-cas, gunicorn.

A log record factory (process-wide, installed once) rewrites every record as it is made: values of
sensitive query parameters and JSON fields, bearer tokens, PEM private keys, and the exact secrets the app
was configured with (`register_secrets`) become `[redacted]`. Tracebacks attached to a record are
formatted and redacted too, because exception messages carry URLs (a failed jscode2session call names its
`secret` in the URL). Only records a logger actually emits are touched, so disabled DEBUG logging costs
nothing.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Callable, Iterable

REDACTED = "[redacted]"
# Query parameters and JSON/form fields whose values are secrets or one-time credentials.
_NAMES = ("token|access_token|refresh_token|ticket|code|js_code|secret|corpsecret|appsecret|session_key|"
          "password|passwd|api_key|signature|state|csrf_token")
_QUERY = re.compile(rf"(?i)([?&;](?:{_NAMES})=)[^&\s\"'<>]+")
_FIELD = re.compile(rf"(?i)([\"']?\b(?:{_NAMES})[\"']?\s*[:=]\s*[\"']?)[^\"'&,\s}}]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)
_MIN_SECRET_LENGTH = 8  # shorter values would blank out ordinary words

_secrets: set[str] = set()
_lock = threading.Lock()
_installed: list[Callable[..., logging.LogRecord]] = []


def redact(text: str) -> str:
    """The text with every secret it shows replaced by `[redacted]`."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _PEM.sub(REDACTED, text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    text = _QUERY.sub(rf"\1{REDACTED}", text)
    return _FIELD.sub(rf"\1{REDACTED}", text)


def register_secrets(values: Iterable[str]) -> None:
    """Redact these exact values (configured secrets and keys, and each line of a PEM) wherever they appear."""
    with _lock:
        for value in values:
            for part in [value, *value.splitlines()]:
                part = part.strip()
                if len(part) >= _MIN_SECRET_LENGTH and not part.startswith("-----"):
                    _secrets.add(part)


def install() -> None:
    """Make every log record of this process pass through `redact` (idempotent)."""
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed.append(previous)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is logging's problem to report, not ours to hide
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
