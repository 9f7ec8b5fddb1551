"""Numbers read from a page's URL, bounded: a page or an id that no column can hold is a 400, never a 500."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.routing import IntegerConverter

from server.errors import ApiError, ErrorCode

MAX_ID = 2**31 - 1  # INTEGER primary keys on MariaDB
MAX_PAGE = 100_000


class BoundedInt(IntegerConverter):
    """`<int:…>` in every route of the app: an id no INTEGER column can hold names nothing (404), where the
    database would have failed on it (SQLite: OverflowError; MariaDB: a syntax error)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def _out_of_range(what: str, what_en: str) -> ApiError:
    return ApiError(400, ErrorCode.VALIDATION_ERROR, f"{what}超出范围", f"The {what_en} is out of range")


def page_number() -> int:
    """`?page=`: 1 when absent or not a number, at least 1, and a 400 beyond MAX_PAGE."""
    raw = request.args.get("page", "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return 1
    if len(raw) > len(str(MAX_PAGE)) or int(raw) > MAX_PAGE:
        raise _out_of_range("页码", "page number")
    return max(1, int(raw))


def id_number(raw: str, what: str, what_en: str) -> int | None:
    """An id given as text: None when it is not a number, a 400 when no row could have it."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    if len(raw) > len(str(MAX_ID)) or int(raw) > MAX_ID:
        raise _out_of_range(what, what_en)
    return int(raw)
