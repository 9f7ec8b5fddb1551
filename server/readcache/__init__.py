"""The status page's read cache: one door at the API edge, around a read function that knows nothing of it.

`PageCache.serve(database, student_id, render)` answers a student's status page. The truth about freshness is in
the database (server/clearance/versions.py): a page is kept with the student's and the batch's data versions and
the data epoch, all read *before* the data it was made from, and it is answered only while one cheap statement
(`_VERSIONS`, or the same columns read beside the caller's session row: `with_versions`) still reads those
same versions. So every write Lixiao makes shows on the next read, whatever Redis did meanwhile (a restart from
an old snapshot, FLUSHALL, eviction, failover), and whichever URL spelling the writer used.
Correctness never rests on Redis's memory: Redis only shares pages between workers.

A write made outside Lixiao (a DBA's UPDATE) does not change a version; it shows once the page's lease ends.
A lease starts when the page is made from the database and lasts at most LIXIAO_READ_CACHE_SECONDS (≤ 60 s),
a random 80–100 % of it so that pages made together do not all end together; it is absolute (wall clock), so a
worker that takes a page from Redis late does not extend it. When it ends, a digest of the rows the page is made
from (one plain statement, `_digest_statement`, read before the page) is compared with the page's: the same rows
renew the lease without making the page again; any difference makes it again. `python -m server.cli cache retire`
ends every lease at once. A page also ends when the clock alone could change it (`good_until`: the batch window,
freshness).

Keys: `lixiao:page:<epoch>:{<student id>}`. The braces spread the pages of a Redis Cluster over its slots by
student, and keep any key a request uses for one student in one slot.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from flask import Response
from redis.exceptions import RedisClusterException
from sqlalchemy import Engine, Select, SQLColumnExpression, and_, bindparam, select
from sqlalchemy.orm import Session

from server.clearance.models import Application, Batch, DataEpoch, Student
from server.db import read_once, table_of
from server.items import registry

log = logging.getLogger(__name__)

MAX_SECONDS = 60  # the documented outer bound for writes made outside Lixiao
MAX_COPIES = 12_000  # pages kept per worker (about 3.3 kB each); beyond that the copies start over
RECHECK_SECONDS = 5.0  # after a Redis failure, how long pages are neither read nor shared through Redis
REDIS_ERRORS = (redis.RedisError, RedisClusterException)  # the cluster client's own errors are not RedisErrors

_EPOCH = select(DataEpoch.epoch).where(DataEpoch.id == 1).scalar_subquery()
_VERSIONS = (select(Student.id, Student.data_version, Batch.data_version, _EPOCH)
             .select_from(Student).outerjoin(Batch, Batch.id == Student.batch_id)
             .where(Student.id == bindparam("student_id")))


@dataclass(frozen=True)
class Versions:
    """What a kept page is checked against: the student's and the batch's data versions and the data epoch."""

    student_id: int
    student: int
    batch: int | None
    epoch: str | None


def with_versions(statement: Select[Any], student_id: SQLColumnExpression[Any]) -> Select[Any]:
    """`statement` with the versions of the student `student_id` names added as its last four columns.

    The caller's own row and the versions come back in one round trip: the status view reads them together with
    the bearer token's session row, so a kept page costs one statement (`versions_in` reads them back).
    """
    return (statement.add_columns(Student.id, Student.data_version, Batch.data_version, _EPOCH)
            .outerjoin(Student, Student.id == student_id).outerjoin(Batch, Batch.id == Student.batch_id))


def versions_in(row: Sequence[Any]) -> Versions | None:
    """The versions `with_versions` added to a row (its last four columns), or None when it named no student."""
    student_id, student, batch, epoch = row[-4:]
    return None if student_id is None else Versions(student_id, student, batch, epoch)


def _digest_statement(keys: tuple[str, ...]) -> Select[tuple[object, ...]]:
    """Every column of the rows a status page is made from (student, batch, the items' records, application) as
    plain Core values: cheaper than making the page, enough to tell whether anything under it changed."""
    student, batch, application = table_of(Student), table_of(Batch), table_of(Application)
    records = [table_of(registry.get(key).record) for key in keys]
    joined = student.outerjoin(batch, batch.c.id == student.c.batch_id)
    for record in records:
        joined = joined.outerjoin(record, record.c.student_id == student.c.id)
    joined = joined.outerjoin(application, and_(application.c.student_id == student.c.id,
                                                application.c.batch_id == student.c.batch_id))
    columns = [c for table in (student, batch, *records, application) for c in table.c]
    return select(*columns).select_from(joined).where(student.c.id == bindparam("student_id"))


@dataclass(frozen=True)
class Page:
    """A rendered page, or what `render` made: the body, until when the clock leaves it true (None: for ever),
    and whether it may be kept at all (a submitted student's page shows a certificate that can be revoked)."""

    body: bytes
    good_until: datetime | None
    keep: bool = True


@dataclass(frozen=True)
class _Kept:
    versions: str  # "<student version>:<batch version>:<digest of the rows>"
    lease_until: float  # epoch seconds
    good_until: float | None
    body: bytes

    def dump(self) -> str:
        until = "" if self.good_until is None else repr(self.good_until)
        return f"{self.versions}|{self.lease_until!r}|{until}|{self.body.decode()}"

    @classmethod
    def load(cls, value: str) -> _Kept | None:
        parts = value.split("|", 3)
        if len(parts) != 4:
            return None
        versions, lease, until, body = parts
        return cls(versions, float(lease), float(until) if until else None, body.encode())


def page_key(epoch: str, student_id: int) -> str:
    """The Redis key of a student's page in an epoch (hash tag: the student)."""
    return f"lixiao:page:{epoch}:{{{student_id}}}"


class PageCache:
    """Pages per student: this worker's copies, shared through Redis, each checked against the database."""

    def __init__(self, client: redis.Redis, seconds: int, item_keys: tuple[str, ...], reads: Engine | None = None
                 ) -> None:
        self.client = client
        self.reads = reads  # the digest's single statement runs here when given (server/db.py make_read_engine)
        self._digest_of = _digest_statement(item_keys)
        self.seconds = max(0, min(seconds, MAX_SECONDS))
        self._copies: dict[str, _Kept] = {}
        self._redis_down_until = 0.0

    def serve(self, database: Callable[[], Session], student_id: int, render: Callable[[], Page],
              known: Versions | None = None) -> Response:
        """The student's page: a kept one if the database still holds its versions, else `render()` (kept).

        `database`: the request's session, opened only when a statement has to run on it. `known`: the versions,
        if this request already read them (`with_versions`); else they are read here.
        """
        found = known if known is not None and known.student_id == student_id else self._versions(database(),
                                                                                                     student_id)
        if found is None or found.epoch is None:  # no such student (render answers 404), or no epoch: none kept
            return _response(render().body)
        student_version, batch_version, epoch = found.student, found.batch, found.epoch
        versions, key, now = f"{student_version}:{batch_version}", page_key(epoch, student_id), time.time()
        kept = self._copies.get(key) or self._shared(key)
        if kept is not None and not kept.versions.startswith(versions + ":"):
            kept = None  # Lixiao wrote since: made again
        if kept is not None and kept.good_until is not None and now >= kept.good_until:
            kept = None  # the clock changed it
        if kept is not None and now < kept.lease_until:
            self._copies[key] = kept
            return _response(kept.body)
        # The lease ended (a write made outside Lixiao changes no version): look at the rows themselves, first.
        # Read after the versions and before the page: a write landing in between makes the page newer than
        # what it is kept with, never older.
        digest = self._digest(database, student_id)
        lease = now + self.seconds * random.uniform(0.8, 1.0)  # noqa: S311  # nosec B311 -- spreads expiries
        if kept is not None and kept.versions == f"{versions}:{digest}":
            # Nothing under the page changed: a new lease, without making it again.
            self._keep(key, _Kept(kept.versions, lease, kept.good_until, kept.body))
            return _response(kept.body)
        page = render()
        if page.keep and self.seconds:
            good_until = None if page.good_until is None else page.good_until.timestamp()
            self._keep(key, _Kept(f"{versions}:{digest}", lease, good_until, page.body))
        else:
            self._copies.pop(key, None)
        return _response(page.body)

    @staticmethod
    def _versions(session: Session, student_id: int) -> Versions | None:
        row = session.execute(_VERSIONS, {"student_id": student_id}).first()
        return None if row is None else versions_in(row)

    def _digest(self, database: Callable[[], Session], student_id: int) -> str:
        params = {"student_id": student_id}
        row = (read_once(self.reads, self._digest_of, params) if self.reads is not None
               else database().execute(self._digest_of, params).first())
        return hashlib.blake2b(repr(tuple(row or ())).encode(), digest_size=12).hexdigest()

    def _shared(self, key: str) -> _Kept | None:
        if time.monotonic() < self._redis_down_until:
            return None
        try:
            value = self.client.get(key)
        except REDIS_ERRORS as exc:
            self._redis_failed(exc)
            return None
        return _Kept.load(value if isinstance(value, str) else value.decode()) if value else None

    def _keep(self, key: str, kept: _Kept) -> None:
        if len(self._copies) >= MAX_COPIES:
            self._copies.clear()
        self._copies[key] = kept
        if time.monotonic() < self._redis_down_until:
            return
        try:
            self.client.set(key, kept.dump(), ex=self.seconds)
        except REDIS_ERRORS as exc:
            self._redis_failed(exc)

    def _redis_failed(self, exc: Exception) -> None:
        if time.monotonic() >= self._redis_down_until:
            log.warning("read cache: Redis unavailable (%s); pages are not shared for %s s",
                        type(exc).__name__, RECHECK_SECONDS)
        self._redis_down_until = time.monotonic() + RECHECK_SECONDS


def _response(body: bytes) -> Response:
    return Response(body, mimetype="application/json")
