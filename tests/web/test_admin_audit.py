"""The audit log page: filters by actor, action, entity and dates; pages; administrators only; actions and origins
in words, in the page's one language."""

from __future__ import annotations

from datetime import datetime

import lxml.html

from server.audit import AuditEntry
from server.reports.audit_log import AuditFilter, audit_page
from server.timeutil import SHANGHAI
from server.vocabulary import AUDIT_ACTIONS, origin_label
from server.web.labels import action_words


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


def _texts(html: str) -> list[str]:
    """The text of each cell of the log's table."""
    document = lxml.html.document_fromstring(html)
    return [" ".join(td.text_content().split()) for td in document.xpath("//tbody/tr/td")]


def test_actions_and_origins_are_words_in_one_language(session, admin_client):
    at = datetime(2027, 6, 1, tzinfo=SHANGHAI)
    _entry(session, at, "staff:library", "library_record.write", "library_record:2027001")
    session.add(AuditEntry(at=at, actor="system:cli", action="staff.create_admin", entity="staff:root", origin="cli"))
    session.add(AuditEntry(at=at, actor="system:certificates", action="certificate.issue", entity="certificate:1",
                           origin=""))
    session.commit()
    chinese = _texts(admin_client.get("/admin/audit").get_data(as_text=True))
    english = _texts(admin_client.get("/admin/audit", headers={"Accept-Language": "en"}).get_data(as_text=True))
    for cells, words in ((chinese, 0), (english, 1)):
        other = 1 - words
        for action, code_free in (("library_record.write", action_words("library_record.write")),
                                  ("staff.create_admin", AUDIT_ACTIONS["staff.create_admin"]),
                                  ("certificate.issue", AUDIT_ACTIONS["certificate.issue"])):
            assert code_free[words] in cells and code_free[other] not in cells, (action, cells)
            assert action not in cells
        for origin in ("cli", ""):
            assert origin_label(origin)[words] in cells and origin_label(origin)[other] not in cells
        assert "10.0.0.1" in cells  # an address is where it came from, as it is
    assert action_words("library_record.write")[0].startswith("图书馆")  # the item's title goes with it


def test_the_action_filter_offers_words_and_an_unknown_action_as_stored(session, admin_client):
    at = datetime(2027, 6, 1, tzinfo=SHANGHAI)
    _entry(session, at, "staff:admin", "batch.close", "batch:1")
    _entry(session, at, "system:test", "graduation.party", "thing:1")
    session.commit()
    html = admin_client.get("/admin/audit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    document = lxml.html.document_fromstring(html)
    options = {o.get("value"): o.text_content() for o in document.xpath('//select[@id="action"]/option')}
    assert options["batch.close"] == "Batch closed early"
    assert options["graduation.party"] == "graduation.party"  # no words for it yet: the code, not an error
    assert "graduation.party" in _texts(html)
