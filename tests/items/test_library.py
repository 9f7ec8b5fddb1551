"""The seed's library rule, row by row, and when a student may cancel the card."""

from __future__ import annotations

import pytest

from server.clearance.rules import Status
from server.items.library import ITEM, LibraryData, can_cancel_card
from tests.items.judging import judge

CLEAR_LIBRARY = LibraryData(card_status="cancelled", thesis_status="approved")

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
    assert can_cancel_card(data) is allowed




def test_the_card_is_offered_while_it_can_be_cancelled():
    offered = ITEM.actions_for(judge("library", LibraryData()).details)
    assert [a.name for a in offered] == ["cancel-card"]
    assert ITEM.actions_for(judge("library", CLEAR_LIBRARY).details) == []  # cancelled already
    assert ITEM.actions_for(judge("library", LibraryData(owed_books=1)).details) == []  # not yet
