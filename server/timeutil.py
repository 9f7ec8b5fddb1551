"""Clock and time-zone helpers: stored in UTC, shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the +08:00 offset students and staff read."""
    return None if value is None else value.astimezone(SHANGHAI).isoformat(timespec="seconds")


def local_display(value: datetime | None) -> str:
    """A short Shanghai-time string for pages, e.g. 2027-06-20 14:30."""
    return "" if value is None else value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
