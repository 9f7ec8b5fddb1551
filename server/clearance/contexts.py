"""A student's records and stored item states loaded together (`StudentContext`), and recomputing their items.

The writers of records (the console, the departmental API, pulls from departmental systems) load the students
they change this way, a query per item for up to CHUNK students, and store the items' statuses through
`recompute`, which writes a Transition (and the core's event) for every flip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clearance.models import ItemState, Student
from server.clearance.records import RecordRow, sync_item_states
from server.clearance.rules import ItemResult, Judge, Pulls
from server.items import registry
from server.settings import Settings


@dataclass
class StudentContext:
    """A student with their records and stored item states, loaded together."""

    student: Student
    rows: dict[str, RecordRow | None]
    states: dict[str, ItemState] | None


def load_contexts(session: Session, student_nos: Sequence[str], *, keys: Sequence[str], lock: bool = True,
                  with_states: bool = True) -> dict[str, StudentContext]:
    """The contexts of up to CHUNK students with the records of `keys`: a query per item, one for the students and
    one for the states; `lock` takes the students' row locks (MySQL).

    With fewer `keys` or without states the contexts are partial; `complete_contexts` loads the rest.
    """
    stmt = select(Student).where(Student.student_no.in_(list(student_nos))).order_by(Student.id)
    students = list(session.scalars(stmt.with_for_update() if lock else stmt))
    contexts = {s.student_no: StudentContext(s, {}, None) for s in students}
    complete_contexts(session, list(contexts.values()), keys=keys, with_states=with_states)
    return contexts


def complete_contexts(session: Session, contexts: Sequence[StudentContext], *, keys: Sequence[str],
                      with_states: bool = True) -> None:
    """Load the records of `keys` (and the item states) that the contexts do not have yet."""
    by_id = {c.student.id: c for c in contexts}
    if not by_id:
        return
    ids = list(by_id)
    for key in keys:
        missing = [i for i in ids if key not in by_id[i].rows]
        if not missing:
            continue
        for i in missing:
            by_id[i].rows[key] = None
        model = registry.get(key).record
        for row in session.scalars(select(model).where(model.student_id.in_(missing))):
            by_id[row.student_id].rows[key] = row
    if with_states:
        missing = [i for i in ids if by_id[i].states is None]
        for i in missing:
            by_id[i].states = {}
        for state in session.scalars(select(ItemState).where(ItemState.student_id.in_(missing))) if missing else ():
            by_id[state.student_id].states[state.item] = state  # type: ignore[index]


def recompute(session: Session, settings: Settings, sources: Mapping[str, Pulls], ctx: StudentContext,
              *, cause: str, now: datetime, record_transitions: bool = True) -> list[ItemResult]:
    """Evaluate the student's items and store them, writing a Transition for each flip."""
    items = Judge.of(settings, sources, now).all(ctx.student, ctx.rows)
    states = ctx.states
    sync_item_states(session, ctx.student, items, cause=cause, now=now, states=states,
                     record_transitions=record_transitions)
    if states is not None and any(i.key not in states for i in items):
        ctx.states = None  # new ItemState rows were added; load them by query next time
    return items
