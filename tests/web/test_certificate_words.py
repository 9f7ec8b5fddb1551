"""Certificates in words (#17): a certificate's status and what the counter hands over are said from the one
vocabulary (server/vocabulary.py), in the page's language, on the counter, the administrator's certificate page,
the student's pages and the print view; the codes (handed_over, degree_certificate) stay off them."""

from __future__ import annotations

import re
from typing import get_args

import pytest

from server.api.certificates import CertificateStatus, HandoverItem
from server.vocabulary import CERTIFICATE_STATUS_LABELS, DEGREE_LABELS, HANDOVER_ITEMS, HANDOVER_LABELS
from tests.factories import ALL_PASSED, make_batch, make_student, set_records, student_token
from tests.web.conftest import csrf_of, make_staff

ENGLISH = {"Accept-Language": "en"}
TAGS = re.compile(r"<[^>]+>")
CODES = ("handed_over", "degree_certificate", "archive_transfer", "party_transfer", "not_passed")


def _text(html: str) -> str:
    """What the page says, without its markup (form values and classes hold codes on purpose)."""
    return " ".join(TAGS.sub(" ", html).split())


@pytest.fixture
def student(session):  # type: ignore[no-untyped-def]
    student = make_student(session, make_batch(session), degree_level="doctor")
    set_records(session, student, ALL_PASSED)
    session.commit()
    return student


@pytest.fixture
def certified(session, settings, api, student):  # type: ignore[no-untyped-def]
    client = api(student_token(session, settings, student))
    assert client.post("/api/v1/me/application", json={"confirm": True}).status_code == 201
    return client.get("/api/v1/me/certificate").json()


def test_every_status_and_handover_item_has_words_in_both_languages():
    assert get_args(HandoverItem) == HANDOVER_ITEMS  # what the API accepts, in the counter's order
    assert list(HANDOVER_LABELS) == list(HANDOVER_ITEMS)
    for table, codes in ((CERTIFICATE_STATUS_LABELS, (*get_args(CertificateStatus), "unknown")),
                         (HANDOVER_LABELS, HANDOVER_ITEMS)):
        assert set(table) == set(codes)
        for code, (zh, en) in table.items():
            assert zh and en and zh != en and code not in (zh, en)


@pytest.mark.parametrize("headers, words", [({}, 0), (ENGLISH, 1)])
def test_the_counter_offers_and_records_hand_overs_in_words(session, certified, signed_in, headers, words):
    counter = signed_in(staff_id=make_staff(session, "desk1", "counter").id)
    other = 1 - words
    scanned = _text(counter.post("/counter", headers=headers, data={
        "csrf_token": csrf_of(counter, "/counter"), "qr_text": certified["qr_text"]}).get_data(as_text=True))
    assert CERTIFICATE_STATUS_LABELS["valid"][words] in scanned
    for item in HANDOVER_ITEMS:
        assert HANDOVER_LABELS[item][words] in scanned and HANDOVER_LABELS[item][other] not in scanned
    handed = _text(counter.post("/counter/handover", headers=headers, data={
        "csrf_token": csrf_of(counter, "/counter"), "serial": certified["serial"],
        "items": ["degree_certificate"]}).get_data(as_text=True))
    assert CERTIFICATE_STATUS_LABELS["handed_over"][words] in handed
    assert HANDOVER_LABELS["degree_certificate"][words] in handed
    assert not [code for code in CODES if code in handed]


def test_the_administrators_certificate_page_and_the_students_pages_say_the_status(session, student, certified,
                                                                                    signed_in, admin_client):
    page = f"/console/certificates/{certified['serial']}"
    admin_client.post(f"{page}/revoke", data={"csrf_token": csrf_of(admin_client, page), "reason": "测试撤销"})
    for client, path in ((admin_client, page), (signed_in(student_id=student.id), "/me/certificate"),
                         (signed_in(student_id=student.id), "/me/applications"),
                         (signed_in(student_id=student.id), "/me/certificate/print")):
        for headers, words in (({}, 0), (ENGLISH, 1)):
            said = _text(client.get(path, headers=headers).get_data(as_text=True))
            assert CERTIFICATE_STATUS_LABELS["revoked"][words] in said, path
            assert CERTIFICATE_STATUS_LABELS["revoked"][1 - words] not in said, path
            assert not [code for code in CODES if code in said], path


def test_the_print_view_says_the_degree_in_words(session, student, certified, signed_in):
    client = signed_in(student_id=student.id)
    for headers, words in (({}, 0), (ENGLISH, 1)):
        said = _text(client.get("/me/certificate/print", headers=headers).get_data(as_text=True))
        assert DEGREE_LABELS["doctor"][words] in said and "doctor" not in said.lower().replace("doctoral", "")
