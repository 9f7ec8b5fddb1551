"""Judging items: SPEC §4's three states around each item's own rule, as pure functions over plain data.

An item's rule (in its module under server/items/) says why its data does not pass; this module decides whether
the data can be judged at all (a source that failed, a student it does not know, stale data: `unavailable`,
never passed), and `Judge` is the one way Lixiao judges a student's items from their records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol

from server.items import registry
from server.items.base import ClearanceItem, Message, Office
from server.items.fields import yuan
from server.settings import Settings

__all__ = ["ANSWERED", "ItemResult", "Judge", "Limits", "Message", "Observation", "Office", "Status", "blockers",
           "evaluate",
           "limits", "office", "status_of", "yuan"]


ANSWERED = "answered: "  # a fail_reason starting so: the system answered, unusably (it is not unreachable)


class Status(StrEnum):
    """The three states of an item; only PASSED lets a student submit."""

    PASSED = "passed"
    NOT_PASSED = "not_passed"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Observation:
    """What Lixiao knows of one item for one student: the data, and how trustworthy it is.

    `data is None` with `known=True` means the source has never been read for this student.
    `known=False` means the source answered that it does not know the student.
    """

    data: Any
    read_at: datetime | None
    source: str
    known: bool = True
    failed_at: datetime | None = None
    answered: bool = False  # the failure was an answer that could not be used, not an unreachable system


@dataclass(frozen=True)
class ItemResult:
    """One item as the student sees it."""

    key: str
    status: Status
    details: dict[str, Any]
    reasons: tuple[Message, ...] = ()
    next_steps: tuple[Message, ...] = ()
    updated_at: datetime | None = None
    source: str = ""
    office: Office | None = None


@dataclass(frozen=True)
class Limits:
    """How old a record may be before it no longer counts (0 = never stale)."""

    freshness_hours: float = 0.0


def office(settings: Settings, key: str) -> Office:
    """The office of one item: its title, and the configured (else the item's default) place and phone."""
    item, dept = registry.get(key), settings.department(key)
    return Office(name=item.title[0], name_en=item.title[1], place=dept.place or item.office[0],
                  place_en=dept.place_en or item.office[1], phone=dept.phone or settings.help_phone)


def limits(settings: Settings, key: str) -> Limits:
    """The freshness limit of one item."""
    return Limits(freshness_hours=settings.department(key).freshness_hours)


def _unavailable(item: ClearanceItem, obs: Observation, office: Office, code: str, reason: tuple[str, str]
                 ) -> ItemResult:
    step = (f"请稍后刷新；如持续无法查询，请致电{office.name} {office.phone}",
            f"Refresh later; if it persists, call {office.name_en} at {office.phone}")
    return ItemResult(
        key=item.key,
        status=Status.UNAVAILABLE,
        details=item.details(obs.data) if obs.data is not None else {},
        reasons=(Message(code, *reason),),
        next_steps=(Message(code, *step),),
        updated_at=obs.read_at,
        source=obs.source,
        office=office,
    )


_UNAVAILABLE: dict[str, tuple[str, str]] = {
    "SOURCE_FAILED": ("{name}系统暂时无法查询", "{name_en}'s system cannot be reached now"),
    "SOURCE_ANSWER_UNUSABLE": ("{name}系统已答复，但答复无法识别", "{name_en}'s system answered, but not usably"),
    "UNKNOWN_TO_SOURCE": ("{name}系统中没有您的记录", "{name_en} has no record of you"),
    "NOT_YET_READ": ("尚未取得{name}的数据", "No data from {name_en} yet"),
    "STALE": ("{name}数据已过期，正在等待更新", "{name_en}'s data is out of date"),
}


def _unavailable_code(obs: Observation, limits: Limits, now: datetime) -> str | None:
    """Why the data cannot be judged (a key of _UNAVAILABLE), or None when it can."""
    if obs.failed_at is not None and (obs.read_at is None or obs.failed_at >= obs.read_at):
        return "SOURCE_ANSWER_UNUSABLE" if obs.answered else "SOURCE_FAILED"
    if not obs.known:
        return "UNKNOWN_TO_SOURCE"
    if obs.data is None:
        return "NOT_YET_READ"
    if limits.freshness_hours and (obs.read_at is None or obs.read_at < now - timedelta(hours=limits.freshness_hours)):
        return "STALE"
    return None


def evaluate(key: str, obs: Observation, office: Office, limits: Limits, now: datetime) -> ItemResult:
    """Decide one item: unavailable unless the data is known, fresh and from a source that answered."""
    item = registry.get(key)
    code = _unavailable_code(obs, limits, now)
    if code is not None:
        zh, en = _UNAVAILABLE[code]
        return _unavailable(item, obs, office, code, (zh.format(name=office.name), en.format(name_en=office.name_en)))
    verdict = item.rule(obs.data, office)
    return ItemResult(
        key=key,
        status=Status.NOT_PASSED if verdict.reasons else Status.PASSED,
        details=item.details(obs.data),
        reasons=tuple(verdict.reasons),
        next_steps=tuple(verdict.steps),
        updated_at=obs.read_at,
        source=obs.source,
        office=office,
    )


@lru_cache(maxsize=4096)
def _passes(key: str, data: Any, office: Office) -> bool:
    return not registry.get(key).rule(data, office).reasons


def status_of(key: str, obs: Observation, office: Office, limits: Limits, now: datetime) -> Status:
    """The status `evaluate` gives, without its messages: imports judge hundreds of thousands of items.

    The verdict of the same data is remembered (the rules are pure); unhashable data (fee lines) is judged afresh.
    """
    if _unavailable_code(obs, limits, now) is not None:
        return Status.UNAVAILABLE
    try:
        passes = _passes(key, obs.data, office)
    except TypeError:
        passes = not registry.get(key).rule(obs.data, office).reasons
    return Status.PASSED if passes else Status.NOT_PASSED


def blockers(items: Sequence[ItemResult]) -> list[str]:
    """The keys of the items that stop a submission."""
    return [i.key for i in items if i.status is not Status.PASSED]


# ---- observing records -------------------------------------------------------------------------------------------

def observe(key: str, row: Any, student: Any, pulls: bool) -> Observation:
    """What we know of one item from its record row (None: no row) and the student.

    For a department that keeps its records in Lixiao (it does not pull), a missing row means the department
    has recorded nothing about the student: the item's empty data, which its rule judges (finance with no data
    passes; archives with an empty status does not). A pulled source with no row has not been read yet, unless
    the item knows the answer without a record (a student who never lived on campus has nothing to move out of).
    """
    item = registry.get(key)
    if row is None:
        if pulls:
            return Observation(data=item.assumed(student), read_at=None, source="", known=True)
        return _nothing_recorded(item, tuple(getattr(student, name) for name in item.student_fields), student)
    return Observation(
        data=item.read(row, student) if row.known else None,
        read_at=row.read_at,
        source=row.source,
        known=row.known,
        failed_at=row.failed_at,
        answered=(row.fail_reason or "").startswith(ANSWERED),
    )


_NOTHING: dict[tuple[str, tuple[Any, ...]], Observation] = {}


def _nothing_recorded(item: ClearanceItem, signature: tuple[Any, ...], student: Any) -> Observation:
    """The observation of "nothing recorded": the same for every student alike in the item's student fields."""
    found = _NOTHING.get((item.key, signature))
    if found is None:
        found = Observation(data=item.nothing_recorded(student), read_at=None, source="local", known=True)
        if len(_NOTHING) < 1024:
            _NOTHING[item.key, signature] = found
    return found


# ---- the one way to judge a student's items ----------------------------------------------------------------------

class Pulls(Protocol):
    """What the core asks of a departmental source: whether records are read from it (or kept here)."""

    pulls: bool


@dataclass(frozen=True)
class Judge:
    """Judges students' items as the settings and sources say, at one moment.

    Made once per request or batch (`Judge.of`): the offices and limits of the items are looked up once.
    """

    items: registry.Items
    offices: Mapping[str, Office]
    limits: Mapping[str, Limits]
    pulled: frozenset[str]
    now: datetime

    @classmethod
    def of(cls, settings: Settings, sources: Mapping[str, Pulls], now: datetime) -> Judge:
        """The judge of the active items, given where each item's records come from."""
        items = registry.active(settings)
        return cls(items, {i.key: office(settings, i.key) for i in items},
                   {i.key: limits(settings, i.key) for i in items},
                   frozenset(key for key, source in sources.items() if source.pulls), now)

    @property
    def keys(self) -> tuple[str, ...]:
        """The active items' keys, in order."""
        return self.items.keys

    def observe(self, key: str, row: Any, student: Any) -> Observation:
        """What is known of one item."""
        return observe(key, row, student, key in self.pulled)

    def item(self, key: str, row: Any, student: Any) -> ItemResult:
        """One item, with its details, reasons and next steps."""
        return evaluate(key, self.observe(key, row, student), self.offices[key], self.limits[key], self.now)

    def status(self, key: str, row: Any, student: Any) -> Status:
        """One item's status alone (cheaper: the bulk writers judge many)."""
        return status_of(key, self.observe(key, row, student), self.offices[key], self.limits[key], self.now)

    def all(self, student: Any, rows: Mapping[str, Any]) -> list[ItemResult]:
        """Every active item of a student from their rows (a missing key: no row)."""
        return [self.item(key, rows.get(key), student) for key in self.keys]

    def statuses(self, student: Any, rows: Mapping[str, Any], keys: Iterable[str] | None = None) -> dict[str, str]:
        """Every active item's status as text."""
        return {key: str(self.status(key, rows.get(key), student)) for key in (keys or self.keys)}
