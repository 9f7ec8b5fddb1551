"""Resolving bearer tokens through the read cache: the status page's hot path, one Redis round trip per request.

Each worker keeps an in-process copy per token (who it names, until when it is valid), stamped with the session's
version as Redis had it before the database was read; every use checks that stamp in the same MGET that fetches
whatever else the request wants (e.g. the student's clearance rows), so a revoked session stops working at once.
A copy lives at most the cache's TTL, like an entry in Redis (see server/cache.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from server.cache import SESSIONS, Lookup, ReadCache, written_in
from server.identity.models import ApiSession
from server.identity.tokens import Principal, _expired, principal_of, read_token_hint


class Prefetch(NamedTuple):
    """A cache entry a request will want, fetched with the caller's session; with `stamp_only` only its stamp is
    read (the caller keeps what it made from the entry and only asks whether that still counts)."""

    kind: str
    ident: object
    stamp_only: bool = False
    attachment: bool = False  # also read what a caller attached to the entry (ReadCache.attach)

    @property
    def key(self) -> tuple[str, object]:
        """(kind, ident), as the cache names entries."""
        return self.kind, self.ident


Wanted = Callable[[Principal], Prefetch | None]


def _lookups(cache: ReadCache, first: tuple[str, object], extra: Prefetch | None, *,
             session_stamp_only: bool = False) -> list[Lookup]:
    """`first` (the session; only its stamp when this worker holds the token) and `extra`, in one round trip."""
    parts = _parts(extra)
    if session_stamp_only:  # only compared with the copy's stamp: neither the entry nor the hold is needed
        parts["stamps_only"] = [first, *parts.get("stamps_only", [])]
        parts["no_store"] = [SESSIONS]
    return cache.lookup_many([first, *([extra.key] if extra else [])], **parts)  # type: ignore[arg-type]


def _parts(extra: Prefetch | None) -> dict[str, list[Any]]:
    """Which parts of the entry `extra` wants read, as `ReadCache.lookup_many` takes them."""
    if extra is None:
        return {}
    return {"stamps_only": [extra.key] if extra.stamp_only else [],
            "attachments": [extra.key] if extra.attachment else []}


MAX_COPIES = 100_000  # per worker; beyond that the copies start over (a few MB at most)


@dataclass(frozen=True)
class _Copy:
    principal: Principal
    stamp: str
    token_expires_at: float  # epoch seconds: the token's own max age
    session_expires_at: datetime
    taken_at: float  # monotonic seconds


def resolve_token_cached(database: Callable[[], Session], secret_key: str, token: str, *, now: datetime,
                         ttl_seconds: int, cache: ReadCache, also: Wanted | None = None
                         ) -> tuple[Principal, Lookup | None]:
    """Like `resolve_token`, from the cache when it can; also looks up `also(principal)`, in the same round trip
    when the token is known here or the session is read from the database (None when nothing was looked up).

    `database()` gives the request's session, opened only when the cache cannot answer."""
    copies: dict[str, _Copy] = cache.local.setdefault("tokens", {})
    copy = copies.get(token)
    if copy is not None and time.monotonic() - copy.taken_at < cache.ttl:
        extra = also(copy.principal) if also else None
        lookups = _lookups(cache, (SESSIONS, copy.principal.session_id), extra, session_stamp_only=True)
        if lookups[0].stamp == copy.stamp:
            if now.timestamp() >= copy.token_expires_at or copy.session_expires_at <= now:
                raise _expired()
            return copy.principal, lookups[1] if extra else None
    copies.pop(token, None)
    session_id, hint, signed_at = read_token_hint(secret_key, token, ttl_seconds=ttl_seconds)
    # The token names the student its session had when it was made: fetch what the request wants for that
    # student in the same round trip as the session, and use it only if the session still says so.
    guess = also(Principal(session_id, "", None, hint, None)) if also and hint is not None else None
    lookups = _lookups(cache, (SESSIONS, session_id), guess)
    lookup = lookups[0]
    if lookup.value is not None:
        data = json.loads(lookup.value)
        principal = Principal(session_id, data["channel"], data["openid"], data["student_id"], data["staff_id"])
        session_expires_at = datetime.fromisoformat(data["expires_at"])
        if session_expires_at <= now:
            raise _expired()
        stamp = lookup.stamp
        extra = also(principal) if also else None
        if extra is None:
            prefetched = None
        else:
            prefetched = (lookups[1] if guess and extra == guess
                          else cache.lookup_many([extra.key], **_parts(extra))[0])
    else:
        session = database()
        row = session.get(ApiSession, session_id)
        principal = principal_of(row, now)
        assert row is not None  # principal_of refused a missing row
        if not lookup.may_store or written_in(session):
            return principal, None
        session_expires_at = row.expires_at
        extra = also(principal) if also else None
        stamp, more = cache.store(lookup, json.dumps({
            "channel": principal.channel, "openid": principal.openid, "student_id": principal.student_id,
            "staff_id": principal.staff_id, "expires_at": session_expires_at.isoformat()}),
            then=[extra.key] if extra else None)
        prefetched = more[0] if extra else None
    if stamp is not None:
        if len(copies) >= MAX_COPIES:
            copies.clear()
        copies[token] = _Copy(principal, stamp, signed_at.timestamp() + ttl_seconds, session_expires_at,
                              time.monotonic())
    return principal, prefetched
