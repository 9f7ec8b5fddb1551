"""What the student pages show, built from a clearance: plain dicts for the templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.clearance.models import Batch
from server.clearance.rules import ItemResult, Status
from server.errors import ApiError
from server.items import registry
from server.student.service import Clearance
from server.timeutil import local_display
from server.web.labels import detail_rows, item_title, status_label


@dataclass(frozen=True)
class Notice:
    """A sentence in both languages, with an optional link."""

    message: str
    message_en: str
    href: str = ""


def item_view(item: ItemResult) -> dict[str, Any]:
    """One item card: title, status, fields, why, what next, the office to turn to, and what the student can do."""
    office = item.office
    phone = office.phone if office else ""
    return {
        "key": item.key,
        "title": item_title(item.key),
        "status": str(item.status),
        "status_label": status_label(str(item.status)),
        "rows": detail_rows(item.key, item.details),
        "reasons": item.reasons,
        "next_steps": item.next_steps,
        "office": office,
        "tel": "".join(ch for ch in phone if ch.isdigit() or ch in "+-"),
        "updated_at": local_display(item.updated_at),
        "actions": [{"name": a.name, "title": a.title, "href": a.web_path}
                    for a in registry.get(item.key).actions_for(item.details)],
    }


def window_text(batch: Batch) -> str:
    """A batch's window, e.g. 2027-06-01 08:00 – 2027-06-30 18:00."""
    return f"{local_display(batch.opens_at)} – {local_display(batch.closes_at)}"


def submit_blockers(clearance: Clearance, now: datetime) -> list[Notice]:
    """Why the student cannot submit now (empty when they can)."""
    if clearance.application is not None:
        return [Notice("离校申请已提交，不能重复提交", "The clearance has already been submitted", "/me/certificate")]
    notices = []
    for item in clearance.items:
        if item.status is not Status.PASSED:
            zh, en = item_title(item.key)
            label = status_label(str(item.status))
            notices.append(Notice(f"{zh}：{label[0]}", f"{en}: {label[1]}", f"/me#item-{item.key}"))
    batch = clearance.batch
    if batch is None:
        notices.append(Notice("您不在任何离校批次中，请联系研究生院",
                              "You are not in a clearance batch; contact the graduate school"))
    elif not batch.is_open(now):
        notices.append(Notice(f"“{batch.name}”不在办理时间内（{window_text(batch)}）",
                              f"Batch “{batch.name}” is not open now ({window_text(batch)})"))
    return notices


def error_view(error: ApiError) -> dict[str, Any]:
    """An error from a service as a page block: the message, and what it is about."""
    items = [{"key": k, "title": item_title(k)} for k in error.extra.get("items", [])]
    return {"code": str(error.code), "message": error.message, "message_en": error.message_en, "items": items,
            "reasons": error.extra.get("reasons", [])}
