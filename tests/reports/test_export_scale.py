"""A 30,000-student export: every row matches the database, and memory does not grow with the row count."""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import secrets
import subprocess
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from server.clearance.models import Application, ItemState, Student
from server.identity.models import ApiSession, Staff
from server.timeutil import utcnow
from tests.factories import ITEM_KEYS, make_batch, sign_in_client

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
COLLEGES = [f"第{i}学院" for i in range(1, 11)]
CYCLE = ("passed", "not_passed", "unavailable", "passed", None)  # None: no status stored
STATUS_TEXT = {"passed": "通过 Passed", "not_passed": "未通过 Not passed", "unavailable": "暂不可查 Unavailable",
               None: "尚无结果 No result yet"}


def seed(session, batch, count: int, prefix: str) -> None:
    """`count` students in `batch` with statuses, submissions and logins, by bulk inserts."""
    now = utcnow()
    session.execute(insert(Student), [
        {"student_no": f"{prefix}{i:06d}", "name": f"学生{i}", "college": COLLEGES[i % len(COLLEGES)],
         "major": "软件工程", "degree_level": "doctor" if i % 9 == 0 else "master", "supervisor": "",
         "expected_graduation": date(2027, 6, 30), "lived_on_campus": True, "batch_id": batch.id,
         "created_at": now, "last_login_at": now if i % 3 == 0 else None}
        for i in range(count)])
    ids = session.execute(select(Student.id, Student.student_no).where(Student.batch_id == batch.id)).all()
    index = {sid: int(no[len(prefix):]) for sid, no in ids}
    session.execute(insert(ItemState), [
        {"student_id": sid, "item": key, "status": CYCLE[(i + k) % len(CYCLE)], "changed_at": now}
        for sid, i in index.items() for k, key in enumerate(ITEM_KEYS) if CYCLE[(i + k) % len(CYCLE)]])
    session.execute(insert(Application), [
        {"student_id": sid, "batch_id": batch.id, "submitted_at": now, "snapshot": {}, "channel": "api"}
        for sid, i in index.items() if i % 7 == 0])
    session.execute(insert(ApiSession), [
        {"id": secrets.token_urlsafe(32), "channel": "wechat", "student_id": sid, "created_at": now,
         "expires_at": now + timedelta(days=1)}
        for sid, i in index.items() if i % 5 == 0])
    session.commit()


def expected_rows(prefix: str, count: int) -> list[tuple[str, ...]]:
    """What the export must say for each seeded student, worked out from the seeding rules."""
    return [(f"{prefix}{i:06d}", f"学生{i}", COLLEGES[i % len(COLLEGES)],
             *[STATUS_TEXT[CYCLE[(i + k) % len(CYCLE)]] for k in range(len(ITEM_KEYS))],
             "yes" if i % 7 == 0 else "no", "是 yes" if i % 3 == 0 or i % 5 == 0 else "否 no")
            for i in range(count)]


def shape(row: list[str]) -> tuple[str, ...]:
    n = len(ITEM_KEYS)  # a status column per item, then submitted and logged in
    return (row[0], row[1], row[2], *row[6:6 + n], "yes" if row[6 + n] else "no", row[7 + n])


@pytest.fixture
def cohorts(session):
    small, big = make_batch(session, name="三千"), make_batch(session, name="三万")
    started = time.monotonic()
    seed(session, small, 3_000, "S")
    seed(session, big, 30_000, "B")
    print(f"seeded 33,000 students in {time.monotonic() - started:.1f}s")
    staff = Staff(username="admin", name="Admin", role="admin")
    session.add(staff)
    session.commit()
    return {"small": small.id, "big": big.id, "staff": staff.id}


def client_for(app, staff_id: int):
    return sign_in_client(app.test_client(), app, staff_id=staff_id)


def consume(client, path: str) -> tuple[int, int]:
    """Read a streamed response chunk by chunk, keeping nothing: (bytes, lines)."""
    response = client.get(path, buffered=False)
    assert response.status_code == 200 and response.is_streamed
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return size, lines


def peak_while(client, path: str) -> tuple[int, int, float]:
    gc.collect()
    tracemalloc.start()
    started = time.monotonic()
    try:
        _size, lines = consume(client, path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, lines, time.monotonic() - started


def test_30000_students_csv_rows_match_database_in_bounded_memory(app, cohorts):
    client = client_for(app, cohorts["staff"])
    started = time.monotonic()
    response = client.get(f"/admin/exports/students.csv?batch={cohorts['big']}")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    print(f"csv of 30,000 in {time.monotonic() - started:.1f}s")
    assert len(rows) == 30_001
    assert [shape(r) for r in rows[1:]] == expected_rows("B", 30_000)
    del rows

    consume(client, f"/admin/exports/students.csv?batch={cohorts['small']}")  # warm caches before measuring
    small, small_lines, small_s = peak_while(client, f"/admin/exports/students.csv?batch={cohorts['small']}")
    big, big_lines, big_s = peak_while(client, f"/admin/exports/students.csv?batch={cohorts['big']}")
    print(f"csv peak traced memory: 3,000 rows {small / 1e6:.2f} MB ({small_s:.1f}s), "
          f"30,000 rows {big / 1e6:.2f} MB ({big_s:.1f}s)")
    assert (small_lines, big_lines) == (3_001, 30_001)
    assert big < 2 * small, "ten times the rows must not need ten times the memory"
    assert big < 16_000_000


def rss_rise(settings, cohorts, fmt: str) -> dict[str, dict[str, int]]:
    """In a fresh process: how far resident memory rises while exporting 3,000 and then 30,000 students."""
    paths = [f"/admin/exports/students.{fmt}?batch={cohorts[k]}" for k in ("small", "big")]
    probe = Path(__file__).with_name("rss_probe.py")
    done = subprocess.run([sys.executable, str(probe), settings.database_url, settings.redis_url,
                           str(cohorts["staff"]), *paths], capture_output=True, text=True, timeout=240, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_30000_students_xlsx(app, settings, cohorts):
    client = client_for(app, cohorts["staff"])
    started = time.monotonic()
    response = client.get(f"/admin/exports/students.xlsx?batch={cohorts['big']}", buffered=False)
    body = b"".join(response.response)
    response.close()
    print(f"xlsx of 30,000 in {time.monotonic() - started:.1f}s, {len(body) / 1e6:.1f} MB")
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    rows = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert len(rows) == 30_001
    assert [shape(r) for r in rows[1:]] == expected_rows("B", 30_000)
    rss = rss_rise(settings, cohorts, "xlsx")
    print(f"xlsx resident memory rise: {rss}")
    assert rss["large"]["bytes"] > 9 * rss["small"]["bytes"] and rss["held"]["rows"] == 30_000
    # Holding the 30,000 rows would cost ~30 MB; streaming them costs a few (SQLite's page cache fills up).
    assert rss["large"]["rise_kb"] < rss["held"]["rise_kb"] / 4
    assert rss["large"]["rise_kb"] < 12_000
