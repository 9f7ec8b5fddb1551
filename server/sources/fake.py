"""An in-process stand-in for a departmental system, for the demo and tests; refused in production."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any

from server.clearance.rules import ApartmentData, ArchivesData, DepartmentData, FinanceData, LibraryData
from server.sources.base import SourceRefused, SourceUnavailable

DATA_TYPES: dict[str, type] = {
    "library": LibraryData,
    "archives": ArchivesData,
    "apartment": ApartmentData,
    "finance": FinanceData,
}


@dataclass
class FakeDepartmentSource:
    """Answers only for the students in its dataset; can be made slow, down or refusing."""

    department: str
    records: dict[str, DepartmentData] = field(default_factory=dict)
    down: bool = False
    delay_seconds: float = 0.0
    refuse_cancel: bool = False
    kind: str = "fake"
    pulls: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fetch(self, student_no: str) -> DepartmentData | None:
        """The record, or None for a student the fake does not know (never a made-up pass)."""
        self._behave()
        with self._lock:
            return self.records.get(student_no)

    def cancel_library_card(self, student_no: str) -> None:
        """Cancel the card in the fake library's own data."""
        self._behave()
        with self._lock:
            record = self.records.get(student_no)
            if not isinstance(record, LibraryData):
                raise SourceRefused("图书馆系统中没有该读者")
            if self.refuse_cancel:
                raise SourceRefused("图书馆系统拒绝注销")
            self.records[student_no] = replace(record, card_status="cancelled")

    def _behave(self) -> None:
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if self.down:
            raise SourceUnavailable(f"fake {self.department} source is down")


def load_fake_source(department: str, path: str) -> FakeDepartmentSource:
    """A fake seeded from a JSON file {student_no: {field: value}}; an empty path knows nobody."""
    source = FakeDepartmentSource(department)
    if not path:
        return source
    data_type = DATA_TYPES[department]
    names = {f.name for f in fields(data_type)}
    raw: dict[str, dict[str, Any]] = json.loads(Path(path).read_text(encoding="utf-8"))
    for student_no, values in raw.items():
        kwargs = {k: v for k, v in values.items() if k in names}
        if kwargs.get("move_out_date"):
            kwargs["move_out_date"] = date.fromisoformat(kwargs["move_out_date"])
        source.records[student_no] = data_type(**kwargs)
    return source
