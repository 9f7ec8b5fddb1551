"""The "still blocked" list: counts by status and college, the college filter, pages, and the streamed CSV."""

from __future__ import annotations

import csv
import io

from server.clearance.contexts import load_contexts, recompute
from server.sources import build_sources
from server.timeutil import utcnow
from tests.departments.console_client import ConsoleClient
from tests.departments.test_console_operations import make_staff
from tests.factories import ALL_PASSED, ITEM_KEYS, make_batch, make_student, set_records

CS, MGMT = "计算机科学与技术学院", "经济管理学院"


def arrange(session, settings) -> None:
    """55 blocked in CS (owed books), 10 blocked in management, 5 passed, 3 never computed."""
    batch = make_batch(session)
    numbers = []
    for n in range(70):
        college = CS if n < 55 or n >= 65 else MGMT
        student = make_student(session, batch, student_no=f"BLK{n:07d}", college=college)
        library = dict(ALL_PASSED["library"]) if n >= 65 else {**ALL_PASSED["library"], "owed_books": 1 + n % 3}
        set_records(session, student, {"library": library})
        numbers.append(student.student_no)
    for n in range(3):
        make_student(session, batch, student_no=f"BLKNEW{n:04d}", college=CS)
    sources = build_sources(settings)
    for ctx in load_contexts(session, numbers, keys=ITEM_KEYS, lock=False).values():
        recompute(session, settings, sources, ctx, cause="test", now=utcnow())
    session.commit()


def test_counts_pages_filter_and_csv(session, settings, app, live):
    arrange(session, settings)
    client = ConsoleClient(live.url, app, staff=make_staff(session, "libb", "operator", department="library"))
    first = client.get("/console/blocked/library").text
    assert "<strong>68</strong>" in first  # 65 not passed + 3 never computed
    assert "未通过 65" in first and "尚无结果 3" in first
    english = client.get("/console/blocked/library", headers={"Accept-Language": "en"}).text
    assert "Not passed 65" in english and "No result yet 3" in english and "Page 1 of 2" in english
    assert first.count('href="/console/students/BLK') == 50 and "第 1 / 2 页" in first
    second = client.get("/console/blocked/library?page=2").text
    assert second.count('href="/console/students/BLK') == 18
    filtered = client.get(f"/console/blocked/library?college={MGMT}").text
    assert "<strong>10</strong>" in filtered and filtered.count('href="/console/students/BLK') == 10
    response = client.get("/console/blocked/library.csv")
    assert response.headers["Content-Type"].startswith("text/csv") and "attachment" in response.headers[
        "Content-Disposition"]
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "学号 student_no" and len(rows) == 1 + 68
    owed = next(r for r in rows if r[0] == "BLK0000001")
    assert owed[4].startswith("未通过") and "图书未归还" in owed[5] and "not returned" in owed[6]
    only_mgmt = list(csv.reader(io.StringIO(client.get(f"/console/blocked/library.csv?college={MGMT}")
                                            .content.decode("utf-8-sig"))))
    assert len(only_mgmt) == 11 and {r[2] for r in only_mgmt[1:]} == {MGMT}


def test_home_shows_the_counts_of_the_departments_one_sees(session, settings, app, live):
    arrange(session, settings)
    admin = ConsoleClient(live.url, app, staff=make_staff(session, "admb", "admin"))
    home = admin.get("/console/").text
    assert home.count("人未通过") == len(ITEM_KEYS) and "<strong>68</strong>" in home
    viewer = ConsoleClient(live.url, app, staff=make_staff(session, "viewb", "viewer", college=MGMT))
    assert "<strong>10</strong>" in viewer.get("/console/").text
