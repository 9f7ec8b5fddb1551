"""The JSON shapes of the API (SPEC §6), as pydantic models the OpenAPI document is built from."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.clearance import departments
from server.clearance.models import Application, Batch, Student
from server.clearance.rules import ItemResult, Message
from server.timeutil import iso

ItemKey = Literal["library", "archives", "apartment", "finance"]
ItemStatus = Literal["passed", "not_passed", "unavailable"]


class Strict(BaseModel):
    """Request bodies: unknown fields and wrong types are errors, never silently coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ApplicationIn(Strict):
    """Optional body of a submission: the student's explicit confirmation."""

    confirm: Literal[True] = Field(True, description="The student confirmed they cannot submit again")

    @model_validator(mode="before")
    @classmethod
    def _empty_body(cls, data: Any) -> Any:
        # No body at all means "submit"; malformed JSON never gets here (the app refuses it first).
        return {} if data is None else data


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


class LibraryDetails(BaseModel):
    owed_books: int
    owed_fees: str = Field(description="Yuan, e.g. 12.50")
    violations: int
    card_status: Literal["active", "cancelled"]
    thesis_status: Literal["not_submitted", "submitted", "approved", "rejected"]
    can_cancel_card: bool


class ArchivesDetails(BaseModel):
    thesis_status: Literal["not_submitted", "received", "reviewed"]


class ApartmentDetails(BaseModel):
    lived_on_campus: bool
    building: str | None
    move_out_date: str | None = Field(description="YYYY-MM-DD")
    move_out_handler: str | None


class FeeItem(BaseModel):
    name: str
    due: str
    paid: str


class FinanceDetails(BaseModel):
    arrears: str = Field(description="Yuan, e.g. 0.00")
    fee_items: list[FeeItem]


class ItemOut(BaseModel):
    key: ItemKey
    title: str
    title_en: str
    status: ItemStatus
    # The item's own fields; empty when the department's data could not be read.
    details: LibraryDetails | ArchivesDetails | ApartmentDetails | FinanceDetails | dict[str, Any]
    reasons: list[MessageOut]
    next_steps: list[StepOut]
    department: DepartmentOut
    updated_at: str | None = Field(description="When the record was last read successfully (ISO 8601)")
    source: str


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
    key: ItemKey
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


def item_out(item: ItemResult) -> dict[str, Any]:
    """One item as the API shows it."""
    title, title_en = departments.TITLES[item.key]
    office = item.office
    return {
        "key": item.key,
        "title": title,
        "title_en": title_en,
        "status": str(item.status),
        "details": item.details,
        "reasons": [_message(r) for r in item.reasons],
        "next_steps": [{"message": s.message, "message_en": s.message_en} for s in item.next_steps],
        "department": {
            "name": office.name if office else title, "name_en": office.name_en if office else title_en,
            "place": office.place if office else "", "place_en": office.place_en if office else "",
            "phone": office.phone if office else "",
        },
        "updated_at": iso(item.updated_at),
        "source": item.source,
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
        "items": [{"key": i["key"], "status": i["status"]} for i in a.snapshot.get("items", [])],
        "certificate": certificate,
    }
