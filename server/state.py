"""The app's long-lived objects, and the request-scoped database session."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import redis
from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from server.platforms.wechat import MiniProgramClient
from server.platforms.wecom import WeComAppClient
from server.readcache import PageCache
from server.settings import Settings
from server.sources import DepartmentSource
from server.student.service import ClearanceDeps

log = logging.getLogger(__name__)


@dataclass
class AppState:
    """What create_app builds once and every request shares."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    sources: dict[str, DepartmentSource]
    pages: PageCache | None = None  # the status page's read cache (server/readcache/), None when turned off
    reads: Engine | None = None  # single-statement reads on a hot path (server/db.py make_read_engine); else engine

    @property
    def clearance(self) -> ClearanceDeps:
        """Dependencies of the clearance service."""
        return ClearanceDeps(self.settings, self.sources)

    @cached_property
    def wechat(self) -> MiniProgramClient:
        """The mini-program adapter for requests (made on first use; its token is shared through Redis)."""
        return MiniProgramClient(self.settings, self.redis)

    @cached_property
    def wecom(self) -> WeComAppClient:
        """The WeCom adapter for requests (made on first use; its token is shared through Redis)."""
        return WeComAppClient(self.settings, self.redis)


def app_state() -> AppState:
    """The current app's state."""
    return current_app.extensions["lixiao"]


def db() -> Session:
    """This request's session; the view commits, teardown rolls back whatever was not committed."""
    if "db" not in g:
        g.db = app_state().sessions()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """Roll back and close the request's session.

    The answer is already made when this runs: a connection that died meanwhile (the database restarting)
    is thrown away instead of turning that answer into a 500.
    """
    session: Session | None = g.pop("db", None)
    if session is None:
        return
    try:
        session.rollback()
        session.close()
    except SQLAlchemyError as exc:
        log.warning("database connection lost after the request: %s", type(exc).__name__)
        session.invalidate()
