"""The demo cohort has every state of every item it is run with (the college item's too, when it is on)."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from server.clearance.models import ItemState
from server.demo_data import fill_demo_data
from server.identity.models import Staff
from server.items import registry
from server.items.college import CollegeRecord
from server.timeutil import utcnow


@pytest.fixture
def settings(settings):
    keys = registry.active(settings).keys
    return settings.with_overrides(items=keys if "college" in keys else (*keys, "college"))


def test_every_item_is_in_every_state_and_some_students_are_clear(app, session, settings):
    fill_demo_data(session, settings, now=utcnow(), count=120)
    session.commit()
    states = Counter((s.item, s.status) for s in session.scalars(select(ItemState)))
    for key in registry.active(settings).keys:
        assert states[key, "passed"] and states[key, "not_passed"], key
    assert states["library", "unavailable"] and states["finance", "unavailable"]
    college = Counter(r.status for r in session.scalars(select(CollegeRecord)))
    assert college["signed_off"] and college["owed"]  # and students no secretary has signed yet: no record
    assert states["college", "not_passed"] > college["owed"]
    per_student = Counter(s.student_id for s in session.scalars(select(ItemState).where(ItemState.status == "passed")))
    assert any(n == len(registry.active(settings)) for n in per_student.values())  # all clear: they can submit
    secretary = session.scalars(select(Staff).where(Staff.role == "secretary")).one()
    assert secretary.username == "college" and secretary.college
