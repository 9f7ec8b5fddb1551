"""The columns each import understands: a canonical English name and the Chinese headers offices use.

The roster's are here; an item's are declared by its module (`ClearanceItem.import_columns`).
"""

from __future__ import annotations

from collections.abc import Iterable

from server.items.base import ClearanceItem
from server.items.fields import DATE_HELP, CellHelp

ROSTER: dict[str, tuple[str, ...]] = {
    "student_no": ("学号", "学生学号", "studentno"),
    "name": ("姓名", "学生姓名"),
    "college": ("学院", "所在学院", "院系"),
    "major": ("专业",),
    "degree_level": ("学位类别", "培养层次", "层次", "学历层次", "degree"),
    "supervisor": ("导师", "导师姓名"),
    "expected_graduation": ("预计毕业日期", "预计毕业时间", "毕业日期"),
    "lived_on_campus": ("是否住校", "住校", "是否住宿"),
    "batch": ("批次", "离校批次"),
}
ROSTER_REQUIRED = ("student_no", "name", "college", "major", "degree_level", "expected_graduation")

STUDENT_NO = {"student_no": ROSTER["student_no"]}


def kinds(items: Iterable[ClearanceItem] | Iterable[str]) -> list[str]:
    """What can be imported: the roster, and the records of each item."""
    return ["roster", *(i if isinstance(i, str) else i.key for i in items)]


def item_columns(item: ClearanceItem) -> dict[str, tuple[str, ...]]:
    """An item's import columns with the Chinese headers each may carry."""
    return {name: column.headers for name, column in item.import_columns.items()}


# What a roster cell may hold, for the help table of the import page (each item's columns say their own). The
# spellings are those server/imports/roster.py accepts (tests/items/test_import_help.py holds them together).
VALUES_HELP: dict[str, CellHelp] = {
    "student_no": CellHelp(("字母、数字、- 和 _", "Letters, digits, - and _")),
    "degree_level": CellHelp(values=(("硕士", "master"), ("博士", "doctor")),
                             aliases=("硕士研究生", "博士研究生", "phd")),
    "expected_graduation": DATE_HELP,
    "lived_on_campus": CellHelp(("不填 = 是", "empty means yes"), values=(("是", "yes"), ("否", "no")),
                                aliases=("住校", "走读", "y", "n", "1", "0", "true", "false")),
    "batch": CellHelp(("已有的离校批次名称", "The name of an existing batch")),
}
