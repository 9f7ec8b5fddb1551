"""The seed's apartment rule: moved out, or never lived on campus."""

from __future__ import annotations

from datetime import date

import pytest

from server.clearance.rules import Status
from server.items.apartment import ApartmentData
from tests.items.judging import judge


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


