"""One language at a time (#17): every page below speaks Chinese by default and English when asked, never both.

A page in Chinese may hold no element marked `lang="en"` (the old side-by-side translation) and no English word
but the data's; a page in English may hold no Chinese characters and no full-width punctuation (the "：" of a
Chinese label). The data is English here (names, college, batch), so any Chinese left on an English page is the
page's own words. Labels for screen readers (aria-label, placeholder, alt) count as words. The language switch
names the other language by design and is left out.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import lxml.html
import pytest
from flask import render_template
from sqlalchemy import select, update

from server.app import create_app
from server.audit import record_audit
from server.clearance.events import OutboxEvent, event_row, insert_events
from server.clearance.models import Batch
from server.departments import queries
from server.identity.accounts import Person
from server.identity.cas_people import DIFFERS_ACTION
from server.identity.models import Staff
from server.messaging import claims
from server.timeutil import utcnow
from tests.factories import ALL_PASSED, make_batch, make_student, set_records, sign_in_client, student_token
from tests.web.conftest import csrf_of, make_staff, set_states

CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Chinese punctuation: 、。「」 and the full-width forms （），：, which an English page must not borrow.
FULL_WIDTH = re.compile(r"[\u3000-\u303f\uff00-\uffef]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}
DATA = {"name": "Alex Test", "college": "College of Testing", "major": "Software", "supervisor": "Dr Who"}
# English words a Chinese page may show: the data above, the batch, the staff's usernames, student-number and
# serial prefixes, the test client's device name, and the names of file formats.
DATA_WORDS = {w.lower() for w in ENGLISH_WORD.findall(" ".join(DATA.values()))} | {
    "june", "test", "admin", "ts", "lx", "pytest", "csv", "xlsx", "excel", "mb", "utf", "gbk", "gb"}
# The audit log shows who and what as recorded (staff:admin1, library_record:TS…), for auditors; so do its filters'
# examples. The push list shows the platform's own answer.
AUDIT_CODES = "//tbody/tr/td[position() = 2 or position() = 4] | //input/@placeholder"
PUSH_CODES = "//tbody/tr/td[position() = 6]"
# Where a page shows codes on purpose (an error's code, a column's name, a stored value for auditors).
CODES = "//code | //pre"
SPOKEN = ("aria-label", "placeholder", "alt")
# Every item passed, the free text of its record (a building, a handler's name) in English too.
PASSED = {key: {field: "Test" if isinstance(value, str) and CHINESE.search(value) else value
                for field, value in (values or {}).items()} for key, values in ALL_PASSED.items()}
# What shows the file's own vocabulary: a column's Chinese headers, and the other spellings a cell may use.
FILE_VOCABULARY = ('//*[@id="main"]//section[@aria-labelledby="columns-title"]//tr/td[2]'
                   ' | //*[@id="main"]//*[@class="file-words"]')


def words(html: str, *, leave_out: str = "") -> tuple[str, list[str]]:
    """The page's title, visible text and spoken labels (the switch left out), and the text of elements marked
    lang="en"."""
    document = lxml.html.document_fromstring(html)
    for element in document.xpath('//script | //style | //*[contains(@class, "lang-switch")]'
                                  + (f" | {leave_out}" if leave_out else "")):
        if isinstance(element, str):  # an attribute
            element.getparent().attrib.pop(element.attrname)
        else:
            element.drop_tree()
    marked = [" ".join(e.text_content().split()) for e in document.xpath('//body//*[starts-with(@lang, "en")]')]
    # Cell by cell: "Test</td><td>College" is two words, not one.
    said = [*document.itertext(), *(str(v) for name in SPOKEN for v in document.xpath(f"//body//@{name}"))]
    return " ".join(" ".join(said).split()), marked


def assert_one_language(page: Callable[[dict[str, str]], str], leave_out: str = "",
                        data: Iterable[str] = ()) -> None:
    """Chinese by default with no English beside it but the data (and `data`); English on request with no Chinese
    left. `page` is called once per language (a page may be the answer to a post)."""
    chinese_page = page({})
    chinese, marked = words(chinese_page, leave_out=leave_out)
    assert CHINESE.search(chinese), chinese[:200]
    assert marked == [], f"English printed beside the Chinese: {marked}"
    own, _ = words(chinese_page, leave_out=f"{leave_out} | {CODES}" if leave_out else CODES)
    allowed = DATA_WORDS | {w.lower() for w in ENGLISH_WORD.findall(" ".join(data))}
    stray = sorted({w for w in ENGLISH_WORD.findall(own) if w.lower() not in allowed})
    assert not stray, f"English left on the Chinese page: {stray} in {own[:400]}"
    english_page = page(ENGLISH)
    assert '<html lang="en">' in english_page
    english, _ = words(english_page, leave_out=leave_out)
    left = sorted(set(CHINESE.findall(english)) | set(FULL_WIDTH.findall(english)))
    assert not left, f"Chinese left on the English page: {left} in {english[:400]}"


def getter(client: Any, path: str, status: int = 200) -> Callable[[dict[str, str]], str]:
    def get(headers: dict[str, str]) -> str:
        response = client.get(path, headers=headers)
        assert response.status_code == status, (path, response.status_code)
        return response.get_data(as_text=True)

    return get


def after_post(client: Any, path: str, form: Callable[[], dict[str, str]], csrf_page: str
               ) -> Callable[[dict[str, str]], str]:
    """The page a form post leads to, its message in the language of the request that posted."""
    def page(headers: dict[str, str]) -> str:
        response = client.post(path, data={"csrf_token": csrf_of(client, csrf_page), **form()}, headers=headers)
        assert response.status_code in (302, 303), (path, response.status_code)
        shown = client.get(response.headers["Location"], headers=headers).get_data(as_text=True)
        assert 'class="flash flash-' in shown, shown[:400]
        return shown

    return page


def posted_page(client: Any, path: str, form: Callable[[], dict[str, Any]], csrf_page: str, status: int = 200
                ) -> Callable[[dict[str, str]], str]:
    """The page a form post answers with."""
    def page(headers: dict[str, str]) -> str:
        response = client.post(path, data={"csrf_token": csrf_of(client, csrf_page), **form()}, headers=headers)
        assert response.status_code == status, (path, response.status_code)
        return response.get_data(as_text=True)

    return page


@pytest.fixture
def student(session):
    student = make_student(session, make_batch(session, name="June 2027"), **DATA)
    set_records(session, student, PASSED)
    session.commit()
    return student


@pytest.fixture
def admin(session, signed_in):
    return signed_in(staff_id=make_staff(session, "admin1", "admin").id)


@pytest.fixture
def certified(session, settings, api, student):
    """The student, who submitted; returns the certificate as the API shows it."""
    client = api(student_token(session, settings, student))
    submitted = client.post("/api/v1/me/application", json={"confirm": True})
    assert submitted.status_code == 201, submitted.text
    return client.get("/api/v1/me/certificate").json()


@pytest.fixture
def console(session, student, admin, monkeypatch):
    """The administrator's console: two more students the library blocks, lists one student a page (so they have
    pages), a move-out the administrator recorded and what CAS said differently from the roster (the history)."""
    batch = session.get(Batch, student.batch_id)
    blocked = make_student(session, batch, **DATA)
    set_records(session, blocked, PASSED)
    set_states(session, blocked, {"library": "not_passed"})
    make_student(session, batch, **DATA)  # never looked at: no result yet
    record_audit(session, actor=f"student:{student.student_no}", action=DIFFERS_ACTION,
                 entity=f"student:{student.student_no}", before={"name": DATA["name"]}, after={"name": "Alexander"},
                 origin="127.0.0.1")
    session.commit()
    monkeypatch.setattr(queries, "PER_PAGE", 1)
    moved = admin.post(f"/console/students/{student.student_no}/apartment/move-out",
                       data={"csrf_token": csrf_of(admin, "/console/"), "move_out_date": ""})
    assert moved.status_code == 303, moved.status_code
    admin.get("/console/")  # the "saved" message shown and gone
    return admin


@pytest.mark.parametrize("path, status", [("/", 200), ("/no-such-page", 404)])
def test_the_pages_anyone_sees(app, path, status):
    assert_one_language(getter(app.test_client(), path, status))


@pytest.mark.parametrize("path", ["/", "/logout", "/me/devices"])
def test_the_students_own_pages(student, signed_in, path):
    assert_one_language(getter(signed_in(student_id=student.id), path))


def test_the_staff_home(admin):
    assert_one_language(getter(admin, "/"))


def test_the_binding_done_page(app, student):
    def page(headers: dict[str, str]) -> str:
        with app.test_request_context("/bind/cas/callback", headers=headers):
            return render_template("identity/bind_done.html", person=Person(student=student), jssdk_url=None)

    assert_one_language(page)


def test_the_print_view(student, certified, signed_in):
    assert_one_language(getter(signed_in(student_id=student.id), "/me/certificate/print"))


@pytest.mark.parametrize("path", ["/admin/progress", "/admin/progress/never-logged-in",
                                  "/admin/progress/blocked?item=library", "/admin/batches", "/admin/batches/{batch}",
                                  "/admin/exports", "/admin/certificates", "/admin/pushes", "/admin/audit"])
def test_the_admin_pages(session, student, admin, path):
    now = utcnow()
    insert_events(session, [event_row(student.id, "item_passed", f"item_passed:{student.batch_id}:library",
                                      {"batch_id": student.batch_id, "item": "library",
                                       "changed_at": now.isoformat()}, now)])
    session.execute(update(OutboxEvent).values(status=claims.UNCONFIRMED, last_error="worker stopped"))
    session.commit()
    assert_one_language(getter(admin, path.format(batch=student.batch_id)),
                        leave_out={"/admin/audit": AUDIT_CODES, "/admin/pushes": PUSH_CODES}.get(path, ""))


def test_the_import_form_and_report(admin):
    assert_one_language(getter(admin, "/console/imports"), leave_out=FILE_VOCABULARY)
    token = csrf_of(admin, "/console/imports")

    def report(headers: dict[str, str]) -> str:
        data = b"student_no,owed_books\nNOSUCH0001,0\n"
        response = admin.post("/console/imports", headers=headers, content_type="multipart/form-data",
                              data={"csrf_token": token, "kind": "library", "file": (io.BytesIO(data), "library.csv")})
        assert response.status_code == 422, response.status_code
        return response.get_data(as_text=True)

    assert_one_language(report, data=["library.csv", "NOSUCH0001"])


@pytest.mark.parametrize("path", ["/console/", "/console/students", "/console/students?q=Alex",
                                  "/console/students/{no}", "/console/blocked/library", "/console/staff"])
def test_the_console_pages(student, console, path):
    assert_one_language(getter(console, path.format(no=student.student_no)), data=["Alexander"])


@pytest.mark.parametrize("role, scope", [("operator", {"department": "library"}),
                                         ("viewer", {"college": DATA["college"]}),
                                         ("secretary", {"college": DATA["college"]}), ("counter", {})])
def test_the_console_home_of_each_role(session, student, signed_in, role, scope):
    client = signed_in(staff_id=make_staff(session, f"{role}1", role, **scope).id)
    assert_one_language(getter(client, "/console/"), data=[role])


def test_a_department_read_elsewhere_on_the_students_page(session, settings, student):
    departments = dict(settings.departments)
    departments["library"] = replace(settings.department("library"), source="http", url="http://127.0.0.1:9/library")
    app = create_app(settings.with_overrides(departments=departments))
    try:
        librarian = make_staff(session, "librarian", "operator", department="library")
        client = sign_in_client(app.test_client(), app, staff_id=librarian.id)
        assert_one_language(getter(client, f"/console/students/{student.student_no}"), data=["librarian"])
    finally:
        app.extensions["lixiao"].engine.dispose()


def test_the_consoles_messages(session, admin):
    batch = make_batch(session, name="June 2027")

    def moved(future: bool) -> Callable[[dict[str, str]], str]:
        def page(headers: dict[str, str]) -> str:  # a student yet to move out, for each language
            student = make_student(session, batch, **DATA)
            set_records(session, student, {k: v for k, v in PASSED.items() if k != "apartment"})
            session.commit()
            no = student.student_no
            day = "2999-01-01" if future else ""
            return after_post(admin, f"/console/students/{no}/apartment/move-out", lambda: {"move_out_date": day},
                              "/console/")(headers)

        return page

    assert_one_language(moved(future=False))  # saved, and what the item is now
    assert_one_language(moved(future=True))  # refused: the date is in the future
    new = iter(["newstaffa", "newstaffb"])
    assert_one_language(after_post(admin, "/console/staff", lambda: {"username": next(new), "role": "counter"},
                                   "/console/staff"), data=["newstaffa", "newstaffb"])
    assert_one_language(after_post(admin, "/console/staff", lambda: {"username": "admin1", "role": "counter"},
                                   "/console/staff"), data=["newstaffa", "newstaffb"])  # refused: the account exists
    other = session.scalars(select(Staff).where(Staff.username == "newstaffa")).one()
    assert_one_language(after_post(admin, f"/console/staff/{other.id}/sessions/end", dict, "/console/staff"),
                        data=["newstaffa", "newstaffb"])


def test_the_administrators_messages(session, admin):
    names = iter(["June 2027 A", "June 2027 B"])
    assert_one_language(after_post(admin, "/admin/batches", lambda: {
        "name": next(names), "opens_at": "2027-06-01T08:00", "closes_at": "2027-06-30T18:00"}, "/admin/batches"))


def test_the_students_messages(student, signed_in):
    client = signed_in(student_id=student.id)
    assert_one_language(after_post(client, "/me/devices/end-others", dict, "/me/devices"))


def test_the_counter(session, certified, signed_in):
    counter = signed_in(staff_id=make_staff(session, "desk1", "counter").id)
    assert_one_language(getter(counter, "/counter"), data=["desk"])
    scan = {"qr_text": certified["qr_text"], "via": "scanner"}
    assert_one_language(posted_page(counter, "/counter", lambda: scan, "/counter"), data=["desk"])
    items = iter(["diploma", "degree_certificate"])  # one hand-over in each language

    def handover() -> dict[str, Any]:
        return {"serial": certified["serial"], "items": [next(items)]}

    assert_one_language(posted_page(counter, "/counter/handover", handover, "/counter"), data=["desk"])
    again = {"serial": certified["serial"], "items": ["diploma"]}  # refused: handed over already
    assert_one_language(posted_page(counter, "/counter/handover", lambda: again, "/counter", 409), data=["desk"])
    forged = {"qr_text": certified["qr_text"][:-3] + "AAA"}
    assert_one_language(posted_page(counter, "/counter", lambda: forged, "/counter", 422), data=["desk"])


def test_the_certificate_console(certified, admin):
    page = f"/console/certificates/{certified['serial']}"
    scanned = admin.post("/counter", data={"csrf_token": csrf_of(admin, "/counter"), "qr_text": certified["qr_text"]})
    assert scanned.status_code == 200  # the page lists the scans, in words
    assert_one_language(getter(admin, "/console/certificates"))
    assert_one_language(getter(admin, page))
    reasons = iter(["Wrong name", "Wrong college"])
    assert_one_language(after_post(admin, f"{page}/revoke", lambda: {"reason": next(reasons)}, page),
                        data=["Wrong", "name", "college"])  # revoked, the re-issue form instead
    assert_one_language(after_post(admin, f"{page}/reissue", dict, page), data=["Wrong", "name", "college"])
