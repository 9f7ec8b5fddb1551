"""Sessions for long reads such as exports."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from server.db import make_engine, make_session_factory
from server.state import app_state

_KEY = "lixiao_read_sessions"


def read_sessions() -> sessionmaker[Session]:
    """Sessions that only read.

    The app's SQLite sessions take the write lock up front (BEGIN IMMEDIATE); an export that streams for
    seconds must not block every writer, so on SQLite it reads through an engine that begins lazily
    (WAL gives it a snapshot). Other databases use the app's own engine.
    """
    state = app_state()
    if state.engine.dialect.name != "sqlite":
        return state.sessions
    factory = current_app.extensions.get(_KEY)
    if factory is None:
        factory = make_session_factory(make_engine(state.settings.database_url, sqlite_immediate=False))
        current_app.extensions[_KEY] = factory
    return factory

