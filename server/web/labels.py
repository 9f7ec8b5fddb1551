"""Words pages show for codes: item titles, statuses and the fields of each item, in Chinese and English."""

from __future__ import annotations

from typing import Any

from server.clearance.departments import TITLES

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "passed": ("通过", "Passed"),
    "not_passed": ("未通过", "Not passed"),
    "unavailable": ("暂不可查", "Unavailable"),
    "none": ("尚无结果", "No result yet"),
}

DETAIL_LABELS: dict[str, tuple[str, str]] = {
    "owed_books": ("欠书", "Books owed"),
    "owed_fees": ("欠费（元）", "Fees owed (¥)"),
    "violations": ("违章", "Violations"),
    "card_status": ("借书证状态", "Library card"),
    "thesis_status": ("论文提交状态", "Thesis deposit"),
    "lived_on_campus": ("在校住宿", "Lived on campus"),
    "building": ("宿舍楼", "Building"),
    "move_out_date": ("退宿日期", "Move-out date"),
    "move_out_handler": ("退宿办理人", "Move-out handled by"),
    "arrears": ("欠费（元）", "Arrears (¥)"),
}

VALUE_LABELS: dict[str, tuple[str, str]] = {
    "active": ("未注销", "active"),
    "cancelled": ("已注销", "cancelled"),
    "approved": ("记录审核通过", "approved"),
    "reviewed": ("已审核", "reviewed"),
    "received": ("已接收，待审核", "received"),
    "submitted": ("已提交，待审核", "submitted"),
    "not_submitted": ("未提交", "not submitted"),
    "rejected": ("审核未通过", "rejected"),
}

DEGREE_LABELS: dict[str, tuple[str, str]] = {"master": ("硕士研究生", "Master's"), "doctor": ("博士研究生", "Doctoral")}

CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "api": ("微信小程序", "WeChat mini-program"),
    "browser": ("网页", "Web"),
    "wecom": ("企业微信", "WeCom"),
}


def item_title(key: str) -> tuple[str, str]:
    """An item's department name in both languages."""
    return TITLES.get(key, (key, key))


def status_label(status: str | None) -> tuple[str, str]:
    """A status code in both languages; None means no status was ever computed."""
    return STATUS_LABELS.get(status or "none", (str(status), str(status)))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, str) and value in VALUE_LABELS:
        zh, en = VALUE_LABELS[value]
        return f"{zh} {en}"
    return "—" if value in (None, "") else str(value)


def detail_rows(details: dict[str, Any]) -> list[tuple[str, str, str]]:
    """An item's details as (label, label_en, value) rows, fee lines last."""
    rows = [(*DETAIL_LABELS[k], _value(v)) for k, v in details.items() if k in DETAIL_LABELS]
    for fee in details.get("fee_items") or []:
        rows.append((str(fee.get("name", "")), "Fee", f"应缴 due ¥{fee.get('due')} · 已缴 paid ¥{fee.get('paid')}"))
    return rows
