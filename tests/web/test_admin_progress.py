"""Progress by college × item, the chart, never-logged-in and drill-down lists; college viewers see their own."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from server.clearance.models import Application, Student
from server.identity.tokens import issue_token
from server.reports import progress as reports
from server.timeutil import utcnow
from tests.factories import ITEM_KEYS, make_batch, make_student
from tests.web.conftest import make_staff, set_states

ARTS, SCIENCE = "文学院", "理学院"
PASSED4 = dict.fromkeys(("library", "archives", "apartment", "finance"), "passed")


@pytest.fixture
def cohort(session, settings):
    """Two colleges in one batch, one student in another batch, with known statuses and logins."""
    batch = make_batch(session, name="进度批次")
    other = make_batch(session, name="别的批次", now=utcnow() - timedelta(days=400))
    arts = [make_student(session, batch, college=ARTS, student_no=f"A{i:04d}") for i in range(5)]
    science = [make_student(session, batch, college=SCIENCE, student_no=f"S{i:04d}") for i in range(3)]
    stranger = make_student(session, other, college=ARTS, student_no="X0001")
    set_states(session, arts[0], PASSED4)
    set_states(session, arts[1], {**PASSED4, "library": "not_passed"})
    set_states(session, arts[2], {**PASSED4, "library": "not_passed", "finance": "unavailable"})
    set_states(session, arts[3], {"library": "passed"})  # the other three never computed
    set_states(session, science[0], {**PASSED4, "archives": "not_passed"})
    set_states(session, stranger, {**PASSED4, "library": "not_passed"})
    session.add(Application(student_id=arts[0].id, batch_id=batch.id, snapshot={}, channel="api"))
    arts[1].last_login_at = utcnow()
    issue_token(session, settings.secret_key, channel="wechat", now=utcnow(), ttl_seconds=60, openid="o-1",
                student_id=science[0].id)
    session.commit()
    return {"batch": batch, "other": other, "arts": arts, "science": science}


def test_counts_by_college_and_item(session, cohort):
    table = reports.progress(session, ITEM_KEYS, cohort["batch"].id)
    rows = {r.college: r for r in table.colleges}
    assert set(rows) == {ARTS, SCIENCE}
    arts = rows[ARTS]
    assert (arts.students, arts.submitted, arts.never_logged_in) == (5, 1, 4)
    assert arts.items["library"] == {"passed": 2, "not_passed": 2, "unavailable": 0, "none": 1}
    assert arts.items["finance"] == {"passed": 2, "not_passed": 0, "unavailable": 1, "none": 2}
    science = rows[SCIENCE]
    assert (science.students, science.submitted, science.never_logged_in) == (3, 0, 2)
    assert science.items["archives"] == {"passed": 0, "not_passed": 1, "unavailable": 0, "none": 2}
    assert table.total.students == 8 and table.total.items["library"]["not_passed"] == 2
    only_arts = reports.progress(session, ITEM_KEYS, cohort["batch"].id, ARTS)
    assert [r.college for r in only_arts.colleges] == [ARTS] and only_arts.total.students == 5


def test_item_counts_are_one_grouped_query(session, cohort, settings):
    statements: list[str] = []
    engine = session.get_bind()

    def listener(_conn, _cursor, statement, *_rest) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        reports.item_status_counts(session, cohort["batch"].id)
        assert len(statements) == 1 and "GROUP BY" in statements[0]
        statements.clear()
        reports.progress(session, ITEM_KEYS, cohort["batch"].id)
        assert len(statements) == 2  # the grouped item counts, and the grouped per-college counts
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_progress_page_has_table_chart_and_links(cohort, admin_client):
    page = admin_client.get(f"/admin/progress?batch={cohort['batch'].id}").get_data(as_text=True)
    assert "<svg" in page and 'role="img"' in page and "<title id=\"items-chart-t\">" in page
    assert ARTS in page and SCIENCE in page
    assert f"/admin/progress/blocked?batch={cohort['batch'].id}&amp;college=%E6%96%87%E5%AD%A6%E9%99%A2" \
           "&amp;item=library&amp;status=not_passed" in page
    assert "/admin/progress/never-logged-in?" in page
    assert "/console/staff" in page and "/admin/certificates" in page


def test_default_batch_is_the_open_one(cohort, admin_client):
    page = admin_client.get("/admin/progress").get_data(as_text=True)
    assert re.search(rf'<option value="{cohort["batch"].id}" selected>', page)


def test_drill_down_lists_blocked_students_by_page(session, cohort, admin_client):
    batch = cohort["batch"]
    for i in range(120):
        set_states(session, make_student(session, batch, college=SCIENCE, student_no=f"T{i:04d}"),
                   {"library": "not_passed"})
    session.commit()
    first = reports.blocked_students(session, batch.id, "library", college=SCIENCE)
    assert first.total == 122 and first.pages == 3 and len(first.rows) == 50  # 120 + 2 with no status
    last = reports.blocked_students(session, batch.id, "library", college=SCIENCE, page=3)
    assert len(last.rows) == 22 and not last.has_next
    numbers = [s.student_no for s, _st, _at in first.rows]
    assert numbers == sorted(numbers)
    only = reports.blocked_students(session, batch.id, "library", college=ARTS, statuses=("not_passed",))
    assert sorted(s.student_no for s, _st, _at in only.rows) == ["A0001", "A0002"]
    page = admin_client.get(f"/admin/progress/blocked?batch={batch.id}&college={SCIENCE}&item=library&page=3")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "T0119" in html and "T0000" not in html and 'rel="prev"' in html
    assert admin_client.get("/admin/progress/blocked?item=nonsense").status_code == 400
    assert admin_client.get("/admin/progress/blocked?item=library&status=passed").status_code == 400


def test_never_logged_in_list(session, cohort, admin_client):
    page = reports.never_logged_in(session, cohort["batch"].id)
    numbers = [s.student_no for (s,) in page.rows]
    assert numbers == ["A0000", "A0002", "A0003", "A0004", "S0001", "S0002"]  # A0001 browser, S0000 token
    html = admin_client.get(f"/admin/progress/never-logged-in?batch={cohort['batch'].id}&college={SCIENCE}")
    assert "S0001" in html.get_data(as_text=True) and "A0000" not in html.get_data(as_text=True)


def test_college_viewer_sees_only_their_college(session, cohort, signed_in):
    viewer = signed_in(staff_id=make_staff(session, "arts-viewer", "viewer", college=ARTS).id)
    batch = cohort["batch"].id
    page = viewer.get(f"/admin/progress?batch={batch}").get_data(as_text=True)
    assert ARTS in page and SCIENCE not in page
    assert "/console/staff" not in page and "/admin/audit" not in page
    assert viewer.get(f"/admin/progress?batch={batch}&college={SCIENCE}").status_code == 403
    assert viewer.get(f"/admin/progress/blocked?batch={batch}&college={SCIENCE}&item=library").status_code == 403
    assert viewer.get(f"/admin/progress/never-logged-in?college={SCIENCE}").status_code == 403
    blocked = viewer.get(f"/admin/progress/blocked?batch={batch}&item=archives").get_data(as_text=True)
    assert "S0000" not in blocked and "A0003" in blocked  # science's not-passed archives is not shown
    listed = viewer.get(f"/admin/progress/never-logged-in?batch={batch}").get_data(as_text=True)
    assert "A0000" in listed and "S0001" not in listed
    for path in ("/admin/audit", "/admin/batches", "/admin/certificates"):
        assert viewer.get(path).status_code == 403


def test_no_students_and_no_batch_still_render(admin_client, session):
    assert admin_client.get("/admin/progress").status_code == 200
    assert session.scalar(select(func.count()).select_from(Student)) == 0
