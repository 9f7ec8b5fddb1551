"""The library (图书馆): loans, fees, violations, the library card and the thesis deposit (the seed's §2.2.1).

Passed when no book is owed, no fee is owed, no violation is open, the card is cancelled and the thesis record
is approved. With nothing owed and no violation the student cancels the card themselves, from the phone.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from pydantic import Field as Schema
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.errors import ErrorCode
from server.items.base import (
    Change,
    ClearanceItem,
    ConsoleAction,
    DemoState,
    Input,
    ItemRecord,
    Office,
    Operator,
    Shown,
    StudentAction,
    Verdict,
    pick,
)
from server.items.fields import Cents, Choice, Column, Count, Field, yuan

CARD = Choice(("active", "cancelled"),
              {"正常": "active", "有效": "active", "未注销": "active", "在用": "active", "canceled": "cancelled",
               "已注销": "cancelled", "注销": "cancelled"}, {"active": "正常", "cancelled": "已注销"})
THESIS = Choice(("not_submitted", "submitted", "approved", "rejected"),
                {"未提交": "not_submitted", "": "not_submitted", "已提交": "submitted", "待审核": "submitted",
                 "审核中": "submitted", "记录审核通过": "approved", "审核通过": "approved", "通过": "approved",
                 "审核未通过": "rejected", "未通过": "rejected", "退回": "rejected"},
                {"not_submitted": "未提交", "submitted": "已提交", "approved": "记录审核通过",
                 "rejected": "审核未通过"})
CARD_WORDS = {"active": ("未注销", "active"), "cancelled": ("已注销", "cancelled")}
THESIS_WORDS = {"not_submitted": ("未提交", "not submitted"), "submitted": ("已提交，待审核", "submitted"),
                "approved": ("记录审核通过", "approved"), "rejected": ("审核未通过", "rejected")}


class LibraryRecord(ItemRecord):
    """Loans, fees, violations, card and thesis deposit at the library."""

    __tablename__ = "library_records"

    owed_books: Mapped[int] = mapped_column(Integer, default=0)
    owed_fees_cents: Mapped[int] = mapped_column(Integer, default=0)
    violations: Mapped[int] = mapped_column(Integer, default=0)
    card_status: Mapped[str] = mapped_column(String(16), default="active")  # active | cancelled
    thesis_status: Mapped[str] = mapped_column(String(16), default="not_submitted")


@dataclass(frozen=True)
class LibraryData:
    owed_books: int = 0
    owed_fees_cents: int = 0
    violations: int = 0
    card_status: str = "active"  # active | cancelled
    thesis_status: str = "not_submitted"  # not_submitted | submitted | approved | rejected


def can_cancel_card(data: LibraryData) -> bool:
    """The seed: a card can be cancelled when nothing is owed and there are no violations."""
    return data.owed_books == 0 and data.owed_fees_cents == 0 and data.violations == 0


def rule(data: LibraryData, office: Office) -> Verdict:
    """The seed's library rule, every unmet condition with its own reason and step."""
    v = Verdict()
    at = (office.place, office.place_en)
    if data.owed_books:
        v.fail("OWED_BOOKS",
               (f"尚有 {data.owed_books} 本图书未归还", f"{data.owed_books} borrowed book(s) not returned"),
               (f"请到{at[0]}归还图书", f"Return the books at {at[1]}"))
    if data.owed_fees_cents:
        owed = yuan(data.owed_fees_cents)
        v.fail("OWED_FEES", (f"尚有图书馆欠费 {owed} 元", f"Library fees of ¥{owed} owed"),
               (f"请到{at[0]}缴清欠费", f"Pay the fees at {at[1]}"))
    if data.violations:
        v.fail("VIOLATIONS",
               (f"尚有 {data.violations} 条违章记录未处理", f"{data.violations} violation(s) not cleared"),
               (f"请到{at[0]}处理违章记录", f"Clear the violations at {at[1]}"))
    if data.card_status != "cancelled":
        if can_cancel_card(data):
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
        step = (("请等待图书馆审核，如有疑问请致电", "Wait for the library's review; call if in doubt")
                if data.thesis_status == "submitted"
                else ("请向图书馆提交学位论文电子版", "Deposit your thesis with the library"))
        v.fail("THESIS_NOT_APPROVED", reason, step)
    return v


def details(d: LibraryData) -> dict[str, Any]:
    """The fields the seed's guide shows, and whether the card can be cancelled now."""
    return {"owed_books": d.owed_books, "owed_fees": yuan(d.owed_fees_cents), "violations": d.violations,
            "card_status": d.card_status, "thesis_status": d.thesis_status,
            "can_cancel_card": d.card_status != "cancelled" and can_cancel_card(d)}


class LibraryDetails(BaseModel):
    owed_books: int
    owed_fees: str = Schema(description="Yuan, e.g. 12.50")
    violations: int
    card_status: Literal["active", "cancelled"]
    thesis_status: Literal["not_submitted", "submitted", "approved", "rejected"]
    can_cancel_card: bool


def _update(_current: Mapping[str, Any] | None, form: Mapping[str, str], _who: Operator) -> Change:
    """The library's form has the columns of its import files: it is read the same way."""
    return Change(ITEM.parse_cells({name: form.get(name, "") for name in ITEM.import_columns}), "console:library")


def _current(name: str, default: str) -> Any:
    return lambda current, _today: str(current[name]) if current else default


FIELDS = (
    Field("owed_books", Count(), ("欠书", "owed books"), headers=("欠书", "欠书数量", "欠书数", "未还图书"),
          pulled=True),
    Field("owed_fees_cents", Cents(), ("欠费（分）", "owed fees (cents)"), pulled=True,
          columns=(Column("owed_fees", ("欠费（元）", "owed fees (yuan)"), ("欠费", "欠费金额", "图书馆欠费"),
                          Cents.HELP),)),
    Field("violations", Count(), ("违章", "violations"), headers=("违章", "违章次数", "违章记录"), pulled=True),
    Field("card_status", CARD, ("借书证状态", "library card"), headers=("借书证状态", "借书证"), pulled=True),
    Field("thesis_status", THESIS, ("论文提交状态", "thesis"), headers=("论文提交状态", "论文状态"), pulled=True),
)
PASSING = {"owed_books": 0, "owed_fees_cents": 0, "violations": 0, "card_status": "cancelled",
           "thesis_status": "approved"}
# Demo variants: (weight, fields). Every row of the seed's library rule appears.
DEMO = [
    (30, PASSING),
    (8, dict(owed_books=2, owed_fees_cents=0, violations=0, card_status="active", thesis_status="approved")),
    (5, dict(owed_books=0, owed_fees_cents=1250, violations=0, card_status="active", thesis_status="approved")),
    (4, dict(owed_books=0, owed_fees_cents=0, violations=1, card_status="active", thesis_status="approved")),
    (12, dict(owed_books=0, owed_fees_cents=0, violations=0, card_status="active", thesis_status="approved")),
    (5, dict(owed_books=0, owed_fees_cents=0, violations=0, card_status="cancelled", thesis_status="submitted")),
    (3, dict(owed_books=0, owed_fees_cents=0, violations=0, card_status="cancelled", thesis_status="rejected")),
    (4, dict(owed_books=0, owed_fees_cents=0, violations=0, card_status="active", thesis_status="not_submitted")),
]


def demo(rng: random.Random, _student: Any, i: int, passing: bool, _now: datetime) -> DemoState:
    """Every library state; every 23rd student's library system failed when last asked (grey 暂不可查)."""
    return DemoState(dict(PASSING if passing else pick(rng, DEMO)), failed=i % 23 == 5)


ITEM = ClearanceItem(
    key="library",
    title=("图书馆", "Library"),
    order=10,
    record=LibraryRecord,
    data=LibraryData,
    fields=FIELDS,
    rule=rule,
    details=details,
    details_schema=LibraryDetails,
    shown=(Shown("owed_books", ("欠书", "Books owed")), Shown("owed_fees", ("欠费（元）", "Fees owed (¥)")),
           Shown("violations", ("违章", "Violations")),
           Shown("card_status", ("借书证状态", "Library card"), CARD_WORDS),
           Shown("thesis_status", ("论文提交状态", "Thesis deposit"), THESIS_WORDS)),
    office=("图书馆一楼总服务台", "Library, ground-floor service desk"),
    passing=PASSING,
    demo=demo,
    console_actions=(ConsoleAction(
        "", ("更新图书馆记录", "Update the library record"), _update,
        inputs=(Input("owed_books", ("欠书（本）", "Owed books"), "number", value=_current("owed_books", "0")),
                Input("owed_fees", ("欠费（元）", "Owed fees (yuan)"), "yuan",
                      value=lambda current, _today: yuan(current["owed_fees_cents"]) if current else "0.00"),
                Input("violations", ("违章（条）", "Violations"), "number", value=_current("violations", "0")),
                Input("card_status", ("借书证", "Card"), "select",
                      tuple((v, (zh, en)) for v, (zh, en) in (("active", ("正常", "active")),
                                                              ("cancelled", ("已注销", "cancelled")))),
                      value=_current("card_status", "active")),
                Input("thesis_status", ("论文提交", "Thesis"), "select", tuple(THESIS_WORDS.items()),
                      value=_current("thesis_status", "not_submitted"))),
    ),),
    student_actions=(StudentAction(
        name="cancel-card", title=("注销借书证", "Cancel library card"),
        api_path="/library-card/cancel", web_path="/me/library-card/cancel",
        done=lambda d: d.get("card_status") == "cancelled", allowed=lambda d: bool(d.get("can_cancel_card")),
        apply=lambda data: replace(data, card_status="cancelled"),
        changed=("card_status",), audit_action="library_card.cancel", cause="card_cancelled",
        warning=("注销后不可恢复，之后将不能再借书。",
                 "This cannot be undone: you will not be able to borrow books afterwards."),
        confirm=("确认注销", "Yes, cancel my card"),
        not_yet=("目前还不能注销借书证：请先归还图书、缴清欠费并处理违章。",
                 "The card cannot be cancelled yet: return all books, pay all fees and clear all violations first."),
        done_text=("借书证已注销", "Your library card has been cancelled"),
        not_allowed=("尚有未还图书、欠费或违章，暂不能注销借书证",
                     "Books, fees or violations are outstanding; the card cannot be cancelled yet"),
        not_allowed_code=ErrorCode.CARD_CANCEL_NOT_ALLOWED, refused_code=ErrorCode.LIBRARY_REFUSED,
        refused=("图书馆未能注销借书证，请联系图书馆（{place}，电话 {phone}）",
                 "The library could not cancel the card; contact the library ({place_en}, {phone})"),
    ),),
)
