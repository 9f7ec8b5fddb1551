"""The clearance rules of the seed's guide and SPEC §4, as pure functions over plain data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any


class Status(StrEnum):
    """The three states of an item; only PASSED lets a student submit."""

    PASSED = "passed"
    NOT_PASSED = "not_passed"
    UNAVAILABLE = "unavailable"


ITEM_KEYS = ("library", "archives", "apartment", "finance")


@dataclass(frozen=True)
class Office:
    """Where a student goes and whom they call about one item."""

    name: str
    name_en: str
    place: str
    place_en: str
    phone: str


@dataclass(frozen=True)
class Message:
    """A sentence shown to the student, in both languages."""

    code: str
    message: str
    message_en: str


@dataclass(frozen=True)
class LibraryData:
    owed_books: int = 0
    owed_fees_cents: int = 0
    violations: int = 0
    card_status: str = "active"  # active | cancelled
    thesis_status: str = "not_submitted"  # not_submitted | submitted | approved | rejected


@dataclass(frozen=True)
class ArchivesData:
    thesis_status: str = "not_submitted"  # not_submitted | received | reviewed


@dataclass(frozen=True)
class ApartmentData:
    lived_on_campus: bool = True
    building: str | None = None
    move_out_date: date | None = None
    move_out_handler: str | None = None


@dataclass(frozen=True)
class FinanceData:
    arrears_cents: int = 0
    fee_items: Sequence[dict[str, Any]] = ()


DepartmentData = LibraryData | ArchivesData | ApartmentData | FinanceData


@dataclass(frozen=True)
class Observation:
    """What Lixiao knows of one item for one student: the data, and how trustworthy it is.

    `data is None` with `known=True` means the source has never been read for this student.
    `known=False` means the source answered that it does not know the student.
    """

    data: DepartmentData | None
    read_at: datetime | None
    source: str
    known: bool = True
    failed_at: datetime | None = None


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


@dataclass
class _Verdict:
    reasons: list[Message] = field(default_factory=list)
    steps: list[Message] = field(default_factory=list)

    def fail(self, code: str, reason: tuple[str, str], step: tuple[str, str]) -> None:
        self.reasons.append(Message(code, *reason))
        self.steps.append(Message(code, *step))


def yuan(cents: int) -> str:
    """Cents as a yuan amount string, e.g. 1250 → "12.50"."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def can_cancel_library_card(data: LibraryData) -> bool:
    """The seed: a card can be cancelled when nothing is owed and there are no violations."""
    return data.owed_books == 0 and data.owed_fees_cents == 0 and data.violations == 0


def _library(data: LibraryData, office: Office) -> _Verdict:
    v = _Verdict()
    at = (office.place, office.place_en)
    if data.owed_books:
        v.fail(
            "OWED_BOOKS",
            (f"尚有 {data.owed_books} 本图书未归还", f"{data.owed_books} borrowed book(s) not returned"),
            (f"请到{at[0]}归还图书", f"Return the books at {at[1]}"),
        )
    if data.owed_fees_cents:
        v.fail(
            "OWED_FEES",
            (f"尚有图书馆欠费 {yuan(data.owed_fees_cents)} 元", f"Library fees of ¥{yuan(data.owed_fees_cents)} owed"),
            (f"请到{at[0]}缴清欠费", f"Pay the fees at {at[1]}"),
        )
    if data.violations:
        v.fail(
            "VIOLATIONS",
            (f"尚有 {data.violations} 条违章记录未处理", f"{data.violations} violation(s) not cleared"),
            (f"请到{at[0]}处理违章记录", f"Clear the violations at {at[1]}"),
        )
    if data.card_status != "cancelled":
        if can_cancel_library_card(data):
            step = ("请在本页点击“注销借书证”", "Cancel your library card on this page")
        else:
            step = ("还清图书、欠费和违章后即可在本页注销借书证",
                    "Once books, fees and violations are cleared, cancel the card on this page")
        v.fail("CARD_ACTIVE", ("借书证尚未注销", "Library card not cancelled"), step)
    if data.thesis_status != "approved":
        reason = {
            "submitted": ("论文已提交，图书馆尚在审核", "Thesis submitted, awaiting the library's review"),
            "rejected": ("论文提交记录审核未通过", "Thesis deposit was rejected by the library"),
        }.get(data.thesis_status, ("尚未向图书馆提交学位论文", "Thesis not yet deposited at the library"))
        step = (
            ("请等待图书馆审核，如有疑问请致电", "Wait for the library's review; call if in doubt")
            if data.thesis_status == "submitted"
            else ("请向图书馆提交学位论文电子版", "Deposit your thesis with the library")
        )
        v.fail("THESIS_NOT_APPROVED", reason, step)
    return v


def _archives(data: ArchivesData, office: Office) -> _Verdict:
    v = _Verdict()
    if data.thesis_status == "reviewed":
        return v
    if data.thesis_status == "received":
        v.fail(
            "THESIS_UNDER_REVIEW",
            ("档案馆已收到论文，尚未审核", "The archives has your thesis but has not reviewed it yet"),
            ("请等待档案馆审核", "Wait for the archives' review"),
        )
    else:
        v.fail(
            "THESIS_NOT_SUBMITTED",
            ("档案馆无论文提交记录", "The archives has no thesis from you"),
            (f"请本人到{office.place}线下提交论文", f"Hand in your thesis in person at {office.place_en}"),
        )
    return v


def _apartment(data: ApartmentData, office: Office) -> _Verdict:
    v = _Verdict()
    if not data.lived_on_campus or (data.move_out_date and data.move_out_handler):
        return v
    building = data.building or ""
    v.fail(
        "NOT_MOVED_OUT",
        ("尚未办理退宿手续", "Move-out from campus housing not recorded"),
        (
            f"请到{building or '所住宿舍楼'}的公寓管理员处办理退宿",
            f"Check out with the apartment manager of {building or 'your building'}",
        ),
    )
    return v


def _finance(data: FinanceData, office: Office) -> _Verdict:
    v = _Verdict()
    if data.arrears_cents > 0:
        v.fail(
            "ARREARS",
            (f"尚有欠费 {yuan(data.arrears_cents)} 元", f"¥{yuan(data.arrears_cents)} in arrears"),
            (f"请缴清欠费（可到{office.place}办理）", f"Pay the arrears (at {office.place_en})"),
        )
    return v


_RULES = {"library": _library, "archives": _archives, "apartment": _apartment, "finance": _finance}
_EMPTY = {"library": LibraryData(), "archives": ArchivesData(), "apartment": ApartmentData(), "finance": FinanceData()}


def details_of(key: str, data: DepartmentData | None) -> dict[str, Any]:
    """The fields the student sees for one item (the seed's guide lists them)."""
    d = data if data is not None else _EMPTY[key]
    if isinstance(d, LibraryData):
        return {
            "owed_books": d.owed_books,
            "owed_fees": yuan(d.owed_fees_cents),
            "violations": d.violations,
            "card_status": d.card_status,
            "thesis_status": d.thesis_status,
            "can_cancel_card": d.card_status != "cancelled" and can_cancel_library_card(d),
        }
    if isinstance(d, ArchivesData):
        return {"thesis_status": d.thesis_status}
    if isinstance(d, ApartmentData):
        return {
            "lived_on_campus": d.lived_on_campus,
            "building": d.building,
            "move_out_date": d.move_out_date.isoformat() if d.move_out_date else None,
            "move_out_handler": d.move_out_handler,
        }
    return {
        "arrears": yuan(d.arrears_cents),
        "fee_items": [
            {"name": str(i.get("name", "")), "due": yuan(int(i.get("due_cents", 0))),
             "paid": yuan(int(i.get("paid_cents", 0)))}
            for i in d.fee_items
        ],
    }


def _unavailable(key: str, obs: Observation, office: Office, code: str, reason: tuple[str, str]) -> ItemResult:
    step = (f"请稍后刷新；如持续无法查询，请致电{office.name} {office.phone}",
            f"Refresh later; if it persists, call {office.name_en} at {office.phone}")
    return ItemResult(
        key=key,
        status=Status.UNAVAILABLE,
        details=details_of(key, obs.data) if obs.data is not None else {},
        reasons=(Message(code, *reason),),
        next_steps=(Message(code, *step),),
        updated_at=obs.read_at,
        source=obs.source,
        office=office,
    )


_UNAVAILABLE: dict[str, tuple[str, str]] = {
    "SOURCE_FAILED": ("{name}系统暂时无法查询", "{name_en}'s system cannot be reached now"),
    "UNKNOWN_TO_SOURCE": ("{name}系统中没有您的记录", "{name_en} has no record of you"),
    "NOT_YET_READ": ("尚未取得{name}的数据", "No data from {name_en} yet"),
    "STALE": ("{name}数据已过期，正在等待更新", "{name_en}'s data is out of date"),
}


def _unavailable_code(obs: Observation, limits: Limits, now: datetime) -> str | None:
    """Why the data cannot be judged (a key of _UNAVAILABLE), or None when it can."""
    if obs.failed_at is not None and (obs.read_at is None or obs.failed_at >= obs.read_at):
        return "SOURCE_FAILED"
    if not obs.known:
        return "UNKNOWN_TO_SOURCE"
    if obs.data is None:
        return "NOT_YET_READ"
    if limits.freshness_hours and (obs.read_at is None or obs.read_at < now - timedelta(hours=limits.freshness_hours)):
        return "STALE"
    return None


def evaluate(key: str, obs: Observation, office: Office, limits: Limits, now: datetime) -> ItemResult:
    """Decide one item: unavailable unless the data is known, fresh and from a source that answered."""
    code = _unavailable_code(obs, limits, now)
    if code is not None:
        zh, en = _UNAVAILABLE[code]
        return _unavailable(key, obs, office, code, (zh.format(name=office.name), en.format(name_en=office.name_en)))
    verdict = _RULES[key](obs.data, office)  # type: ignore[operator]
    return ItemResult(
        key=key,
        status=Status.NOT_PASSED if verdict.reasons else Status.PASSED,
        details=details_of(key, obs.data),
        reasons=tuple(verdict.reasons),
        next_steps=tuple(verdict.steps),
        updated_at=obs.read_at,
        source=obs.source,
        office=office,
    )


@lru_cache(maxsize=4096)
def _passes(key: str, data: DepartmentData, office: Office) -> bool:
    return not _RULES[key](data, office).reasons  # type: ignore[operator]


def status_of(key: str, obs: Observation, office: Office, limits: Limits, now: datetime) -> Status:
    """The status `evaluate` gives, without its messages: imports judge hundreds of thousands of items.

    The verdict of the same data is remembered (the rules are pure); unhashable data (fee lines) is judged afresh.
    """
    if _unavailable_code(obs, limits, now) is not None:
        return Status.UNAVAILABLE
    try:
        passes = _passes(key, obs.data, office)  # type: ignore[arg-type]
    except TypeError:
        passes = not _RULES[key](obs.data, office).reasons  # type: ignore[operator]
    return Status.PASSED if passes else Status.NOT_PASSED


def blockers(items: Sequence[ItemResult]) -> list[str]:
    """The keys of the items that stop a submission."""
    return [i.key for i in items if i.status is not Status.PASSED]
