"""Which clearance items exist (every module of this package that defines `ITEM`) and which are on.

Every item module is loaded, on or off, so that its record's table is part of the schema the migrations keep.
`LIXIAO_ITEMS` (settings.items) names the items a deployment clears, in the order students see them; empty
means those that are on by default. The rest of Lixiao asks `active(settings)` and iterates what it gets.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache

from server import items as package
from server.items.base import ClearanceItem
from server.settings import Settings, SettingsError

_KIT = frozenset({"base", "fields", "registry"})  # the package's own modules: no item in them


@cache
def known() -> dict[str, ClearanceItem]:
    """Every item Lixiao ships, by key, in their order."""
    found = []
    for module in pkgutil.iter_modules(package.__path__):
        if module.name in _KIT:
            continue
        item = getattr(importlib.import_module(f"server.items.{module.name}"), "ITEM", None)
        if isinstance(item, ClearanceItem):
            found.append(item)
    found.sort(key=lambda item: item.order)
    return {item.key: item for item in found}


def get(key: str) -> ClearanceItem:
    """One item by key (on or off); KeyError for a key no module declares."""
    return known()[key]


class Items:
    """The items one deployment clears, in order; `key in items` and `items.get(key)` find one by key."""

    def __init__(self, items: Iterable[ClearanceItem]) -> None:
        self._by_key = {item.key: item for item in items}
        self.keys: tuple[str, ...] = tuple(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[ClearanceItem]:
        return iter(self._by_key.values())

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def get(self, key: str) -> ClearanceItem | None:
        """The active item of that key, or None."""
        return self._by_key.get(key)


@lru_cache(maxsize=16)
def _active(keys: tuple[str, ...]) -> Items:
    catalogue = known()
    if not keys:
        return Items([item for item in catalogue.values() if item.on_by_default])
    unknown = [key for key in keys if key not in catalogue]
    if unknown:
        raise SettingsError(f"LIXIAO_ITEMS names unknown items {unknown}; known: {', '.join(catalogue)}")
    if len(set(keys)) != len(keys):
        raise SettingsError("LIXIAO_ITEMS names an item twice")
    return Items([catalogue[key] for key in keys])


def active(settings: Settings) -> Items:
    """The items this deployment clears (raises SettingsError for a LIXIAO_ITEMS it cannot honour)."""
    return _active(tuple(settings.items))


def check(settings: Settings) -> None:
    """Fail at start-up on unknown items, and on department settings that name no item."""
    active(settings)
    strays = sorted(key for key in settings.departments if key not in known())
    if strays:
        raise SettingsError(f"settings for unknown items: {', '.join(f'LIXIAO_{k.upper()}_*' for k in strays)}; "
                            f"known: {', '.join(known())}")
