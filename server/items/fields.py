"""The kinds of value a clearance item's record holds, and how each is checked and read from a file.

An item module lists its writable fields (`Field`): the console, file imports, the departmental API and pulls
from departmental systems all go through them. `check` takes a typed value (JSON, or what a form parsed) and
refuses wrong types; `parse` takes the text (or Excel value) of an import cell or a form input, understands
Chinese spellings and yuan amounts, and hands over to `check`. Every refusal is a FieldProblem in both languages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as Schema

MAX_COUNT = 100_000
MAX_CENTS = 10**10  # one hundred million yuan: anything above is a typo
MAX_FEE_ITEMS = 50
DATE_SPELLINGS = ("2027/6/20", "2027.6.20", "2027年6月20日")  # besides 2027-06-20 and an Excel date (parse_date)


@dataclass(frozen=True)
class FieldProblem(Exception):
    """One field that cannot be accepted, said in both languages."""

    field: str
    message: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message_en}"


def yuan(cents: int) -> str:
    """Cents as a yuan amount string, e.g. 1250 → "12.50"."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


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


@dataclass(frozen=True)
class Named:
    """What a message calls a field or column: its name and its Chinese label."""

    name: str
    zh: str = ""

    def __str__(self) -> str:
        return f"{self.zh} {self.name}" if self.zh else self.name


# ---- checking typed values ---------------------------------------------------------------------------------------

def check_count(at: Named, value: Any) -> int:
    """A whole number of things (books, violations), 0 to MAX_COUNT."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldProblem(at.name, f"“{at}”必须是整数", f"“{at.name}” must be an integer")
    if value < 0 or value > MAX_COUNT:
        raise FieldProblem(at.name, f"“{at}”必须在 0 到 {MAX_COUNT} 之间",
                           f"“{at.name}” must be between 0 and {MAX_COUNT}")
    return value


def check_cents(at: Named, value: Any) -> int:
    """An amount in cents, never negative and never absurd."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldProblem(at.name, f"“{at}”必须是以分为单位的整数", f"“{at.name}” must be an integer amount in cents")
    if value < 0 or value > MAX_CENTS:
        raise FieldProblem(at.name, f"“{at}”金额不能为负数或过大", f"“{at.name}” must be a non-negative, sane amount")
    return value


def check_text(at: Named, value: Any, limit: int, *, nullable: bool) -> str | None:
    """Trimmed text of at most `limit` characters; empty is None when `nullable`."""
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise FieldProblem(at.name, f"“{at}”必须是文字", f"“{at.name}” must be a string")
    value = value.strip()
    if len(value) > limit:
        raise FieldProblem(at.name, f"“{at}”最多 {limit} 个字", f"“{at.name}” is longer than {limit} characters")
    return value or (None if nullable else "")


# ---- reading cells -----------------------------------------------------------------------------------------------

_MONEY = re.compile(r"^[¥￥]?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?\s*(元)?$")


def parse_yuan(at: Named, value: Any) -> int:
    """A yuan amount cell ("12.5", "¥1,250.00", 12.5) as cents."""
    text = cell_text(value) if not isinstance(value, float) else f"{value:.10f}".rstrip("0").rstrip(".")
    if text == "":
        return 0
    match = _MONEY.match(text)
    if not match:
        raise FieldProblem(at.name, f"“{at}”不是有效金额（元）：{text[:20]}",
                           f"“{at.name}” is not an amount in yuan: {text[:20]}")
    try:
        cents = Decimal(match.group(1).replace(",", "") + (match.group(3) or "")) * 100
    except InvalidOperation as exc:  # pragma: no cover -- the pattern already excludes this
        raise FieldProblem(at.name, "金额无效", "Invalid amount") from exc
    return check_cents(at, int(cents))


def parse_count(at: Named, value: Any) -> int:
    """A count cell ("3", 3.0, "" = 0)."""
    text = cell_text(value)
    if text == "":
        return 0
    if not text.isdigit():
        raise FieldProblem(at.name, f"“{at}”必须是非负整数：{text[:20]}",
                           f"“{at.name}” must be a whole number: {text[:20]}")
    return check_count(at, int(text))


def parse_date(at: Named, value: Any) -> date | None:
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
    raise FieldProblem(at.name, f"“{at}”不是有效日期：{text[:20]}",
                       f"“{at.name}” is not a date (YYYY-MM-DD): {text[:20]}")


# ---- what a cell may hold, for the import page -------------------------------------------------------------------

@dataclass(frozen=True)
class CellHelp:
    """What an import column's cells may hold, said in one language at a time: the values it takes (each in
    Chinese and in English, a code for a choice) and a note; then the other spellings a cell may also use, which
    are the file's own words and are shown as they are ("也可写作" / "Also accepted as")."""

    words: tuple[str, str] = ("", "")  # a note, e.g. ("整数", "A whole number")
    values: tuple[tuple[str, str], ...] = ()  # the values, as (Chinese, English)
    aliases: tuple[str, ...] = ()  # other spellings also accepted

    def listed(self, lang: str) -> tuple[str, ...]:
        """The values, as a cell writes them, in one language ("zh" or "en")."""
        return tuple(pair[lang == "en"] for pair in self.values)

    def note(self, lang: str) -> str:
        """The note in one language."""
        return self.words[lang == "en"]

    def text(self, lang: str) -> str:
        """The values and the note in one language ("zh" or "en")."""
        english = lang == "en"
        listed = (", " if english else "、").join(self.listed(lang))
        return ("; " if english else "；").join(part for part in (listed, self.note(lang)) if part)

    def also(self, lang: str) -> tuple[str, ...]:
        """The spellings a cell may also use: the values in the other language, then the aliases."""
        english = lang == "en"
        shown = {pair[english] for pair in self.values}
        others = (*(pair[not english] for pair in self.values), *self.aliases)
        return tuple(dict.fromkeys(s for s in others if s and s not in shown))


DATE_HELP = CellHelp(("日期，如 2027-06-20，或 Excel 日期", "A date such as 2027-06-20, or an Excel date"),
                     aliases=DATE_SPELLINGS)


# ---- kinds -------------------------------------------------------------------------------------------------------

class Kind:
    """How one kind of value is checked, read from a cell, and described in the API's schema."""

    HELP: ClassVar[CellHelp | None] = None  # what a cell may hold, for the import page

    def cell_help(self) -> CellHelp | None:
        """What a cell of this kind may hold, for the import page."""
        return self.HELP

    def check(self, at: Named, value: Any) -> Any:
        """The value normalised; raises FieldProblem."""
        raise NotImplementedError

    def parse(self, at: Named, value: Any) -> Any:
        """One cell (or form input) as a typed value; raises FieldProblem."""
        return self.check(at, value)

    def annotation(self) -> Any:
        """The type of this value in the departmental API's request body (always optional: absent keeps it)."""
        raise NotImplementedError


class Count(Kind):
    """A whole number of things."""

    HELP = CellHelp(("整数", "A whole number"))

    def check(self, at: Named, value: Any) -> int:
        return check_count(at, value)

    def parse(self, at: Named, value: Any) -> int:
        return parse_count(at, value)

    def annotation(self) -> Any:
        return Annotated[int | None, Schema(ge=0)]


class Cents(Kind):
    """An amount of money, kept in cents; files and forms give it in yuan."""

    HELP = CellHelp(("金额（元），如 12.50", "An amount in yuan, e.g. 12.50"))

    def check(self, at: Named, value: Any) -> int:
        return check_cents(at, value)

    def parse(self, at: Named, value: Any) -> int:
        return parse_yuan(at, value)

    def annotation(self) -> Any:
        return Annotated[int | None, Schema(ge=0, description="in cents")]


@dataclass(frozen=True)
class Choice(Kind):
    """One of a few codes; cells may use the Chinese words offices use (`aliases`, lower-case for ASCII), and
    `words` names the one the import page offers for each code (the others are "also accepted")."""

    values: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)
    words: Mapping[str, str] = field(default_factory=dict)

    def cell_help(self) -> CellHelp:
        """Each code with its word, every other spelling (an empty cell is not one) also accepted."""
        return CellHelp(values=tuple((self.words.get(v, v), v) for v in self.values),
                        aliases=tuple(a for a in self.aliases if a))

    def check(self, at: Named, value: Any) -> str:
        if value not in self.values:
            raise FieldProblem(at.name, f"“{at}”只能是 {' / '.join(self.values)}",
                               f"“{at.name}” must be one of {', '.join(self.values)}")
        return str(value)

    def parse(self, at: Named, value: Any) -> str:
        text = cell_text(value)
        key = text.lower() if text.isascii() else text
        found = key if key in self.values else self.aliases.get(key)
        if found is None:
            allowed = sorted({*self.values, *(k for k in self.aliases if k)})
            raise FieldProblem(at.name, f"“{at}”的值无法识别：{text[:20]}（可用：{'、'.join(allowed)}）",
                               f"“{at.name}” value not understood: {text[:20]} (use one of {', '.join(allowed)})")
        return self.check(at, found)

    def annotation(self) -> Any:
        return Literal[self.values] | None


@dataclass(frozen=True)
class Text(Kind):
    """A short text; empty means none."""

    limit: int = 64

    def check(self, at: Named, value: Any) -> str | None:
        return check_text(at, value, self.limit, nullable=True)

    def parse(self, at: Named, value: Any) -> str | None:
        return self.check(at, cell_text(value) or None)

    def annotation(self) -> Any:
        return Annotated[str | None, Schema(max_length=self.limit)]


class Day(Kind):
    """A calendar date; empty means none."""

    HELP = DATE_HELP

    def check(self, at: Named, value: Any) -> date | None:
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise FieldProblem(at.name, f"“{at}”必须是日期 YYYY-MM-DD", f"“{at.name}” must be a date YYYY-MM-DD")

    def parse(self, at: Named, value: Any) -> date | None:
        return parse_date(at, value)

    def annotation(self) -> Any:
        return Annotated[date | None, Schema(strict=False, description="YYYY-MM-DD or null")]


class FeeLineIn(BaseModel):
    """One fee line in a departmental API request."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Schema(max_length=100)
    due_cents: int = Schema(ge=0)
    paid_cents: int = Schema(ge=0)


class FeeLines(Kind):
    """Fee lines, each {name, due_cents, paid_cents}; a file gives one line per row in three columns."""

    def check(self, at: Named, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list) or len(value) > MAX_FEE_ITEMS:
            raise FieldProblem(at.name, f"“{at.name}”必须是不超过 {MAX_FEE_ITEMS} 项的列表",
                               f"“{at.name}” must be a list of at most {MAX_FEE_ITEMS} lines")
        lines = []
        for line in value:
            if not isinstance(line, Mapping) or set(line) - {"name", "due_cents", "paid_cents"}:
                raise FieldProblem(at.name, "每个收费项只能有 name、due_cents、paid_cents",
                                   "Each fee line has only name, due_cents and paid_cents")
            lines.append({"name": check_text(Named(f"{at.name}.name"), line.get("name", ""), 100, nullable=False),
                          "due_cents": check_cents(Named(f"{at.name}.due_cents"), line.get("due_cents", 0)),
                          "paid_cents": check_cents(Named(f"{at.name}.paid_cents"), line.get("paid_cents", 0))})
        return lines

    def annotation(self) -> Any:
        return Annotated[list[FeeLineIn] | None, Schema(max_length=MAX_FEE_ITEMS)]


# ---- fields ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """An import column: its canonical name, its Chinese label and the headers offices put on it."""

    name: str
    label: tuple[str, str]
    headers: tuple[str, ...] = ()
    help: CellHelp | None = None

    @property
    def named(self) -> Named:
        """How messages call this column."""
        return Named(self.name, self.label[0])


@dataclass(frozen=True)
class Field:
    """One writable field of an item's record: its kind, its label, and the import columns it is read from.

    Most fields are read from one column of the same name; `columns` names others (an amount in yuan for a
    field in cents) or several (the three columns of a fee line), and `combine` then makes the value of the
    cells present. `pulled` fields must be in a departmental system's answer.
    """

    name: str
    kind: Kind
    label: tuple[str, str]
    headers: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    combine: Any = None  # (cells) -> value, for a field read from several columns
    pulled: bool = False
    help: CellHelp | None = None  # what its cell may hold, when the kind's own words are not enough

    @property
    def named(self) -> Named:
        """How messages call this field."""
        return Named(self.name, self.label[0])

    @property
    def import_columns(self) -> tuple[Column, ...]:
        """The columns a file may give this field in."""
        return self.columns or (Column(self.name, self.label, self.headers, self.help or self.kind.cell_help()),)

    def check(self, value: Any) -> Any:
        """A typed value, normalised; raises FieldProblem."""
        return self.kind.check(self.named, value)

    def parse(self, cells: Mapping[str, Any]) -> Any:
        """The value of the cells of this field's columns that a row has; raises FieldProblem."""
        if self.combine is not None:
            return self.combine(cells)
        column = self.import_columns[0]
        return self.kind.parse(column.named, cells[column.name])
