"""What one clearance item declares (`ClearanceItem`), and the small types its module builds it from.

Each module of `server/items/` defines one item and names it `ITEM`: its record (an ORM model), the rule data
read from that record, the pure rule with its messages, the details a student sees with their labels, the
fields departments write, its office, what students and operators can do about it, and its demo states.
The rest of Lixiao iterates the registry (`server.items.registry`) and never names an item.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime
from server.errors import ErrorCode
from server.items.fields import Column, Field, FieldProblem

Pair = tuple[str, str]  # Chinese, English


@dataclass(frozen=True)
class Office:
    """Where a student goes and whom they call about one item."""

    name: str
    name_en: str
    place: str
    place_en: str
    phone: str


@dataclass(frozen=True)
class Message:
    """A sentence shown to the student, in both languages."""

    code: str
    message: str
    message_en: str


@dataclass
class Verdict:
    """What a rule found: why the item has not passed and what to do, one message pair per finding."""

    reasons: list[Message] = field(default_factory=list)
    steps: list[Message] = field(default_factory=list)

    def fail(self, code: str, reason: Pair, step: Pair) -> None:
        """Record one reason and the step that clears it."""
        self.reasons.append(Message(code, *reason))
        self.steps.append(Message(code, *step))


class RecordColumns:
    """What every item's record carries besides its own fields: one row per student, and how it was read."""

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), unique=True)
    source: Mapped[str] = mapped_column(String(40))  # local | console:<staff> | import | api | http | fake
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last successful read or write
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    fail_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    known: Mapped[bool] = mapped_column(Boolean, default=True)  # False: the source said "no such student"


class ItemRecord(RecordColumns, Base):
    """The base of every item's record model (abstract: each item's module maps its own table)."""

    __abstract__ = True


# ---- what the student sees ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One labelled line of an item's details, in both languages."""

    key: str
    label: str
    label_en: str
    value: str
    value_en: str


def _plain(value: Any) -> Pair:
    if isinstance(value, bool):
        return ("是", "yes") if value else ("否", "no")
    if value in (None, ""):
        return "—", "—"
    return str(value), str(value)


@dataclass(frozen=True)
class Shown:
    """One detail the student sees: its label, the words for its codes, or how a list of lines reads."""

    name: str
    label: Pair
    values: Mapping[str, Pair] = field(default_factory=dict)
    lines: Callable[[Any], list[Row]] | None = None

    def rows(self, value: Any) -> list[Row]:
        """This detail as rows (a list detail gives one row per line)."""
        if self.lines is not None:
            return self.lines(value)
        zh, en = self.values.get(value, _plain(value)) if isinstance(value, str) else _plain(value)
        return [Row(self.name, *self.label, zh, en)]


# ---- what people do ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Operator:
    """The staff member acting at the console, as an item's action sees them."""

    name: str
    today: date


@dataclass(frozen=True)
class Change:
    """What a console action writes: some of the record's fields, the cause of the status change, and an extra
    audit line (action, before, after) when the act means more than the fields say."""

    values: Mapping[str, Any]
    cause: str
    audit: tuple[str, Mapping[str, Any], Mapping[str, Any]] | None = None


class Refused(Exception):
    """An action that cannot be done as asked (HTTP 400 or 422), said in both languages."""

    def __init__(self, status: int, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.status, self.message, self.message_en = status, message, message_en


@dataclass(frozen=True)
class Input:
    """One input of a console form; `value` gives what it shows (current record values, today)."""

    name: str
    label: Pair
    kind: str = "text"  # text | number | yuan | date | select
    choices: Sequence[tuple[str, Pair]] = ()
    required: bool = False
    maxlength: int | None = None
    until_today: bool = False  # a date that cannot be in the future
    value: Callable[[Mapping[str, Any] | None, date], str] | None = None


@dataclass(frozen=True)
class Button:
    """A submit button; `value` is what it sends as the form's `status` field, if anything."""

    label: Pair
    value: str = ""
    style: str = ""  # "" | secondary | danger


@dataclass(frozen=True)
class ConsoleAction:
    """A form an item's operators fill in on a student's page, posted to /console/students/<no>/<key>[/<name>].

    `plan` turns the current record values (None: nothing recorded) and the form's text into a Change; it
    raises FieldProblem or Refused for input it cannot take. `note` may name the operator ({operator}).
    """

    name: str
    title: Pair
    plan: Callable[[Mapping[str, Any] | None, Mapping[str, str], Operator], Change]
    inputs: tuple[Input, ...] = ()
    buttons: tuple[Button, ...] = (Button(("保存", "Save")),)
    note: Pair | None = None


@dataclass(frozen=True)
class StudentAction:
    """Something a student does about an item from their phone or browser (the library card's cancellation).

    The department's own system is asked first (a pulled source does it at `{url}/records/<no>/<name>`); only
    when it agrees does the record change to `apply(data)`. From the item's details, `done` says whether it is
    done already (then doing it again changes nothing) and `allowed` whether it may be done now; it is offered
    while it is allowed and not done.
    """

    name: str
    title: Pair
    api_path: str  # under /api/v1/me
    web_path: str  # a page of its own under /me
    done: Callable[[Mapping[str, Any]], bool]
    allowed: Callable[[Mapping[str, Any]], bool]
    apply: Callable[[Any], Any]
    changed: tuple[str, ...]  # the fields it changes, audited as `audit_action` before → after
    audit_action: str
    cause: str
    warning: Pair  # shown before the student confirms
    confirm: Pair  # the confirming button
    not_yet: Pair  # why it cannot be done now, and what to do first
    done_text: Pair
    not_allowed: Pair  # the API's refusal while `allowed` is false
    not_allowed_code: ErrorCode
    refused_code: ErrorCode
    refused: Pair  # the department said no: {place} and {phone} are its office's


# ---- demo states -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoState:
    """What the demo records for one student on one item: values (None: no record), or that the department
    does not know the student, or that its system failed when last asked."""

    values: Mapping[str, Any] | None
    unknown: bool = False
    failed: bool = False


def pick(rng: random.Random, table: Sequence[tuple[int, Any]]) -> Any:
    """A weighted choice from [(weight, value), ...]."""
    return rng.choices([v for _, v in table], weights=[w for w, _ in table])[0]


# ---- the item ----------------------------------------------------------------------------------------------------

def _no_data(_student: Any) -> Any:
    return None


@dataclass(frozen=True, eq=False)
class ClearanceItem:
    """Everything about one clearance item, declared once.

    - `record`: its ORM model (one row per student, `RecordColumns` plus `fields`); `data`: the frozen
      dataclass its rule reads, built from a row by `data_of` (and the student's `student_fields`).
    - `rule(data, office) -> Verdict`: pure; `details(data)`: what the API shows (described by `details_schema`
      in the OpenAPI document), labelled by `shown`.
    - `empty(student)`: what a department keeping its records in Lixiao means by "nothing recorded";
      `assumed(student)`: what is known with no record at all, even from a pulled source (else None).
    - `office`: the default place (zh, en) a student goes to; the office's name is the title.
    - `demo(rng, student, i, passing, now)`: the i-th demo student's state; `passing` values pass the rule.
    """

    key: str
    title: Pair
    order: int
    record: type[ItemRecord]
    data: type
    fields: tuple[Field, ...]
    rule: Callable[[Any, Office], Verdict]
    details: Callable[[Any], dict[str, Any]]
    details_schema: type[BaseModel]
    shown: tuple[Shown, ...]
    office: Pair
    passing: Mapping[str, Any]
    demo: Callable[[random.Random, Any, int, bool, datetime], DemoState]
    on_by_default: bool = True
    college_scoped: bool = False  # its operators are college secretaries, each for the students of their college
    empty: Callable[[Any], Any] | None = None
    assumed: Callable[[Any], Any] = _no_data
    data_of: Callable[[Any, Any], Any] | None = None
    student_fields: tuple[str, ...] = ()
    push_title: Pair | None = None  # a shorter title for pushes (a subscribe message's thing keyword: 20 characters)
    console_actions: tuple[ConsoleAction, ...] = ()
    student_actions: tuple[StudentAction, ...] = ()
    # Fields that only make sense together, checked on every write (import row, API record, console form):
    # raises FieldProblem for values that would contradict each other (a move-out date without its handler).
    together: Callable[[Mapping[str, Any]], None] | None = None
    # A pulled system that answers "no record" (404, or `{}`) means the empty data, not an unknown student
    # (finance: 无数据视为通过, no fee data means nothing owed).
    absent_is_empty: bool = False
    field_index: dict[str, Field] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_index", {f.name: f for f in self.fields})

    @property
    def field_names(self) -> tuple[str, ...]:
        """The writable fields' names, in order."""
        return tuple(f.name for f in self.fields)

    # -- data

    def read(self, row: Any, student: Any) -> Any:
        """The rule data of a record row (an ORM row, or any object with the same attributes)."""
        if self.data_of is not None:
            return self.data_of(row, student)
        return self.data(**{name: getattr(row, name) for name in self.field_names})

    def nothing_recorded(self, student: Any) -> Any:
        """The data of a department that keeps its records here and has recorded nothing for the student."""
        return self.empty(student) if self.empty is not None else self.data()

    def values_of(self, data: Any) -> dict[str, Any]:
        """The writable fields of rule data, as record values (sequences become lists)."""
        names = set(self.field_names)
        return {f.name: list(value) if isinstance(value := getattr(data, f.name), tuple) else value
                for f in fields(data) if f.name in names}

    def current(self, row: Any) -> dict[str, Any] | None:
        """A record row's field values and whether the student is known to it, as a console action sees them."""
        return None if row is None else {"known": row.known, **{f: getattr(row, f) for f in self.field_names}}

    def defaults(self) -> dict[str, Any]:
        """The field values of a record nobody has set anything on (the empty data's); a fresh copy."""
        return self.values_of(self.data())

    # -- writable fields

    def check(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Typed values for this item's record, normalised; raises FieldProblem for the first bad field."""
        allowed = self.field_names
        for name in values:
            if name not in self.field_index:
                raise FieldProblem(name, f"“{name}”不是{self.key}记录的字段（可用：{'、'.join(allowed)}）",
                                   f"“{name}” is not a {self.key} field (allowed: {', '.join(allowed)})")
        checked = {name: self.field_index[name].check(value) for name, value in values.items()}
        if self.together is not None:
            self.together(checked)
        return checked

    def problems(self, values: Mapping[str, Any]) -> list[FieldProblem]:
        """Every bad field of one record (the API lists them all)."""
        found = []
        for name, value in values.items():
            try:
                self.check({name: value})
            except FieldProblem as problem:
                found.append(problem)
        if not found and self.together is not None:
            try:
                self.together(self.check(values))
            except FieldProblem as problem:
                found.append(problem)
        return found

    def from_json(self, payload: Any) -> Any:
        """A departmental system's JSON answer as rule data; raises FieldProblem when it is not what we expect."""
        if not isinstance(payload, Mapping):
            raise FieldProblem("", "答复不是 JSON 对象", "The answer is not a JSON object")
        if not payload and self.absent_is_empty:
            return self.data()
        values = {k: v for k, v in payload.items() if k in self.field_index}
        missing = [f.name for f in self.fields if f.pulled and f.name not in values]
        if missing:
            raise FieldProblem(missing[0], f"答复缺少“{missing[0]}”", f"The answer lacks “{missing[0]}”")
        return self.from_values(values)

    def from_values(self, values: Mapping[str, Any]) -> Any:
        """Rule data from some of the fields' values (checked; the others keep the empty data's)."""
        checked = self.check(values)
        return self.data(**{k: tuple(v) if isinstance(v, list) else v for k, v in checked.items()})

    @property
    def import_columns(self) -> dict[str, Column]:
        """Every column a file of this item may have, by canonical name."""
        return {c.name: c for f in self.fields for c in f.import_columns}

    def parse_cells(self, cells: Mapping[str, Any]) -> dict[str, Any]:
        """One import row's cells (canonical column names) as checked record values."""
        out: dict[str, Any] = {}
        for f in self.fields:
            if any(c.name in cells for c in f.import_columns):
                out[f.name] = f.parse(cells)
        return self.check(out)

    # -- what the student sees

    def rows(self, details: Mapping[str, Any]) -> list[Row]:
        """The details as labelled rows in both languages, in the order `shown` lists them."""
        return [row for s in self.shown if s.name in details for row in s.rows(details[s.name])]

    def actions_for(self, details: Mapping[str, Any]) -> list[StudentAction]:
        """The student actions these details offer (none when the data could not be read)."""
        return [a for a in self.student_actions if details and a.allowed(details) and not a.done(details)]

    def student_action(self, name: str) -> StudentAction | None:
        """One student action by name."""
        return next((a for a in self.student_actions if a.name == name), None)

    def console_action(self, name: str) -> ConsoleAction | None:
        """One console action by name ("" is the item's own form)."""
        return next((a for a in self.console_actions if a.name == name), None)
