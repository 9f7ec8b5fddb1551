"""The seed's rules and SPEC §4's unavailable cases, table by table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.clearance.rules import (
    ApartmentData,
    ArchivesData,
    FinanceData,
    LibraryData,
    Limits,
    Observation,
    Office,
    Status,
    blockers,
    can_cancel_library_card,
    evaluate,
    status_of,
    yuan,
)

NOW = datetime(2027, 6, 20, 8, 0, tzinfo=UTC)
OFFICE = Office("图书馆", "Library", "图书馆一楼", "Library ground floor", "0516-12345678")
CLEAR_LIBRARY = LibraryData(card_status="cancelled", thesis_status="approved")


def judge(key, data, *, limits=Limits(), read_at=NOW - timedelta(hours=1), **kw):
    return evaluate(key, Observation(data=data, read_at=read_at, source="test", **kw), OFFICE, limits, NOW)


LIBRARY_CASES = [
    # (data, status, reason codes) -- every row of the seed's library rule
    (CLEAR_LIBRARY, Status.PASSED, []),
    (LibraryData(owed_books=2, card_status="cancelled", thesis_status="approved"), Status.NOT_PASSED, ["OWED_BOOKS"]),
    (LibraryData(owed_fees_cents=350, card_status="cancelled", thesis_status="approved"), Status.NOT_PASSED,
     ["OWED_FEES"]),
    (LibraryData(violations=1, card_status="cancelled", thesis_status="approved"), Status.NOT_PASSED, ["VIOLATIONS"]),
    (LibraryData(card_status="active", thesis_status="approved"), Status.NOT_PASSED, ["CARD_ACTIVE"]),
    (LibraryData(card_status="cancelled", thesis_status="not_submitted"), Status.NOT_PASSED, ["THESIS_NOT_APPROVED"]),
    (LibraryData(card_status="cancelled", thesis_status="submitted"), Status.NOT_PASSED, ["THESIS_NOT_APPROVED"]),
    (LibraryData(card_status="cancelled", thesis_status="rejected"), Status.NOT_PASSED, ["THESIS_NOT_APPROVED"]),
    (LibraryData(owed_books=1, owed_fees_cents=100, violations=2), Status.NOT_PASSED,
     ["OWED_BOOKS", "OWED_FEES", "VIOLATIONS", "CARD_ACTIVE", "THESIS_NOT_APPROVED"]),
]


@pytest.mark.parametrize(("data", "status", "codes"), LIBRARY_CASES)
def test_library(data, status, codes):
    result = judge("library", data)
    assert result.status is status
    assert [r.code for r in result.reasons] == codes
    assert len(result.next_steps) == len(codes)
    for message in (*result.reasons, *result.next_steps):
        assert message.message and message.message_en


@pytest.mark.parametrize(
    ("data", "status", "codes"),
    [
        (ArchivesData("reviewed"), Status.PASSED, []),
        (ArchivesData("not_submitted"), Status.NOT_PASSED, ["THESIS_NOT_SUBMITTED"]),
        (ArchivesData("received"), Status.NOT_PASSED, ["THESIS_UNDER_REVIEW"]),
    ],
)
def test_archives(data, status, codes):
    result = judge("archives", data)
    assert (result.status, [r.code for r in result.reasons]) == (status, codes)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (ApartmentData(lived_on_campus=True, building="竹园3号楼"), Status.NOT_PASSED),
        (ApartmentData(True, "竹园3号楼", date(2027, 6, 19), "王管理员"), Status.PASSED),
        (ApartmentData(True, "竹园3号楼", date(2027, 6, 19), None), Status.NOT_PASSED),  # a date without a handler
        (ApartmentData(lived_on_campus=False), Status.PASSED),  # never lived on campus: nothing to do
    ],
)
def test_apartment(data, status):
    assert judge("apartment", data).status is status


def test_apartment_next_step_names_the_building():
    result = judge("apartment", ApartmentData(True, "竹园3号楼"))
    assert "竹园3号楼" in result.next_steps[0].message and "竹园3号楼" in result.next_steps[0].message_en


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (FinanceData(arrears_cents=0, fee_items=()), Status.PASSED),  # answered, no data at all: passes (seed)
        (FinanceData(arrears_cents=0, fee_items=({"name": "学费", "due_cents": 800000, "paid_cents": 800000},)),
         Status.PASSED),
        (FinanceData(arrears_cents=125050), Status.NOT_PASSED),
    ],
)
def test_finance(data, status):
    result = judge("finance", data)
    assert result.status is status
    if status is Status.NOT_PASSED:
        assert "1250.50" in result.reasons[0].message


UNAVAILABLE_CASES = [
    # (observation kwargs, limits, reason code)
    ({"data": CLEAR_LIBRARY, "read_at": NOW - timedelta(hours=1), "failed_at": NOW}, Limits(), "SOURCE_FAILED"),
    ({"data": None, "read_at": None, "failed_at": NOW}, Limits(), "SOURCE_FAILED"),
    ({"data": CLEAR_LIBRARY, "read_at": NOW - timedelta(hours=30)}, Limits(freshness_hours=24), "STALE"),
    ({"data": None, "read_at": None}, Limits(), "NOT_YET_READ"),
    ({"data": None, "read_at": NOW, "known": False}, Limits(), "UNKNOWN_TO_SOURCE"),
]


@pytest.mark.parametrize(("obs", "limits", "code"), UNAVAILABLE_CASES)
@pytest.mark.parametrize("key", ["library", "finance"])
def test_unavailable_is_never_passed(key, obs, limits, code):
    if obs.get("data") is not None and key == "finance":
        obs = {**obs, "data": FinanceData()}
    result = evaluate(key, Observation(source="test", **obs), OFFICE, limits, NOW)
    assert result.status is Status.UNAVAILABLE
    assert [r.code for r in result.reasons] == [code]
    assert OFFICE.phone in result.next_steps[0].message


def test_finance_no_data_passes_but_unreachable_finance_does_not():
    answered = judge("finance", FinanceData())
    unreachable = judge("finance", None, read_at=None, failed_at=NOW)
    assert answered.status is Status.PASSED
    assert unreachable.status is Status.UNAVAILABLE


def test_fresh_record_within_limit_passes():
    assert judge("library", CLEAR_LIBRARY, limits=Limits(24), read_at=NOW - timedelta(hours=23)).status is Status.PASSED


def test_a_later_success_clears_an_earlier_failure():
    result = judge("library", CLEAR_LIBRARY, read_at=NOW, failed_at=NOW - timedelta(minutes=5))
    assert result.status is Status.PASSED


@pytest.mark.parametrize(
    ("data", "allowed"),
    [
        (LibraryData(), True),
        (LibraryData(owed_books=1), False),
        (LibraryData(owed_fees_cents=1), False),
        (LibraryData(violations=1), False),
        (LibraryData(thesis_status="not_submitted"), True),  # thesis does not block cancelling the card
    ],
)
def test_card_cancellation_rule(data, allowed):
    assert can_cancel_library_card(data) is allowed


def test_blockers_and_yuan():
    results = [judge("library", CLEAR_LIBRARY), judge("finance", FinanceData(arrears_cents=5))]
    assert blockers(results) == ["finance"]
    assert (yuan(0), yuan(5), yuan(123456), yuan(-250)) == ("0.00", "0.05", "1234.56", "-2.50")


STATUS_CASES = [
    *[("library", data, {}, Limits()) for data, _status, _codes in LIBRARY_CASES],
    *[("archives", ArchivesData(s), {}, Limits()) for s in ("reviewed", "received", "not_submitted")],
    ("apartment", ApartmentData(True, "竹园3号楼", date(2027, 6, 19), "王管理员"), {}, Limits()),
    ("apartment", ApartmentData(True, "竹园3号楼"), {}, Limits()),
    ("apartment", ApartmentData(lived_on_campus=False), {}, Limits()),
    ("finance", FinanceData(0, ({"name": "学费", "due_cents": 1, "paid_cents": 1},)), {}, Limits()),  # unhashable
    ("finance", FinanceData(arrears_cents=5), {}, Limits()),
    *[("library", obs.pop("data", None), obs, limits) for obs, limits, _code in
      [(dict(o), limits, code) for o, limits, code in UNAVAILABLE_CASES]],
    ("library", CLEAR_LIBRARY, {"read_at": NOW - timedelta(hours=23)}, Limits(24)),
]


@pytest.mark.parametrize(("key", "data", "obs", "limits"), STATUS_CASES)
def test_status_of_agrees_with_evaluate(key, data, obs, limits):
    observation = Observation(data=data, source="test", **{"read_at": NOW - timedelta(hours=1), **obs})
    expected = evaluate(key, observation, OFFICE, limits, NOW).status
    assert status_of(key, observation, OFFICE, limits, NOW) is expected
    assert status_of(key, observation, OFFICE, limits, NOW) is expected  # the remembered verdict too
