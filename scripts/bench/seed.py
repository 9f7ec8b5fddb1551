"""Fill the bench database fast: students, their records, item states, sessions and tokens in a few executemany."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, insert

from server.clearance.models import Batch, ItemState, Student
from server.clearance.rules import Judge
from server.identity.models import ApiSession, WechatBinding
from server.identity.tokens import sign_session_id
from server.items import registry
from server.settings import Settings

CHUNK = 5000  # rows per executemany: large enough to be fast, small enough for max_allowed_packet

COLLEGES = ("计算机科学与技术学院", "数学学院", "外国语言文化学院", "机电工程学院", "经济学院")


@dataclass(frozen=True)
class Cohort:
    """Students seeded for one benchmark, with a bearer token each (same order)."""

    batch_id: int
    student_ids: list[int]
    tokens: list[str]


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]


def _insert(engine: Engine, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for chunk in _chunks(rows):
            conn.execute(insert(table), list(chunk))


def _records(n: int, all_passed: bool, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Record values of the n-th student: every item passed, or a realistic mix of the seed's outstanding items."""
    passed = {key: dict(registry.get(key).passing) for key in keys}
    if "apartment" in passed:
        passed["apartment"]["building"] = f"竹园{n % 12 + 1}号楼"
    if all_passed or n % 3 == 0:
        return passed
    mixed = {k: dict(v) for k, v in passed.items()}
    if n % 3 == 1:
        if "library" in mixed:
            mixed["library"].update(owed_books=n % 4 + 1, card_status="active", thesis_status="submitted")
        if "apartment" in mixed:
            mixed["apartment"].update(move_out_date=None, move_out_handler=None)
    else:
        if "archives" in mixed:
            mixed["archives"]["thesis_status"] = "received"
        if "finance" in mixed:
            mixed["finance"] = {"arrears_cents": 120000 + n, "fee_items": [
                {"name": "2026-2027 学年学费", "due_cents": 800000, "paid_cents": 680000 - n},
                {"name": "住宿费", "due_cents": 120000, "paid_cents": 120000}]}
    return mixed


def seed_cohort(engine: Engine, settings: Settings, *, batch_name: str, count: int, first_id: int,
                all_passed: bool, now: datetime) -> Cohort:
    """Insert one open batch and `count` students with records, item states, bindings, sessions and tokens."""
    batch_table: Table = Batch.__table__  # type: ignore[assignment]
    with engine.begin() as conn:
        batch_id = conn.execute(insert(batch_table).values(
            name=batch_name, opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30), created_at=now,
        )).inserted_primary_key[0]
    ids = list(range(first_id, first_id + count))
    students, states, bindings, sessions, tokens = [], [], [], [], []
    judge = Judge.of(settings, {}, now)
    records: dict[str, list[dict[str, Any]]] = {k: [] for k in judge.keys}
    expires = now + timedelta(seconds=settings.token_ttl_seconds)
    for sid in ids:
        row = {"id": sid, "student_no": f"B{sid:09d}", "name": f"压测学生{sid}", "college": COLLEGES[sid % 5],
               "major": "软件工程", "degree_level": "doctor" if sid % 7 == 0 else "master", "supervisor": "某导师",
               "expected_graduation": date(2027, 6, 30), "lived_on_campus": sid % 10 != 0, "batch_id": batch_id,
               "created_at": now}
        students.append(row)
        student = Student(**row)  # transient: only for the rules below
        for key, values in _records(sid, all_passed, judge.keys).items():
            records[key].append({"student_id": sid, "source": "local", "read_at": now, "known": True, **values})
            record = registry.get(key).record(**values, read_at=now, source="local", known=True)
            status = judge.status(key, record, student)
            states.append({"student_id": sid, "item": key, "status": str(status), "changed_at": now})
        openid = f"o-bench-{sid}"
        bindings.append({"openid": openid, "student_id": sid, "bound_at": now})
        session_id = secrets.token_urlsafe(32)
        sessions.append({"id": session_id, "channel": "wechat", "openid": openid, "student_id": sid,
                         "staff_id": None, "created_at": now, "expires_at": expires, "revoked_at": None})
        tokens.append(sign_session_id(settings.secret_key, session_id, student_id=sid))
    _insert(engine, Student.__table__, students)  # type: ignore[arg-type]
    for key in judge.keys:
        _insert(engine, registry.get(key).record.__table__, records[key])
    _insert(engine, ItemState.__table__, states)  # type: ignore[arg-type]
    _insert(engine, WechatBinding.__table__, bindings)  # type: ignore[arg-type]
    _insert(engine, ApiSession.__table__, sessions)  # type: ignore[arg-type]
    return Cohort(batch_id=batch_id, student_ids=ids, tokens=tokens)
