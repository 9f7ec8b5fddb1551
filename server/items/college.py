"""The college sign-off (学院审核): the student's college secretary signs them off, or records what they still owe
the college (lab keys, borrowed equipment) with a note.

An item that is a person's decision, not a department system's data: the college's secretary (a staff role scoped
to one college) signs at the console or in WeCom. Off by default; `LIXIAO_ITEMS=…,college` turns it on.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

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
    pick,
)
from server.items.fields import Choice, Day, Field, Text

STATUS = Choice(("pending", "signed_off", "owed"),
                {"待签字": "pending", "未签字": "pending", "": "pending", "已签字": "signed_off", "签字": "signed_off",
                 "通过": "signed_off", "同意": "signed_off", "尚欠": "owed", "未清": "owed", "欠": "owed"},
                {"pending": "待签字", "signed_off": "已签字", "owed": "尚欠"})
WORDS = {"pending": ("待学院签字", "awaiting sign-off"), "signed_off": ("已签字", "signed off"),
         "owed": ("尚有未清事项", "items still owed")}


class CollegeRecord(ItemRecord):
    """The college secretary's sign-off, or what the student still owes the college."""

    __tablename__ = "college_records"

    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | signed_off | owed
    owed: Mapped[str | None] = mapped_column(String(200), default=None)  # e.g. 实验室钥匙 1 把
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    signed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    signed_on: Mapped[date | None] = mapped_column(Date, default=None)


@dataclass(frozen=True)
class CollegeData:
    status: str = "pending"
    owed: str | None = None
    note: str | None = None
    signed_by: str | None = None
    signed_on: date | None = None


def rule(data: CollegeData, office: Office) -> Verdict:
    """Passed once the secretary has signed; something owed, or no signature yet, sends the student to them."""
    v = Verdict()
    if data.status == "signed_off":
        return v
    if data.status == "owed":
        owed = data.owed or "未注明"
        v.fail("OWED_TO_COLLEGE",
               (f"学院登记您尚有未清事项：{owed}", f"The college records something you still owe: {owed}"),
               (f"请先归还或结清，再到{office.place}请学院秘书签字",
                f"Return or settle it, then ask the college secretary at {office.place_en} to sign you off"))
    else:
        v.fail("NOT_SIGNED_OFF", ("学院秘书尚未签字确认", "The college secretary has not signed you off yet"),
               (f"请到{office.place}找学院秘书办理离校签字",
                f"Ask the college secretary at {office.place_en} to sign you off"))
    return v


def details(d: CollegeData) -> dict[str, Any]:
    """The sign-off as the student sees it."""
    return {"status": d.status, "owed": d.owed, "note": d.note, "signed_by": d.signed_by,
            "signed_on": d.signed_on.isoformat() if d.signed_on else None}


class CollegeDetails(BaseModel):
    status: Literal["pending", "signed_off", "owed"]
    owed: str | None = Schema(description="What the student still owes the college")
    note: str | None
    signed_by: str | None
    signed_on: str | None = Schema(description="YYYY-MM-DD")


def _sign_off(_current: Mapping[str, Any] | None, form: Mapping[str, str], who: Operator) -> Change:
    """The secretary signs the student off: nothing is owed any more."""
    return Change({"status": "signed_off", "owed": None, "note": form.get("note", "").strip()[:200] or None,
                   "signed_by": who.name, "signed_on": who.today}, "console:college_sign_off")


def _owed(_current: Mapping[str, Any] | None, form: Mapping[str, str], _who: Operator) -> Change:
    """The secretary records what is still owed; the signature, if any, no longer stands."""
    owed = form.get("owed", "").strip()[:200]
    if not owed:
        raise Refused(400, "请写明尚未结清的事项（如实验室钥匙、借用设备）",
                      "Say what is still owed (lab keys, borrowed equipment…)")
    return Change({"status": "owed", "owed": owed, "note": form.get("note", "").strip()[:200] or None,
                   "signed_by": None, "signed_on": None}, "console:college_owed")


DEMO: list[tuple[int, Any]] = [
    (40, "signed_off"), (10, {"owed": "实验室钥匙 1 把"}), (5, {"owed": "借用设备：示波器 1 台", "note": "已联系导师"}),
    (20, None),
]


def demo(rng: random.Random, _student: Any, _i: int, passing: bool, now: datetime) -> DemoState:
    """Signed off, owing the college something, or not signed yet (no record)."""
    chosen = "signed_off" if passing else pick(rng, DEMO)
    if chosen is None:
        return DemoState(None)
    if chosen == "signed_off":
        return DemoState({"status": "signed_off", "signed_by": "学院秘书（演示）",
                          "signed_on": (now - timedelta(days=rng.randint(0, 4))).date()})
    assert isinstance(chosen, dict)  # the table's other entries
    return DemoState({"status": "owed", **chosen})


ITEM = ClearanceItem(
    key="college",
    title=("学院审核", "College sign-off"),
    order=50,
    on_by_default=False,
    college_scoped=True,
    record=CollegeRecord,
    data=CollegeData,
    fields=(
        Field("status", STATUS, ("学院审核", "sign-off"), headers=("学院审核", "审核状态", "签字状态"), pulled=True),
        Field("owed", Text(200), ("未清事项", "still owed"), headers=("未清事项", "尚欠", "欠交物品")),
        Field("note", Text(200), ("说明", "note"), headers=("说明", "备注")),
        Field("signed_by", Text(64), ("签字人", "signed by"), headers=("签字人", "学院秘书")),
        Field("signed_on", Day(), ("签字日期", "signed on"), headers=("签字日期",)),
    ),
    rule=rule,
    details=details,
    details_schema=CollegeDetails,
    shown=(Shown("status", ("学院审核", "College sign-off"), WORDS), Shown("owed", ("未清事项", "Still owed")),
           Shown("note", ("说明", "Note")), Shown("signed_by", ("签字人", "Signed by")),
           Shown("signed_on", ("签字日期", "Signed on"))),
    office=("所在学院办公室", "your college's office"),
    passing={"status": "signed_off", "owed": None, "note": None, "signed_by": "学院秘书",
             "signed_on": date(2027, 6, 20)},
    demo=demo,
    console_actions=(
        ConsoleAction("sign-off", ("签字确认离校", "Sign the student off"), _sign_off,
                      inputs=(Input("note", ("说明（可选）", "Note (optional)"), maxlength=200),),
                      buttons=(Button(("签字确认", "Sign off")),),
                      note=("签字人将记为：{operator}", "The signature will be recorded as {operator}")),
        ConsoleAction("owed", ("登记未清事项", "Record what is still owed"), _owed,
                      inputs=(Input("owed", ("未清事项", "Still owed"), required=True, maxlength=200),
                              Input("note", ("说明（可选）", "Note (optional)"), maxlength=200)),
                      buttons=(Button(("登记未清事项", "Record it"), style="danger"),)),
    ),
)
