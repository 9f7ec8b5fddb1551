"""The four clearance items: their names and the office a student turns to."""

from __future__ import annotations

from server.clearance.rules import ITEM_KEYS, Limits, Office
from server.settings import Settings

TITLES: dict[str, tuple[str, str]] = {
    "library": ("图书馆", "Library"),
    "archives": ("档案馆", "Archives"),
    "apartment": ("总务部公寓与物业中心", "Apartment and Property Centre"),
    "finance": ("财务资产部", "Finance and Assets Office"),
}


def office(settings: Settings, key: str) -> Office:
    """The office of one item, with its configurable place and phone."""
    dept = settings.department(key)
    name, name_en = TITLES[key]
    return Office(name=name, name_en=name_en, place=dept.place, place_en=dept.place_en, phone=dept.phone)


def offices(settings: Settings) -> dict[str, Office]:
    """Every item's office."""
    return {key: office(settings, key) for key in ITEM_KEYS}


def limits(settings: Settings, key: str) -> Limits:
    """The freshness limit of one item."""
    return Limits(freshness_hours=settings.department(key).freshness_hours)
