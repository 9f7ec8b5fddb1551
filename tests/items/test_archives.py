"""The seed's archives rule."""

from __future__ import annotations

import pytest

from server.clearance.rules import Status
from server.items.archives import ArchivesData
from tests.items.judging import judge


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


