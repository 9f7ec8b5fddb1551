"""An in-process stand-in for a departmental system, for the demo and tests; refused in production."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.items import registry
from server.sources.base import SourceRefused, SourceUnavailable


@dataclass
class FakeDepartmentSource:
    """Answers only for the students in its dataset; can be made slow, down or refusing."""

    department: str
    records: dict[str, Any] = field(default_factory=dict)  # student number → the item's rule data
    down: bool = False
    delay_seconds: float = 0.0
    refuse_cancel: bool = False
    kind: str = "fake"
    pulls: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fetch(self, student_no: str) -> Any:
        """The record, or None for a student the fake does not know (never a made-up pass)."""
        self._behave()
        with self._lock:
            return self.records.get(student_no)

    def perform(self, action: str, student_no: str) -> None:
        """Do the student's action in the fake's own data (the item's action says what it changes)."""
        self._behave()
        with self._lock:
            record = self.records.get(student_no)
            found = registry.get(self.department).student_action(action)
            if record is None or found is None:
                raise SourceRefused("系统中没有该学生，或不能办理此项")
            if self.refuse_cancel:
                raise SourceRefused("系统拒绝办理")
            self.records[student_no] = found.apply(record)

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
    item = registry.get(department)
    raw: dict[str, dict[str, Any]] = json.loads(Path(path).read_text(encoding="utf-8"))
    for student_no, values in raw.items():
        source.records[student_no] = item.from_values({k: v for k, v in values.items() if k in item.field_index})
    return source
