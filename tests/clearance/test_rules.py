"""SPEC §4's unavailable cases around every item's rule, and the cheap status that agrees with the full one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.clearance.rules import Limits, Observation, Status, blockers, evaluate, status_of, yuan
from server.items.apartment import ApartmentData
from server.items.archives import ArchivesData
from server.items.finance import FinanceData
from server.items.library import LibraryData
from tests.items.judging import NOW, OFFICE, judge
from tests.items.test_library import LIBRARY_CASES

CLEAR_LIBRARY = LibraryData(card_status="cancelled", thesis_status="approved")


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


def test_fresh_record_within_limit_passes():
    assert judge("library", CLEAR_LIBRARY, limits=Limits(24), read_at=NOW - timedelta(hours=23)).status is Status.PASSED


def test_a_later_success_clears_an_earlier_failure():
    result = judge("library", CLEAR_LIBRARY, read_at=NOW, failed_at=NOW - timedelta(minutes=5))
    assert result.status is Status.PASSED


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
