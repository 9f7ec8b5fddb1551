"""The archives (档案馆): whether it has the thesis and has reviewed it (the seed's §2.2.2).

Passed when the thesis submission status is "reviewed" (已审核); an empty status sends the student to hand the
thesis in at the archives, in person.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.items.base import (
    Button,
    Change,
    ClearanceItem,
    ConsoleAction,
    DemoState,
    ItemRecord,
    Office,
    Operator,
    Shown,
    Verdict,
    pick,
)
from server.items.fields import Choice, Field

THESIS = Choice(("not_submitted", "received", "reviewed"),
                {"未提交": "not_submitted", "": "not_submitted", "已收到": "received", "已接收": "received",
                 "已提交": "received", "已审核": "reviewed", "审核通过": "reviewed"},
                {"not_submitted": "未提交", "received": "已收到", "reviewed": "已审核"})


class ArchivesRecord(ItemRecord):
    """Whether the archives has the thesis and has reviewed it."""

    __tablename__ = "archives_records"

    thesis_status: Mapped[str] = mapped_column(String(16), default="not_submitted")


@dataclass(frozen=True)
class ArchivesData:
    thesis_status: str = "not_submitted"  # not_submitted | received | reviewed


def rule(data: ArchivesData, office: Office) -> Verdict:
    """Reviewed passes; received waits for the review; anything else: hand the thesis in, in person."""
    v = Verdict()
    if data.thesis_status == "reviewed":
        return v
    if data.thesis_status == "received":
        v.fail("THESIS_UNDER_REVIEW",
               ("档案馆已收到论文，尚未审核", "The archives has your thesis but has not reviewed it yet"),
               ("请等待档案馆审核", "Wait for the archives' review"))
    else:
        v.fail("THESIS_NOT_SUBMITTED", ("档案馆无论文提交记录", "The archives has no thesis from you"),
               (f"请本人到{office.place}线下提交论文", f"Hand in your thesis in person at {office.place_en}"))
    return v


class ArchivesDetails(BaseModel):
    thesis_status: Literal["not_submitted", "received", "reviewed"]


def _thesis(_current: Mapping[str, Any] | None, form: Mapping[str, str], _who: Operator) -> Change:
    status = form.get("status", "")
    return Change({"thesis_status": status}, f"console:thesis_{status}"[:60])


def demo(rng: random.Random, _student: Any, _i: int, passing: bool, _now: datetime) -> DemoState:
    """Reviewed, received or nothing yet."""
    return DemoState({"thesis_status": "reviewed" if passing else pick(rng, DEMO)})


DEMO = [(40, "reviewed"), (8, "received"), (10, "not_submitted")]

ITEM = ClearanceItem(
    key="archives",
    title=("档案馆", "Archives"),
    order=20,
    record=ArchivesRecord,
    data=ArchivesData,
    fields=(Field("thesis_status", THESIS, ("论文提交状态", "thesis"),
                  headers=("论文提交状态", "论文状态", "论文审核状态"), pulled=True),),
    rule=rule,
    details_schema=ArchivesDetails,
    details=lambda d: {"thesis_status": d.thesis_status},
    shown=(Shown("thesis_status", ("论文提交状态", "Thesis deposit"),
                 {"not_submitted": ("未提交", "not submitted"), "received": ("已接收，待审核", "received"),
                  "reviewed": ("已审核", "reviewed")}),),
    office=("档案馆 101 室", "Archives, room 101"),
    passing={"thesis_status": "reviewed"},
    demo=demo,
    console_actions=(ConsoleAction(
        "thesis", ("论文状态", "Thesis"), _thesis, inputs=(),
        buttons=(Button(("已收到论文", "Received"), "received"), Button(("已审核", "Reviewed"), "reviewed"),
                 Button(("改为未提交", "Not submitted"), "not_submitted", "secondary"))),),
)
