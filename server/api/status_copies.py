"""Rendered status pages kept per read-cache stamp, so a returning student costs one Redis round trip and no work.

A page is the exact JSON body answered for a student's rows under a read-cache stamp (server/cache.py). It is
used only while the stamp Redis gives in the request's own lookup is still that stamp — any write to the
student's rows or batch replaces it — and only until the clock alone could change the answer
(`Clearance.changes_at`: the batch window, freshness limits, retries of failed reads). Each worker keeps a copy
(its lookups then read only the stamp), and the page is attached to the student's entry in Redis, so a worker
that has not seen the student yet takes it from there instead of making it again. Like the token copies
(server/identity/token_cache.py) a copy lives at most the cache's TTL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from server.cache import CLEARANCE, Lookup, ReadCache

MAX_COPIES = 12_000  # per worker, about 3.3 kB each (≈ 40 MB); beyond that the copies start over


@dataclass(frozen=True)
class _Copy:
    stamp: str
    good_until: datetime | None
    body: bytes
    taken_at: float  # monotonic seconds


def holds(cache: ReadCache, ident: object) -> bool:
    """Whether this worker has a page for the student (its lookup then needs only the entry's stamp)."""
    return ident in cache.local.get("status_pages", {})


def find(cache: ReadCache, lookup: Lookup, now: datetime) -> bytes | None:
    """The page for this lookup's student, if the rows it was made from are still the current ones: this worker's
    copy, or else the page attached in Redis (then copied here).

    The stamp alone tells: generations and versions are replaced by every write and never repeat, and a page is
    kept only under a stamp an entry was stored (or found) with.
    """
    copies: dict[object, _Copy] = cache.local.get("status_pages", {})
    copy, attached = copies.get(lookup.ident), False
    if lookup.stamp is None or copy is None or copy.stamp != lookup.stamp:
        copy, attached = _attached(lookup), True
    if copy is None or (copy.good_until is not None and now >= copy.good_until) or (
            time.monotonic() - copy.taken_at >= cache.ttl):
        # Outdated: forget it, so the next lookup reads the entry (and whether it may store) again.
        copies.pop(lookup.ident, None)
        return None
    if attached:
        _remember(cache, lookup.ident, copy)
    return copy.body


def keep(cache: ReadCache, ident: object, stamp: str, good_until: datetime | None, body: bytes) -> None:
    """Keep a page made from rows read under `stamp`, good until `good_until` at the latest, here and in Redis."""
    _remember(cache, ident, _Copy(stamp, good_until, body, time.monotonic()))
    until = "" if good_until is None else good_until.isoformat()
    cache.attach(CLEARANCE, ident, stamp, f"{until}|{body.decode()}")


def _attached(lookup: Lookup) -> _Copy | None:
    if lookup.attachment is None or lookup.stamp is None:
        return None
    until, _, body = lookup.attachment.partition("|")
    return _Copy(lookup.stamp, datetime.fromisoformat(until) if until else None, body.encode(), time.monotonic())


def _remember(cache: ReadCache, ident: object, copy: _Copy) -> None:
    copies: dict[object, _Copy] = cache.local.setdefault("status_pages", {})
    if len(copies) >= MAX_COPIES:
        copies.clear()
    copies[ident] = copy
