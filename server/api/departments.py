"""The departmental API (SPEC §6): signed, idempotent upserts of one record or a batch, all or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from typing import Any, Literal, cast

from flask import Response, g, jsonify, request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field, create_model
from redis.exceptions import RedisError

from server.api.auth import origin
from server.api.schemas import Strict, item_key, item_out
from server.clearance.contexts import load_contexts
from server.clearance.rules import Judge
from server.departments.bulk import load_targets, write_many
from server.departments.changes import apply_change, require_local
from server.departments.credentials import HEADER_SIGNATURE, keep_outcome, verify_request
from server.errors import ApiError, ErrorCode, error_responses
from server.items import registry
from server.items.fields import Choice
from server.state import app_state, db
from server.timeutil import utcnow

MAX_BATCH = 5000
SIGNED: list[dict[str, list[str]]] = [{"departmentKey": [], "departmentTimestamp": [], "departmentSignature": []}]
SECURITY_SCHEMES = {
    "departmentKey": {"type": "apiKey", "in": "header", "name": "X-Lixiao-Key",
                      "description": "The key id issued by `python -m server.cli department-key create DEPARTMENT`"},
    "departmentTimestamp": {"type": "apiKey", "in": "header", "name": "X-Lixiao-Timestamp",
                            "description": "Unix seconds; must be within 300 s of the server's clock"},
    "departmentSignature": {"type": "apiKey", "in": "header", "name": "X-Lixiao-Signature",
                            "description": "hex HMAC-SHA256(secret, METHOD\\nPATH\\nTIMESTAMP\\nsha256hex(body))"},
}
# 413: a body over LIXIAO_UPLOAD_LIMIT_BYTES (10 MB) is refused before the signature is checked.
ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 503)
bp = APIBlueprint("department_api", __name__, url_prefix="/api/v1/departments", abp_tags=[Tag(name="departments")],
                  abp_security=SIGNED, abp_responses=ERRORS)

class DepartmentPath(BaseModel):
    department: str = item_key()


class RecordPath(BaseModel):
    department: str = item_key()
    student_no: str = Field(min_length=1, max_length=32)


def _record_fields() -> dict[str, Any]:
    """Every writable field of every item, as optional body fields; a name two items share (a thesis status)
    takes either item's values, and the item of the path decides which it must be."""
    owners: dict[str, list[tuple[str, Any]]] = {}
    for item in registry.known().values():
        for field in item.fields:
            owners.setdefault(field.name, []).append((item.key, field))
    fields: dict[str, Any] = {}
    for name, found in owners.items():
        kinds = [field.kind for _key, field in found]
        if len(kinds) > 1 and all(isinstance(kind, Choice) for kind in kinds):
            annotation = Choice(tuple(dict.fromkeys(v for kind in kinds for v in kind.values))).annotation()
        else:
            annotation = kinds[0].annotation()
        described = "; ".join(key + (f": {'|'.join(field.kind.values)}" if isinstance(field.kind, Choice) else "")
                              for key, field in found)
        fields[name] = (annotation, Field(None, description=described))
    return fields


RecordIn = create_model(  # the fields come from the item modules
    "RecordIn", __base__=Strict, __doc__="An item's fields; send only your department's, absent fields keep their "
    "value (idempotent upsert).", **_record_fields())


class BatchRecordIn(RecordIn):  # a class made by create_model
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
    state = app_state()
    active = registry.active(state.settings)
    if department not in active:
        raise ApiError(404, ErrorCode.UNKNOWN_DEPARTMENT, "未知的部门", "Unknown department",
                       departments=list(active.keys))
    g.department_key = verify_request(db(), state.redis, state.settings.secret_key, department=department,
                                      headers=cast(Mapping[str, str], request.headers), method=request.method,
                                      path=request.path,
                                      body=request.get_data(cache=True), now=utcnow())
    require_local(state.settings, department)


@bp.after_request
def _keep_outcome(response: Response) -> Response:
    """A write that was answered (committed or refused) keeps its answer for a client whose call timed out."""
    if g.get("department_key") is not None and response.status_code < 500 and response.is_json:
        with suppress(RedisError):  # the answer still goes out; a replay then learns only that it was seen
            keep_outcome(app_state().redis, g.department_key.key_id,  # the canonical id, as the replay mark
                         request.headers[HEADER_SIGNATURE].strip(), response.status_code, response.get_json())
    return response


def _values(record: BaseModel) -> dict[str, Any]:
    return record.model_dump(exclude_unset=True, exclude={"student_no"})


def _problems(department: str, index: int | None, values: dict[str, Any]) -> list[dict[str, Any]]:
    prefix: list[Any] = ["records", index] if index is not None else []
    return [{"loc": [*prefix, p.field], "message": p.message, "message_en": p.message_en}
            for p in registry.get(department).problems(values)]


def _invalid(fields: list[dict[str, Any]]) -> ApiError:
    return ApiError(400, ErrorCode.VALIDATION_ERROR, "记录内容不正确，未写入任何数据",
                    "Some records are invalid; nothing was written", fields=fields)


def _actor() -> str:
    return f"department_key:{g.department_key.key_id}"


@bp.put("/<department>/records/<student_no>", responses={200: RecordOut})
def put_record(path: RecordPath, body: RecordIn):
    """Create or update one student's record of this department (fields not sent keep their value)."""
    values = _values(body)
    problems = _problems(path.department, None, values)
    if problems:
        raise _invalid(problems)
    state, session, now = app_state(), db(), utcnow()
    ctx = load_contexts(session, [path.student_no], keys=registry.active(state.settings).keys).get(path.student_no)
    if ctx is None:
        raise ApiError(404, ErrorCode.STUDENT_NOT_FOUND, f"学号不存在：{path.student_no}",
                       f"No student with number {path.student_no}")
    result = apply_change(session, state.settings, state.sources, ctx, path.department, values, source="api",
                          actor=_actor(), origin=origin(), cause=f"api:{path.department}", now=now)
    item = Judge.of(state.settings, state.sources, now).item(path.department, ctx.rows[path.department], ctx.student)
    session.commit()
    return jsonify({"department": path.department, "student_no": path.student_no, "result": result,
                    "item": item_out(item)})


@bp.post("/<department>/records", responses={200: RecordsOut})
def post_records(path: DepartmentPath, body: RecordsIn):
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
