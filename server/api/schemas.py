"""The JSON shapes of the API (SPEC §6), as pydantic models the OpenAPI document is built from."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.clearance.models import Application, Batch, Student
from server.clearance.rules import ItemResult, Message
from server.identity.accounts import Person
from server.identity.models import Staff
from server.items import registry
from server.timeutil import iso
from server.vocabulary import STATUS_LABELS, source_label

ItemStatus = Literal["passed", "not_passed", "unavailable"]


def item_key(**extra: Any) -> Any:
    """An item key: one of the items Lixiao knows (a deployment clears some of them, LIXIAO_ITEMS)."""
    return Field(description="An item key", json_schema_extra={"enum": list(registry.known())}, **extra)


class Strict(BaseModel):
    """Request bodies: unknown fields and wrong types are errors, never silently coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ApplicationIn(Strict):
    """The body of a submission, required as the document says: the student's explicit confirmation."""

    confirm: Literal[True] = Field(True, description="The student confirmed they cannot submit again")

    @model_validator(mode="before")
    @classmethod
    def _body_required(cls, data: Any) -> Any:
        # No JSON body at all (flask-openapi3 passes None) is refused like a malformed one.
        if data is None:
            raise ValueError('a JSON body is required: {"confirm": true}')
        return data


class MessageOut(BaseModel):
    code: str
    message: str
    message_en: str


class StepOut(BaseModel):
    message: str
    message_en: str


class DepartmentOut(BaseModel):
    name: str
    name_en: str
    place: str
    place_en: str
    phone: str


class RowOut(BaseModel):
    """One labelled detail line, ready to show: a client needs no words of its own for any item."""

    key: str
    label: str
    label_en: str
    value: str
    value_en: str


class ActionOut(BaseModel):
    """Something the student can do about the item now (POST `path` with an empty body; the answer is the ITEM)."""

    key: str
    title: str
    title_en: str
    method: Literal["POST"]
    path: str
    warning: str
    warning_en: str
    confirm: str
    confirm_en: str
    done: str
    done_en: str


# Each item's details as its module declares them; a client that renders `rows` needs none of them.
Details = Union[tuple(item.details_schema for item in registry.known().values())]  # type: ignore[valid-type]  # noqa: UP007 -- built from the registry


class ItemOut(BaseModel):
    key: str = item_key()
    title: str
    title_en: str
    status: ItemStatus
    status_label: str
    status_label_en: str
    # The item's own fields; an unavailable item's are the last values read (as of updated_at), empty if none were.
    details: Details | dict[str, Any]  # type: ignore[valid-type]  # a Union built from the registry at import
    rows: list[RowOut] = Field(description="The details as labelled lines, in both languages; for an unavailable "
                               "item the last known values (as of updated_at), empty when none were ever read")
    actions: list[ActionOut] = Field(description="What the student can do about this item now")
    reasons: list[MessageOut]
    next_steps: list[StepOut]
    department: DepartmentOut
    updated_at: str | None = Field(description="When the record was last read successfully (ISO 8601)")
    source: str = Field(description="Where the record came from, as stored (a code; show source_label)")
    source_label: str = Field(description="Where the record came from, in words; empty when it was never read")
    source_label_en: str


class StudentOut(BaseModel):
    student_no: str
    name: str
    college: str
    major: str
    degree_level: Literal["master", "doctor"]
    supervisor: str
    expected_graduation: str
    lived_on_campus: bool


class BatchOut(BaseModel):
    id: int
    name: str
    opens_at: str
    closes_at: str
    is_open: bool


class CertificateBrief(BaseModel):
    serial: str
    status: str


class ApplicationItemOut(BaseModel):
    key: str = item_key()
    title: str
    title_en: str
    status: ItemStatus


class ApplicationOut(BaseModel):
    id: int
    batch_id: int
    batch_name: str
    submitted_at: str
    items: list[ApplicationItemOut]
    certificate: CertificateBrief | None = None


class ApplicationsOut(BaseModel):
    applications: list[ApplicationOut]


class ClearanceOut(BaseModel):
    student: StudentOut
    batch: BatchOut | None
    items: list[ItemOut]
    can_submit: bool
    submit_blockers: list[MessageOut]
    application: ApplicationOut | None


class HealthOut(BaseModel):
    status: Literal["ok"]


def _message(m: Message) -> dict[str, str]:
    return {"code": m.code, "message": m.message, "message_en": m.message_en}


def action_out(key: str, action: Any) -> dict[str, Any]:
    """A student action as the API offers it."""
    return {"key": action.name, "title": action.title[0], "title_en": action.title[1], "method": "POST",
            "path": f"/api/v1/me{action.api_path}", "warning": action.warning[0], "warning_en": action.warning[1],
            "confirm": action.confirm[0], "confirm_en": action.confirm[1], "done": action.done_text[0],
            "done_en": action.done_text[1]}


def item_out(item: ItemResult) -> dict[str, Any]:
    """One item as the API shows it: everything a client needs to render it without knowing the item."""
    spec = registry.get(item.key)
    title, title_en = spec.title
    office = item.office
    label, label_en = STATUS_LABELS[str(item.status)]
    source, source_en = source_label(item.source)
    return {
        "key": item.key,
        "title": title,
        "title_en": title_en,
        "status": str(item.status),
        "status_label": label,
        "status_label_en": label_en,
        "details": item.details,
        "rows": [vars(row) for row in spec.rows(item.details)],
        "actions": [action_out(item.key, a) for a in spec.actions_for(item.details)],
        "reasons": [_message(r) for r in item.reasons],
        "next_steps": [{"message": s.message, "message_en": s.message_en} for s in item.next_steps],
        "department": {
            "name": office.name if office else title, "name_en": office.name_en if office else title_en,
            "place": office.place if office else "", "place_en": office.place_en if office else "",
            "phone": office.phone if office else "",
        },
        "updated_at": iso(item.updated_at),
        "source": item.source,
        "source_label": source,
        "source_label_en": source_en,
    }


def student_out(s: Student) -> dict[str, Any]:
    """The basic information block."""
    return {
        "student_no": s.student_no, "name": s.name, "college": s.college, "major": s.major,
        "degree_level": s.degree_level, "supervisor": s.supervisor,
        "expected_graduation": s.expected_graduation.isoformat(), "lived_on_campus": s.lived_on_campus,
    }


def batch_out(b: Batch | None, now: datetime) -> dict[str, Any] | None:
    """A batch and whether it is open now."""
    if b is None:
        return None
    return {"id": b.id, "name": b.name, "opens_at": iso(b.opens_at), "closes_at": iso(b.closes_at),
            "is_open": b.is_open(now)}


def application_out(a: Application, batch_name: str, certificate: dict[str, str] | None = None) -> dict[str, Any]:
    """A submitted clearance, as listed under completed items."""
    return {
        "id": a.id, "batch_id": a.batch_id, "batch_name": batch_name, "submitted_at": iso(a.submitted_at),
        "items": [{"key": i["key"], "title": item_title(i["key"])[0], "title_en": item_title(i["key"])[1],
                   "status": i["status"]} for i in a.snapshot.get("items", [])],
        "certificate": certificate,
    }


def item_title(key: str) -> tuple[str, str]:
    """An item's title; a key no module declares any more (an old snapshot) stands for itself."""
    item = registry.known().get(key)
    return item.title if item is not None else (key, key)


def staff_out(staff: Staff) -> dict[str, Any]:
    """A staff account as login answers show it."""
    return {"username": staff.username, "name": staff.name, "role": staff.role, "department": staff.department}


def person_out(person: Person) -> dict[str, Any]:
    """{"student": …} or {"staff": …} for a login answer."""
    if person.staff is not None:
        return {"staff": staff_out(person.staff)}
    assert person.student is not None  # a Person is exactly one of the two
    return {"student": student_out(person.student)}
