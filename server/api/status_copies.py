"""Each worker's copies of rendered status pages, so a returning student costs one Redis round trip and no work.

A copy is the exact JSON body answered for a student's rows under a read-cache stamp (server/cache.py). It is
used only while the stamp Redis gives in the request's own lookup is still that stamp — any write to the
student's rows, batch or sessions replaces it — and only until the clock alone could change the answer
(`Clearance.changes_at`: the batch window, freshness limits, retries of failed reads). Like the token copies
(server/identity/token_cache.py) a copy lives at most the cache's TTL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from server.cache import Lookup, ReadCache

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
    """The body kept for this lookup's student, if the rows it was made from are still the current ones.

    The stamp alone tells: generations and versions are replaced by every write and never repeat, and a copy is
    kept only under a stamp an entry was stored (or found) with.
    """
    copy = cache.local.get("status_pages", {}).get(lookup.ident)
    if copy is None or lookup.stamp is None or lookup.stamp != copy.stamp:
        return None
    if (copy.good_until is not None and now >= copy.good_until) or time.monotonic() - copy.taken_at >= cache.ttl:
        return None
    return copy.body  # type: ignore[no-any-return]


def keep(cache: ReadCache, ident: object, stamp: str, good_until: datetime | None, body: bytes) -> None:
    """Keep a body rendered from rows read under `stamp`, good until `good_until` at the latest."""
    copies: dict[object, _Copy] = cache.local.setdefault("status_pages", {})
    if len(copies) >= MAX_COPIES:
        copies.clear()
    copies[ident] = _Copy(stamp, good_until, body, time.monotonic())
