"""A read cache in Redis for the status hot path (sessions and clearance rows) that a write never leaves stale.

Why it stays correct:
- Every cached row set has a version in Redis (per student, per session), and each kind a generation, both random
  values replaced on every change. An entry carries the generation and version its reader saw *before* reading the
  database; it counts only while both are unchanged, so whatever a write did, the entries read before it stop
  counting. A version or generation that is missing (never set, expired, evicted, flushed) is made afresh, with a
  new random value and only if still missing, when the entry is stored, so a lost key can only make entries stop
  counting.
- An ORM flush names the exact students and sessions it writes: their versions are replaced when it flushes and again
  after the commit, so an entry read before the commit never matches. Any other write to a watched table — Core or
  textual SQL, bulk updates, imports — replaces its kind's generation when it first writes and again just before it
  commits, and holds storing off for HOLD_SECONDS after that, covering the instant between "about to commit" and
  "committed".
Every write made through SQLAlchemy in a process that knows the Redis server is seen: apps register their cache, and
other processes (the CLI, scripts) use LIXIAO_REDIS_URL. Raw DBAPI cursors are not seen: never write watched tables
through them. An evicted hold could let a reader store within its 30 s, so prefer maxmemory-policy noeviction.
When Redis fails, reads fall back to the database and the error is logged once; the cache is then left alone for
RECHECK_SECONDS, so a hung Redis costs a request nothing after the first timeout. A write whose invalidation could
not reach Redis leaves this process owing one: until every entry has been retired (new generations and a hold for
every kind, retried each second from a thread of its own), this process neither reads nor stores entries. Other
processes can use entries for that long — about a second after Redis is back — or, if only this process was cut off,
for at most the entries' TTL.
All keys of one database's cache share a Redis Cluster hash slot (`{…}` in the prefix): MGET and MULTI need that.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import threading
import weakref
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import Engine, event, inspect, make_url
from sqlalchemy.orm import Session

from server.cache_outage import CLEARANCE, HOLD_SECONDS, REDIS_ERRORS, SESSIONS, OutageGuard
from server.cache_rows import dump_row, load_row
from server.clearance.models import RECORD_MODELS, Application, Batch, Student
from server.identity.models import ApiSession

log = logging.getLogger(__name__)
__all__ = ["CLEARANCE", "HOLD_SECONDS", "SESSIONS", "Lookup", "ReadCache", "dump_row", "load_row", "register",
           "written_in"]

MAX_TTL_SECONDS = 3600
VERSION_SECONDS = 2 * MAX_TTL_SECONDS  # kept longer than entries so that versions rarely have to be made again

_TABLE_KINDS = {
    "students": CLEARANCE, "batches": CLEARANCE, "applications": CLEARANCE,
    **{model.__tablename__: CLEARANCE for model in RECORD_MODELS.values()},  # type: ignore[attr-defined]
    "api_sessions": SESSIONS,
}
# A new row of these can have no cached entry yet (misses are never cached), so a plain INSERT changes nothing.
_NEW_ROWS_NEVER_CACHED = {"students", "batches", "api_sessions"}
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "TRUNCATE", "ALTER", "DROP", "MERGE", "UPSERT")
_CTE_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_INSERT_TARGET = re.compile(r"^\s*INSERT\s+(?:IGNORE\s+)?INTO\s+[`\"\[]?(\w+)", re.IGNORECASE)
_UPSERT = re.compile(r"ON\s+DUPLICATE\s+KEY|ON\s+CONFLICT", re.IGNORECASE)
_WATCHED = re.compile(r"\b(" + "|".join(_TABLE_KINDS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Lookup:
    """A cache read: the payload when it still counts; the generation and version seen (None: not there yet, and
    made by the store); whether an entry may be stored."""

    kind: str
    ident: object
    value: str | None
    generation: str | None
    version: str | None
    may_store: bool
    attachment: str | None = None  # what a caller made from the entry and attached under the same stamp


    @property
    def stamp(self) -> str | None:
        """generation:version, or None when either is missing."""
        return None if self.generation is None or self.version is None else f"{self.generation}:{self.version}"


class ReadCache(OutageGuard):
    """Entries, versions and generations of one database, in one Redis."""

    def __init__(self, client: redis.Redis, database_url: str, ttl_seconds: int) -> None:
        self.client = client
        self.ttl = max(0, min(ttl_seconds, MAX_TTL_SECONDS))
        self.local: dict[str, Any] = {}  # in-process copies that callers check against Redis on every use
        self._readers = threading.local()
        # The braces make every key of this database's cache hash to one Redis Cluster slot.
        self.prefix = f"lixiao:rc:{{{hashlib.sha256(_normal(database_url).encode()).hexdigest()[:12]}}}:"
        OutageGuard.__init__(self)

    def _key(self, kind: str, part: str, ident: object = None) -> str:
        return f"{self.prefix}{kind}:{part}" if ident is None else f"{self.prefix}{kind}:{part}:{ident}"

    # -- Reading and writing entries ----------------------------------------------------------------------------

    def lookup(self, kind: str, ident: object) -> Lookup:
        """The entry of `ident`, if nothing it was read from changed since."""
        return self.lookup_many([(kind, ident)])[0]

    def lookup_many(self, wanted: list[tuple[str, object]], pipe: Any = None,
                    stamps_only: Collection[tuple[str, object]] = (),
                    attachments: Collection[tuple[str, object]] = (),
                    no_store: Collection[str] = ()) -> list[Lookup]:
        """Several lookups in one round trip to Redis (or as the last command of `pipe`, which is then run).

        For the lookups in `stamps_only` only the stamp is read (the value stays None): enough for a caller that
        keeps what it made from an entry and only needs to know it still counts. For those in `attachments` the
        attachment (see `attach`) is read too, and given when it was made under the current stamp. For the kinds
        in `no_store` (a caller that will not store) the hold is not read, and their lookups may not store.
        """
        misses = [Lookup(kind, ident, None, None, None, False) for kind, ident in wanted]
        if not self._usable():
            return misses
        keys: list[str] = []
        held_unknown: set[str] = set()  # kinds whose hold is not read
        for kind, ident in wanted:
            if (kind, ident) not in stamps_only:
                keys.append(self._key(kind, "e", ident))
            if (kind, ident) in attachments:
                keys.append(self._key(kind, "a", ident))
            keys.append(self._key(kind, "v", ident))
        kinds = sorted({kind for kind, _ in wanted})
        for kind in kinds:
            keys.append(self._key(kind, "gen"))
            if kind in no_store:
                held_unknown.add(kind)
            else:
                keys.append(self._key(kind, "hold"))
        try:
            if pipe is None:
                values = self._reader().mget(keys)
            else:  # one GET each: a cluster pipeline refuses MGET
                for key in keys:
                    pipe.get(key)
                values = pipe.execute()[-len(keys):]
        except REDIS_ERRORS as exc:
            self._failed(exc, invalidation=False)
            return misses
        at = len(keys) - 2 * len(kinds) + len(held_unknown)
        state = {}
        for kind in kinds:
            if kind in held_unknown:
                state[kind], at = (values[at], False), at + 1
            else:
                state[kind], at = (values[at], values[at + 1] is None), at + 2
        found, at = [], 0
        for kind, ident in wanted:
            entry = attached = None
            if (kind, ident) not in stamps_only:
                entry, at = values[at], at + 1
            if (kind, ident) in attachments:
                attached, at = values[at], at + 1
            version, at = values[at], at + 1
            generation, not_held = state[kind]
            stamp = None if generation is None or version is None else f"{generation}:{version}"
            found.append(Lookup(kind, ident, _counting(entry, stamp), generation, version, not_held,
                                _counting(attached, stamp)))
        return found

    def attach(self, kind: str, ident: object, stamp: str, payload: str) -> None:
        """Keep, beside the entry of `ident`, what a caller made from rows read under `stamp` (the stamp its
        entry was stored or found with). It counts exactly as long as that stamp: a write replaces the stamp."""
        if not self.ttl or not self._usable():
            return
        try:
            self._reader().set(self._key(kind, "a", ident), f"{stamp}|{payload}", ex=self.ttl)
        except REDIS_ERRORS as exc:
            self._failed(exc, invalidation=False)

    def _reader(self) -> redis.Redis:
        """This thread's own connection for lookups, where the client allows one: taking a connection from the
        pool and handing it back (with its readiness poll) costs about as much as the MGET itself."""
        if type(self.client) is not redis.Redis:  # the cluster client and the in-process stand-in route themselves
            return self.client
        pid, reader = getattr(self._readers, "client", (None, None))
        if reader is None or pid != os.getpid():  # a forked child must not share its parent's socket
            reader = redis.Redis(connection_pool=self.client.connection_pool, single_connection_client=True)
            self._readers.client = (os.getpid(), reader)
        return reader  # type: ignore[no-any-return]

    def store(self, lookup: Lookup, payload: str, then: list[tuple[str, object]] | None = None
              ) -> tuple[str | None, list[Lookup]]:
        """Keep what the database said, stamped with what `lookup` (made before that read) saw; returns the stamp
        stored (None if nothing was) and the lookups of `then`, made in the same round trip.

        A generation or version that was missing is made here with a fresh random value, only if still missing
        (SET NX): if a writer made one meanwhile, the entry's stamp never matches and the entry never counts.
        """
        if not (lookup.may_store and self.ttl) or not self._usable():
            return None, self.lookup_many(then) if then else []
        generation, version = lookup.generation or _fresh(), lookup.version or _fresh()
        pipe = self.client.pipeline(transaction=False)
        if lookup.generation is None:
            pipe.set(self._key(lookup.kind, "gen"), generation, nx=True)
        if lookup.version is None:
            pipe.set(self._key(lookup.kind, "v", lookup.ident), version, nx=True, ex=VERSION_SECONDS)
        stamp = f"{generation}:{version}"
        pipe.set(self._key(lookup.kind, "e", lookup.ident), f"{stamp}|{payload}", ex=self.ttl)
        if then:
            return stamp, self.lookup_many(then, pipe)
        try:
            pipe.execute()
        except REDIS_ERRORS as exc:
            self._failed(exc, invalidation=False)
            return None, []
        return stamp, []

    def bump(self, kind: str, idents: Iterable[object]) -> None:
        """New versions for these: every entry read before now stops counting."""
        if self._down():
            self._owe()
            return
        pipe = self.client.pipeline(transaction=False)
        for ident in idents:
            pipe.set(self._key(kind, "v", ident), _fresh(), ex=VERSION_SECONDS)
        try:
            pipe.execute()
        except REDIS_ERRORS as exc:
            self._failed(exc, invalidation=True)

    def bump_all(self, kind: str, *, hold: bool) -> None:
        """A new generation for a kind; `hold` also keeps readers from storing for HOLD_SECONDS."""
        if self._down():
            self._owe()
            return
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self._key(kind, "gen"), _fresh())
        if hold:
            pipe.set(self._key(kind, "hold"), "1", ex=HOLD_SECONDS)
        try:
            pipe.execute()
        except REDIS_ERRORS as exc:
            self._failed(exc, invalidation=True)


def _counting(value: str | None, stamp: str | None) -> str | None:
    """The payload of a stored "stamp|payload" value when its stamp is the current one."""
    if value is None or stamp is None:
        return None
    value_stamp, _, payload = value.partition("|")
    return payload if value_stamp == stamp else None


def _fresh() -> str:
    """A generation or version: random rather than counted, so a key lost and made again never repeats a value."""
    return secrets.token_hex(6)


# --- Which caches hear about a database's writes -------------------------------------------------------------

_registry: dict[str, weakref.WeakSet[ReadCache]] = {}
_from_env: dict[str, ReadCache] = {}
_lock = threading.Lock()


def _normal(url: str) -> str:
    """The database a URL names, whatever the spelling of its options."""
    u = make_url(url)
    return f"{u.get_backend_name()}://{u.host or ''}:{u.port or ''}/{u.database or ''}"


_urls: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _url_of(engine: Engine) -> str:
    url = _urls.get(engine)
    if url is None:
        url = _urls[engine] = _normal(engine.url.render_as_string(hide_password=False))
    return url


def register(cache: ReadCache, engine: Engine) -> None:
    """Let `cache` hear about every write this process makes to the database of `engine`."""
    with _lock:
        _registry.setdefault(_url_of(engine), weakref.WeakSet()).add(cache)


def unregister(cache: ReadCache) -> None:
    """Stop telling `cache` about writes (an app being thrown away)."""
    with _lock:
        for caches in _registry.values():
            caches.discard(cache)


def _caches_for(engine: Engine) -> list[ReadCache]:
    url = _url_of(engine)
    caches = list(_registry.get(url, ()))
    if caches:
        return caches
    redis_url = os.environ.get("LIXIAO_REDIS_URL", "")
    if not redis_url:
        return []
    with _lock:
        if url not in _from_env:
            from server.redis_client import make_redis

            _from_env[url] = ReadCache(make_redis(redis_url), url, MAX_TTL_SECONDS)
        return [_from_env[url]]


# --- Noticing writes ------------------------------------------------------------------------------------------

_thread = threading.local()  # .flushing: the ORM names what it writes; the statement hook stays out of its way


def _stale_of_flush(session: Session) -> tuple[dict[str, set[Any]], set[str]]:
    """(exact idents by kind, kinds wholly stale) of what this flush wrote."""
    exact: dict[str, set[Any]] = {CLEARANCE: set(), SESSIONS: set()}
    whole: set[str] = set()
    for obj, new in [*((o, True) for o in session.new), *((o, False) for o in (*session.dirty, *session.deleted))]:
        if isinstance(obj, Student):
            if not new:
                exact[CLEARANCE].add(obj.id)
        elif isinstance(obj, Batch):
            if not new:
                whole.add(CLEARANCE)
        elif isinstance(obj, ApiSession):
            if not new:
                exact[SESSIONS].add(obj.id)
        elif isinstance(obj, (Application, *RECORD_MODELS.values())):
            history = inspect(obj).attrs.student_id.history
            exact[CLEARANCE].update(s for s in (*history.added, *history.unchanged, *history.deleted)
                                    if s is not None)
    return exact, whole


def _apply(engine: Engine, exact: dict[str, set[Any]], whole: set[str], *, hold: bool = False) -> None:
    for cache in _caches_for(engine):
        for kind in whole:
            cache.bump_all(kind, hold=hold)
        for kind, idents in exact.items():
            if idents and kind not in whole:
                cache.bump(kind, idents)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    _thread.flushing = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    _thread.flushing = False
    session.info["lixiao_wrote"] = True
    if not _caches_for(session.get_bind()):
        return  # nobody to tell (a tool without Redis): skip looking at every flushed object
    exact, whole = _stale_of_flush(session)
    pending = session.info.setdefault("lixiao_stale", ({CLEARANCE: set(), SESSIONS: set()}, set()))
    for kind, idents in exact.items():
        pending[0][kind] |= idents
    pending[1].update(whole)
    if any(exact.values()) or whole:
        _apply(session.get_bind(), exact, whole)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop("lixiao_wrote", None)
    pending = session.info.pop("lixiao_stale", None)
    if pending and (any(pending[0].values()) or pending[1]):
        _apply(session.get_bind(), *pending)


@event.listens_for(Session, "after_soft_rollback")
def _after_soft_rollback(session: Session, _previous: Any) -> None:
    _thread.flushing = False
    if not session.in_transaction():
        session.info.pop("lixiao_wrote", None)
        session.info.pop("lixiao_stale", None)


def written_in(session: Session) -> bool:
    """Whether this session's transaction has flushed writes (what it reads may not be committed: never cache it)."""
    return bool(session.info.get("lixiao_wrote")) or bool(session.new or session.dirty or session.deleted)


def kinds_written(statement: str) -> set[str]:
    """The cache kinds a statement that is not an ORM flush may change (conservatively)."""
    head = statement.lstrip()[:8].upper()
    if not (head.startswith(_WRITE_VERBS) or (head.startswith("WITH") and _CTE_WRITE.search(statement))):
        return set()
    insert = _INSERT_TARGET.match(statement)
    if insert:
        table = insert.group(1).lower()
        if table in _NEW_ROWS_NEVER_CACHED and not _UPSERT.search(statement):
            return set()
        return {_TABLE_KINDS[table]} if table in _TABLE_KINDS else set()
    return {_TABLE_KINDS[name.lower()] for name in _WATCHED.findall(statement)}


@event.listens_for(Engine, "before_cursor_execute")
def _before_cursor_execute(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any,
                           _executemany: bool) -> None:
    if getattr(_thread, "flushing", False):
        return
    kinds = kinds_written(statement)
    if not kinds:
        return
    pending = conn.info.setdefault("lixiao_stale_kinds", set())
    if kinds - pending:  # once when the transaction first writes a kind, and again when it commits
        pending.update(kinds)
        _apply(conn.engine, {}, kinds, hold=True)


@event.listens_for(Engine, "commit")
def _engine_commit(conn: Any) -> None:
    if conn.invalidated:
        return  # the commit itself fails next, with the database's own error
    kinds = conn.info.pop("lixiao_stale_kinds", None)
    if kinds:  # just before the commit: the hold covers readers between now and the commit landing
        _apply(conn.engine, {}, kinds, hold=True)


@event.listens_for(Engine, "rollback")
def _engine_rollback(conn: Any) -> None:
    if conn.invalidated:
        return  # the connection died (the database restarting): its info went with it, and touching it would
        # raise PendingRollbackError in place of the error that tells the client to try again (a 503)
    conn.info.pop("lixiao_stale_kinds", None)
