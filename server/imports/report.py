"""The per-row report of an import."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

RESULTS = ("created", "updated", "unchanged", "rejected", "valid")
RESULT_TITLES = {
    "created": ("新建", "created"),
    "updated": ("更新", "updated"),
    "unchanged": ("无变化", "unchanged"),
    "rejected": ("拒绝", "rejected"),
    "valid": ("有效（未写入）", "valid, not written"),
}


@dataclass
class RowResult:
    """What happened to one row: created, updated, unchanged, rejected (with why) or valid but not written."""

    row: int
    student_no: str
    result: str
    message: str = ""
    message_en: str = ""


@dataclass
class ImportReport:
    """Every row's result, and whether anything was written."""

    kind: str
    filename: str
    encoding: str
    rows: list[RowResult] = field(default_factory=list)
    applied: bool = False
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """How many rows had each result."""
        found = Counter(r.result for r in self.rows)
        return {name: found.get(name, 0) for name in RESULTS}

    @property
    def rejected(self) -> list[RowResult]:
        """The rejected rows, in file order."""
        return [r for r in self.rows if r.result == "rejected"]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able form (the CLI's --json output and the audit log's summary)."""
        return {"kind": self.kind, "filename": self.filename, "encoding": self.encoding, "applied": self.applied,
                "counts": self.counts, "ignored_columns": self.ignored_columns,
                "rows": [r.__dict__ for r in self.rows]}

    def summary(self) -> str:
        """One line in both languages."""
        c = self.counts
        head = "已写入 applied" if self.applied else "未写入任何数据 nothing written"
        return (f"{head}: 新建 created {c['created']}, 更新 updated {c['updated']}, 无变化 unchanged {c['unchanged']}, "
                f"拒绝 rejected {c['rejected']}, 有效未写入 valid {c['valid']}, 编码 encoding {self.encoding}")
