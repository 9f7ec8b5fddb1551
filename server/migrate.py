"""Run the Alembic migrations from code (tests, the demo and the CLI share this)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from server.db import ensure_sqlite_folder
from server.settings import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    """An Alembic config aimed at `url`."""
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`."""
    ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), revision)
