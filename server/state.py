"""The app's long-lived objects, and the request-scoped database session."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from server.cache import ReadCache
from server.clearance.service import ClearanceDeps
from server.settings import Settings
from server.sources import DepartmentSource

log = logging.getLogger(__name__)


@dataclass
class AppState:
    """What create_app builds once and every request shares."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    sources: dict[str, DepartmentSource]
    cache: ReadCache | None = None  # the status page's read cache, None when turned off

    @property
    def clearance(self) -> ClearanceDeps:
        """Dependencies of the clearance service."""
        return ClearanceDeps(self.settings, self.sources, cache=self.cache)


def app_state() -> AppState:
    """The current app's state."""
    return current_app.extensions["lixiao"]  # type: ignore[no-any-return]


def db() -> Session:
    """This request's session; the view commits, teardown rolls back whatever was not committed."""
    if "db" not in g:
        g.db = app_state().sessions()
    return g.db  # type: ignore[no-any-return]


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
