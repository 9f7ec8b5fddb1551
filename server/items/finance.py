"""Finance (财务资产部): fee lines and what is still owed (the seed's §2.2.4).

Passed when nothing is in arrears; a finance office that answered with no fee data at all passes too (the seed),
but one whose system cannot be read does not (SPEC §4).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pydantic import Field as Schema
from sqlalchemy import JSON, Integer
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
    Row,
    Shown,
    Verdict,
    pick,
)
from server.items.fields import CellHelp, Cents, Column, FeeLines, Field, Named, cell_text, parse_yuan, yuan


class FinanceRecord(ItemRecord):
    """Fee lines and what is still owed."""

    __tablename__ = "finance_records"

    arrears_cents: Mapped[int] = mapped_column(Integer, default=0)
    fee_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


@dataclass(frozen=True)
class FinanceData:
    arrears_cents: int = 0
    fee_items: Sequence[dict[str, Any]] = ()


def rule(data: FinanceData, office: Office) -> Verdict:
    """Anything in arrears must be paid."""
    v = Verdict()
    if data.arrears_cents > 0:
        v.fail("ARREARS", (f"尚有欠费 {yuan(data.arrears_cents)} 元", f"¥{yuan(data.arrears_cents)} in arrears"),
               (f"请缴清欠费（可到{office.place}办理）", f"Pay the arrears (at {office.place_en})"))
    return v


def details(d: FinanceData) -> dict[str, Any]:
    """What is owed, and every fee line in yuan."""
    return {"arrears": yuan(d.arrears_cents),
            "fee_items": [{"name": str(i.get("name", "")), "due": yuan(int(i.get("due_cents", 0))),
                           "paid": yuan(int(i.get("paid_cents", 0)))} for i in d.fee_items]}


class FeeItem(BaseModel):
    name: str
    due: str
    paid: str


class FinanceDetails(BaseModel):
    arrears: str = Schema(description="Yuan, e.g. 0.00")
    fee_items: list[FeeItem]


def _fee_rows(lines: Any) -> list[Row]:
    return [Row("fee_items", str(fee.get("name", "")), "Fee", f"应缴 ¥{fee.get('due')} · 已缴 ¥{fee.get('paid')}",
                f"due ¥{fee.get('due')} · paid ¥{fee.get('paid')}") for fee in lines or []]


FEE_NAME = Column("fee_name", ("收费项目", "fee name"), ("收费项目", "费用项目", "费用名称"))
FEE_DUE = Column("fee_due", ("应缴（元）", "due (yuan)"), ("应缴", "应缴金额", "应收金额"), Cents.HELP)
FEE_PAID = Column("fee_paid", ("已缴（元）", "paid (yuan)"), ("已缴", "已缴金额", "实缴金额", "实收金额"), Cents.HELP)


def _fee_line(cells: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A file's row gives at most one fee line, in three columns (amounts in yuan)."""
    name = cell_text(cells.get(FEE_NAME.name))
    due, paid = parse_yuan(FEE_DUE.named, cells.get(FEE_DUE.name)), parse_yuan(FEE_PAID.named, cells.get(FEE_PAID.name))
    return [{"name": name or "费用", "due_cents": due, "paid_cents": paid}] if (name or due or paid) else []


def _owed(current: Mapping[str, Any] | None) -> tuple[int, list[dict[str, Any]]]:
    """The arrears of a known record (0 otherwise), and its fee lines."""
    arrears = current["arrears_cents"] if current is not None and current["known"] else 0
    return arrears, list(current["fee_items"] or []) if current is not None else []


def _payment(current: Mapping[str, Any] | None, form: Mapping[str, str], who: Operator) -> Change:
    """Finance takes a payment: the arrears go down by the amount and a fee line records it."""
    amount = parse_yuan(Named("amount", "金额（元）"), form.get("amount", ""))
    arrears, lines = _owed(current)
    if amount <= 0:
        raise Refused(400, "缴费金额必须大于 0", "The payment must be more than 0")
    if amount > arrears:
        raise Refused(422, f"缴费金额 {yuan(amount)} 元超过欠费 {yuan(arrears)} 元",
                      f"The payment of ¥{yuan(amount)} exceeds the arrears of ¥{yuan(arrears)}")
    name = (form.get("fee_name", "").strip() or "缴费 Payment")[:60] + f" {who.today.isoformat()}"
    lines.append({"name": name, "due_cents": 0, "paid_cents": amount})
    return Change({"arrears_cents": arrears - amount, "fee_items": lines}, "console:payment")


def _clear(current: Mapping[str, Any] | None, form: Mapping[str, str], who: Operator) -> Change:
    """Finance clears the arrears (waived or settled elsewhere); the note goes to the audit log."""
    arrears, lines = _owed(current)
    if not arrears:
        return Change({"arrears_cents": 0, "fee_items": lines}, "console:clear_arrears")
    lines.append({"name": f"欠费核销 Arrears cleared {who.today.isoformat()}", "due_cents": 0, "paid_cents": 0})
    return Change({"arrears_cents": 0, "fee_items": lines}, "console:clear_arrears",
                  ("finance.clear_arrears", {"arrears_cents": arrears},
                   {"arrears_cents": 0, "note": form.get("note", "")[:200]}))


DEMO: list[tuple[int, Any]] = [
    (30, None),  # answered, no fee data at all: passes
    (15, dict(arrears_cents=0, fee_items=[{"name": "学费", "due_cents": 800000, "paid_cents": 800000}])),
    (8, dict(arrears_cents=250000, fee_items=[{"name": "学费", "due_cents": 800000, "paid_cents": 550000}])),
    (3, dict(arrears_cents=12000, fee_items=[{"name": "住宿费", "due_cents": 120000, "paid_cents": 108000}])),
]


def demo(rng: random.Random, _student: Any, i: int, passing: bool, _now: datetime) -> DemoState:
    """Paid, in arrears, or no data; every 29th student is unknown to the finance system."""
    values = None if passing else pick(rng, DEMO)
    return DemoState(None, unknown=True) if i % 29 == 7 else DemoState(values and dict(values))


ITEM = ClearanceItem(
    key="finance",
    title=("财务资产部", "Finance and Assets Office"),
    order=40,
    record=FinanceRecord,
    data=FinanceData,
    fields=(
        Field("arrears_cents", Cents(), ("欠费（分）", "arrears (cents)"), pulled=True,
              columns=(Column("arrears", ("欠费（元）", "arrears (yuan)"), ("欠费", "欠费金额", "欠款"),
                              CellHelp(("金额（元），如 1250.00", "An amount in yuan, e.g. 1250.00"))),)),
        Field("fee_items", FeeLines(), ("收费项目", "fee lines"), columns=(FEE_NAME, FEE_DUE, FEE_PAID),
              combine=_fee_line),
    ),
    rule=rule,
    details=details,
    details_schema=FinanceDetails,
    shown=(Shown("arrears", ("欠费（元）", "Arrears (¥)")),
           Shown("fee_items", ("收费项目", "Fee lines"), lines=_fee_rows)),
    office=("财务资产部收费窗口", "Finance office, fee counter"),
    passing={"arrears_cents": 0, "fee_items": []},
    demo=demo,
    absent_is_empty=True,
    data_of=lambda row, _student: FinanceData(row.arrears_cents, tuple(row.fee_items or ())),
    console_actions=(
        ConsoleAction("payment", ("登记缴费", "Record a payment"), _payment,
                      inputs=(Input("amount", ("金额（元）", "Amount (yuan)"), "yuan", required=True),
                              Input("fee_name", ("项目（可选）", "Item (optional)"), maxlength=60)),
                      buttons=(Button(("登记缴费", "Record payment")),)),
        ConsoleAction("clear", ("核销欠费", "Clear the arrears"), _clear,
                      inputs=(Input("note", ("说明", "Note"), maxlength=200),),
                      buttons=(Button(("核销全部欠费", "Clear all arrears"), style="danger"),)),
    ),
)
