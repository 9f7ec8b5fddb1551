"""Judging one item's data the way the core does, for the items' rule tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.clearance.rules import ItemResult, Limits, Observation, Office, evaluate

NOW = datetime(2027, 6, 20, 8, 0, tzinfo=UTC)
OFFICE = Office("图书馆", "Library", "图书馆一楼", "Library ground floor", "0516-12345678")


def judge(key, data, *, limits=Limits(), read_at=NOW - timedelta(hours=1), **kw) -> ItemResult:  # type: ignore[no-untyped-def]
    """The item as the student would see it, from data read an hour ago."""
    return evaluate(key, Observation(data=data, read_at=read_at, source="test", **kw), OFFICE, limits, NOW)
