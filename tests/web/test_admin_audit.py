"""The audit log page: filters by actor, action, entity and dates; pages; administrators only."""

from __future__ import annotations

from datetime import datetime

from server.audit import AuditEntry
from server.reports.audit_log import AuditFilter, audit_page
from server.timeutil import SHANGHAI


def _entry(session, at: datetime, actor: str, action: str, entity: str) -> None:
    session.add(AuditEntry(at=at, actor=actor, action=action, entity=entity, before={"v": 1}, after={"v": 2},
                           origin="10.0.0.1"))


def test_filters(session):
    day = datetime(2027, 6, 10, 9, 0, tzinfo=SHANGHAI)
    _entry(session, day, "staff:library", "library_record.write", "library_record:2027001")
    _entry(session, day.replace(day=11), "staff:admin", "batch.create", "batch:1")
    _entry(session, day.replace(day=12, hour=23, minute=30), "student:2027001", "application.submit", "application:1")
    _entry(session, day.replace(day=13, hour=0, minute=30), "staff:admin_2", "batch.close", "batch:1")
    _entry(session, day, "staff:a%b", "batch.update", "batch:2")
    session.commit()

    def actions(**kw) -> list[str]:
        return [e.action for e in audit_page(session, AuditFilter(**kw)).entries]

    assert actions() == ["batch.close", "application.submit", "batch.create", "batch.update", "library_record.write"]
    assert actions(actor="staff:admin") == ["batch.close", "batch.create"]
    assert actions(actor="staff:a%") == ["batch.update"]  # % is a character here, not a wildcard
    assert actions(action="batch.create") == ["batch.create"]
    assert actions(entity="batch:1") == ["batch.close", "batch.create"]
    # Dates are Beijing calendar days: 23:30 on the 12th is the 12th, 00:30 on the 13th the 13th.
    assert actions(since=day.date().replace(day=12), until=day.date().replace(day=12)) == ["application.submit"]
    assert actions(since=day.date().replace(day=13)) == ["batch.close"]


def test_pages(session, admin_client):
    for i in range(120):
        _entry(session, datetime(2027, 6, 1, tzinfo=SHANGHAI), "system:test", "test.entry", f"thing:{i:03d}")
    session.commit()
    first = audit_page(session, AuditFilter(action="test.entry"))
    third = audit_page(session, AuditFilter(action="test.entry"), page=3)
    assert len(first.entries) == 50 and first.has_next
    assert len(third.entries) == 20 and not third.has_next
    html = admin_client.get("/admin/audit?action=test.entry&page=3").get_data(as_text=True)
    assert "thing:000" in html and "thing:119" not in html and 'rel="prev"' in html and 'rel="next"' not in html
    assert "page=2" in html and "action=test.entry" in html


def test_page_shows_entries_and_rejects_bad_dates(session, admin_client):
    _entry(session, datetime(2027, 6, 1, tzinfo=SHANGHAI), "staff:library", "library_record.write",
           "library_record:2027001")
    session.commit()
    html = admin_client.get("/admin/audit?actor=staff:lib&since=2027-06-01&until=2027-06-01").get_data(as_text=True)
    assert "library_record:2027001" in html and "10.0.0.1" in html and "{&#34;v&#34;: 2}" in html
    assert admin_client.get("/admin/audit?since=June").status_code == 400
    assert "没有符合条件的记录" in admin_client.get("/admin/audit?actor=nobody").get_data(as_text=True)
