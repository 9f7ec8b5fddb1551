"""Model rows as JSON-ready columns and back, for the read cache (server/cache.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, inspect

_decoders: dict[type, dict[str, Any]] = {}


def dump_row(obj: Any) -> dict[str, Any] | None:
    """A model row's column values, JSON-ready (dates and times as ISO strings)."""
    if obj is None:
        return None
    out = {}
    for attr in inspect(type(obj)).column_attrs:
        value = getattr(obj, attr.key)
        out[attr.key] = value.isoformat() if isinstance(value, date | datetime) else value
    return out


def load_row(model: type, values: dict[str, Any] | None) -> Any:
    """A transient instance of `model` from `dump_row`'s output, for reading only (never add it to a session).

    Built as the ORM builds loaded rows, without the constructor's per-attribute events: ten times cheaper.
    """
    if values is None:
        return None
    mapper = inspect(model)
    decoders = _decoders.get(model)
    if decoders is None:
        decoders = {}
        for attr in mapper.column_attrs:
            kind = attr.columns[0].type
            kind = getattr(kind, "impl_instance", kind)
            if isinstance(kind, DateTime):
                decoders[attr.key] = datetime.fromisoformat
            elif isinstance(kind, Date):
                decoders[attr.key] = date.fromisoformat
        _decoders[model] = decoders
    obj = mapper.class_manager.new_instance()
    obj.__dict__.update({k: (decoders[k](v) if v is not None and k in decoders else v) for k, v in values.items()})
    return obj
