"""The apartment office (总务部公寓与物业中心): the move-out from campus housing (the seed's §2.2.3).

Passed when the move-out is recorded (a date and who handled it), or when the student never lived on campus;
whether they did comes from the roster, so this item's data depends on the student as well as the record.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from pydantic import Field as Schema
from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from server.items.base import (
    Button,
    Change,
    ClearanceItem,
    ConsoleAction,
    DemoState,
    Input,
    ItemRecord,
    Office,
    Operator,
    Refused,
    Shown,
    Verdict,
)
from server.items.fields import DATE_SPELLINGS, CellHelp, Day, Field, FieldProblem, Text


class ApartmentRecord(ItemRecord):
    """The move-out from campus housing."""

    __tablename__ = "apartment_records"

    building: Mapped[str | None] = mapped_column(String(64), default=None)
    move_out_date: Mapped[date | None] = mapped_column(Date, default=None)
    move_out_handler: Mapped[str | None] = mapped_column(String(64), default=None)


@dataclass(frozen=True)
class ApartmentData:
    lived_on_campus: bool = True
    building: str | None = None
    move_out_date: date | None = None
    move_out_handler: str | None = None


def rule(data: ApartmentData, office: Office) -> Verdict:
    """Moved out (date and handler), or never lived on campus."""
    v = Verdict()
    if not data.lived_on_campus or (data.move_out_date and data.move_out_handler):
        return v
    building = data.building or ""
    v.fail("NOT_MOVED_OUT", ("尚未办理退宿手续", "Move-out from campus housing not recorded"),
           (f"请到{building or '所住宿舍楼'}的公寓管理员处办理退宿",
            f"Check out with the apartment manager of {building or 'your building'}"))
    return v


def details(d: ApartmentData) -> dict[str, Any]:
    """Where the student lived and the move-out, as the seed's guide shows them; a move-out is shown only when it
    counts (date and handler), so a date never stands beside "not moved out"."""
    moved_out = bool(d.move_out_date and d.move_out_handler)
    return {"lived_on_campus": d.lived_on_campus, "building": d.building,
            "move_out_date": d.move_out_date.isoformat() if moved_out and d.move_out_date else None,
            "move_out_handler": d.move_out_handler if moved_out else None}


def _together(values: Mapping[str, Any]) -> None:
    """One rule for every write path: a move-out date needs its handler in the same write (the console fills in the
    operator); a record never holds a date that does not count."""
    if values.get("move_out_date") and not values.get("move_out_handler"):
        raise FieldProblem("move_out_handler", "有退宿日期时必须同时填写退宿办理人",
                           "A move-out date needs the move-out handler in the same record")


class ApartmentDetails(BaseModel):
    lived_on_campus: bool
    building: str | None
    move_out_date: str | None = Schema(description="YYYY-MM-DD")
    move_out_handler: str | None


def _move_out(_current: Mapping[str, Any] | None, form: Mapping[str, str], who: Operator) -> Change:
    """The apartment manager checks the student out: the handler is the operator, the date today unless given."""
    day = FIELDS[1].kind.parse(FIELDS[1].named, form.get("move_out_date", "")) or who.today
    if day > who.today:
        raise Refused(400, "退宿日期不能晚于今天", "The move-out date cannot be in the future")
    values: dict[str, Any] = {"move_out_date": day, "move_out_handler": who.name}
    building = form.get("building", "").strip()[:64]
    if building:
        values["building"] = building
    return Change(values, "console:move_out")


BUILDINGS = ["竹园1号楼", "竹园3号楼", "松园2号楼", "桃园5号楼", "梅园4号楼", "研究生公寓A栋"]


def demo(rng: random.Random, student: Any, _i: int, passing: bool, now: datetime) -> DemoState:
    """No record for those who lived off campus; most others have moved out."""
    if not student.lived_on_campus:
        return DemoState(None)
    moved_out = passing or rng.random() < 0.6
    return DemoState({"building": rng.choice(BUILDINGS),
                      "move_out_date": (now - timedelta(days=rng.randint(0, 5))).date() if moved_out else None,
                      "move_out_handler": "公寓管理员（演示）" if moved_out else None})


FIELDS = (
    Field("building", Text(64), ("宿舍楼", "building"), headers=("宿舍楼", "楼栋", "宿舍")),
    Field("move_out_date", Day(), ("退宿日期", "move-out date"), headers=("退宿日期",),
          help=CellHelp(("日期，须同时填写退宿办理人，否则该行被拒绝；空 = 未退宿",
                         "A date; the handler must be in the same row or the row is refused; empty = not moved out"),
                        aliases=DATE_SPELLINGS)),
    Field("move_out_handler", Text(64), ("退宿办理人", "move-out handler"), headers=("退宿办理人", "办理人")),
)

ITEM = ClearanceItem(
    key="apartment",
    title=("总务部公寓与物业中心", "Apartment and Property Centre"),
    order=30,
    record=ApartmentRecord,
    data=ApartmentData,
    fields=FIELDS,
    rule=rule,
    details=details,
    details_schema=ApartmentDetails,
    shown=(Shown("lived_on_campus", ("在校住宿", "Lived on campus")), Shown("building", ("宿舍楼", "Building")),
           Shown("move_out_date", ("退宿日期", "Move-out date")),
           Shown("move_out_handler", ("退宿办理人", "Move-out handled by"))),
    office=("所住宿舍楼的公寓管理员处", "The apartment manager of your building"),
    passing={"building": "竹园3号楼", "move_out_date": date(2027, 6, 20), "move_out_handler": "王管理员"},
    demo=demo,
    data_of=lambda row, student: ApartmentData(student.lived_on_campus, row.building, row.move_out_date,
                                               row.move_out_handler),
    empty=lambda student: ApartmentData(lived_on_campus=bool(student.lived_on_campus)),
    assumed=lambda student: None if student.lived_on_campus else ApartmentData(lived_on_campus=False),
    student_fields=("lived_on_campus",),
    together=_together,
    console_actions=(ConsoleAction(
        "move-out", ("记录退宿", "Record the move-out"), _move_out,
        inputs=(Input("move_out_date", ("退宿日期", "Move-out date"), "date", until_today=True,
                      value=lambda _current, today: today.isoformat()),
                Input("building", ("宿舍楼（可选）", "Building (optional)"), maxlength=64,
                      value=lambda current, _today: (current or {}).get("building") or "")),
        buttons=(Button(("确认退宿", "Record move-out")),),
        note=("办理人将记为：{operator}", "The handler will be recorded as {operator}"),
    ),),
)
