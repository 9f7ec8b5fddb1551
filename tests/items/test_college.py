"""The college sign-off's rule and the secretary's two acts, as plain functions."""

from __future__ import annotations

from datetime import date

import pytest

from server.clearance.rules import Status
from server.items.base import Operator, Refused
from server.items.college import ITEM, CollegeData
from tests.items.judging import judge

SECRETARY = Operator("王秘书", date(2027, 6, 20))


@pytest.mark.parametrize(
    ("data", "status", "codes"),
    [
        (CollegeData(), Status.NOT_PASSED, ["NOT_SIGNED_OFF"]),  # nobody has signed yet
        (CollegeData("owed", "实验室钥匙 1 把"), Status.NOT_PASSED, ["OWED_TO_COLLEGE"]),
        (CollegeData("signed_off", signed_by="王秘书", signed_on=date(2027, 6, 20)), Status.PASSED, []),
    ],
)
def test_college(data, status, codes):
    result = judge("college", data)
    assert (result.status, [r.code for r in result.reasons]) == (status, codes)
    assert len(result.next_steps) == len(codes)


def test_what_is_owed_is_named_to_the_student():
    result = judge("college", CollegeData("owed", "借用设备：示波器 1 台"))
    assert "示波器" in result.reasons[0].message and "示波器" in result.reasons[0].message_en


def test_signing_off_records_who_and_when_and_clears_what_was_owed():
    change = ITEM.console_action("sign-off").plan({"known": True, "status": "owed", "owed": "钥匙"}, {}, SECRETARY)
    assert ITEM.check(change.values) == {"status": "signed_off", "owed": None, "note": None, "signed_by": "王秘书",
                                         "signed_on": date(2027, 6, 20)}


def test_recording_what_is_owed_needs_to_say_what():
    owed = ITEM.console_action("owed")
    with pytest.raises(Refused):
        owed.plan(None, {"owed": "  "}, SECRETARY)
    assert owed.plan(None, {"owed": "实验室钥匙", "note": "周五前"}, SECRETARY).values["status"] == "owed"


def test_the_item_is_off_unless_turned_on_and_its_secretaries_are_its_operators():
    assert ITEM.on_by_default is False and ITEM.college_scoped is True
    rows = ITEM.rows(ITEM.details(CollegeData("owed", "钥匙", "周五前")))
    assert [(r.label, r.value) for r in rows][:3] == [("学院审核", "尚有未清事项"), ("未清事项", "钥匙"),
                                                      ("说明", "周五前")]
