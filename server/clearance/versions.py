"""Data versions: the database's own word on whether what a student's status shows has changed.

Every student and every batch has a `data_version`, replaced (with a random value, so a value never comes back,
not even after a database restore) in the same transaction as every change Lixiao makes to what the status
shows: the student row, the student's item records, their application, their batch. One `data_epoch` row names
the epoch of all versions; `retire_all` replaces it (`python -m server.cli cache retire`), for writes made outside
Lixiao (a DBA's UPDATE) that must show at once.

A reader that keeps something made from a student's data (server/readcache/) keeps it with the versions it read
*before* the data, and trusts it only while the database still holds those versions.

Write paths call `touch_students`/`touch_student`/`touch_batch`; the core's record writers do it themselves.
A script that writes with raw SQL should bump the same column (`UPDATE students SET data_version =
data_version + 1 WHERE …` is enough) or run `cache retire`; otherwise its change shows within the read cache's
lifetime (LIXIAO_READ_CACHE_SECONDS, at most 60 s).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import inspect, update
from sqlalchemy.orm import Session

from server.clearance.models import Batch, DataEpoch, Student, new_version
from server.db import chunks

__all__ = ["new_epoch", "new_version", "retire_all", "touch_batch", "touch_student", "touch_students"]


def new_epoch() -> str:
    """A fresh epoch: random, so two databases (or one restored) never share one."""
    return secrets.token_hex(8)


def touch_student(session: Session, student: object) -> None:
    """A new data version for one student: an ORM Student of this session, or any row with `.id`."""
    if isinstance(student, Student) and inspect(student).session is session:
        student.data_version = new_version()  # written with the session's flush, no statement of its own
    else:
        touch_students(session, [student.id])  # type: ignore[attr-defined]


def touch_students(session: Session, student_ids: Iterable[int]) -> None:
    """A new data version for these students (one statement per thousand)."""
    ids = sorted(set(student_ids))  # in key order, as every writer locks them: no deadlock between two of them
    version = new_version()
    for chunk in chunks(ids):
        session.execute(update(Student).where(Student.id.in_(chunk)).values(data_version=version)
                        .execution_options(synchronize_session=False))


def touch_batch(batch: Batch) -> None:
    """A new data version for a batch (its window or name changed): every page of its students is outdated."""
    batch.data_version = new_version()


def retire_all(session: Session) -> str:
    """A new epoch: every version read before stops counting at once. Returns the epoch."""
    epoch = new_epoch()
    row = session.get(DataEpoch, 1, with_for_update=True)
    if row is None:
        session.add(DataEpoch(id=1, epoch=epoch))
    else:
        row.epoch = epoch
    session.flush()
    return epoch
