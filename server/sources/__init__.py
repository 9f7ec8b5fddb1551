"""Departmental sources: where each item's record comes from, chosen by settings."""

from __future__ import annotations

from server.items import registry
from server.settings import Settings
from server.sources.base import DepartmentSource, SourceRefused, SourceUnavailable
from server.sources.fake import load_fake_source
from server.sources.local import LocalSource

__all__ = ["DepartmentSource", "SourceRefused", "SourceUnavailable", "build_sources"]


def build_sources(settings: Settings) -> dict[str, DepartmentSource]:
    """One source per active item, of the kind its settings name."""
    sources: dict[str, DepartmentSource] = {}
    for key in registry.active(settings).keys:
        dept = settings.department(key)
        if dept.source == "fake":
            sources[key] = load_fake_source(key, dept.url)
        elif dept.source == "http":
            from server.sources.http import HttpJsonSource

            sources[key] = HttpJsonSource(key, dept)
        else:
            sources[key] = LocalSource()
    return sources
