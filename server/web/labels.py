"""Words pages show for codes: item titles and detail rows (declared by each item), statuses, in both languages."""

from __future__ import annotations

from typing import Any

from server.items import registry
from server.vocabulary import (
    CHANNEL_LABELS,
    DEGREE_LABELS,
    STATUS_LABELS,
    audit_action_key,
    audit_action_label,
    status_label,
)
from server.web.language import t

__all__ = ["CHANNEL_LABELS", "DEGREE_LABELS", "STATUS_LABELS", "both", "detail_rows", "item_title", "status_label"]


def item_title(key: str) -> tuple[str, str]:
    """An item's title (its office's name) in both languages; an unknown key stands for itself."""
    item = registry.known().get(key)
    return item.title if item is not None else (key, key)


def both(zh: str, en: str) -> str:
    """A value in both languages, once when they are the same (numbers, names)."""
    return zh if zh == en else f"{zh} {en}"


def detail_rows(key: str, details: dict[str, Any]) -> list[tuple[str, str, str]]:
    """An item's details as (label, label_en, value) rows, the value in the page's language, in the order its module
    lists them (none for an item no module declares any more, as an old submission may name)."""
    item = registry.known().get(key)
    rows = item.rows(details) if item is not None else []
    return [(row.label, row.label_en, t(row.value, row.value_en)) for row in rows]


def action_words(action: str) -> tuple[str, str]:
    """An audit action in words, an item's action (a record written, a file of records) with the item's title."""
    zh, en = audit_action_label(action)
    key = audit_action_key(action)
    if key != action:
        item = action.removesuffix("_record.write") if key == "<item>_record.write" else action.removeprefix("import.")
        title = item_title(item)
        return f"{title[0]}{zh}", f"{title[1]}: {en}"
    return zh, en


def transition_words(summary: str) -> tuple[str, str]:
    """"not_passed → passed" in words."""
    parts = [p.strip() for p in summary.split("→")]
    words = [status_label(None if p == "—" else p) if p != "—" else ("—", "—") for p in parts]
    return " → ".join(w[0] for w in words), " → ".join(w[1] for w in words)
