"""The departmental API (SPEC §6): signed, idempotent upserts of one record or a batch, all or nothing."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from flask import g, jsonify, request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from server.api.auth import origin
from server.api.schemas import Strict, item_out
from server.clearance.rules import ITEM_KEYS
from server.departments.bulk import load_targets, write_many
from server.departments.changes import apply_change, evaluate_items, load_contexts, require_local
from server.departments.credentials import verify_request
from server.departments.fields import check_all_problems
from server.errors import ApiError, ErrorCode, ErrorOut
from server.state import app_state, db
from server.timeutil import utcnow

MAX_BATCH = 5000
SIGNED = [{"departmentKey": [], "departmentTimestamp": [], "departmentSignature": []}]
SECURITY_SCHEMES = {
    "departmentKey": {"type": "apiKey", "in": "header", "name": "X-Lixiao-Key",
                      "description": "The key id issued by `python -m server.cli department-key create DEPARTMENT`"},
    "departmentTimestamp": {"type": "apiKey", "in": "header", "name": "X-Lixiao-Timestamp",
                            "description": "Unix seconds; must be within 300 s of the server's clock"},
    "departmentSignature": {"type": "apiKey", "in": "header", "name": "X-Lixiao-Signature",
                            "description": "hex HMAC-SHA256(secret, METHOD\\nPATH\\nTIMESTAMP\\nsha256hex(body))"},
}
# 413: a body over LIXIAO_UPLOAD_LIMIT_BYTES (10 MB) is refused before the signature is checked.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut,
          503: ErrorOut}
bp = APIBlueprint("department_api", __name__, url_prefix="/api/v1/departments", abp_tags=[Tag(name="departments")],
                  abp_security=SIGNED, abp_responses=ERRORS)

Department = Literal["library", "archives", "apartment", "finance"]


class DepartmentPath(BaseModel):
    department: Department


class RecordPath(BaseModel):
    department: Department
    student_no: str = Field(min_length=1, max_length=32)


class FeeLineIn(Strict):
    name: str = Field(max_length=100)
    due_cents: int = Field(ge=0)
    paid_cents: int = Field(ge=0)


class RecordIn(Strict):
    """A department's fields; send only your department's, absent fields keep their value (idempotent upsert)."""

    owed_books: int | None = Field(None, ge=0, description="library")
    owed_fees_cents: int | None = Field(None, ge=0, description="library, in cents")
    violations: int | None = Field(None, ge=0, description="library")
    card_status: Literal["active", "cancelled"] | None = Field(None, description="library")
    thesis_status: Literal["not_submitted", "submitted", "approved", "rejected", "received", "reviewed"] | None = (
        Field(None, description="library: not_submitted|submitted|approved|rejected; "
                                "archives: not_submitted|received|reviewed"))
    building: str | None = Field(None, max_length=64, description="apartment")
    move_out_date: date | None = Field(None, strict=False, description="apartment, YYYY-MM-DD or null")
    move_out_handler: str | None = Field(None, max_length=64, description="apartment")
    arrears_cents: int | None = Field(None, ge=0, description="finance, in cents")
    fee_items: list[FeeLineIn] | None = Field(None, max_length=50, description="finance")


class BatchRecordIn(RecordIn):
    student_no: str = Field(min_length=1, max_length=32)


class RecordsIn(Strict):
    records: list[BatchRecordIn] = Field(min_length=1, max_length=MAX_BATCH)


class RecordOut(BaseModel):
    department: str
    student_no: str
    result: Literal["created", "updated", "unchanged"]
    item: dict[str, Any]


class BatchResultOut(BaseModel):
    student_no: str
    result: Literal["created", "updated", "unchanged"]


class RecordsOut(BaseModel):
    department: str
    counts: dict[str, int]
    results: list[BatchResultOut]


@bp.before_request
def _authenticate() -> None:
    """Check the signature before anything else, including the body's shape."""
    department = (request.view_args or {}).get("department", "")
    if department not in ITEM_KEYS:
        raise ApiError(404, ErrorCode.UNKNOWN_DEPARTMENT, "未知的部门", "Unknown department",
                       departments=list(ITEM_KEYS))
    state = app_state()
    g.department_key = verify_request(db(), state.redis, state.settings.secret_key, department=department,
                                      headers=request.headers, method=request.method, path=request.path,
                                      body=request.get_data(cache=True), now=utcnow())
    require_local(state.settings, department)


def _values(record: RecordIn) -> dict[str, Any]:
    return record.model_dump(exclude_unset=True, exclude={"student_no"})


def _problems(department: str, index: int | None, values: dict[str, Any]) -> list[dict[str, Any]]:
    prefix: list[Any] = ["records", index] if index is not None else []
    return [{"loc": [*prefix, p.field], "message": p.message, "message_en": p.message_en}
            for p in check_all_problems(department, values)]


def _invalid(fields: list[dict[str, Any]]) -> ApiError:
    return ApiError(400, ErrorCode.VALIDATION_ERROR, "记录内容不正确，未写入任何数据",
                    "Some records are invalid; nothing was written", fields=fields)


def _actor() -> str:
    return f"department_key:{g.department_key.key_id}"


@bp.put("/<department>/records/<student_no>", responses={200: RecordOut})
def put_record(path: RecordPath, body: RecordIn):  # type: ignore[no-untyped-def]
    """Create or update one student's record of this department (fields not sent keep their value)."""
    values = _values(body)
    problems = _problems(path.department, None, values)
    if problems:
        raise _invalid(problems)
    state, session, now = app_state(), db(), utcnow()
    ctx = load_contexts(session, [path.student_no]).get(path.student_no)
    if ctx is None:
        raise ApiError(404, ErrorCode.STUDENT_NOT_FOUND, f"学号不存在：{path.student_no}",
                       f"No student with number {path.student_no}")
    result = apply_change(session, state.settings, state.sources, ctx, path.department, values, source="api",
                          actor=_actor(), origin=origin(), cause=f"api:{path.department}", now=now)
    item = next(i for i in evaluate_items(state.settings, state.sources, ctx.student, ctx.rows, now)
                if i.key == path.department)
    session.commit()
    return jsonify({"department": path.department, "student_no": path.student_no, "result": result,
                    "item": item_out(item)})


@bp.post("/<department>/records", responses={200: RecordsOut})
def post_records(path: DepartmentPath, body: RecordsIn):  # type: ignore[no-untyped-def]
    """Create or update up to 5,000 records at once; any bad or unknown record means nothing is written."""
    department = path.department
    problems: list[dict[str, Any]] = []
    first_seen: dict[str, int] = {}
    values = []
    for index, record in enumerate(body.records):
        values.append(_values(record))
        problems += _problems(department, index, values[-1])
        if record.student_no in first_seen:
            problems.append({"loc": ["records", index, "student_no"],
                             "message": f"与第 {first_seen[record.student_no]} 项的学号重复",
                             "message_en": f"Same student as record {first_seen[record.student_no]}"})
        first_seen.setdefault(record.student_no, index)
    if problems:
        raise _invalid(problems)
    state, session, now = app_state(), db(), utcnow()
    targets = load_targets(session, department, [r.student_no for r in body.records])
    unknown = [{"index": i, "student_no": r.student_no, "code": "STUDENT_NOT_FOUND",
                "message": f"学号不存在：{r.student_no}", "message_en": f"No student with number {r.student_no}"}
               for i, r in enumerate(body.records) if r.student_no not in targets]
    if unknown:
        raise ApiError(422, ErrorCode.RECORDS_REJECTED, f"{len(unknown)} 条记录的学号不存在，未写入任何数据",
                       f"{len(unknown)} record(s) name unknown students; nothing was written", rows=unknown)
    outcomes = write_many(session, state.settings, state.sources, department,
                          [(r.student_no, v) for r, v in zip(body.records, values, strict=True)], source="api",
                          actor=_actor(), origin=origin(), cause=f"api:{department}", now=now, targets=targets)
    results = [{"student_no": r.student_no, "result": outcome}
               for r, outcome in zip(body.records, outcomes, strict=True)]
    session.commit()
    counts = {name: sum(1 for r in results if r["result"] == name) for name in ("created", "updated", "unchanged")}
    return jsonify({"department": department, "counts": counts, "results": results})
