"""What each department may set on its record, checked the same way for the console, files, the API and pulls.

Two entry points: `check_values` takes typed values (JSON from the API or a departmental system) and refuses
wrong types; `parse_cells` takes the text (or Excel cells) of an import row, understands Chinese spellings and
yuan amounts, then hands over to `check_values`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from server.clearance.records import RECORD_FIELDS
from server.clearance.rules import ApartmentData, ArchivesData, DepartmentData, FinanceData, LibraryData

CARD_STATUSES = ("active", "cancelled")
LIBRARY_THESIS = ("not_submitted", "submitted", "approved", "rejected")
ARCHIVES_THESIS = ("not_submitted", "received", "reviewed")
MAX_COUNT = 100_000
MAX_CENTS = 10**10  # one hundred million yuan: anything above is a typo
MAX_FEE_ITEMS = 50

_ALIASES: dict[str, dict[str, str]] = {
    "card_status": {"active": "active", "正常": "active", "有效": "active", "未注销": "active", "在用": "active",
                    "cancelled": "cancelled", "canceled": "cancelled", "已注销": "cancelled", "注销": "cancelled"},
    "library.thesis_status": {
        "not_submitted": "not_submitted", "未提交": "not_submitted", "": "not_submitted",
        "submitted": "submitted", "已提交": "submitted", "待审核": "submitted", "审核中": "submitted",
        "approved": "approved", "记录审核通过": "approved", "审核通过": "approved", "通过": "approved",
        "rejected": "rejected", "审核未通过": "rejected", "未通过": "rejected", "退回": "rejected",
    },
    "archives.thesis_status": {
        "not_submitted": "not_submitted", "未提交": "not_submitted", "": "not_submitted",
        "received": "received", "已收到": "received", "已接收": "received", "已提交": "received",
        "reviewed": "reviewed", "已审核": "reviewed", "审核通过": "reviewed",
    },
}


LABELS: dict[str, tuple[str, str]] = {
    "owed_books": ("欠书", "owed books"), "owed_fees": ("欠费（元）", "owed fees (yuan)"),
    "owed_fees_cents": ("欠费（分）", "owed fees (cents)"), "violations": ("违章", "violations"),
    "card_status": ("借书证状态", "library card"), "thesis_status": ("论文提交状态", "thesis"),
    "can_cancel_card": ("可注销借书证", "card can be cancelled"), "lived_on_campus": ("住校", "lived on campus"),
    "building": ("宿舍楼", "building"), "move_out_date": ("退宿日期", "move-out date"),
    "move_out_handler": ("退宿办理人", "move-out handler"), "arrears": ("欠费（元）", "arrears (yuan)"),
    "arrears_cents": ("欠费（分）", "arrears (cents)"), "fee_items": ("收费项目", "fee lines"),
    "fee_name": ("收费项目", "fee name"), "fee_due": ("应缴（元）", "due (yuan)"),
    "fee_paid": ("已缴（元）", "paid (yuan)"), "amount": ("金额（元）", "amount (yuan)"),
}


def label(name: str) -> str:
    """A field's Chinese name with its column name, for messages."""
    zh = LABELS.get(name, (None,))[0]
    return f"{zh} {name}" if zh else name


@dataclass(frozen=True)
class FieldProblem(Exception):
    """One field that cannot be accepted, said in both languages."""

    field: str
    message: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message_en}"


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldProblem(name, f"“{label(name)}”必须是整数", f"“{name}” must be an integer")
    if value < 0 or value > MAX_COUNT:
        raise FieldProblem(name, f"“{label(name)}”必须在 0 到 {MAX_COUNT} 之间",
                           f"“{name}” must be between 0 and {MAX_COUNT}")
    return value


def _cents(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldProblem(name, f"“{label(name)}”必须是以分为单位的整数",
                           f"“{name}” must be an integer amount in cents")
    if value < 0 or value > MAX_CENTS:
        raise FieldProblem(name, f"“{label(name)}”金额不能为负数或过大",
                           f"“{name}” must be a non-negative, sane amount")
    return value


def _text(name: str, value: Any, limit: int, *, nullable: bool) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise FieldProblem(name, f"“{label(name)}”必须是文字", f"“{name}” must be a string")
    value = value.strip()
    if len(value) > limit:
        raise FieldProblem(name, f"“{label(name)}”最多 {limit} 个字", f"“{name}” is longer than {limit} characters")
    return value or (None if nullable else "")


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise FieldProblem(name, f"“{label(name)}”只能是 {' / '.join(allowed)}",
                           f"“{name}” must be one of {', '.join(allowed)}")
    return str(value)


def _date(name: str, value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise FieldProblem(name, f"“{label(name)}”必须是日期 YYYY-MM-DD", f"“{name}” must be a date YYYY-MM-DD")


def _fee_items(value: Any) -> list[dict[str, Any]]:
    name = "fee_items"
    if not isinstance(value, list) or len(value) > MAX_FEE_ITEMS:
        raise FieldProblem(name, f"“fee_items”必须是不超过 {MAX_FEE_ITEMS} 项的列表",
                           f"“fee_items” must be a list of at most {MAX_FEE_ITEMS} lines")
    lines = []
    for line in value:
        if not isinstance(line, Mapping) or set(line) - {"name", "due_cents", "paid_cents"}:
            raise FieldProblem(name, "每个收费项只能有 name、due_cents、paid_cents",
                               "Each fee line has only name, due_cents and paid_cents")
        lines.append({"name": _text(f"{name}.name", line.get("name", ""), 100, nullable=False),
                      "due_cents": _cents(f"{name}.due_cents", line.get("due_cents", 0)),
                      "paid_cents": _cents(f"{name}.paid_cents", line.get("paid_cents", 0))})
    return lines


def _check_one(key: str, name: str, value: Any) -> Any:
    if name in ("owed_books", "violations"):
        return _count(name, value)
    if name in ("owed_fees_cents", "arrears_cents"):
        return _cents(name, value)
    if name == "card_status":
        return _choice(name, value, CARD_STATUSES)
    if name == "thesis_status":
        return _choice(name, value, LIBRARY_THESIS if key == "library" else ARCHIVES_THESIS)
    if name in ("building", "move_out_handler"):
        return _text(name, value, 64, nullable=True)
    if name == "move_out_date":
        return _date(name, value)
    assert name == "fee_items"
    return _fee_items(value)


def check_values(key: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values for one department's record, normalised; raises FieldProblem for the first bad field."""
    allowed = RECORD_FIELDS[key]
    for name in values:
        if name not in allowed:
            raise FieldProblem(name, f"“{label(name)}”不是{key}记录的字段（可用：{'、'.join(allowed)}）",
                               f"“{name}” is not a {key} field (allowed: {', '.join(allowed)})")
    return {name: _check_one(key, name, value) for name, value in values.items()}


def check_all_problems(key: str, values: Mapping[str, Any]) -> list[FieldProblem]:
    """Every bad field of one record (the API lists them all)."""
    problems = []
    for name, value in values.items():
        try:
            check_values(key, {name: value})
        except FieldProblem as problem:
            problems.append(problem)
    return problems


PULL_REQUIRED: dict[str, tuple[str, ...]] = {
    "library": RECORD_FIELDS["library"],
    "archives": ("thesis_status",),
    "apartment": (),
    "finance": ("arrears_cents",),
}


def data_from_json(key: str, payload: Any) -> DepartmentData:
    """A departmental system's JSON answer as rule data; raises FieldProblem when it is not what we expect."""
    if not isinstance(payload, Mapping):
        raise FieldProblem("", "答复不是 JSON 对象", "The answer is not a JSON object")
    fields = {k: v for k, v in payload.items() if k in RECORD_FIELDS[key]}
    missing = [name for name in PULL_REQUIRED[key] if name not in fields]
    if missing:
        raise FieldProblem(missing[0], f"答复缺少“{missing[0]}”", f"The answer lacks “{missing[0]}”")
    values = check_values(key, fields)
    data_types: dict[str, type] = {"library": LibraryData, "archives": ArchivesData, "apartment": ApartmentData,
                                   "finance": FinanceData}
    data: DepartmentData = data_types[key](**values)
    return data


# ---- import cells: text and Excel values -------------------------------------------------------------------------

_MONEY = re.compile(r"^[¥￥]?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?\s*(元)?$")


def cell_text(value: Any) -> str:
    """An import cell as trimmed text (Excel numbers such as 3.0 become "3")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def parse_yuan(name: str, value: Any) -> int:
    """A yuan amount cell ("12.5", "¥1,250.00", 12.5) as cents."""
    text = cell_text(value) if not isinstance(value, float) else f"{value:.10f}".rstrip("0").rstrip(".")
    if text == "":
        return 0
    match = _MONEY.match(text)
    if not match:
        raise FieldProblem(name, f"“{label(name)}”不是有效金额（元）：{text[:20]}",
                           f"“{name}” is not an amount in yuan: {text[:20]}")
    try:
        cents = Decimal(match.group(1).replace(",", "") + (match.group(3) or "")) * 100
    except InvalidOperation as exc:  # pragma: no cover -- the pattern already excludes this
        raise FieldProblem(name, "金额无效", "Invalid amount") from exc
    return _cents(name, int(cents))


def parse_count(name: str, value: Any) -> int:
    """A count cell ("3", 3.0, "" = 0)."""
    text = cell_text(value)
    if text == "":
        return 0
    if not text.isdigit():
        raise FieldProblem(name, f"“{label(name)}”必须是非负整数：{text[:20]}",
                           f"“{name}” must be a whole number: {text[:20]}")
    return _count(name, int(text))


def parse_date(name: str, value: Any) -> date | None:
    """A date cell: an Excel date, 2027-06-20, 2027/6/20 or 2027.6.20; empty is None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if text == "":
        return None
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    raise FieldProblem(name, f"“{label(name)}”不是有效日期：{text[:20]}",
                       f"“{name}” is not a date (YYYY-MM-DD): {text[:20]}")


def _alias(name: str, alias_key: str, value: Any) -> str:
    text = cell_text(value)
    found = _ALIASES[alias_key].get(text.lower() if text.isascii() else text)
    if found is None:
        allowed = sorted({k for k in _ALIASES[alias_key] if k})
        raise FieldProblem(name, f"“{label(name)}”的值无法识别：{text[:20]}（可用：{'、'.join(allowed)}）",
                           f"“{name}” value not understood: {text[:20]} (use one of {', '.join(allowed)})")
    return found


# The import columns of each department (canonical names); money columns are in yuan.
IMPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "library": ("owed_books", "owed_fees", "violations", "card_status", "thesis_status"),
    "archives": ("thesis_status",),
    "apartment": ("building", "move_out_date", "move_out_handler"),
    "finance": ("arrears", "fee_name", "fee_due", "fee_paid"),
}


def parse_cells(key: str, cells: Mapping[str, Any]) -> dict[str, Any]:
    """One import row's department cells (canonical column names) as record values."""
    out: dict[str, Any] = {}
    for name, value in cells.items():
        if name in ("owed_books", "violations"):
            out[name] = parse_count(name, value)
        elif name == "owed_fees":
            out["owed_fees_cents"] = parse_yuan(name, value)
        elif name == "arrears":
            out["arrears_cents"] = parse_yuan(name, value)
        elif name == "card_status":
            out[name] = _alias(name, "card_status", value)
        elif name == "thesis_status":
            out[name] = _alias(name, f"{key}.thesis_status", value)
        elif name in ("building", "move_out_handler"):
            out[name] = cell_text(value) or None
        elif name == "move_out_date":
            out[name] = parse_date(name, value)
    if key == "finance" and {"fee_name", "fee_due", "fee_paid"} & set(cells):
        fee_name = cell_text(cells.get("fee_name"))
        due, paid = parse_yuan("fee_due", cells.get("fee_due")), parse_yuan("fee_paid", cells.get("fee_paid"))
        out["fee_items"] = [{"name": fee_name or "费用", "due_cents": due, "paid_cents": paid}] if (
            fee_name or due or paid) else []
    return check_values(key, out)


# Import columns whose record value depends on that one cell alone (the finance fee columns combine three).
_ONE_CELL = {"owed_books": "owed_books", "violations": "violations", "owed_fees": "owed_fees_cents",
             "arrears": "arrears_cents", "card_status": "card_status", "thesis_status": "thesis_status",
             "building": "building", "move_out_handler": "move_out_handler", "move_out_date": "move_out_date"}


class CellParser:
    """`parse_cells` for the many rows of one file, each distinct cell parsed and checked once.

    Parsing and checking a one-cell column is a pure function of the cell, and files repeat the same few values
    (0, statuses, amounts), so its result is remembered per (column, cell type, cell); rows with a bad cell, and
    columns that combine cells, go through `parse_cells` itself, which gives the error it always gave.
    """

    _LIMIT = 100_000  # distinct cells remembered, so a file of all-different amounts cannot grow it without bound

    def __init__(self, key: str) -> None:
        self.key = key
        self.memo: dict[tuple[str, type, Any], tuple[str, Any]] = {}

    def __call__(self, cells: Mapping[str, Any]) -> dict[str, Any]:
        """The record values of one row's cells; raises FieldProblem as `parse_cells` does."""
        memo, out = self.memo, {}
        for name, value in cells.items():
            try:
                found = memo.get((name, type(value), value))
            except TypeError:  # an unhashable cell: not remembered
                return parse_cells(self.key, cells)
            if found is None:
                if name not in _ONE_CELL:
                    return parse_cells(self.key, cells)
                try:
                    field = _ONE_CELL[name]
                    found = field, parse_cells(self.key, {name: value})[field]
                except FieldProblem:
                    return parse_cells(self.key, cells)  # raises, with the message of the row's first bad field
                if len(memo) >= self._LIMIT:
                    memo.clear()
                memo[name, type(value), value] = found
            out[found[0]] = found[1]
        return out
