"""The seed's finance rule: nothing in arrears, and no data at all passes."""

from __future__ import annotations

import pytest

from server.clearance.rules import Status
from server.items.finance import FinanceData
from tests.items.judging import NOW, judge


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


def test_finance_no_data_passes_but_unreachable_finance_does_not():
    answered = judge("finance", FinanceData())
    unreachable = judge("finance", None, read_at=None, failed_at=NOW)
    assert answered.status is Status.PASSED
    assert unreachable.status is Status.UNAVAILABLE
